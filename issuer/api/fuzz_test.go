package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/zkcred/zkcred/issuer"
)

// FuzzAPI sends arbitrary bodies to every POST route: answers are JSON and
// never 5xx (the chain is healthy, so nothing may fail on the server side).
func FuzzAPI(f *testing.F) {
	e := newEnv(f)
	h := e.handler(f, e.is)
	link, err := e.is.CreateOffer(context.Background(), issuer.OfferRequest{Schema: issuer.ExampleSchemas()["diploma"], Subject: diplomaSubject()})
	if err != nil {
		f.Fatal(err)
	}
	routes := []string{"/v1/offers", "/v1/credentials", "/v1/revocations", "/v1/offers/" + link.ID + "/claim"}
	subj, _ := json.Marshal(diplomaSubject())
	f.Add(uint8(0), `{"schemaId":"`+e.sid+`","subject":`+string(subj)+`}`)
	f.Add(uint8(1), `{"schemaId":"`+e.sid+`","subject":`+string(subj)+`,"holderCommitment":"5"}`)
	f.Add(uint8(2), `{"leafIndices":[0,1],"credentialIds":["x"]}`)
	f.Add(uint8(3), `{"token":"`+link.Token+`","holderCommitment":"7","proof":"AAAA"}`)
	f.Add(uint8(1), `{"schemaId":"1","subject":{"gpa":1e400}}`)
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		req := httptest.NewRequest(http.MethodPost, routes[int(route)%len(routes)], strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", bearer)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%d for %q: %s", rec.Code, body, rec.Body)
		}
		var m any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("answer is not JSON: %s", rec.Body)
		}
	})
}

// FuzzListQuery: any query string of GET /v1/credentials answers 200 or a
// JSON 400, never 5xx.
func FuzzListQuery(f *testing.F) {
	e := newEnv(f)
	h := e.handler(f, e.is)
	for _, q := range []string{"job=x&row=2", "subject=name:Ada", "limit=1000&after=z", "row=-1", "subject=%zz", "offer="} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		req := httptest.NewRequest(http.MethodGet, "/v1/credentials", nil)
		req.URL.RawQuery = q
		req.Header.Set("Authorization", bearer)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 && rec.Code != 400 {
			t.Fatalf("%d for %q: %s", rec.Code, q, rec.Body)
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("answer is not JSON: %s", rec.Body)
		}
	})
}

// FuzzOID4VCI fuzzes the OpenID4VCI endpoints' bodies: the token
// endpoint's form (with a real pre-authorized code in the seeds), the
// credential endpoint's JSON (with a real access token) and the offer by
// reference's path: no panic, no 5xx, every answer JSON.
func FuzzOID4VCI(f *testing.F) {
	e := newEnv(f)
	h := e.handler(f, e.is)
	link, err := e.is.CreateOffer(context.Background(), issuer.OfferRequest{Schema: issuer.ExampleSchemas()["diploma"], Subject: diplomaSubject()})
	if err != nil {
		f.Fatal(err)
	}
	code := e.is.PreAuthorizedCode(link, false)
	form := url.Values{"grant_type": {issuer.GrantPreAuthorizedCode}, "pre-authorized_code": {code}}
	do := func(method, path, ct, auth, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if rec := do("POST", "/v1/oid4vci/token", "application/x-www-form-urlencoded", "", form.Encode()); json.Unmarshal(rec.Body.Bytes(), &tok) != nil || tok.AccessToken == "" {
		f.Fatalf("token: %s", rec.Body)
	}
	f.Add(uint8(0), form.Encode())
	f.Add(uint8(0), "grant_type=x&pre-authorized_code=a.b.1.c&tx_code=%zz")
	f.Add(uint8(1), `{"credential_configuration_id":"UniversityDiploma","proofs":{"zkcred_holder_groth16":[{"holder_commitment":"5","nonce":"n","proof":"AAAA"}]}}`)
	f.Add(uint8(1), `{"proofs":{"zkcred_holder_groth16":[1,null]}}`)
	f.Add(uint8(2), code)
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		var rec *httptest.ResponseRecorder
		switch route % 3 {
		case 0:
			rec = do("POST", "/v1/oid4vci/token", "application/x-www-form-urlencoded", "", body)
		case 1:
			rec = do("POST", "/v1/oid4vci/credential", "application/json", tok.AccessToken, body)
		default:
			req := httptest.NewRequest("GET", "/", nil)
			req.URL.Path = issuer.OfferPath + body
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, req)
		}
		if rec.Code >= 500 {
			t.Fatalf("%d for %q: %s", rec.Code, body, rec.Body)
		}
		var m any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("answer is not JSON: %s", rec.Body)
		}
	})
}
