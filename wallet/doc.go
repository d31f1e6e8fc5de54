// Package wallet is the holder's side of zkcred: an encrypted credential
// store and one-call presentations.
//
// The wallet file holds the holder secret, the wallet's configuration (the
// registry URL and the genesis it trusts) and every credential bundle as the
// issuer delivered it. It is encrypted with age under a passphrase (scrypt)
// and always written atomically: a temporary file in the same directory is
// written, synced and renamed over the old one, so a crash leaves either the
// old or the new wallet, never a torn one.
//
// Receive (or Claim, for an issuer's offer link) accepts a credential only
// after checking the issuer's signature, that the private values open the
// signed commitment, that the credential is bound to this wallet's holder
// secret, that the issuer is registered and active on the chain, and that
// the leaf H(issuerID, C) sits at the stated index under a root the light
// client verified.
//
// Present answers a verifier's presentation request (read with
// ReadRequest, or with ReadPresentationRequest, which also reads OpenID4VP
// links and request_uris, each URL with one GET): it picks the named credential or the oldest that satisfies
// the request (or explains which requirement none meets), skipping expired
// ones and those whose leaf the latest verified root shows revoked, lets
// the caller confirm what will be disclosed and proved (Plan.Describe),
// fetches the witness bucket of the credential's leaf (the registry learns
// only the bucket), builds the path locally, checks the statement natively
// so that a revoked or expired credential is reported instead of proved,
// proves, and submits.
//
// Options fix the wallet's network settings when it is opened: every call
// to the registry, issuers, verifiers and the key server goes through the
// same HTTP client. The formats it exchanges are package wire's; the
// wallet imports neither the issuer nor the verifier.
package wallet
