package verifier

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/proof"
)

func TestVerifiedAndResult(t *testing.T) {
	e := newEnv(t, nil)
	r := e.newRequest("hire")
	if st, _, pending := e.result(r); st != 200 || pending.Status != wire.StatusPending {
		t.Fatalf("result before presentation: %d %+v", st, pending)
	}
	st, eb, res := e.submit(r, e.honest(e.alice(), r))
	if st != http.StatusOK || res.Status != wire.StatusVerified {
		t.Fatalf("honest presentation: %d %+v", st, eb)
	}
	_, _, got := e.result(r)
	if got.Status != wire.StatusVerified || got.Disclosed["degree"] != "MSc" || got.Disclosed["graduated"] != "2014-06-30" || len(got.Disclosed) != 2 {
		t.Fatalf("result: %+v", got)
	}
	if got.Height != 100 {
		t.Fatalf("height %d", got.Height)
	}
}

func TestRequestContents(t *testing.T) {
	e := newEnv(t, nil)
	r := e.newRequest("hire")
	if r.Now != uint64(e.clock.Now().Unix()) || r.Expires != r.Now+600 || r.MaxRootAge != 3600 {
		t.Fatalf("times: now %d expires %d maxRootAge %d", r.Now, r.Expires, r.MaxRootAge)
	}
	if r.SubmitURL != "https://verifier.test/v1/requests/"+r.ID+"/presentations" {
		t.Fatalf("submit URL %q", r.SubmitURL)
	}
	aud := circuits.AudienceID("https://verifier.test")
	if r.AudienceID.El() != aud {
		t.Fatal("audience id")
	}
	tl, _ := circuits.NewTrustList(e.chain.issuers["university"][:1])
	if r.TrustList.Root.El() != tl.Root() || len(r.TrustList.Issuers) != 1 {
		t.Fatal("trust list of explicit ids")
	}
	// age_at_least 18 on 2026-11-28: born on or before 2008-11-28.
	p := r.Predicates[0]
	if p.Op != "lte" || p.Values[0] != "2008-11-28" {
		t.Fatalf("age helper: %+v", p)
	}
	q, _ := r.Query.Circuit()
	if q.Predicates[0].Kind != circuits.PredRange || q.Predicates[0].Values[1] != circuits.U64(20081128) || q.Predicates[0].Slot != 2 {
		t.Fatalf("age helper circuit form: %+v", q.Predicates[0])
	}
	if q.Predicates[1].Values[0] != circuits.U64(300) {
		t.Fatal("gpa threshold")
	}
	if q.Disclose != 1<<1|1<<4 {
		t.Fatalf("disclose mask %b", q.Disclose)
	}
	// Issuers by kind become the trust list of all active ones.
	v := e.newRequest("vote")
	tl2, _ := circuits.NewTrustList(e.chain.issuers["university"])
	if v.TrustList.Root.El() != tl2.Root() || v.TrustList.Kind != "university" || v.ScopeID.IsZero() {
		t.Fatalf("kind trust list: %+v", v.TrustList)
	}
	// Two requests never share a nonce.
	if e.newRequest("hire").Nonce == r.Nonce {
		t.Fatal("nonce reused")
	}
}

// TestRejections shows that each way a presentation can be wrong is
// rejected with its own reason.
func TestRejections(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.alice()

	type tc struct {
		name   string
		status int
		code   string
		run    func() (int, wire.Error)
	}
	submit := func(r *wire.Request, p *wire.Presentation) (int, wire.Error) {
		st, eb, _ := e.submit(r, p)
		return st, eb
	}
	cases := []tc{
		{"replay of a verified presentation", 409, "replay", func() (int, wire.Error) {
			r := e.newRequest("hire")
			p := e.honest(alice, r)
			if st, eb := submit(r, p); st != 200 {
				t.Fatalf("first: %d %+v", st, eb)
			}
			return submit(r, p)
		}},
		{"nonce reused by another presentation", 409, "nonce_used", func() (int, wire.Error) {
			r := e.newRequest("hire")
			if st, eb := submit(r, e.honest(alice, r)); st != 200 {
				t.Fatalf("first: %d %+v", st, eb)
			}
			// Same request, a fresh root: a different, valid presentation.
			root2 := e.chain.addRoot(101, e.clock.Now().Add(-time.Minute))
			return submit(r, alice.present(r, alice.statement(t, r, root2, 101)))
		}},
		{"root never published", 422, "unknown_root", func() (int, wire.Error) {
			r := e.newRequest("hire")
			return submit(r, alice.present(r, alice.statement(t, r, circuits.RandomElement(), 100)))
		}},
		{"root older than the policy allows", 422, "root_too_old", func() (int, wire.Error) {
			old := e.chain.addRoot(7, e.clock.Now().Add(-61*time.Minute))
			r := e.newRequest("hire")
			return submit(r, alice.present(r, alice.statement(t, r, old, 7)))
		}},
		{"root at another height", 422, "root_height_mismatch", func() (int, wire.Error) {
			r := e.newRequest("hire")
			return submit(r, alice.present(r, alice.statement(t, r, e.root, 99)))
		}},
		{"unknown request", 404, "unknown_request", func() (int, wire.Error) {
			r := e.newRequest("hire")
			p := e.honest(alice, r)
			r2 := *r
			r2.ID = "AAAAAAAAAAAAAAAAAAAAAA"
			p.RequestID = r2.ID
			return submit(&r2, p)
		}},
		{"expired request", 410, "request_expired", func() (int, wire.Error) {
			r := e.newRequest("hire")
			p := e.honest(alice, r)
			e.clock.Add(11 * time.Minute)
			defer e.clock.Add(-11 * time.Minute)
			return submit(r, p)
		}},
		{"proof for another request, submitted to this one", 422, "wrong_request", func() (int, wire.Error) {
			r1, r2 := e.newRequest("hire"), e.newRequest("hire")
			return submit(r2, e.honest(alice, r1))
		}},
		{"proof for another request, relabelled", 422, "wrong_request", func() (int, wire.Error) {
			r1, r2 := e.newRequest("hire"), e.newRequest("hire")
			p := e.honest(alice, r1)
			p.RequestID = r2.ID
			return submit(r2, p)
		}},
		{"proof for another request, relabelled with its nonce", 422, "proof_invalid", func() (int, wire.Error) {
			r1, r2 := e.newRequest("hire"), e.newRequest("hire")
			p := e.honest(alice, r1)
			p.RequestID, p.Nonce = r2.ID, r2.Nonce
			return submit(r2, p)
		}},
		{"disclosed value changed", 422, "proof_invalid", func() (int, wire.Error) {
			r := e.newRequest("hire")
			p := e.honest(alice, r)
			p.Disclosed["degree"] = circuits.F(circuits.U64(2)) // PhD
			return submit(r, p)
		}},
		{"disclosed value missing", 422, "disclosure_mismatch", func() (int, wire.Error) {
			r := e.newRequest("hire")
			p := e.honest(alice, r)
			delete(p.Disclosed, "degree")
			return submit(r, p)
		}},
		{"value disclosed that was not asked for", 422, "disclosure_mismatch", func() (int, wire.Error) {
			r := e.newRequest("hire")
			p := e.honest(alice, r)
			p.Disclosed["gpa"] = circuits.F(circuits.U64(370))
			return submit(r, p)
		}},
		{"nullifier missing for a scoped policy", 422, "nullifier_mismatch", func() (int, wire.Error) {
			r := e.newRequest("vote")
			p := e.honest(alice, r)
			p.Nullifier = circuits.Field{}
			return submit(r, p)
		}},
		{"nullifier without a scope", 422, "nullifier_mismatch", func() (int, wire.Error) {
			r := e.newRequest("hire")
			p := e.honest(alice, r)
			p.Nullifier = circuits.F(circuits.U64(5))
			return submit(r, p)
		}},
		{"nullifier already seen in the scope", 409, "nullifier_seen", func() (int, wire.Error) {
			r1, r2 := e.newRequest("vote"), e.newRequest("vote")
			if st, eb := submit(r1, e.honest(alice, r1)); st != 200 {
				t.Fatalf("first vote: %d %+v", st, eb)
			}
			return submit(r2, e.honest(alice, r2))
		}},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, eb := c.run()
			if st != c.status || eb.Code != c.code {
				t.Fatalf("got %d %q (%s), want %d %q", st, eb.Code, eb.Error, c.status, c.code)
			}
			seen[c.code] = true
		})
	}
	if len(seen) < 12 {
		t.Fatalf("only %d distinct reasons", len(seen))
	}
}

// TestEveryPublicInputBound alters each public input in turn on the
// wallet's side; the verifier, rebuilding the statement from its own
// state, must reject every one.
func TestEveryPublicInputBound(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.CoalesceProofs = 1 }) // the direct path; the others coalesce
	alice := e.alice()
	for _, pol := range []string{"hire", "vote"} {
		r0 := e.newRequest(pol)
		n := len(alice.statement(t, r0, e.root, 100).Vector())
		if n != circuits.NbPublic {
			t.Fatalf("vector of %d inputs, want %d", n, circuits.NbPublic)
		}
		for i := range n {
			r := e.newRequest(pol)
			pub := alice.statement(t, r, e.root, 100)
			p := alice.present(r, pub)
			v := pub.Vector()
			var one = circuits.U64(1)
			v[i].Add(&v[i], &one)
			p.Proof = digestVector(v)
			st, eb, _ := e.submit(r, p)
			if st != 422 || eb.Code != "proof_invalid" {
				t.Fatalf("%s: public input %d altered: got %d %q", pol, i, st, eb.Code)
			}
			// And the honest one still passes on the same request.
			if st, eb, _ := e.submit(r, e.honest(alice, r)); st != 200 {
				t.Fatalf("%s: honest after input %d: %d %+v", pol, i, st, eb)
			}
			if pol == "vote" {
				alice = e.alice() // a fresh credential: one vote each
			}
		}
	}
}

// TestRejectionChangesNothing: a rejected presentation, which anyone who
// knows the request's id can send, leaves the request pending and
// answerable; only a verified presentation changes its result.
func TestRejectionChangesNothing(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.alice()
	r := e.newRequest("hire")
	bad := e.honest(alice, r)
	bad.Proof[0] ^= 1
	if st, eb, _ := e.submit(r, bad); st != 422 || eb.Code != "proof_invalid" {
		t.Fatalf("bad proof: %d %+v", st, eb)
	}
	junk := e.honest(alice, r)
	junk.Root = circuits.F(circuits.U64(7))
	if st, _, _ := e.submit(r, junk); st != 422 {
		t.Fatalf("unknown root: %d", st)
	}
	if _, _, res := e.result(r); res.Status != wire.StatusPending || res.Code != "" || res.Reason != "" {
		t.Fatalf("after rejected attempts: %+v, want pending", res)
	}
	if st, eb, _ := e.submit(r, e.honest(alice, r)); st != 200 {
		t.Fatalf("honest after a rejection: %d %+v", st, eb)
	}
	// A later bad attempt never changes the verified result.
	e.submit(r, bad)
	if _, _, res := e.result(r); res.Status != wire.StatusVerified {
		t.Fatalf("verified result changed: %+v", res)
	}
}

// TestResultNeedsToken: the result (with the disclosed values) is read
// only with the result token that creating the request returned, as a
// bearer token or a query parameter; the request itself stays public.
func TestResultNeedsToken(t *testing.T) {
	e := newEnv(t, nil)
	r := e.newRequest("hire")
	other := e.newRequest("hire")
	if st, eb, _ := e.submit(r, e.honest(e.alice(), r)); st != 200 {
		t.Fatalf("honest: %d %+v", st, eb)
	}
	tok, _ := e.tokens.Load(r.ID)
	otherTok, _ := e.tokens.Load(other.ID)
	path := "/v1/requests/" + r.ID + "/result"
	for name, hdr := range map[string][]string{
		"no token":             nil,
		"another's token":      {"Authorization", "Bearer " + otherTok.(string)},
		"the create token":     auth,
		"token without Bearer": {"Authorization", tok.(string)},
		"truncated token":      {"Authorization", "Bearer " + tok.(string)[:20]},
	} {
		if st, eb := e.do("GET", path, nil, nil, hdr...); st != 401 || eb.Code != "unauthorized" || !strings.Contains(eb.Error, "resultToken") {
			t.Errorf("%s: %d %+v", name, st, eb)
		}
	}
	if st, eb := e.do("GET", path+"?token="+otherTok.(string), nil, nil); st != 401 {
		t.Errorf("another's token in the query: %d %+v", st, eb)
	}
	if st, eb := e.do("GET", path+"?token="+tok.(string)+"&token="+tok.(string), nil, nil); st != 400 {
		t.Errorf("token twice: %d %+v", st, eb)
	}
	var res wire.Result
	if st, eb := e.do("GET", path+"?token="+tok.(string), nil, &res); st != 200 || res.Disclosed["degree"] != "MSc" {
		t.Fatalf("token in the query: %d %+v %+v", st, eb, res)
	}
	if st, _, res := e.result(r); st != 200 || res.Status != wire.StatusVerified {
		t.Fatalf("bearer token: %d %+v", st, res)
	}
	// In process, the same capability.
	if _, err := e.srv.Result(r.ID, otherTok.(string)); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Result with another request's token: %v", err)
	}
	// The request itself is what the wallet reads: no token.
	if st, _ := e.do("GET", "/v1/requests/"+other.ID, nil, nil); st != 200 {
		t.Fatalf("GET request: %d", st)
	}
}

// TestConsumedAfterRejection: a request that someone first answered with
// a bad presentation and that was then verified through /v1/verify reads
// consumed.
func TestConsumedAfterRejection(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.alice()
	r := e.newRequest("hire")
	bad := e.honest(alice, r)
	bad.Proof[1] ^= 1
	e.submit(r, bad)
	if st, eb := e.do("POST", "/v1/verify", e.honest(alice, r), nil); st != 200 {
		t.Fatalf("verify: %d %+v", st, eb)
	}
	if _, _, res := e.result(r); res.Status != wire.StatusConsumed {
		t.Fatalf("after a rejected submit and a verified /v1/verify: %+v, want consumed", res)
	}
	// And through a batch.
	r2 := e.newRequest("hire")
	e.submit(r2, bad)
	var out wire.BatchResponse
	if st, _ := e.do("POST", "/v1/verify/batch", map[string]any{"presentations": []any{e.honest(alice, r2)}}, &out); st != 200 || out.Results[0].Status != wire.StatusVerified {
		t.Fatalf("batch: %d %+v", st, out)
	}
	if _, _, res := e.result(r2); res.Status != wire.StatusConsumed {
		t.Fatalf("after a verified batch item: %+v, want consumed", res)
	}
}

func TestStatelessVerify(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.alice()
	r := e.newRequest("hire")
	bad := e.honest(alice, r)
	bad.Proof[3] ^= 1
	if st, eb := e.do("POST", "/v1/verify", bad, nil); st != 422 || eb.Code != "proof_invalid" {
		t.Fatalf("bad: %d %+v", st, eb)
	}
	if _, _, pending := e.result(r); pending.Status != wire.StatusPending {
		t.Fatalf("a rejected stateless check changed state: %+v", pending)
	}
	var res wire.Result
	p := e.honest(alice, r)
	if st, eb := e.do("POST", "/v1/verify", p, &res); st != 200 || res.Disclosed["degree"] != "MSc" {
		t.Fatalf("verify: %d %+v %+v", st, eb, res)
	}
	if st, eb := e.do("POST", "/v1/verify", p, nil); st != 409 || eb.Code != "replay" {
		t.Fatalf("stateless replay: %d %+v", st, eb)
	}
	if st, eb, _ := e.submit(r, p); st != 409 || eb.Code != "replay" {
		t.Fatalf("replay via submit: %d %+v", st, eb)
	}
	if _, _, res := e.result(r); res.Status != wire.StatusConsumed {
		t.Fatalf("after stateless verify: %+v", res)
	}
}

func TestBatchPerItemVerdicts(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.alice()
	var items []any
	var want []string
	add := func(p any, code string) { items = append(items, p); want = append(want, code) }

	r1 := e.newRequest("hire")
	good1 := e.honest(alice, r1)
	add(good1, "")
	r2 := e.newRequest("hire")
	bad := e.honest(alice, r2)
	bad.Disclosed["graduated"] = circuits.F(circuits.U64(20990101))
	add(bad, "proof_invalid")
	add(map[string]any{"requestId": r2.ID, "surprise": true}, "malformed")
	r3 := e.newRequest("hire")
	add(e.honest(alice, r3), "")
	add(good1, "replay") // same presentation twice in one batch
	r4 := e.newRequest("hire")
	add(alice.present(r4, alice.statement(t, r4, circuits.RandomElement(), 100)), "unknown_root")
	add("not even an object", "malformed")

	var out wire.BatchResponse
	if st, eb := e.do("POST", "/v1/verify/batch", map[string]any{"presentations": items}, &out); st != 200 {
		t.Fatalf("batch: %d %+v", st, eb)
	}
	if len(out.Results) != len(items) {
		t.Fatalf("%d results for %d items", len(out.Results), len(items))
	}
	for i, res := range out.Results {
		if want[i] == "" {
			if res.Status != wire.StatusVerified {
				t.Errorf("item %d: %+v, want verified", i, res)
			}
			continue
		}
		if res.Status != wire.StatusRejected || res.Code != want[i] || res.Reason == "" {
			t.Errorf("item %d: %+v, want rejected %s", i, res, want[i])
		}
	}
	// The rejected item's request is still open.
	if st, eb, _ := e.submit(r2, e.honest(alice, r2)); st != 200 {
		t.Fatalf("request of a rejected batch item: %d %+v", st, eb)
	}
}

func TestCreateRequestErrors(t *testing.T) {
	e := newEnv(t, nil)
	if st, eb := e.do("POST", "/v1/requests", `{"policy":"nope"}`, nil, auth...); st != 404 || eb.Code != "unknown_policy" {
		t.Fatalf("unknown policy: %d %+v", st, eb)
	}
	if st, eb := e.do("POST", "/v1/requests", `{}`, nil, auth...); st != 404 || eb.Code != "unknown_policy" {
		t.Fatalf("no policy named among two: %d %+v", st, eb)
	}
	delete(e.chain.issuers, "university")
	if st, eb := e.do("POST", "/v1/requests", `{"policy":"vote"}`, nil, auth...); st != 503 || eb.Code != "issuers_unavailable" {
		t.Fatalf("issuer lister failing: %d %+v", st, eb)
	}
	e.chain.issuers["university"] = nil
	if st, eb := e.do("POST", "/v1/requests", `{"policy":"vote"}`, nil, auth...); st != 503 || eb.Code != "issuers_unavailable" {
		t.Fatalf("no active issuers: %d %+v", st, eb)
	}
	for _, path := range []string{"/v1/requests/short", "/v1/requests/AAAAAAAAAAAAAAAAAAAAAA", "/v1/requests/AAAAAAAAAAAAAAAAAAAAAA/result"} {
		if st, eb := e.do("GET", path, nil, nil); st != 404 || eb.Code != "unknown_request" {
			t.Fatalf("GET %s: %d %+v", path, st, eb)
		}
	}
	r := e.newRequest("hire")
	e.clock.Add(time.Hour)
	if st, eb := e.do("GET", "/v1/requests/"+r.ID, nil, nil); st != 410 || eb.Code != "request_expired" {
		t.Fatalf("expired fetch: %d %+v", st, eb)
	}
}

// TestFullTrustList: a kind with 256 active issuers fills the trust list;
// 257 do not fit and creating a request says so.
func TestFullTrustList(t *testing.T) {
	e := newEnv(t, nil)
	ids := []fr.Element{e.issuer}
	for len(ids) < 1<<circuits.TrustDepth {
		ids = append(ids, circuits.RandomElement())
	}
	e.chain.issuers["university"] = ids
	r := e.newRequest("vote")
	if len(r.TrustList.Issuers) != 256 {
		t.Fatalf("%d issuers", len(r.TrustList.Issuers))
	}
	if st, eb, _ := e.submit(r, e.honest(e.alice(), r)); st != 200 {
		t.Fatalf("presentation against a full trust list: %d %+v", st, eb)
	}
	e.chain.issuers["university"] = append(ids, circuits.RandomElement())
	if st, eb := e.do("POST", "/v1/requests", `{"policy":"vote"}`, nil, auth...); st != 503 || !strings.Contains(eb.Error, "257") {
		t.Fatalf("257 issuers: %d %+v", st, eb)
	}
}

// TestRootRepublished: blocks without credential changes publish the same
// root again. A presentation may name any block with its root, and its age
// counts from the latest such block.
func TestRootRepublished(t *testing.T) {
	e := newEnv(t, nil)
	alice := e.alice()
	old := e.chain.addRoot(50, e.clock.Now().Add(-3*time.Hour))
	// Too old while block 50 is the only one with this root...
	r := e.newRequest("hire")
	if st, eb, _ := e.submit(r, alice.present(r, alice.statement(t, r, old, 50))); st != 422 || eb.Code != "root_too_old" {
		t.Fatalf("stale root: %d %+v", st, eb)
	}
	// ...fresh once block 120 publishes it again (nothing was revoked since).
	e.chain.publish(old, 120, e.clock.Now().Add(-time.Minute))
	if st, eb, _ := e.submit(r, alice.present(r, alice.statement(t, r, old, 50))); st != 200 {
		t.Fatalf("root republished: %d %+v", st, eb)
	}
	// A height that published another root is still refused.
	r2 := e.newRequest("hire")
	if st, eb, _ := e.submit(r2, alice.present(r2, alice.statement(t, r2, old, 100))); st != 422 || eb.Code != "root_height_mismatch" {
		t.Fatalf("height of another root: %d %+v", st, eb)
	}
}

// noHeaders is a light client that has verified nothing.
type noHeaders struct{}

func (noHeaders) LatestHeight() (uint64, bool) { return 0, false }
func (noHeaders) VerifiedAppHash(context.Context, uint64) (registry.Hash, error) {
	return registry.Hash{}, errors.New("no verified headers")
}

// TestErrorsNameNoInternalAddress: when the registry does not answer,
// creating a request under an issuer kind answers 503 issuers_unavailable
// without the registry's address (which the log gets instead).
func TestErrorsNameNoInternalAddress(t *testing.T) {
	var logs syncBuffer
	cl, err := client.New("http://127.0.0.1:1", client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) {
		o.Issuers = RegistryIssuers{Registry: proof.New(cl, noHeaders{}), Timeout: 5 * time.Second}
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	st, eb := e.do("POST", "/v1/requests", `{"policy":"vote"}`, nil, auth...)
	if st != 503 || eb.Code != "issuers_unavailable" {
		t.Fatalf("registry down: %d %+v", st, eb)
	}
	for _, leak := range []string{"127.0.0.1", "http", "dial", "refused", "/v1/issuers"} {
		if strings.Contains(eb.Error, leak) {
			t.Errorf("the 503 answer names %q: %s", leak, eb.Error)
		}
	}
	if !strings.Contains(logs.String(), "127.0.0.1:1") {
		t.Errorf("the cause is not logged: %s", logs.String())
	}
}
