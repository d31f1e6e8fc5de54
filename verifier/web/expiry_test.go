package web

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/verifier"
)

// An expired request says so, and so does a page whose request was
// refused before it expired.
func TestExpiredVerdict(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Now().Unix())
	pinned, err := verifier.ParsePinned([]byte(`{"roots":[{"root":"1","height":1,"time":"` + time.Now().UTC().Format(time.RFC3339) + `"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := verifier.New(verifier.Options{
		InMemory: true, Audience: "http://127.0.0.1:1", PublicURL: "http://127.0.0.1:1",
		Policies: []*verifier.Policy{{Name: "p", Schema: issuer.ExampleSchemas()["diploma"], Public: true, Disclose: []string{"degree"},
			Issuers: verifier.IssuerSpec{IDs: []circuits.Field{circuits.F(circuits.U64(7))}}}},
		Proofs: noProofs{}, Roots: pinned, Issuers: pinned,
		Clock: func() time.Time { return time.Unix(now.Load(), 0) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cr, err := srv.CreateRequestFor("p", "127.0.0.1", false)
	if err != nil {
		t.Fatal(err)
	}
	p := &page{srv: srv, opts: Options{MaxTracked: 2}, tracked: map[string]*tracked{}}
	tr := &tracked{token: cr.ResultToken, req: cr.Request, expires: time.Unix(int64(cr.Request.Expires), 0)}
	p.track(cr.Request.ID, tr)
	if v := p.verdict(cr.Request.ID, tr); v.State != "pending" || v.Final {
		t.Fatalf("fresh request: %+v", v)
	}
	tr.reject = &rejection{Code: "proof_invalid", Message: "proof invalid"}
	if v := p.verdict(cr.Request.ID, tr); v.State != "rejected" || v.Final || !strings.Contains(v.Detail, "proof does not hold") {
		t.Fatalf("refused request: %+v", v)
	}
	now.Add(int64(verifier.DefaultRequestTTL/time.Second) + 1)
	v := p.verdict(cr.Request.ID, tr)
	if v.State != "expired" || !v.Final || !strings.Contains(v.Detail, "expired") || !strings.Contains(v.Detail, "proof does not hold") {
		t.Fatalf("expired request: %+v", v)
	}

	// The page follows a bounded number of requests, oldest forgotten first.
	p.track("b", &tracked{})
	p.track("c", &tracked{})
	if p.lookup(cr.Request.ID) != nil || p.lookup("c") == nil {
		t.Fatal("the oldest tracked request was not forgotten")
	}
}

// noProofs refuses every proof: these requests never get one.
type noProofs struct{}

func (noProofs) Verify([]byte, *circuits.Public) error { return verifier.ErrProofInvalid }
func (noProofs) VerifyBatch(ps [][]byte, _ []*circuits.Public) []error {
	errs := make([]error, len(ps))
	for i := range errs {
		errs[i] = verifier.ErrProofInvalid
	}
	return errs
}
