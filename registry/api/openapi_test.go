package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/apitest"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/api"
	"github.com/zkcred/zkcred/registry/store"
)

var errStopped = errors.New("node stopped")

// switchSubmitter commits directly, or, as the test sets it, waits for the
// caller's deadline (a block that does not come) or reports a stopped node.
type switchSubmitter struct {
	direct *directSubmitter
	mu     sync.Mutex
	mode   string // "", "hang", "stopped"
}

func (s *switchSubmitter) set(m string) { s.mu.Lock(); s.mode = m; s.mu.Unlock() }

func (s *switchSubmitter) SubmitSigned(ctx context.Context, st *registry.SignedTx) (*registry.Receipt, error) {
	s.mu.Lock()
	m := s.mode
	s.mu.Unlock()
	switch m {
	case "hang":
		<-ctx.Done()
		return nil, ctx.Err()
	case "stopped":
		return nil, errStopped
	}
	return s.direct.SubmitSigned(ctx, st)
}

// fakeCommits serves a placeholder light block for every registry height
// below the latest (the shape this API documents; registry/node serves
// CometBFT's).
type fakeCommits struct{ st *store.Store }

func (f fakeCommits) Height() int64 { return int64(f.st.Latest().Height) }

func (f fakeCommits) LightBlockJSON(_ context.Context, h int64) ([]byte, error) {
	return []byte(`{"signed_header":{"header":{"height":"` + strconv.FormatInt(h, 10) + `"},"commit":{}},"validator_set":{"validators":[]}}`), nil
}

// TestOpenAPI drives every route of the registry API and every status its
// document names through the conformance harness, which checks each request
// and answer against registry/api/openapi.json.
func TestOpenAPI(t *testing.T) {
	_, uni, _ := ed25519.GenerateKey(nil)
	uniPub := hex.EncodeToString(uni.Public().(ed25519.PublicKey))
	g, gov, prod, err := registry.NewGenesis("conformance", time.Unix(1700000000, 0),
		registry.RegisterIssuer{PubKey: uniPub, Name: "Uni", Kind: "university"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := store.Init(dir, g, prod, store.Options{}); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sub := &switchSubmitter{direct: &directSubmitter{st, prod}}
	// The 504 case waits for this deadline: it is a bound on a block that
	// never comes, not a measurement.
	e := api.New(st, sub, api.Options{TxTimeout: 20 * time.Millisecond, Unavailable: []error{errStopped}, Commits: fakeCommits{st}})
	h := apitest.New(t, api.OpenAPI(), e, apitest.Options{Routes: apitest.WithoutPages(e.Routes())}) // the explorer is tested in a browser (registry/api/web)

	want := func(a *apitest.Answer, status int, code string) {
		t.Helper()
		if a.Status != status || a.Code() != code {
			t.Fatalf("got %s, want %d %s", a, status, code)
		}
	}
	ok := func(a *apitest.Answer, v any) {
		t.Helper()
		if a.Status != 200 {
			t.Fatalf("got %s, want 200", a)
		}
		if v != nil {
			if err := a.Decode(v); err != nil {
				t.Fatal(err)
			}
		}
	}
	nonces := map[string]uint64{}
	tx := func(key ed25519.PrivateKey, body registry.Body) *registry.Tx {
		t.Helper()
		pub := hex.EncodeToString(key.Public().(ed25519.PublicKey))
		nonces[pub]++
		x, err := registry.NewTx(g.ChainID, key, nonces[pub], body)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	submit := func(x *registry.Tx) *registry.Receipt {
		t.Helper()
		var rc registry.Receipt
		ok(h.Do("POST", "/v1/tx", x), &rc)
		return &rc
	}

	// Lists are arrays even when empty.
	if a := h.Do("GET", "/v1/circuits", nil); a.Status != 200 || strings.TrimSpace(string(a.Body)) != "[]" {
		t.Fatalf("circuits before any: %s", a)
	}
	if a := h.Do("GET", "/v1/issuers?kind=hospital", nil); a.Status != 200 || strings.TrimSpace(string(a.Body)) != "[]" {
		t.Fatalf("no hospitals: %s", a)
	}

	// POST /v1/tx: every kind of transaction, then every refusal.
	c5 := circuits.F(circuits.U64(5))
	anchor := submit(tx(uni, registry.Anchor{Commitments: []circuits.Field{c5, circuits.F(circuits.U64(6))}}))
	if anchor.Count != 2 {
		t.Fatalf("anchor receipt %+v", anchor)
	}
	schema := json.RawMessage(`{"name":"diploma","version":"1","attributes":[{"name":"degree","type":"enum","values":["BSc","MSc"]},{"name":"gpa","type":"decimal","scale":2}]}`)
	rcSchema := submit(tx(uni, registry.PublishSchema{Schema: schema}))
	_, hosp, _ := ed25519.GenerateKey(nil)
	hospPub := hex.EncodeToString(hosp.Public().(ed25519.PublicKey))
	rcHosp := submit(tx(gov, registry.RegisterIssuer{PubKey: hospPub, Name: "Hospital", Kind: "hospital"}))
	submit(tx(gov, registry.UpdateIssuer{PubKey: hospPub, Name: "St Example Hospital", Kind: "hospital", Active: true}))
	approved := tx(gov, registry.PublishCircuit{Circuit: "zkcred/test", VKHash: strings.Repeat("ab", 32)})
	approved.Approve(g.ChainID, gov) // an approval by the signer itself: counted once
	submit(approved)
	submit(tx(uni, registry.Revoke{Leaves: []registry.RevokeLeaf{{Index: anchor.FirstLeaf, Commitment: c5}}}))
	submit(tx(gov, registry.DeactivateIssuer{PubKey: hospPub}))
	// An accreditor registers an issuer of its kind alone; once withdrawn
	// it is refused (403).
	_, ministry, _ := ed25519.GenerateKey(nil)
	ministryPub := hex.EncodeToString(ministry.Public().(ed25519.PublicKey))
	_, college, _ := ed25519.GenerateKey(nil)
	collegePub := hex.EncodeToString(college.Public().(ed25519.PublicKey))
	submit(tx(gov, registry.Accredit{PubKey: ministryPub, Name: "Ministry", Kinds: []string{"college"}}))
	rcCollege := submit(tx(ministry, registry.RegisterIssuer{PubKey: collegePub, Name: "College", Kind: "college"}))
	want(h.Do("POST", "/v1/tx", tx(ministry, registry.RegisterIssuer{PubKey: strings.Repeat("0c", 32), Name: "Clinic", Kind: "hospital"})), 403, "forbidden")
	submit(tx(gov, registry.WithdrawAccreditation{PubKey: ministryPub}))
	want(h.Do("POST", "/v1/tx", tx(ministry, registry.DeactivateIssuer{PubKey: collegePub})), 403, "forbidden")

	replayed := tx(uni, registry.Anchor{Commitments: []circuits.Field{c5}})
	submit(replayed)
	want(h.Do("POST", "/v1/tx", replayed), 409, "conflict")
	want(h.Do("POST", "/v1/tx", `{"payload":`), 400, "invalid_tx")
	mint := []byte(`{"type":"mint","signer":"` + uniPub + `","nonce":99,"body":{}}`)
	want(h.Do("POST", "/v1/tx", registry.Tx{Payload: mint, Signature: hex.EncodeToString(ed25519.Sign(uni, registry.SigningBytes(g.ChainID, mint)))}), 400, "invalid_tx")
	forged := tx(uni, registry.Anchor{Commitments: []circuits.Field{c5}})
	forged.Signature = hex.EncodeToString(ed25519.Sign(hosp, registry.SigningBytes(g.ChainID, forged.Payload)))
	want(h.Do("POST", "/v1/tx", forged), 403, "forbidden")
	want(h.Do("POST", "/v1/tx", tx(gov, registry.UpdateIssuer{PubKey: strings.Repeat("0a", 32), Name: "Nobody", Kind: "x", Active: true})), 404, "not_found")
	want(h.Do("POST", "/v1/tx", tx(uni, registry.Revoke{Leaves: []registry.RevokeLeaf{{Index: 1 << 30, Commitment: c5}}})), 404, "not_found")
	want(h.Do("POST", "/v1/tx", `{"payload":"`+strings.Repeat("a", api.MaxBodyBytes)+`"}`), 413, "too_large")

	// Content types: JSON with or without charset; anything else is 415.
	body, _ := json.Marshal(tx(uni, registry.Anchor{Commitments: []circuits.Field{c5}}))
	ok(h.Do("POST", "/v1/tx", body, "Content-Type", "application/json; charset=utf-8"), nil)
	lastNonce := nonces[uniPub] // uni's later transactions are all refused
	for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", "application/json; charset=latin1", ""} {
		a := h.Do("POST", "/v1/tx", tx(uni, registry.Anchor{Commitments: []circuits.Field{c5}}), "Content-Type", ct)
		want(a, 415, "unsupported_media_type")
		if !strings.Contains(a.Message(), "JSON") && !strings.Contains(a.Message(), "application/json") {
			t.Fatalf("415 without a hint: %s", a)
		}
	}

	sub.set("stopped")
	want(h.Do("POST", "/v1/tx", tx(uni, registry.Anchor{Commitments: []circuits.Field{c5}})), 503, "unavailable")
	sub.set("hang")
	want(h.Do("POST", "/v1/tx", tx(uni, registry.Anchor{Commitments: []circuits.Field{c5}})), 504, "timeout")
	sub.set("")

	// Reads.
	var gen registry.Genesis
	ok(h.Do("GET", "/v1/genesis", nil), &gen)
	var latest registry.Header
	ok(h.Do("GET", "/v1/headers/latest", nil), &latest)
	if latest.Height < 9 {
		t.Fatalf("latest height %d", latest.Height)
	}
	ok(h.Do("GET", "/v1/headers/0", nil), nil)
	want(h.Do("GET", "/v1/headers/abc", nil), 400, "bad_request")
	want(h.Do("GET", "/v1/headers/01", nil), 400, "bad_request")
	want(h.Do("GET", "/v1/headers/99999", nil), 404, "not_found")
	var hs []registry.Header
	ok(h.Do("GET", "/v1/headers?from=1&to=3", nil), &hs)
	if len(hs) != 3 || hs[0].Height != 1 {
		t.Fatalf("headers 1..3: %d", len(hs))
	}
	ok(h.Do("GET", "/v1/headers?from=99999&to=99999", nil), nil) // none exist: an empty list
	want(h.Do("GET", "/v1/headers", nil), 400, "bad_request")
	want(h.Do("GET", "/v1/headers?from=3&to=1", nil), 400, "bad_request")
	want(h.Do("GET", "/v1/headers?from=0&limit=5", nil), 400, "bad_request")
	// commits exist for every height below the latest
	var lbs []json.RawMessage
	ok(h.Do("GET", "/v1/commits?from=0&to=2", nil), &lbs)
	if len(lbs) != 3 {
		t.Fatalf("commits 0..2: %d", len(lbs))
	}
	ok(h.Do("GET", "/v1/commits/0", nil), nil)
	want(h.Do("GET", "/v1/commits/"+strconv.FormatUint(st.Latest().Height, 10), nil), 404, "not_found")
	want(h.Do("GET", "/v1/commits/x", nil), 400, "bad_request")
	want(h.Do("GET", "/v1/commits?from=3&to=1", nil), 400, "bad_request")
	want(h.Do("GET", "/v1/commits?from=99999999999999999999", nil), 400, "bad_request")

	ok(h.Do("GET", "/v1/blocks/latest", nil), nil)
	var b0 registry.Block
	ok(h.Do("GET", "/v1/blocks/0", nil), &b0)
	ok(h.Do("GET", "/v1/blocks/1", nil), nil)
	want(h.Do("GET", "/v1/blocks/-1", nil), 400, "bad_request")
	want(h.Do("GET", "/v1/blocks/99999", nil), 404, "not_found")

	var issuers []registry.Issuer
	ok(h.Do("GET", "/v1/issuers?kind=university&active=true", nil), &issuers)
	if len(issuers) != 1 || issuers[0].PubKey != uniPub {
		t.Fatalf("issuers: %+v", issuers)
	}
	ok(h.Do("GET", "/v1/issuers?active=false", nil), &issuers)
	if len(issuers) != 1 || issuers[0].PubKey != hospPub {
		t.Fatalf("inactive issuers: %+v", issuers)
	}
	want(h.Do("GET", "/v1/issuers?active=1", nil), 400, "bad_request")
	want(h.Do("GET", "/v1/issuers?sort=name", nil), 400, "bad_request")
	ok(h.Do("GET", "/v1/issuers/"+rcHosp.IssuerID.String(), nil), nil)
	modulus := "21888242871839275222246405745257275088548364400416034343698204186575808495617"
	want(h.Do("GET", "/v1/issuers/"+modulus, nil), 400, "bad_request")
	want(h.Do("GET", "/v1/issuers/x", nil), 400, "bad_request")
	want(h.Do("GET", "/v1/issuers/5", nil), 404, "not_found")

	ok(h.Do("GET", "/v1/schemas/"+rcSchema.SchemaID.String(), nil), nil)
	want(h.Do("GET", "/v1/schemas/"+modulus, nil), 400, "bad_request")
	want(h.Do("GET", "/v1/schemas/5", nil), 404, "not_found")

	ok(h.Do("GET", "/v1/circuits", nil), nil)

	// Proven answers check against the latest header's app hash.
	ok(h.Do("GET", "/v1/headers/latest", nil), &latest)
	var ia registry.IssuerAnswer
	ok(h.Do("GET", "/v1/issuers/"+rcHosp.IssuerID.String(), nil), &ia)
	if err := ia.Verify(latest.AppHash, *rcHosp.IssuerID); err != nil || ia.Active {
		t.Fatalf("issuer answer %+v: %v", ia.Issuer, err)
	}
	var sa registry.SchemaAnswer
	ok(h.Do("GET", "/v1/schemas/"+rcSchema.SchemaID.String(), nil), &sa)
	if err := sa.Verify(latest.AppHash, *rcSchema.SchemaID); err != nil {
		t.Fatal(err)
	}
	for id, published := range map[string]bool{"zkcred/test": true, "zkcred/none": false} {
		var ca registry.CircuitAnswer
		ok(h.Do("GET", "/v1/circuits/"+url.PathEscape(id), nil), &ca)
		if err := ca.Verify(latest.AppHash, id); err != nil || (ca.Record != nil) != published {
			t.Fatalf("circuit %s: %+v: %v", id, ca, err)
		}
	}
	want(h.Do("GET", "/v1/circuits/"+strings.Repeat("c", 129), nil), 400, "bad_request")
	for kind, n := range map[string]int{"university": 1, "hospital": 1, "museum": 0} {
		var ka registry.KindAnswer
		ok(h.Do("GET", "/v1/kinds/"+kind, nil), &ka)
		if err := ka.Verify(latest.AppHash, kind); err != nil || len(ka.Issuers) != n {
			t.Fatalf("kind %s: %+v: %v", kind, ka.KindList, err)
		}
	}
	want(h.Do("GET", "/v1/kinds/Museum", nil), 400, "bad_request")
	var ga registry.GovernanceAnswer
	ok(h.Do("GET", "/v1/governance", nil), &ga)
	if err := ga.Verify(latest.AppHash); err != nil || len(ga.Governance.Keys) != 1 || ga.Governance.Threshold != 1 {
		t.Fatalf("governance %+v: %v", ga.Governance, err)
	}

	var ca registry.IssuerAnswer
	ok(h.Do("GET", "/v1/issuers/"+rcCollege.IssuerID.String(), nil), &ca)
	if err := ca.Verify(latest.AppHash, *rcCollege.IssuerID); err != nil || ca.RegisteredBy != ministryPub {
		t.Fatalf("college %+v: %v", ca.Issuer, err)
	}
	for pub, accredited := range map[string]bool{ministryPub: true, collegePub: false} {
		var aa registry.AccreditorAnswer
		ok(h.Do("GET", "/v1/accreditors/"+pub, nil), &aa)
		if err := aa.Verify(latest.AppHash, pub); err != nil || (aa.Record != nil) != accredited || (accredited && aa.Record.Active) {
			t.Fatalf("accreditor %s: %+v: %v", pub, aa, err)
		}
	}
	want(h.Do("GET", "/v1/accreditors/"+strings.ToUpper(ministryPub), nil), 400, "bad_request")
	want(h.Do("GET", "/v1/accreditors/xyz", nil), 400, "bad_request")

	var acct registry.Account
	ok(h.Do("GET", "/v1/accounts/"+uniPub, nil), &acct)
	if acct.LastNonce != lastNonce {
		t.Fatalf("account %+v, want last nonce %d", acct, lastNonce)
	}
	ok(h.Do("GET", "/v1/accounts/"+strings.Repeat("0b", 32), nil), nil) // never signed: nonce 0
	want(h.Do("GET", "/v1/accounts/"+strings.ToUpper(uniPub), nil), 400, "bad_request")

	var bk registry.Bucket
	ok(h.Do("GET", "/v1/witness/0", nil), &bk)
	if _, _, err := bk.Path(anchor.FirstLeaf + 1); err != nil {
		t.Fatal(err)
	}
	if err := bk.VerifyAppHash(latest.AppHash); err != nil {
		t.Fatal(err)
	}
	want(h.Do("GET", "/v1/witness/x", nil), 400, "bad_request")
	want(h.Do("GET", "/v1/witness/16777216", nil), 404, "not_found")

	// Leaf status: what credentialStatus.id names, with a path that
	// checks against the latest header.
	ok(h.Do("GET", "/v1/headers/latest", nil), &latest)
	for leaf, status := range map[uint64]string{anchor.FirstLeaf: registry.LeafRevoked, anchor.FirstLeaf + 1: registry.LeafActive} {
		var ls registry.LeafStatus
		ok(h.Do("GET", "/v1/leaves/"+strconv.FormatUint(leaf, 10), nil), &ls)
		if ls.Status != status || ls.Index != leaf {
			t.Fatalf("leaf %d: %+v, want %s", leaf, ls, status)
		}
		if err := ls.Check(&latest); err != nil {
			t.Fatalf("leaf %d: %v", leaf, err)
		}
		if err := ls.Verify(latest.AppHash); err != nil {
			t.Fatalf("leaf %d: %v", leaf, err)
		}
		// Check refuses what does not prove itself.
		for name, bad := range map[string]func(*registry.LeafStatus, *registry.Header){
			"altered sibling": func(l *registry.LeafStatus, _ *registry.Header) { l.Siblings[5] = circuits.F(circuits.U64(1)) },
			"altered leaf":    func(l *registry.LeafStatus, _ *registry.Header) { l.Leaf = circuits.F(circuits.U64(9)) },
			"other index":     func(l *registry.LeafStatus, _ *registry.Header) { l.Index ^= 1 },
			"wrong status": func(l *registry.LeafStatus, _ *registry.Header) {
				l.Status = map[string]string{registry.LeafActive: registry.LeafRevoked, registry.LeafRevoked: registry.LeafActive}[l.Status]
			},
			"other block": func(_ *registry.LeafStatus, hd *registry.Header) { hd.Height-- },
			"other root":  func(_ *registry.LeafStatus, hd *registry.Header) { hd.CredRoot = circuits.F(circuits.U64(3)) },
			"short path":  func(l *registry.LeafStatus, _ *registry.Header) { l.Siblings = l.Siblings[1:] },
			"beyond tree": func(_ *registry.LeafStatus, hd *registry.Header) { hd.CredSize = leaf },
		} {
			l, hd := ls, latest
			l.Siblings = append([]circuits.Field(nil), ls.Siblings...)
			bad(&l, &hd)
			if l.Check(&hd) == nil {
				t.Errorf("leaf %d, %s: Check accepted it", leaf, name)
			}
		}
	}
	if want := circuits.LeafHash(circuits.IssuerID(uni.Public().(ed25519.PublicKey)), circuits.U64(6)); true {
		var ls registry.LeafStatus
		ok(h.Do("GET", "/v1/leaves/"+strconv.FormatUint(anchor.FirstLeaf+1, 10), nil), &ls)
		if ls.Leaf.El() != want {
			t.Fatal("active leaf is not H(issuerID, C)")
		}
	}
	want(h.Do("GET", "/v1/leaves/x", nil), 400, "bad_request")
	want(h.Do("GET", "/v1/leaves/"+strconv.FormatUint(latest.CredSize, 10), nil), 404, "not_found")
	want(h.Do("GET", "/v1/leaves/18446744073709551615", nil), 404, "not_found")

	// Percent-encoded path parameters name what their raw form names;
	// queries that do not decode or repeat a parameter are refused.
	ok(h.Do("GET", "/v1/blocks/%31", nil), nil)
	ok(h.Do("GET", "/v1/accounts/"+strings.ReplaceAll(uniPub, "a", "%61"), nil), nil)
	want(h.Do("GET", "/v1/issuers?kind=%zz", nil), 400, "bad_request")
	want(h.Do("GET", "/v1/issuers?kind=university&kind=hospital", nil), 400, "bad_request")
	want(h.Do("GET", "/v1/issuers?active=true&active=false", nil), 400, "bad_request")
	want(h.Do("GET", "/v1/headers?from=1&to=%zz", nil), 400, "bad_request")
	want(h.Do("GET", "/v1/headers?from=1&from=2", nil), 400, "bad_request")

	ok(h.Do("GET", "/v1/roots/"+latest.CredRoot.String(), nil), nil)
	want(h.Do("GET", "/v1/roots/"+modulus, nil), 400, "bad_request")
	want(h.Do("GET", "/v1/roots/7", nil), 404, "not_found")

	ok(h.Do("GET", "/healthz", nil), nil)
	if a := h.Do("GET", "/metrics", nil); a.Status != 200 || !strings.Contains(string(a.Body), `zkcred_registry_txs_total{outcome="committed"}`) {
		t.Fatalf("metrics: %s", a)
	}
	if a := h.Do("GET", "/openapi.json", nil); a.Status != 200 || !bytes.Equal(a.Body, api.OpenAPI()) {
		t.Fatalf("/openapi.json is not the embedded document: %s", a)
	}

	// Outside the document: JSON 404 and 405.
	want(h.Do("GET", "/v2/headers", nil), 404, "not_found")
	want(h.Do("DELETE", "/v1/tx", nil), 405, "method_not_allowed")
	want(h.Do("PUT", "/v1/genesis", `{}`), 405, "method_not_allowed")

	// Every transaction above that was answered 200 is in a block.
	var n int
	for i := uint64(1); i <= latest.Height; i++ {
		var b registry.Block
		ok(h.Do("GET", "/v1/blocks/"+strconv.FormatUint(i, 10), nil), &b)
		n += len(b.Txs)
	}
	if n != 12 {
		t.Fatalf("%d transactions in blocks, want 12", n)
	}
}

// TestRequestLog checks that the API logs one line per request, the
// refused ones included.
func TestRequestLog(t *testing.T) {
	g, _, prod, err := registry.NewGenesis("log", time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := store.Init(dir, g, prod, store.Options{}); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var buf bytes.Buffer
	srv := httptest.NewServer(api.New(st, nil, api.Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}))
	defer srv.Close()
	for _, r := range []struct{ method, path, ct string }{{"GET", "/v1/headers/latest", ""}, {"POST", "/v1/tx", "text/plain"}, {"GET", "/v1/nothing", ""}} {
		req, _ := http.NewRequest(r.method, srv.URL+r.path, strings.NewReader("{}"))
		if r.ct != "" {
			req.Header.Set("Content-Type", r.ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var e struct {
			Msg, Method, Path string
			Status            int
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if e.Msg == "http request" {
			got = append(got, e.Method+" "+e.Path+" "+strconv.Itoa(e.Status))
		}
	}
	if want := "GET /v1/headers/latest 200,POST /v1/tx 415,GET /v1/nothing 404"; strings.Join(got, ",") != want {
		t.Fatalf("request log %q, want %q", got, want)
	}
}
