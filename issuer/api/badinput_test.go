package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/wire"
)

// answer is one request's outcome through the handler.
type answer struct {
	status int
	body   string
}

func (e *env) send(t *testing.T, method, target, body string) answer {
	t.Helper()
	h := e.handler(t, e.is)
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(method, "/", nil)
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		t.Fatal(err)
	}
	req.URL = u
	req.RequestURI = target
	req.Header.Set("Authorization", bearer)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return answer{rec.Code, rec.Body.String()}
}

// TestNullsDoNoDamage: a null where a number or ID belongs is a 400, never
// read as 0 or "": {"leafIndices":[null]} must not revoke leaf 0.
func TestNullsDoNoDamage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, hc := holder()
	b, err := e.is.Issue(ctx, issuer.Request{Schema: issuer.ExampleSchemas()["diploma"], Subject: diplomaSubject(), HolderCommit: hc})
	if err != nil {
		t.Fatal(err)
	}
	if b.Private.LeafIndex != 0 {
		t.Fatalf("first credential at leaf %d", b.Private.LeafIndex)
	}
	for _, body := range []string{
		`{"leafIndices":[null]}`, `{"leafIndices":[5,null]}`, `{"credentialIds":[null]}`,
		`{"leafIndices":["0"]}`, `{"leafIndices":[-1]}`, `{"leafIndices":[0.5]}`, `{"leafIndices":0}`,
		`{"leafIndices":[0],"leafIndices":[1]}`, `{"leafIndices":[1],"LeafIndices":[0]}`,
	} {
		if a := e.send(t, "POST", "/v1/revocations", body); a.status != 400 {
			t.Errorf("POST /v1/revocations %s: %d %s, want 400", body, a.status, a.body)
		}
	}
	if leaf, _, _ := e.chain.Leaf(0); leaf.IsZero() {
		t.Fatal("a malformed revocation revoked leaf 0")
	}
	if _, revoked, _ := e.is.Credential(b.Private.CredentialID); revoked {
		t.Fatal("a malformed revocation marked the credential revoked")
	}
	subj, _ := json.Marshal(diplomaSubject())
	hcs := `"` + circuits.Dec(hc) + `"`
	for path, bodies := range map[string][]string{
		"/v1/offers": {
			`{"schemaId":null,"subject":` + string(subj) + `}`,
			`{"schemaId":"` + e.sid + `","subject":` + string(subj) + `,"validUntil":null}`,
			`{"schemaId":"` + e.sid + `","subject":` + string(subj) + `,"validUntil":5}`,
			`{"schemaId":"` + e.sid + `","subject":` + string(subj) + `,"validUntil":""}`,
			`{"schemaId":5,"subject":` + string(subj) + `}`,
		},
		"/v1/credentials": {
			`{"schemaId":"` + e.sid + `","subject":` + string(subj) + `,"holderCommitment":null}`,
			`{"schemaId":"` + e.sid + `","subject":` + string(subj) + `,"holderCommitment":5}`,
			`{"schemaId":null,"subject":` + string(subj) + `,"holderCommitment":` + hcs + `}`,
		},
		"/v1/offers/x/claim": {
			`{"token":null,"holderCommitment":` + hcs + `,"proof":"AA=="}`,
			`{"token":"t","holderCommitment":null,"proof":"AA=="}`,
			`{"token":"t","holderCommitment":` + hcs + `,"proof":null}`,
		},
	} {
		for _, body := range bodies {
			if a := e.send(t, "POST", path, body); a.status != 400 {
				t.Errorf("POST %s %s: %d %s, want 400", path, body, a.status, a.body)
			}
		}
	}
	if n, _ := e.is.CountCredentials(); n != 1 {
		t.Fatalf("%d credentials after malformed requests", n)
	}
}

// TestExpiryBounded: a validUntil past year 9999 in UTC (valid RFC 3339,
// but no format carries it) is a 400 on both routes, not a 500 when the
// record is stored; the last second of 9999 is accepted.
func TestExpiryBounded(t *testing.T) {
	e := newEnv(t)
	_, hc := holder()
	subj, _ := json.Marshal(diplomaSubject())
	for _, until := range []string{"9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59-00:01", "10000-01-01T00:00:00Z"} {
		for _, r := range []struct{ path, body string }{
			{"/v1/offers", `{"schemaId":"` + e.sid + `","subject":` + string(subj) + `,"validUntil":"` + until + `"}`},
			{"/v1/credentials", `{"schemaId":"` + e.sid + `","subject":` + string(subj) + `,"holderCommitment":"` + circuits.Dec(hc) + `","validUntil":"` + until + `"}`},
		} {
			if a := e.send(t, "POST", r.path, r.body); a.status != 400 {
				t.Errorf("POST %s validUntil %s: %d %s, want 400", r.path, until, a.status, a.body)
			}
		}
	}
	max := issuer.MaxValidUntil.Format("2006-01-02T15:04:05Z07:00")
	if a := e.send(t, "POST", "/v1/offers", `{"schemaId":"`+e.sid+`","subject":`+string(subj)+`,"validUntil":"`+max+`"}`); a.status != 201 {
		t.Errorf("validUntil %s: %d %s", max, a.status, a.body)
	}
	a := e.send(t, "POST", "/v1/credentials", `{"schemaId":"`+e.sid+`","subject":`+string(subj)+`,"holderCommitment":"`+circuits.Dec(hc)+`","validUntil":"`+max+`"}`)
	if a.status != 201 {
		t.Fatalf("validUntil %s: %d %s", max, a.status, a.body)
	}
	b, err := wire.ParseBundle([]byte(a.body))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Check(); err != nil {
		t.Fatalf("credential expiring at the bound: %v", err)
	}
}

// TestEscapedIDs: a percent-encoded ID in a path names the same thing as
// its raw form; queries that do not decode, or repeat a parameter, are 400.
func TestEscapedIDs(t *testing.T) {
	e := newEnv(t)
	_, hc := holder()
	b, err := e.is.Issue(context.Background(), issuer.Request{Schema: issuer.ExampleSchemas()["diploma"], Subject: diplomaSubject(), HolderCommit: hc})
	if err != nil {
		t.Fatal(err)
	}
	id := b.Private.CredentialID
	for _, p := range []string{id, strings.ReplaceAll(id, ":", "%3A"), strings.ReplaceAll(id, ":", "%3a"), url.PathEscape(id), strings.ReplaceAll(id, "-", "%2D")} {
		a := e.send(t, "GET", "/v1/credentials/"+p, "")
		if a.status != 200 || !strings.Contains(a.body, id) {
			t.Errorf("GET /v1/credentials/%s: %d %s", p, a.status, a.body)
		}
	}
	if a := e.send(t, "GET", "/v1/schemas/"+strings.Replace(e.sid, "1", "%31", 1), ""); a.status != 200 {
		t.Errorf("escaped schema ID: %d %s", a.status, a.body)
	}
	for _, q := range []string{"job=%zz", "subject=name%zz", "offer=a;b", "row=1&row=2", "after=%", "job=", "offer=", "row=", "row=0", "row=1", "after="} {
		if a := e.send(t, "GET", "/v1/credentials?"+q, ""); a.status != 400 {
			t.Errorf("GET /v1/credentials?%s: %d %s, want 400", q, a.status, a.body)
		}
	}
}
