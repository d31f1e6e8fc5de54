// Package api is the issuer's HTTP API on echo: claim links for holders,
// and admin routes behind a bearer token that issue, list and revoke
// credentials. openapi.json (served at /openapi.json) is its contract, and a
// conformance test drives every route and status against it.
//
//	GET  /healthz                    liveness
//	GET  /metrics                    Prometheus metrics
//	GET  /openapi.json               the OpenAPI 3.1 document
//	GET  /ns/credentials/v1          the zkcred JSON-LD context
//	GET  /v1/issuer                  the issuer's DID and issuer ID
//	GET  /v1/schemas                 the issuer's schemas, described
//	GET  /v1/schemas/:id             one schema
//	GET  /v1/offers/:id?token=…      holder: the offer's schema and data
//	POST /v1/offers/:id/claim        holder: claim with holder commitment + proof
//	POST /v1/offers                  admin: create a claim offer
//	POST /v1/credentials             admin: issue to a known holder commitment
//	GET  /v1/credentials?job=&row=&offer=&subject=attr:value&limit=&after=
//	                                 admin: list and find credentials
//	GET  /v1/credentials/:id         admin: a credential's leaf and status
//	POST /v1/revocations             admin: revoke by credential ID or leaf
//
// Every error is JSON {"error", "code"[, "field"]}, with a 4xx status for
// bad input; every JSON POST needs Content-Type application/json (415
// otherwise). Each request is logged on one line (internal/httpx), never
// with its query string, which holds claim tokens.
package api
