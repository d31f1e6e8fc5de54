// Package verifier is zkcred's relying-party service: it issues
// presentation requests under configured policies and checks the
// presentations that answer them.
//
// A verifier never trusts a public input sent by the holder. For every
// presentation it rebuilds the whole public statement (circuits.Public)
// from its own state: the request it stored (nonce, audience, now, schema,
// trust-list root, query, scope), its light client's verified roots (the
// root's height and age), and only then takes the disclosed values and the
// nullifier from the presentation, which the proof binds. Checks run
// cheapest first and each failure has its own sentinel error and HTTP
// status (errors.go); the Groth16 pairing check comes last, and a
// verified presentation uses up its nonce (and its nullifier in the
// policy's scope) in one badger transaction.
//
// Access: a request of a policy that is not Public is created only with
// the create token (the relying party's backend); a public policy's by
// anyone, within a per-client quota; the store holds at most MaxRequests.
// Creating a request returns a result token, the only way to read its
// result; a rejected presentation changes nothing. The rate limit counts
// presentations (batch items included), a batch checks one item per
// request, a failed combined check is resolved by bisection, and a client
// whose proof failed has its proofs checked alone (limit.go).
//
// Use:
//
//	cfg, _ := verifier.ParseConfig(policyFile)
//	o := cfg.Options()
//	o.Dir, o.Proofs, o.Roots, o.Issuers = dataDir, keys.Verifier(), lightClient, lightClient
//	srv, _ := verifier.New(o)
//	defer srv.Close()
//	go srv.Serve(ctx, listener)          // or http.Handler: srv.Handler()
//
// The formats it exchanges (wire.Request, wire.Presentation, wire.Result)
// are package wire's; the endpoints are described in docs/verifier.md and
// in openapi.json (OpenAPI 3.1, served at /openapi.json), which
// TestOpenAPI holds the handler to, route by route and status by status.
package verifier
