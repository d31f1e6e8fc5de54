// Package wire holds every format that crosses a boundary between zkcred's
// parties, and is the protocol's specification: what each party sends, to
// which route, and what the receiver checks. Issuer, wallet and verifier
// import it; none of them imports another party's package, so they meet
// only here and over HTTP.
//
// All bodies are JSON (Content-Type application/json) and are decoded
// strictly: one value, no unknown members, no trailing data. Field
// elements travel as decimal strings below the BN254 scalar modulus
// ([circuits.Field]); a value at or above it is refused, never reduced.
// Every error answer of the issuer and verifier is an [Error]
// {"error", "code"} whose code is one of the Code constants, with a 4xx
// status for bad input.
//
// # Parties
//
// The issuer signs credentials and anchors their commitments on the
// registry chain. The holder's wallet keeps them and proves facts about
// them. The verifier asks for such proofs. The registry chain publishes
// roots; wallets and verifiers trust only what their light client verified
// against it (packages registry/client and registry/light hold those
// formats).
//
// # Issuing: issuer → wallet
//
// The issuer's admin creates an offer and hands the holder a claim link,
// PublicURL/v1/offers/{id}?token={token}. Then:
//
//  1. The wallet GETs the link and receives an [OfferView]: the schema, the
//     values as a person reads them ([DisplayField]) and the challenge. It
//     checks that the schema is valid and that challenge =
//     [ClaimChallenge](id, token), so that its proof binds this offer.
//  2. The wallet POSTs a [ClaimBody] to /v1/offers/{id}/claim: the token,
//     its holder commitment H(holderSecret) and a Groth16 proof (circuit
//     zkcred/holder-2) of knowing the secret, bound to the challenge. The
//     issuer checks the token (403 wrong_token), that the offer is open
//     (409 already_claimed, 410 offer_expired) and the proof (422
//     holder_proof), anchors the credential's commitment, and answers with
//     a [Bundle].
//  3. The wallet parses the bundle ([ParseBundle]) and runs [Bundle.Check]:
//     the credential's eddsa-jcs-2022 proof verifies under its issuer's
//     did:key ([VerifyCredential]), and the private values open the signed
//     commitment (schema, slots, holder commitment, expiry, issuer ID,
//     leaf). It then checks on the chain, through its light client, that the
//     issuer is registered and active and that leaf H(issuerID, C) sits at
//     the credential's leaf index under a verified root.
//
// An issuer may also issue directly to a known holder commitment (admin
// route POST /v1/credentials); the answer is the same [Bundle].
//
// # Credential
//
// A [Credential] is a W3C Verifiable Credentials Data Model 2.0 document:
// @context [ContextV2, the zkcred context] (the zkcred context is
// [ContextDocument], served by the issuer at [ContextPath] and named at the
// issuer's public URL, [ContextURL]; [ContextUndefinedTerms] from an issuer
// without one), type
// [VerifiableCredential, ZkcredCredential], issuer the bare did:key of the
// issuer ([DIDKey]), credentialSchema [SchemaURN], credentialSubject the
// holder commitment and the claims (one @json literal), credentialStatus
// the registry leaf ([CredentialStatus]), validUntil the commitment's expiry.
// Its proof is a Data Integrity [Proof] of the eddsa-jcs-2022 cryptosuite:
// an ed25519 signature over [SigningInput], sha256 of the RFC 8785 (JCS)
// canonical proof configuration followed by sha256 of the canonical
// document. [Sign] makes one and [VerifyProof] checks one; the proof's
// @context must equal the document's.
//
// # Presenting: verifier ↔ wallet
//
//  1. The relying party's backend POSTs a [CreateRequestBody] to the
//     verifier's /v1/requests, with the verifier's create token as a bearer
//     token (401 unauthorized without it, unless the policy is public:
//     then anyone may, within a per-client quota of open requests, 429
//     quota_exceeded; the verifier stores a bounded number, 503
//     store_full). It receives a [CreatedRequest]: the [Request] and a
//     resultToken that only the creator gets. GET /v1/requests/{id}
//     returns the Request again, without the token. The request fixes
//     everything the proof binds: a fresh nonce, the audience (the
//     verifier's web origin), now, the schema, the [TrustList] of accepted
//     issuers, the [Query] (disclose mask and predicates, with
//     [PlainPredicate] for people), the nullifier scope and maxRootAge.
//  2. The wallet reads the request ([ParseRequest]) and checks what it can
//     recompute: audienceId and scopeId are the hashes of audience and
//     scope (so a nullifier is bound to this verifier), and the trust
//     list's issuers make its root. It checks who asks and who receives:
//     the audience is a web origin ([Origin]), the URL it fetched the
//     request from has that origin, and so has submitUrl; otherwise it
//     refuses, since a site relaying another verifier's request would
//     receive the presentation. It shows the holder what will be
//     disclosed and where the presentation goes (submitUrl), proves
//     against the newest root its light client verified, and POSTs a
//     [Presentation] to submitUrl (/v1/requests/{id}/presentations).
//  3. The verifier decodes it ([ParsePresentation]; 400 malformed) and
//     rebuilds the whole public statement from its own state (its copy of
//     the request, its verified roots), never from the presentation: only
//     the disclosed values and the nullifier come from the holder, and the
//     proof binds them. It answers a [Result] of status [StatusVerified],
//     or an [Error]: 404 unknown_request, 410 request_expired, 422
//     unknown_root, root_too_old, root_height_mismatch, wrong_request,
//     disclosure_mismatch, nullifier_mismatch, proof_invalid, 409 replay,
//     nonce_used, nullifier_seen. A rejected presentation changes nothing.
//     The relying party reads the outcome at GET /v1/requests/{id}/result
//     with the resultToken (Authorization: Bearer, or ?token=; 401
//     without): [StatusPending] until a presentation is verified.
//
// POST /v1/verify checks one presentation against a request without
// keeping a result (status [StatusConsumed] afterwards), and POST
// /v1/verify/batch checks a [BatchRequest], answering a [BatchResponse]
// with one [Result] per item, in order; of the items answering one request
// only the first is checked (the others: replay, nonce_used or
// duplicate_request). Every call takes one token of the client's rate
// limit, and a batch one per item (429 rate_limited, with Retry-After).
package wire
