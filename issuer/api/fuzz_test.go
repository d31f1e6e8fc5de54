package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
