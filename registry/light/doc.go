// Package light is a registry light client for verifiers and wallets. It
// follows the registry's block headers from a URL and trusts a header's
// roots only once CometBFT has committed to them: the state after registry
// block h is the app hash of CometBFT's block h+1, which must verify with
// CometBFT's light-client rules (those of github.com/cometbft/cometbft/light,
// held to them by a test: cmtverify.go) from
// the newest block the client trusts, starting at block 1 signed by more
// than two thirds of the validators the trusted genesis names (never a
// genesis fetched from the network). The client thus follows the validator
// set as governance changes it, skips ahead (bisecting where the set
// changed) when far behind, and refuses to go on from a trusted block older
// than the trust period (default 14 days) until re-anchored at a block
// whose height and hash it is given. It checks every hash link between
// registry headers, refuses rollbacks, forks and headers dated beyond the
// local clock plus a skew (default 5 s), and answers which height
// published a credential root and the BFT time of the commit that verified
// it, from which verifiers measure root age.
//
// Verified headers can be persisted to a file of JSON lines, and the newest
// trusted light block beside it; on open the headers' hash links are
// checked again, so a tampered file is refused.
package light
