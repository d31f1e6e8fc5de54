// Package oid4vp holds zkcred's side of OpenID for Verifiable
// Presentations 1.0 (docs/openid.md): the zkcred credential format and its
// DCQL credential query (Compile, CredentialQuery), the authorization
// request and its signed request object (JAR, typ oauth-authz-req+jwt,
// EdDSA), openid4vp:// links, and the direct_post response carrying the
// vp_token.
//
// A verifier known by its did:web uses the client identifier prefix
// decentralized_identifier: and passes a signed request object by
// reference (request_uri); its response_uri must have the DID's origin. A
// local verifier without one uses redirect_uri: with the request's
// parameters in the link, unsigned, which wallets accept only when told to.
package oid4vp
