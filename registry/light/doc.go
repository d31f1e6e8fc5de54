// Package light is a registry light client for verifiers and wallets. It
// follows the registry's block headers from a URL and trusts a header's
// roots only once CometBFT has committed to them: the state after registry
// block h is the app hash of CometBFT's block h+1, whose commit must carry
// the signatures of more than two thirds of the voting power of the
// validators that the trusted genesis names (never a genesis fetched from
// the network). It checks every hash link between registry headers,
// refuses rollbacks, forks and headers dated beyond the local clock plus a
// skew (default 5 s), and answers which height published a credential root
// and the BFT time of the commit that verified it, from which verifiers
// measure root age.
//
// Verified headers can be persisted to a file of JSON lines; on open their
// hash links are checked again, so a tampered file is refused.
package light
