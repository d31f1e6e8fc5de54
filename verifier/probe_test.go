package verifier

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/zkcred/zkcred/internal/apitest"
	"github.com/zkcred/zkcred/wire"
)

// TestProbe sends the bad-input prober's requests, generated from the
// OpenAPI document, to every route of the verifier API: no 5xx, no dropped
// connection, no success for what the document refuses.
func TestProbe(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxBody, o.MaxBatch = 64<<10, 8 })
	alice := e.alice()
	r := e.newRequest("hire")
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	fresh := func() string { return js(e.honest(alice, e.newRequest("hire"))) }
	apitest.Probe(t, openAPI, e.http.URL, apitest.ProbeOptions{
		BodyLimit:  64 << 10,
		PathParams: map[string]string{"id": r.ID},
		Bodies: map[string]func() string{
			"POST /v1/requests":                    func() string { return `{"policy":"hire"}` },
			"POST /v1/requests/{id}/presentations": func() string { return js(e.honest(alice, r)) },
			"POST /v1/verify":                      fresh,
			"POST /v1/verify/batch": func() string {
				return js(wire.BatchRequest{Presentations: []json.RawMessage{json.RawMessage(fresh()), json.RawMessage(fresh())}})
			},
		},
	})
}

// TestEscapedRequestID: a percent-encoded request ID names the request.
func TestEscapedRequestID(t *testing.T) {
	e := newEnv(t, nil)
	r := e.newRequest("hire")
	esc := ""
	for _, c := range []byte(r.ID) {
		esc += fmt.Sprintf("%%%02X", c)
	}
	var got wire.Request
	if st, eb := e.do("GET", "/v1/requests/"+esc, nil, &got); st != 200 || got.ID != r.ID {
		t.Fatalf("GET /v1/requests/%s: %d %+v", esc, st, eb)
	}
}
