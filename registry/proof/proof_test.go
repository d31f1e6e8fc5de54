package proof_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/light"
	"github.com/zkcred/zkcred/registry/node"
	"github.com/zkcred/zkcred/registry/proof"
)

// tamper serves the real registry API, but lets a test rewrite the JSON
// answer of one path: what a dishonest or broken registry node could do.
// Headers pass through untouched, so the light client verifies the real
// chain.
type tamper struct {
	real http.Handler
	mu   sync.Mutex
	path string
	edit func(map[string]any)
}

func (t *tamper) set(path string, edit func(map[string]any)) {
	t.mu.Lock()
	t.path, t.edit = path, edit
	t.mu.Unlock()
}

func (t *tamper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t.mu.Lock()
	path, edit := t.path, t.edit
	t.mu.Unlock()
	if edit == nil || r.URL.EscapedPath() != path {
		t.real.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	t.real.ServeHTTP(rec, r)
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	edit(m)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(m)
}

type kit struct {
	t       *testing.T
	g       *registry.Genesis
	gov     ed25519.PrivateKey
	uni     ed25519.PrivateKey
	uniID   circuits.Field
	api     *client.Client
	lc      *light.Client
	rd      proof.Reader
	tamper  *tamper
	nonces  map[string]uint64
	schema  circuits.Field
	anchor  *registry.Receipt
	hospPub string
}

func newKit(t *testing.T) *kit {
	_, uni, _ := ed25519.GenerateKey(nil)
	uniPub := hex.EncodeToString(uni.Public().(ed25519.PublicKey))
	dir := t.TempDir()
	d, err := node.InitDir(dir, "proof-test", []registry.RegisterIssuer{{PubKey: uniPub, Name: "Uni", Kind: "university"}}, node.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g, gov := d.Genesis, d.Governance
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := node.StartDir(dir, ln, node.ServiceOptions{Node: node.Options{Interval: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(context.Background()) })
	u, _ := url.Parse(svc.URL)
	tp := &tamper{real: httputil.NewSingleHostReverseProxy(u)}
	srv := httptest.NewServer(tp)
	t.Cleanup(srv.Close)
	lc, err := light.New(g, srv.URL, light.Options{})
	if err != nil {
		t.Fatal(err)
	}
	k := &kit{t: t, g: g, gov: gov, uni: uni, uniID: circuits.F(circuits.IssuerID(uni.Public().(ed25519.PublicKey))),
		api: lc.Registry(), lc: lc, rd: proof.New(lc.Registry(), lc), tamper: tp, nonces: map[string]uint64{}}
	rc := k.submit(uni, registry.PublishSchema{Schema: json.RawMessage(`{"name":"diploma","version":"1","attributes":[{"name":"degree","type":"enum","values":["BSc","MSc"]}]}`)})
	k.schema = *rc.SchemaID
	k.anchor = k.submit(uni, registry.Anchor{Commitments: []circuits.Field{circuits.F(circuits.U64(5)), circuits.F(circuits.U64(6))}})
	_, hosp, _ := ed25519.GenerateKey(nil)
	k.hospPub = hex.EncodeToString(hosp.Public().(ed25519.PublicKey))
	k.submit(gov, registry.RegisterIssuer{PubKey: k.hospPub, Name: "Hospital", Kind: "hospital"})
	k.submit(gov, registry.RegisterIssuer{PubKey: strings.Repeat("0c", 32), Name: "Second Uni", Kind: "university"})
	k.submit(gov, registry.DeactivateIssuer{PubKey: strings.Repeat("0c", 32)})
	k.submit(gov, registry.PublishCircuit{Circuit: "zkcred/test", VKHash: strings.Repeat("ab", 32)})
	if _, err := lc.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	return k
}

func (k *kit) submit(key ed25519.PrivateKey, body registry.Body) *registry.Receipt {
	k.t.Helper()
	pub := hex.EncodeToString(key.Public().(ed25519.PublicKey))
	k.nonces[pub]++
	tx, err := registry.NewTx(k.g.ChainID, key, k.nonces[pub], body)
	if err != nil {
		k.t.Fatal(err)
	}
	rc, err := k.api.Submit(context.Background(), tx)
	if err != nil {
		k.t.Fatal(err)
	}
	return rc
}

// TestHonestAnswers reads every proven answer from an honest registry.
func TestHonestAnswers(t *testing.T) {
	k := newKit(t)
	ctx := context.Background()
	is, err := k.rd.Issuer(ctx, k.uniID.El())
	if err != nil || !is.Active || is.Name != "Uni" {
		t.Fatalf("issuer %+v: %v", is, err)
	}
	if _, err := k.rd.Schema(ctx, k.schema.El()); err != nil {
		t.Fatal(err)
	}
	l, err := k.rd.Kind(ctx, "university")
	if err != nil || len(l.Issuers) != 2 || len(l.Active()) != 1 || l.Active()[0] != k.uniID {
		t.Fatalf("universities %+v: %v", l, err)
	}
	if l, err := k.rd.Kind(ctx, "museum"); err != nil || len(l.Issuers) != 0 {
		t.Fatalf("museums %+v: %v", l, err)
	}
	if c, err := k.rd.Circuit(ctx, "zkcred/test"); err != nil || c == nil || c.VKHash != strings.Repeat("ab", 32) {
		t.Fatalf("circuit %+v: %v", c, err)
	}
	if c, err := k.rd.Circuit(ctx, "zkcred/none"); err != nil || c != nil {
		t.Fatalf("absent circuit %+v: %v", c, err)
	}
	gv, vs, err := k.rd.Governance(ctx)
	if err != nil || gv.Threshold != 1 || len(gv.Keys) != 1 || len(vs.Validators) != 1 {
		t.Fatalf("governance %+v %+v: %v", gv, vs, err)
	}
	b, err := k.api.Witness(ctx, k.anchor.FirstLeaf)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _, err := proof.Bucket(ctx, k.lc, b, k.anchor.FirstLeaf)
	if want := circuits.LeafHash(k.uniID.El(), circuits.U64(5)); err != nil || leaf != want {
		t.Fatalf("bucket leaf: %v", err)
	}
}

// TestTamperedAnswersRefused alters, in turn, each answer a wallet or
// verifier relies on, in the ways a dishonest registry node could, and
// checks that the Reader refuses each with ErrProof.
func TestTamperedAnswersRefused(t *testing.T) {
	k := newKit(t)
	ctx := context.Background()
	uniPath := "/v1/issuers/" + k.uniID.String()
	hex32 := strings.Repeat("cd", 32)
	cases := []struct {
		name string
		path string
		edit func(map[string]any)
		read func() error
	}{
		{"issuer deactivated", uniPath, func(m map[string]any) { m["active"] = false },
			func() error { _, err := k.rd.Issuer(ctx, k.uniID.El()); return err }},
		{"issuer key swapped", uniPath, func(m map[string]any) { m["pubkey"] = hex32 },
			func() error { _, err := k.rd.Issuer(ctx, k.uniID.El()); return err }},
		{"issuer kind changed", uniPath, func(m map[string]any) { m["kind"] = "hospital" },
			func() error { _, err := k.rd.Issuer(ctx, k.uniID.El()); return err }},
		{"issuer proof sibling altered", uniPath, func(m map[string]any) {
			p := m["proof"].(map[string]any)
			p["siblings"].([]any)[0] = hex32
		}, func() error { _, err := k.rd.Issuer(ctx, k.uniID.El()); return err }},
		{"issuer state root altered", uniPath, func(m map[string]any) { m["proof"].(map[string]any)["state_root"] = hex32 },
			func() error { _, err := k.rd.Issuer(ctx, k.uniID.El()); return err }},
		{"schema altered", "/v1/schemas/" + k.schema.String(), func(m map[string]any) { m["issuer"] = "7" },
			func() error { _, err := k.rd.Schema(ctx, k.schema.El()); return err }},
		{"kind list: deactivated issuer shown active", "/v1/kinds/university", func(m map[string]any) {
			for _, x := range m["issuers"].([]any) {
				x.(map[string]any)["active"] = true
			}
		}, func() error { _, err := k.rd.Kind(ctx, "university"); return err }},
		{"kind list: issuer dropped", "/v1/kinds/university", func(m map[string]any) { m["issuers"] = m["issuers"].([]any)[1:] },
			func() error { _, err := k.rd.Kind(ctx, "university"); return err }},
		{"kind list: emptied", "/v1/kinds/university", func(m map[string]any) { m["issuers"] = []any{} },
			func() error { _, err := k.rd.Kind(ctx, "university"); return err }},
		{"kind list: issuer added", "/v1/kinds/museum", func(m map[string]any) {
			m["issuers"] = []any{map[string]any{"id": k.uniID.String(), "active": true}}
		}, func() error { _, err := k.rd.Kind(ctx, "museum"); return err }},
		{"key hash swapped", "/v1/circuits/zkcred%2Ftest", func(m map[string]any) { m["record"].(map[string]any)["vk_hash"] = hex32 },
			func() error { _, err := k.rd.Circuit(ctx, "zkcred/test"); return err }},
		{"key hash hidden", "/v1/circuits/zkcred%2Ftest", func(m map[string]any) { delete(m, "record") },
			func() error { _, err := k.rd.Circuit(ctx, "zkcred/test"); return err }},
		{"key hash invented", "/v1/circuits/zkcred%2Fnone", func(m map[string]any) {
			m["record"] = map[string]any{"circuit": "zkcred/none", "vk_hash": hex32, "height": 1}
		}, func() error { _, err := k.rd.Circuit(ctx, "zkcred/none"); return err }},
		{"governance threshold altered", "/v1/governance", func(m map[string]any) { m["governance"].(map[string]any)["threshold"] = 2 },
			func() error { _, _, err := k.rd.Governance(ctx); return err }},
		{"witness leaf altered", "/v1/witness/0", func(m map[string]any) { m["leaves"].([]any)[0] = "9" },
			func() error { return k.bucket(ctx) }},
		{"witness cred size altered", "/v1/witness/0", func(m map[string]any) { m["cred_size"] = 1 << 20 },
			func() error { return k.bucket(ctx) }},
		{"witness state root altered", "/v1/witness/0", func(m map[string]any) { m["state_root"] = hex32 },
			func() error { return k.bucket(ctx) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.read(); err != nil {
				t.Fatalf("honest answer refused: %v", err)
			}
			k.tamper.set(c.path, c.edit)
			defer k.tamper.set("", nil)
			err := c.read()
			if !errors.Is(err, proof.ErrProof) {
				t.Fatalf("tampered answer: got %v, want ErrProof", err)
			}
			if !strings.Contains(err.Error(), "app hash") && !strings.Contains(err.Error(), "state root") && !strings.Contains(err.Error(), "does not lead") {
				t.Fatalf("unclear error: %v", err)
			}
		})
	}
}

func (k *kit) bucket(ctx context.Context) error {
	b, err := k.api.Witness(ctx, k.anchor.FirstLeaf)
	if err != nil {
		return err
	}
	_, _, err = proof.Bucket(ctx, k.lc, b, k.anchor.FirstLeaf)
	return err
}

// TestStaleAnswerRefused serves the issuer's record as it was before a
// deactivation the client has verified: a true but old answer is refused.
func TestStaleAnswerRefused(t *testing.T) {
	k := newKit(t)
	ctx := context.Background()
	old, err := k.api.IssuerAnswer(ctx, k.uniID.El())
	if err != nil {
		t.Fatal(err)
	}
	k.submit(k.gov, registry.DeactivateIssuer{PubKey: hex.EncodeToString(k.uni.Public().(ed25519.PublicKey))})
	if _, err := k.lc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	oldJSON, _ := json.Marshal(old)
	var m map[string]any
	json.Unmarshal(oldJSON, &m)
	k.tamper.set("/v1/issuers/"+k.uniID.String(), func(a map[string]any) {
		for key := range a {
			delete(a, key)
		}
		for key, v := range m {
			a[key] = v
		}
	})
	if _, err := k.rd.Issuer(ctx, k.uniID.El()); !errors.Is(err, proof.ErrStale) {
		t.Fatalf("stale record: got %v, want ErrStale", err)
	}
	k.tamper.set("", nil)
	is, err := k.rd.Issuer(ctx, k.uniID.El())
	if err != nil || is.Active {
		t.Fatalf("current record %+v: %v", is, err)
	}
}
