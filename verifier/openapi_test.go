package verifier

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/zkcred/zkcred/internal/apitest"
	"github.com/zkcred/zkcred/internal/didweb"
	"github.com/zkcred/zkcred/internal/oid4vp"
	"github.com/zkcred/zkcred/wire"
)

func init() {
	// A request object is a JWS compact serialisation: a string.
	openapi3filter.RegisterBodyDecoder(oid4vp.RequestObjectMedia, func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	})
}

// TestOpenAPI drives every route of the verifier API and every status its
// document names through the conformance harness, which checks each request
// and answer against openapi.json.
func TestOpenAPI(t *testing.T) {
	const token = "s3cret"
	e := newEnv(t, func(o *Options) {
		// Rate limited per client, with clients told apart by
		// X-Forwarded-For from loopback: each request below comes from an
		// address of its own, except those that drive the 429s.
		o.RateLimit, o.RateBurst = 0.001, 3
		o.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
		o.CreateToken = token
		o.MaxBody, o.MaxBatch = 4096, 4
		o.Policies[1].Public = true // "vote": anyone may ask, within the quota
		o.PublicQuota = 2
		o.MaxRequests = 40
	})
	h := apitest.New(t, openAPI, e.srv.Handler(), apitest.Options{})
	client := 0
	do := func(method, path string, body any, hdr ...string) *apitest.Answer {
		t.Helper()
		client++
		return h.Do(method, path, body, append([]string{"X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", client>>16&255, client>>8&255, client&255)}, hdr...)...)
	}
	want := func(a *apitest.Answer, status int, code string) {
		t.Helper()
		if a.Status != status || a.Code() != code {
			t.Fatalf("got %s, want %d %s", a, status, code)
		}
	}
	bearer := []string{"Authorization", "Bearer " + token}
	tokens := map[string]string{}
	create := func(policy string) *wire.Request {
		t.Helper()
		a := do("POST", "/v1/requests", map[string]string{"policy": policy}, bearer...)
		var r wire.CreatedRequest
		if a.Status != 201 || a.Decode(&r) != nil || r.ResultToken == "" {
			t.Fatalf("create %s: %s", policy, a)
		}
		if loc := a.Header.Get("Location"); loc != "/v1/requests/"+r.ID {
			t.Fatalf("Location %q for %s", loc, r.ID)
		}
		tokens[r.ID] = r.ResultToken
		return &r.Request
	}
	// getResult reads a request's result as its creator.
	getResult := func(id string) *apitest.Answer {
		t.Helper()
		return do("GET", "/v1/requests/"+id+"/result", nil, "Authorization", "Bearer "+tokens[id])
	}
	result := func(a *apitest.Answer, status string) *wire.Result {
		t.Helper()
		var res wire.Result
		if a.Status != 200 || a.Decode(&res) != nil || res.Status != status {
			t.Fatalf("got %s, want 200 %s", a, status)
		}
		return &res
	}
	presentation := func(r *wire.Request) []byte {
		b, _ := json.Marshal(e.honest(e.alice(), r))
		return b
	}
	unknownID := "AAAAAAAAAAAAAAAAAAAAAA"
	big := `{"policy":"` + strings.Repeat("a", 5000) + `"}`

	// POST /v1/requests
	hire := create("hire")
	vote := create("vote")
	want(do("POST", "/v1/requests", nil, bearer...), 404, "unknown_policy") // two policies: the body must name one
	want(do("POST", "/v1/requests", `{"policy":"nope"}`, bearer...), 404, "unknown_policy")
	want(do("POST", "/v1/requests", `{"policy":"hire","x":1}`, bearer...), 400, "malformed")
	want(do("POST", "/v1/requests", `{"policy":`, bearer...), 400, "malformed")
	want(do("POST", "/v1/requests", `{"policy":"hire"}`), 401, "unauthorized")
	want(do("POST", "/v1/requests", `{"policy":"hire"}`, "Authorization", "Bearer wrong"), 401, "unauthorized")
	want(do("POST", "/v1/requests", `{"policy":"vote"}`, "Authorization", "Bearer wrong"), 401, "unauthorized")
	// A public policy needs no token; one client holds at most two open
	// requests of it.
	quota := func() *apitest.Answer {
		return h.Do("POST", "/v1/requests", `{"policy":"vote"}`, "X-Forwarded-For", "198.51.100.9")
	}
	for range 2 {
		var r wire.CreatedRequest
		if a := quota(); a.Status != 201 || a.Decode(&r) != nil || r.ResultToken == "" {
			t.Fatalf("public request: %s", a)
		}
	}
	if a := quota(); a.Status != 429 || a.Code() != "quota_exceeded" || a.Header.Get("Retry-After") == "" {
		t.Fatalf("over the quota: %s", a)
	}
	want(do("POST", "/v1/requests", big, bearer...), 413, "body_too_large")
	e.chain.mu.Lock()
	universities := e.chain.issuers["university"]
	delete(e.chain.issuers, "university")
	e.chain.mu.Unlock()
	want(do("POST", "/v1/requests", `{"policy":"vote"}`, bearer...), 503, "issuers_unavailable")
	e.chain.mu.Lock()
	e.chain.issuers["university"] = universities
	e.chain.mu.Unlock()

	// GET /v1/requests/{id} and its result.
	if a := do("GET", "/v1/requests/"+hire.ID, nil); a.Status != 200 {
		t.Fatal(a)
	}
	want(do("GET", "/v1/requests/"+unknownID, nil), 404, "unknown_request")
	want(do("GET", "/v1/requests/short", nil), 404, "unknown_request") // refused by the document too
	result(getResult(hire.ID), wire.StatusPending)
	result(do("GET", "/v1/requests/"+hire.ID+"/result?token="+tokens[hire.ID], nil), wire.StatusPending)
	want(do("GET", "/v1/requests/"+hire.ID+"/result", nil), 401, "unauthorized")
	want(do("GET", "/v1/requests/"+hire.ID+"/result", nil, "Authorization", "Bearer "+tokens[vote.ID]), 401, "unauthorized")
	want(do("GET", "/v1/requests/"+hire.ID+"/result?token=x&token=y", nil), 400, "malformed")
	want(getResult(unknownID), 404, "unknown_request")
	if a := do("GET", "/v1/requests/"+hire.ID, nil); strings.Contains(string(a.Body), tokens[hire.ID]) {
		t.Fatalf("the request a wallet reads holds the result token: %s", a)
	}

	// POST /v1/requests/{id}/presentations
	good := presentation(hire)
	forged := e.honest(e.alice(), hire)
	forged.Proof[0] ^= 1
	want(do("POST", "/v1/requests/"+hire.ID+"/presentations", forged), 422, "proof_invalid")
	result(getResult(hire.ID), wire.StatusPending) // a rejection changes nothing
	want(do("POST", "/v1/requests/"+hire.ID+"/presentations", `{"requestId":"`+hire.ID+`"}`), 400, "malformed")
	want(do("POST", "/v1/requests/"+hire.ID+"/presentations", big), 413, "body_too_large")
	want(do("POST", "/v1/requests/"+unknownID+"/presentations", good), 404, "unknown_request")
	res := result(do("POST", "/v1/requests/"+hire.ID+"/presentations", good), wire.StatusVerified)
	if res.Disclosed["degree"] != "MSc" {
		t.Fatalf("disclosed %v", res.Disclosed)
	}
	want(do("POST", "/v1/requests/"+hire.ID+"/presentations", good), 409, "replay")
	result(getResult(hire.ID), wire.StatusVerified)

	// POST /v1/verify
	result(do("POST", "/v1/verify", presentation(vote)), wire.StatusVerified)
	result(getResult(vote.ID), wire.StatusConsumed)
	want(do("POST", "/v1/verify", presentation(vote)), 409, "nonce_used") // another presentation for a used nonce
	want(do("POST", "/v1/verify", `[]`), 400, "malformed")
	want(do("POST", "/v1/verify", big), 413, "body_too_large")
	stranger := e.honest(e.alice(), hire)
	stranger.RequestID = unknownID
	want(do("POST", "/v1/verify", stranger), 404, "unknown_request")
	hire2 := create("hire")
	wrongRoot := e.alice().present(hire2, e.alice().statement(t, hire2, e.root, 99))
	want(do("POST", "/v1/verify", wrongRoot), 422, "root_height_mismatch")

	// POST /v1/verify/batch: a malformed item is rejected alone.
	hire3 := create("hire")
	var br wire.BatchResponse
	a := do("POST", "/v1/verify/batch", map[string]any{"presentations": []json.RawMessage{presentation(hire3), json.RawMessage(`{"x":1}`)}})
	if a.Status != 200 || a.Decode(&br) != nil || len(br.Results) != 2 || br.Results[0].Status != wire.StatusVerified || br.Results[1].Code != "malformed" {
		t.Fatalf("batch: %s", a)
	}
	want(do("POST", "/v1/verify/batch", `{"presentations":[]}`), 400, "malformed")
	want(do("POST", "/v1/verify/batch", `{"presentations":[{},{},{},{},{}]}`), 400, "malformed")
	want(do("POST", "/v1/verify/batch", `{"presentations":["`+strings.Repeat("a", 4096*4)+`"]}`), 413, "body_too_large")

	// Content types: JSON with or without charset; anything else is 415 on
	// every POST.
	hire4 := create("hire")
	result(do("POST", "/v1/requests/"+hire4.ID+"/presentations", presentation(hire4), "Content-Type", "application/json; charset=utf-8"), wire.StatusVerified)
	for _, p := range []string{"/v1/requests", "/v1/requests/" + hire4.ID + "/presentations", "/v1/verify", "/v1/verify/batch"} {
		for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", ""} {
			a := do("POST", p, `{"policy":"hire"}`, append([]string{"Content-Type", ct}, bearer...)...)
			want(a, 415, "unsupported_media_type")
			if !strings.Contains(a.Message(), "application/json") {
				t.Fatalf("415 without a hint: %s", a)
			}
		}
	}
	// An empty POST needs no type (TestCreateWithoutBody: a verifier with
	// one policy takes it); this one has two, so the empty body names none.
	want(do("POST", "/v1/requests", nil, append([]string{"Content-Type", "text/plain"}, bearer...)...), 404, "unknown_policy")

	// 429 on every /v1 route, for one client that used up its burst.
	limited := func(method, path string, body any, hdr ...string) *apitest.Answer {
		return h.Do(method, path, body, append([]string{"X-Forwarded-For", "192.0.2.1"}, hdr...)...)
	}
	for range 3 {
		limited("GET", "/v1/requests/"+unknownID, nil)
	}
	for _, r := range []struct{ method, path string }{
		{"POST", "/v1/requests"}, {"GET", "/v1/requests/" + unknownID}, {"POST", "/v1/requests/" + unknownID + "/presentations"},
		{"GET", "/v1/requests/" + unknownID + "/result"}, {"POST", "/v1/verify"}, {"POST", "/v1/verify/batch"},
	} {
		var body any
		if r.method == "POST" {
			body = `{}`
		}
		want(limited(r.method, r.path, body, bearer...), 429, "rate_limited")
	}

	// OpenID4VP: request object, QR code, response URI.
	oauth := func(a *apitest.Answer, status int, zcode string) {
		t.Helper()
		var er oid4vp.ErrorResponse
		if a.Status != status || a.Decode(&er) != nil || er.ZkcredCode != zcode || er.Error == "" {
			t.Fatalf("got %s, want %d with code %s", a, status, zcode)
		}
	}
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}
	vpForm := func(state string, p any) string {
		tok, _ := json.Marshal(map[string]any{oid4vp.CredentialQueryID: []any{p}})
		return url.Values{"vp_token": {string(tok)}, "state": {state}}.Encode()
	}
	vp := create("hire")
	if a := do("GET", "/v1/oid4vp/requests/"+vp.ID, nil); a.Status != 200 || a.Header.Get("Content-Type") != oid4vp.RequestObjectMedia {
		t.Fatalf("request object: %s", a)
	}
	oauth(do("GET", "/v1/oid4vp/requests/"+unknownID, nil), 404, "unknown_request")
	if a := do("GET", "/v1/oid4vp/requests/"+vp.ID+"/qr.png", nil); a.Status != 200 || !bytes.HasPrefix(a.Body, []byte("\x89PNG")) {
		t.Fatalf("QR code: %s", a)
	}
	oauth(do("GET", "/v1/oid4vp/requests/"+unknownID+"/qr.png", nil), 404, "unknown_request")
	respPath := "/v1/oid4vp/responses/" + vp.ID
	oauth(do("POST", respPath, vpForm(vp.ID, presentation(vp)), "Content-Type", "application/json"), 415, "malformed")
	oauth(do("POST", respPath, "vp_token=%7B%7D", form...), 400, "malformed") // no state
	oauth(do("POST", respPath, vpForm(vp.ID, map[string]any{"x": 1}), form...), 400, "malformed")
	oauth(do("POST", respPath, "state="+strings.Repeat("a", 9000), form...), 413, "body_too_large")
	oauth(do("POST", "/v1/oid4vp/responses/"+unknownID, vpForm(unknownID, json.RawMessage(presentation(vp))), form...), 404, "unknown_request")
	forgedVP := e.honest(e.alice(), vp)
	forgedVP.Proof[0] ^= 1
	oauth(do("POST", respPath, vpForm(vp.ID, forgedVP), form...), 422, "proof_invalid")
	oauth(do("POST", respPath, vpForm(hire4.ID, json.RawMessage(presentation(vp))), form...), 422, "wrong_request") // state of another request
	if a := do("POST", respPath, url.Values{"error": {"access_denied"}, "state": {vp.ID}}.Encode(), form...); a.Status != 200 {
		t.Fatalf("wallet error: %s", a)
	}
	goodVP := presentation(vp)
	result(do("POST", respPath, vpForm(vp.ID, json.RawMessage(goodVP)), form...), wire.StatusVerified)
	oauth(do("POST", respPath, vpForm(vp.ID, json.RawMessage(goodVP)), form...), 409, "replay")
	vpExpired := create("hire")

	// 410 once the requests expired (the policies' TTL is 10 minutes).
	pending, toSubmit, toVerify := create("hire"), create("hire"), create("hire")
	e.clock.Add(11 * time.Minute)
	oauth(do("GET", "/v1/oid4vp/requests/"+vpExpired.ID, nil), 410, "request_expired")
	oauth(do("GET", "/v1/oid4vp/requests/"+vpExpired.ID+"/qr.png", nil), 410, "request_expired")
	oauth(do("POST", "/v1/oid4vp/responses/"+vpExpired.ID, vpForm(vpExpired.ID, json.RawMessage(presentation(vpExpired))), form...), 410, "request_expired")
	want(do("GET", "/v1/requests/"+pending.ID, nil), 410, "request_expired")
	want(getResult(pending.ID), 410, "request_expired")
	want(do("POST", "/v1/requests/"+toSubmit.ID+"/presentations", presentation(toSubmit)), 410, "request_expired")
	want(do("POST", "/v1/verify", presentation(toVerify)), 410, "request_expired")

	// Outside /v1.
	if a := do("GET", "/healthz", nil); a.Status != 200 {
		t.Fatal(a)
	}
	if a := do("GET", "/metrics", nil); a.Status != 200 || !strings.Contains(string(a.Body), "zkcred_verifier_requests_created_total") {
		t.Fatalf("metrics: %s", a)
	}
	var doc didweb.Document
	if a := do("GET", didweb.Path, nil); a.Status != 200 || a.Decode(&doc) != nil || doc.ID != e.srv.DID() || doc.ID != "did:web:verifier.test" {
		t.Fatalf("did.json: %s", a)
	}
	if a := do("GET", "/openapi.json", nil); a.Status != 200 || !bytes.Equal(a.Body, openAPI) {
		t.Fatalf("/openapi.json is not the embedded document: %s", a)
	}
	// The store holds at most 40 requests (MaxRequests), whoever asks.
	full := false
	for range 40 {
		a := do("POST", "/v1/requests", `{"policy":"hire"}`, bearer...)
		if a.Status == 201 {
			continue
		}
		want(a, 503, "store_full")
		if a.Header.Get("Retry-After") == "" {
			t.Fatalf("store_full without Retry-After: %s", a)
		}
		full = true
		break
	}
	if !full {
		t.Fatal("the store took more than MaxRequests requests")
	}

	want(do("GET", "/v2/requests", nil), 404, "not_found")
	want(do("DELETE", "/v1/requests", nil), 405, "method_not_allowed")
}
