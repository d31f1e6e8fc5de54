// Package api serves a registry over HTTP with echo, under /v1/:
//
//	POST /v1/tx                      submit a transaction, answer after its block committed
//	GET  /v1/genesis                 the genesis document
//	GET  /v1/headers/latest          latest header
//	GET  /v1/headers/{height}        one header
//	GET  /v1/headers?from=&to=       a range of headers (at most MaxRange)
//	GET  /v1/blocks/latest           latest block with its transactions
//	GET  /v1/blocks/{height}         one block
//	GET  /v1/issuers?kind=&active=   issuers, filtered
//	GET  /v1/issuers/{id}            one issuer by its decimal field ID
//	GET  /v1/schemas/{id}            one schema by its decimal field ID
//	GET  /v1/circuits                published verifying-key hashes
//	GET  /v1/accounts/{pubkey}       a signer's last nonce
//	GET  /v1/witness/{bucket}        a witness bucket at the latest height
//	GET  /v1/roots/{root}            the latest header with this credential root
//	GET  /healthz, /metrics
//	GET  /openapi.json               the OpenAPI 3.1 document (openapi.json, embedded)
//
// openapi.json is the contract: TestOpenAPI drives every route and every
// status it names through internal/apitest, which checks each request and
// answer against it. Request bodies must be JSON (Content-Type
// application/json, optionally with charset=utf-8), else 415. Every error
// is JSON {"error": "...", "code": "..."} with a 4xx status for bad input;
// the status follows the error group (see registry's errors). With
// Options.Logger set, every request is logged in one line (log/slog).
// Package client is the matching Go client.
package api
