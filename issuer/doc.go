// Package issuer is what a university registrar or a hospital records
// office runs to issue zkcred credentials.
//
// An issuer holds an ed25519 key (stored encrypted with age, see [SaveKey])
// and is named by its did:key ([Key.DID]). For each credential it encodes the
// subject data with a [circuits.Schema], computes the commitment
// C = H(schemaID, holderCommit, expiry, salt, attributes) with
// [circuits.Credential.Commitment], anchors C on the registry chain through
// the [Chain] interface, and signs a W3C Verifiable Credentials Data Model 2.0
// credential with a Data Integrity proof of the eddsa-jcs-2022 cryptosuite
// (the formats, their verification and the canonical signing input are in
// package wire: [wire.Credential], [wire.VerifyProof], [wire.SigningInput]).
// The signed credential travels to the wallet inside a [wire.Bundle]
// together with the private values the wallet needs to prove facts about it
// (salt, encoded slots, leaf index).
//
// An issuer lives in a directory ([InitDir], [OpenDir]): its encrypted key,
// its configuration (where it anchors) and its store. The main flow is
// [Issuer.Issue] (or [Issuer.IssueBatch], and [Issuer.RunBatch] for CSV
// files, whose columns [DescribeSchema] lists), claim links
// ([Issuer.CreateOffer], [Issuer.OfferView], [Issuer.Claim]), finding
// credentials ([Issuer.Credentials]: by batch row, offer or subject field)
// and [Issuer.Revoke]. Package issuer/api serves all of it over HTTP.
//
// Issued credentials, offers and the batch journal live in one badger
// database (package issuer/store); every step that the chain sees is
// written ahead to that journal, so a crash at any point never issues a
// credential twice.
//
// Chains: [LocalChain] keeps a single-issuer tree in a local badger database
// (offline use, development, tests); package regchain anchors on the
// registry chain through its HTTP API; package chaintest is the test suite
// both pass. docs/issuer.md describes the formats.
package issuer
