package verifier

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/zkcred/zkcred/circuits"
)

// fuzzHandler posts body to the path and fails on a 5xx, a panic (the
// recover middleware would make it a 500) or an error answer that does
// not name its problem.
func fuzzHandler(t *testing.T, h http.Handler, method, path string, body []byte) {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%s %s: status %d: %s\nbody: %q", method, path, rec.Code, rec.Body.Bytes(), body)
	}
	if rec.Code >= 400 {
		var eb wire.Error
		if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Code == "" || eb.Error == "" {
			t.Fatalf("%s %s: status %d without a JSON error: %q", method, path, rec.Code, rec.Body.Bytes())
		}
	}
}

func seedPresentations(f *testing.F, e *env) (*wire.Request, [][]byte) {
	r := e.newRequest("hire")
	good, _ := json.Marshal(e.honest(e.alice(), r))
	v := e.newRequest("vote")
	vote, _ := json.Marshal(e.honest(e.alice(), v))
	seeds := [][]byte{good, vote,
		[]byte(`{}`), []byte(`null`), []byte(`[]`), []byte(`"x"`), []byte(``),
		[]byte(`{"requestId":"` + r.ID + `","proof":"AAAA","nonce":"1","root":"0","height":18446744073709551615,"nullifier":"0"}`),
		[]byte(`{"requestId":"` + r.ID + `","proof":"AAAA","disclosed":{"degree":"21888242871839275222246405745257275088548364400416034343698204186575808495617"}}`),
		[]byte(`{"requestId":"` + r.ID + `","disclosed":{"":"1","degree":"1","x":"2"},"proof":"AQ=="}`),
		append(append([]byte{}, good...), good...),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	return r, seeds
}

func FuzzSubmit(f *testing.F) {
	e := newEnv(f, nil)
	r, _ := seedPresentations(f, e)
	h := e.srv.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzHandler(t, h, "POST", "/v1/requests/"+r.ID+"/presentations", body)
	})
}

func FuzzVerify(f *testing.F) {
	e := newEnv(f, nil)
	seedPresentations(f, e)
	h := e.srv.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzHandler(t, h, "POST", "/v1/verify", body)
	})
}

func FuzzBatch(f *testing.F) {
	e := newEnv(f, nil)
	_, seeds := seedPresentations(f, e)
	for i := range seeds {
		f.Add([]byte(`{"presentations":[` + string(seeds[0]) + `,` + string(seeds[i]) + `]}`))
	}
	f.Add([]byte(`{"presentations":null}`))
	f.Add([]byte(`{"presentations":[1,2,3]}`))
	h := e.srv.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzHandler(t, h, "POST", "/v1/verify/batch", body)
	})
}

func FuzzCreateRequest(f *testing.F) {
	e := newEnv(f, nil)
	for _, s := range []string{`{"policy":"hire"}`, `{"policy":"vote"}`, `{}`, ``, `{"policy":1}`, `{"policy":"hire"} x`, `{"policy":"\u0000"}`} {
		f.Add([]byte(s))
	}
	h := e.srv.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzHandler(t, h, "POST", "/v1/requests", body)
	})
}

// FuzzPaths covers the GET handlers' path parameter.
func FuzzPaths(f *testing.F) {
	e := newEnv(f, nil)
	r := e.newRequest("hire")
	for _, s := range []string{r.ID, "AAAAAAAAAAAAAAAAAAAAAA", "", "%00", "..", r.ID + "/../x", "ÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿ"} {
		f.Add(s)
	}
	h := e.srv.Handler()
	f.Fuzz(func(t *testing.T, id string) {
		for _, path := range []string{"/v1/requests/" + id, "/v1/requests/" + id + "/result"} {
			req := httptest.NewRequest("GET", "/", nil)
			req.URL.Path = path
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("GET %q: %d %s", path, rec.Code, rec.Body.Bytes())
			}
		}
	})
}

// FuzzPresentationRoundTrip: a presentation that parses marshals to a
// document that parses to the same presentation.
func FuzzPresentationRoundTrip(f *testing.F) {
	e := newEnv(f, nil)
	seedPresentations(f, e)
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := wire.ParsePresentation(body)
		if err != nil {
			return
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := wire.ParsePresentation(b)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		b2, _ := json.Marshal(q)
		if !bytes.Equal(b, b2) {
			t.Fatalf("round trip changed:\n%s\n%s", b, b2)
		}
	})
}

// FuzzParseConfig: any configuration either parses into valid policies or
// is refused with an error; never a panic.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(testConfig(circuits.U64(42))))
	f.Add([]byte(policyJSON(`,"predicates":[{"attribute":"birthDate","op":"age_under","years":1}]`)))
	f.Add([]byte(policyJSON(`,"predicates":[{"attribute":"graduated","op":"within_days","days":100000}]`)))
	f.Add([]byte(`{"audience":"a","policies":[null]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := ParseConfig(b)
		if err != nil {
			return
		}
		for _, p := range cfg.Policies {
			if _, _, err := p.compile(time.Now()); err != nil {
				t.Fatalf("policy %q valid at load, not at request time: %v", p.Name, err)
			}
		}
	})
}

// FuzzParseRequest: a request a wallet accepts round-trips.
func FuzzParseRequest(f *testing.F) {
	e := newEnv(f, nil)
	for _, pol := range []string{"hire", "vote"} {
		b, _ := json.Marshal(e.newRequest(pol))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := wire.ParseRequest(b)
		if err != nil {
			return
		}
		b1, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := wire.ParseRequest(b1)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, b1)
		}
		b2, _ := json.Marshal(r2)
		if !bytes.Equal(b1, b2) {
			t.Fatalf("round trip changed:\n%s\n%s", b1, b2)
		}
	})
}

// FuzzOID4VPResponse fuzzes the OpenID4VP response URI's form body: no
// panic, no 5xx, every error a JSON object with error and code.
func FuzzOID4VPResponse(f *testing.F) {
	e := newEnv(f, nil)
	r, seeds := seedPresentations(f, e)
	for _, s := range seeds {
		f.Add([]byte(url.Values{"state": {r.ID}, "vp_token": {`{"zkcred":[` + string(s) + `]}`}}.Encode()))
	}
	f.Add([]byte("state=" + r.ID + "&error=access_denied"))
	f.Add([]byte("state=%zz"))
	h := e.srv.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", OID4VPResponsePath+r.ID, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d: %s\nbody: %q", rec.Code, rec.Body.Bytes(), body)
		}
		if rec.Code >= 400 {
			var eb struct{ Error, Code string }
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Code == "" || eb.Error == "" {
				t.Fatalf("status %d without a JSON error: %q", rec.Code, rec.Body.Bytes())
			}
		}
	})
}

// FuzzOID4VPPaths covers the request object and QR code routes' path
// parameter.
func FuzzOID4VPPaths(f *testing.F) {
	e := newEnv(f, nil)
	r := e.newRequest("hire")
	for _, s := range []string{r.ID, "AAAAAAAAAAAAAAAAAAAAAA", "", "%00", ".."} {
		f.Add(s)
	}
	h := e.srv.Handler()
	f.Fuzz(func(t *testing.T, id string) {
		for _, path := range []string{OID4VPRequestPath + id, OID4VPRequestPath + id + "/qr.png"} {
			req := httptest.NewRequest("GET", "/", nil)
			req.URL.Path = path
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("GET %q: %d %s", path, rec.Code, rec.Body.Bytes())
			}
		}
	})
}
