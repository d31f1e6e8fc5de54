package node

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/light"
	"github.com/zkcred/zkcred/registry/store"
)

type env struct {
	svc      *Service
	c        *client.Client
	g        *registry.Genesis
	gov, uni ed25519.PrivateKey
	hosp     ed25519.PrivateKey
	dir      string
}

func pubHex(k ed25519.PrivateKey) string { return hex.EncodeToString(k.Public().(ed25519.PublicKey)) }

func start(t *testing.T) *env {
	t.Helper()
	_, uni, _ := ed25519.GenerateKey(nil)
	_, hosp, _ := ed25519.GenerateKey(nil)
	dir := t.TempDir()
	d, err := InitDir(dir, "node-test", []registry.RegisterIssuer{
		{PubKey: pubHex(uni), Name: "Uni", Kind: "university"},
		{PubKey: pubHex(hosp), Name: "Hospital", Kind: "hospital"}}, KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc := startDir(t, dir, Options{})
	c, _ := client.New(svc.URL, client.Options{})
	return &env{svc: svc, c: c, g: d.Genesis, gov: d.Governance, uni: uni, hosp: hosp, dir: dir}
}

// startDir starts a node directory on a loopback port until the test ends.
func startDir(t testing.TB, dir string, o Options) *Service {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := StartDir(dir, ln, ServiceOptions{Node: o, Store: testStore})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(context.Background()) })
	return svc
}

var testStore = store.Options{Badger: func(o badger.Options) badger.Options {
	return o.WithMemTableSize(8 << 20).WithValueThreshold(64 << 10).WithBlockCacheSize(4 << 20)
}}

func (e *env) signer(t *testing.T, k ed25519.PrivateKey) *client.Signer {
	s, err := e.c.NewSigner(context.Background(), e.g.ChainID, k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func cs(n int, seed uint64) []circuits.Field {
	out := make([]circuits.Field, n)
	for i := range out {
		out[i] = circuits.F(circuits.U64(seed<<32 + uint64(i) + 1))
	}
	return out
}

func TestServiceEndToEnd(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	uni, hosp := e.signer(t, e.uni), e.signer(t, e.hosp)
	var wg sync.WaitGroup
	var rcs [2]*registry.Receipt
	var errs [2]error
	commit := [2][]circuits.Field{cs(300, 1), cs(20, 2)}
	wg.Add(2)
	go func() { defer wg.Done(); rcs[0], errs[0] = uni.Do(ctx, registry.Anchor{Commitments: commit[0]}) }()
	go func() { defer wg.Done(); rcs[1], errs[1] = hosp.Do(ctx, registry.Anchor{Commitments: commit[1]}) }()
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	// every acknowledged leaf is at its index, and its path leads to a
	// published root
	for k, signer := range []ed25519.PrivateKey{e.uni, e.hosp} {
		id := circuits.IssuerID(signer.Public().(ed25519.PublicKey))
		for i, idx := range rcs[k].Indices() {
			if i%97 != 0 {
				continue
			}
			b, err := e.c.Witness(ctx, idx)
			if err != nil {
				t.Fatal(err)
			}
			leaf, path, err := b.Path(idx)
			if err != nil {
				t.Fatal(err)
			}
			if want := circuits.LeafHash(id, commit[k][i].El()); !leaf.Equal(&want) {
				t.Fatalf("leaf %d is not the anchored commitment", idx)
			}
			if len(path) != circuits.Depth {
				t.Fatal("path length")
			}
			ri, err := e.c.RootInfo(ctx, b.Root.El())
			if err != nil || ri.Height != b.Height {
				t.Fatalf("root lookup: %v %+v", err, ri)
			}
		}
	}
	// revoke one of the hospital's leaves
	idx := rcs[1].FirstLeaf + 3
	if _, err := hosp.Do(ctx, registry.Revoke{Leaves: []registry.RevokeLeaf{{Index: idx, Commitment: commit[1][3]}}}); err != nil {
		t.Fatal(err)
	}
	b, _ := e.c.Witness(ctx, idx)
	if leaf, _, err := b.Path(idx); err != nil || !leaf.IsZero() {
		t.Fatalf("revoked leaf: %v %v", leaf, err)
	}

	// authorisation negatives over HTTP: status, code, nothing changes
	before, _ := e.c.Latest(ctx)
	_, stranger, _ := ed25519.GenerateKey(nil)
	for name, tc := range map[string]struct {
		k    ed25519.PrivateKey
		body registry.Body
		want error
	}{
		"stranger anchors":     {stranger, registry.Anchor{Commitments: cs(1, 3)}, registry.ErrForbidden},
		"uni revokes hospital": {e.uni, registry.Revoke{Leaves: []registry.RevokeLeaf{{Index: rcs[1].FirstLeaf, Commitment: commit[1][0]}}}, registry.ErrForbidden},
		"issuer registers":     {e.uni, registry.RegisterIssuer{PubKey: pubHex(stranger), Name: "X", Kind: "university"}, registry.ErrForbidden},
	} {
		_, err := e.signer(t, tc.k).Do(ctx, tc.body)
		var ae *client.APIError
		if !errors.Is(err, tc.want) || !errors.As(err, &ae) || ae.Code != "forbidden" || ae.Message == "" {
			t.Errorf("%s: %v", name, err)
		}
	}
	// replay of an accepted transaction
	tx, _ := registry.NewTx(e.g.ChainID, e.hosp, 1, registry.Anchor{Commitments: cs(1, 4)})
	if _, err := e.c.Submit(ctx, tx); !errors.Is(err, registry.ErrConflict) {
		t.Errorf("replay: %v", err)
	}
	after, _ := e.c.Latest(ctx)
	if after.CredSize != before.CredSize || after.CredRoot != before.CredRoot || after.IssuerRoot != before.IssuerRoot {
		t.Fatal("a rejected transaction changed the state")
	}

	// governance: deactivate, filter issuers
	gov := e.signer(t, e.gov)
	if _, err := gov.Do(ctx, registry.DeactivateIssuer{PubKey: pubHex(e.hosp)}); err != nil {
		t.Fatal(err)
	}
	if _, err := hosp.Do(ctx, registry.Anchor{Commitments: cs(1, 5)}); !errors.Is(err, registry.ErrForbidden) {
		t.Fatalf("deactivated issuer anchored: %v", err)
	}
	act := true
	is, err := e.c.Issuers(ctx, client.IssuerFilter{Active: &act})
	if err != nil || len(is) != 1 || is[0].Kind != "university" {
		t.Fatalf("active issuers %v %v", is, err)
	}
	if is, _ := e.c.Issuers(ctx, client.IssuerFilter{Kind: "hospital"}); len(is) != 1 || is[0].Active {
		t.Fatalf("hospitals %v", is)
	}
	one, err := e.c.Issuer(ctx, is[0].ID.El())
	if err != nil || one.DID == "" || !strings.HasPrefix(one.DID, "did:key:z6Mk") {
		t.Fatalf("issuer %+v %v", one, err)
	}
	rc, err := uni.Do(ctx, registry.PublishSchema{Schema: json.RawMessage(`{"name":"diploma","version":"1","attributes":[{"name":"gpa","type":"decimal","scale":2}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := e.c.Schema(ctx, rc.SchemaID.El()); err != nil || s.Issuer != *rc.IssuerID {
		t.Fatalf("schema %v", err)
	}
	if _, err := gov.Do(ctx, registry.PublishCircuit{Circuit: "present-v1", VKHash: strings.Repeat("ab", 32)}); err != nil {
		t.Fatal(err)
	}
	if c, err := e.c.Circuits(ctx); err != nil || len(c) != 1 || c[0].VKHash != strings.Repeat("ab", 32) {
		t.Fatalf("circuits %v %v", c, err)
	}
	hs, err := e.c.Headers(ctx, 0, 1000)
	if last, _ := e.c.Latest(ctx); err != nil || uint64(len(hs)) != last.Height+1 {
		t.Fatalf("headers %d %v", len(hs), err)
	}
	// a light client follows the real registry and knows the latest root
	lc, err := light.New(e.g, e.svc.URL, light.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lh, err := lc.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h, _, ok := lc.RootInfo(lh.CredRoot.El()); !ok || h != lh.Height {
		t.Fatal("light client root lookup")
	}
	// the whole chain audits
	if _, err := e.svc.Store.Audit(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

// TestHTTPErrors checks that bad requests get JSON 4xx answers.
func TestHTTPErrors(t *testing.T) {
	e := start(t)
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/v1/headers/abc", "", 400},
		{"GET", "/v1/headers/007", "", 400},
		{"GET", "/v1/headers/99999", "", 404},
		{"GET", "/v1/headers?from=5&to=1", "", 400},
		{"GET", "/v1/headers?from=0&x=1", "", 400},
		{"GET", "/v1/witness/99999999999", "", 404},
		{"GET", "/v1/roots/" + circuits.Modulus().String(), "", 400},
		{"GET", "/v1/roots/12345", "", 404},
		{"GET", "/v1/issuers?active=maybe", "", 400},
		{"GET", "/v1/issuers/1", "", 404},
		{"GET", "/v1/accounts/xyz", "", 400},
		{"GET", "/v1/nothing", "", 404},
		{"DELETE", "/v1/tx", "", 405},
		{"POST", "/v1/tx", `{"payload":{}}`, 400},
		{"POST", "/v1/tx", `{"payload":1,"signature":"x"} trailing`, 400},
		{"POST", "/v1/tx", strings.Repeat(" ", 2<<20), 413},
	} {
		req, _ := http.NewRequest(tc.method, e.svc.URL+tc.path, strings.NewReader(tc.body))
		if tc.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var je struct{ Error, Code string }
		if resp.StatusCode != tc.status || json.Unmarshal(b, &je) != nil || je.Error == "" || je.Code == "" {
			t.Errorf("%s %s: %d %s, want %d with a JSON error", tc.method, tc.path, resp.StatusCode, b, tc.status)
		}
	}
	resp, err := http.Get(e.svc.URL + "/metrics")
	if err != nil || resp.StatusCode != 200 {
		t.Fatal("metrics", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), "zkcred_registry_height") {
		t.Fatal("metrics lack the height gauge")
	}
}

// TestBlockLimits submits more than a block holds and checks that blocks
// close at their weight limit, every transaction gets its own leaves, and
// a rejected transaction does not hold up the others.
func TestBlockLimits(t *testing.T) {
	keys := make([]ed25519.PrivateKey, 4)
	var is []registry.RegisterIssuer
	for i := range keys {
		_, keys[i], _ = ed25519.GenerateKey(nil)
		is = append(is, registry.RegisterIssuer{PubKey: pubHex(keys[i]), Name: "I", Kind: "hospital"})
	}
	dir := t.TempDir()
	d, err := InitDir(dir, "limits", is, KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := d.Genesis
	var sizes []uint64
	var mu sync.Mutex
	svc := startDir(t, dir, Options{MaxBlockLeaves: 100, Interval: 30 * time.Millisecond, Heartbeat: -1,
		OnCommit: func(h *registry.Header, _ int) {
			mu.Lock()
			sizes = append(sizes, h.CredSize)
			mu.Unlock()
		}})
	n, st := svc.Node, svc.Store
	ctx := context.Background()
	var wg sync.WaitGroup
	got := make([][]*registry.Receipt, len(keys))
	for w := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 1; j <= 5; j++ {
				tx, _ := registry.NewTx(g.ChainID, keys[w], uint64(j), registry.Anchor{Commitments: cs(40, uint64(w*10+j))})
				rc, err := n.Submit(ctx, tx)
				if err != nil {
					t.Error(err)
					return
				}
				got[w] = append(got[w], rc)
				// a replay in between is rejected and the rest go on
				if _, err := n.Submit(ctx, tx); !errors.Is(err, registry.ErrReplay) {
					t.Errorf("replay: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for _, rcs := range got {
		for _, rc := range rcs {
			for _, i := range rc.Indices() {
				if seen[i] {
					t.Fatalf("leaf %d given twice", i)
				}
				seen[i] = true
			}
		}
	}
	if len(seen) != 4*5*40 || st.Latest().CredSize != 800 {
		t.Fatalf("%d leaves acknowledged, tree has %d", len(seen), st.Latest().CredSize)
	}
	prev := uint64(0)
	for _, s := range sizes {
		if s-prev > 100 {
			t.Fatalf("a block holds %d leaves, limit 100", s-prev)
		}
		prev = s
	}
}

// TestUnknownSignerIsNotHashed checks that an anchor signed by a key that is
// no issuer is rejected without the registry hashing its commitments.
func TestUnknownSignerIsNotHashed(t *testing.T) {
	e := start(t)
	_, stranger, _ := ed25519.GenerateKey(nil)
	tx, _ := registry.NewTx(e.g.ChainID, stranger, 1, registry.Anchor{Commitments: cs(50, 1)})
	st, err := registry.VerifyTx(e.g.ChainID, tx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Node.SubmitSigned(context.Background(), st); !errors.Is(err, registry.ErrUnknownIssuer) {
		t.Fatalf("got %v", err)
	}
	tx, _ = registry.NewTx(e.g.ChainID, e.uni, 1, registry.Anchor{Commitments: cs(50, 1)})
	b, _ := json.Marshal(tx)
	checked, err := e.svc.Node.App().Check(b)
	if err != nil || len(checked.Leaves) != 50 {
		t.Fatalf("issuer's anchor: %v", err)
	}
}
