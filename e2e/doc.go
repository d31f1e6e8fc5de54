// Package e2e holds the whole-system test of zkcred: it builds the zkcred
// binary and drives separate processes (registry, issuer service, verifier
// service and the wallet CLI) over loopback HTTP through the story of
// `zkcred demo`, plus the replay, revocation and restart cases.
//
// Run it with
//
//	go test ./e2e
//
// It makes development keys once in $ZKCRED_E2E_KEYS (default
// $TMPDIR/zkcred-e2e-keys) and reuses them on later runs. With -short it is
// skipped. Set ZKCRED_E2E_KEEP=1 to keep the working directory, with each
// service's output in NAME.log.
package e2e
