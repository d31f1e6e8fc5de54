// Package regchain connects an issuer to the registry chain: it implements
// [issuer.Chain] over the registry's HTTP API ([client.Client]), signing
// publish-schema, anchor and revoke transactions with the issuer's key.
//
// Crash recovery needs Lookup: the registry has no index from commitment to
// leaf, so Lookup reads the witness buckets from the chain size the issuer
// journaled before anchoring ("since") to the current size and compares
// leaves with H(issuerID, C); the anchoring block is then found by a binary
// search over headers on their credential-tree size.
package regchain
