// Package chaintest is the shared test suite of issuer.Chain
// implementations: the local chain (issuer.LocalChain) and the registry
// adapter (issuer/regchain) run the same checks with Run.
package chaintest
