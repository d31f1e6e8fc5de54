package verifier

import (
	"sync"
	"testing"
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/home"
)

var _ ProofVerifier = (*circuits.Verifier)(nil)

// Groth16 keys are made once (or loaded from home.KeysDir(),
// the cache `zkcred setup` fills) per test binary.
var realKeys = sync.OnceValues(func() (*circuits.Keys, error) {
	return circuits.LoadOrSetup(home.KeysDir(), nil)
})

// realHolder holds one anchored credential and proves with real keys.
type realHolder struct {
	keys   *circuits.Keys
	w      *circuits.Witness // credential part filled in
	issuer fr.Element
	tree   *circuits.Tree
	idx    uint64
}

func newRealEnv(t testing.TB, mutate ...func(*Options)) (*env, *realHolder) {
	if testing.Short() {
		t.Skip("end-to-end Groth16 test skipped in -short mode")
	}
	keys, err := realKeys()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) {
		o.Proofs = keys.Verifier()
		for _, m := range mutate {
			m(o)
		}
	})
	attrs, err := e.schema.Encode(map[string]any{"fullName": "Alice Example", "degree": "MSc",
		"birthDate": "1990-04-01", "gpa": "3.70", "graduated": "2014-06-30"})
	if err != nil {
		t.Fatal(err)
	}
	secret := circuits.RandomElement()
	cred := circuits.Credential{SchemaID: e.schema.ID(), HolderCommit: circuits.HolderCommit(secret),
		Expiry: uint64(e.clock.Now().AddDate(5, 0, 0).Unix()), Salt: circuits.RandomElement(), Attrs: attrs}
	tree := circuits.NewTree(circuits.Depth)
	tree.Append(circuits.RandomElement(), circuits.RandomElement())
	idx, err := tree.Append(circuits.LeafHash(e.issuer, cred.Commitment()))
	if err != nil {
		t.Fatal(err)
	}
	e.chain.mu.Lock()
	e.chain.roots[tree.Root()] = rootInfo{200, e.clock.Now().Add(-10 * time.Minute)}
	e.chain.mu.Unlock()
	h := &realHolder{keys: keys, issuer: e.issuer, tree: tree, idx: idx,
		w: &circuits.Witness{Credential: cred, HolderSecret: secret, IssuerID: e.issuer}}
	return e, h
}

// prove answers a request as a wallet would, from the request alone.
func (h *realHolder) prove(t testing.TB, r *wire.Request) *wire.Presentation {
	t.Helper()
	proof, pub := h.proveStatement(t, r)
	return (&wallet{}).present(r, pub, proof)
}

// proveStatement proves the statement of an answer to r.
func (h *realHolder) proveStatement(t testing.TB, r *wire.Request) ([]byte, *circuits.Public) {
	t.Helper()
	ids := make([]fr.Element, len(r.TrustList.Issuers))
	for i, id := range r.TrustList.Issuers {
		ids[i] = id.El()
	}
	tl, err := circuits.NewTrustList(ids)
	if err != nil {
		t.Fatal(err)
	}
	ti, tp, ok := tl.Path(h.issuer)
	if !ok {
		t.Fatal("issuer not in the request's trust list")
	}
	q, err := r.Query.Circuit()
	if err != nil {
		t.Fatal(err)
	}
	w := *h.w
	w.LeafIndex, w.Path = h.idx, h.tree.Path(h.idx)
	w.TrustIndex, w.TrustPath = ti, tp
	w.Root, w.Height = h.tree.Root(), 200
	w.TrustRoot, w.Now, w.Nonce = r.TrustList.Root.El(), r.Now, r.Nonce.El()
	w.Audience, w.Scope, w.Query = r.AudienceID.El(), r.ScopeID.El(), q
	proof, pub, err := h.keys.Prove(&w)
	if err != nil {
		t.Fatal(err)
	}
	return proof, pub
}

func TestEndToEndGroth16(t *testing.T) {
	e, h := newRealEnv(t)

	r := e.newRequest("hire")
	p := h.prove(t, r)
	if n := len(p.Proof); n < 128 || n > 256 {
		t.Fatalf("proof of %d bytes", n)
	}
	st, eb, res := e.submit(r, p)
	if st != 200 || res.Disclosed["degree"] != "MSc" || res.Disclosed["graduated"] != "2014-06-30" {
		t.Fatalf("real proof: %d %+v %+v", st, eb, res)
	}
	if st, eb, _ := e.submit(r, p); st != 409 || eb.Code != "replay" {
		t.Fatalf("replay: %d %+v", st, eb)
	}

	// Changing what the holder sends changes the statement: the pairing fails.
	r2 := e.newRequest("hire")
	p2 := h.prove(t, r2)
	bad := *p2
	bad.Disclosed = map[string]circuits.Field{"degree": circuits.F(circuits.U64(2)), "graduated": p2.Disclosed["graduated"]}
	if st, eb, _ := e.submit(r2, &bad); st != 422 || eb.Code != "proof_invalid" {
		t.Fatalf("altered disclosure: %d %+v", st, eb)
	}
	// A proof for r2, relabelled for r3 with r3's nonce.
	r3 := e.newRequest("hire")
	moved := *p2
	moved.RequestID, moved.Nonce = r3.ID, r3.Nonce
	if st, eb, _ := e.submit(r3, &moved); st != 422 || eb.Code != "proof_invalid" {
		t.Fatalf("proof for another request: %d %+v", st, eb)
	}

	// Nullifiers: one vote per credential in the scope.
	v1, v2 := e.newRequest("vote"), e.newRequest("vote")
	if st, eb, _ := e.submit(v1, h.prove(t, v1)); st != 200 {
		t.Fatalf("vote: %d %+v", st, eb)
	}
	if st, eb, _ := e.submit(v2, h.prove(t, v2)); st != 409 || eb.Code != "nullifier_seen" {
		t.Fatalf("second vote: %d %+v", st, eb)
	}

	// Batch: real proofs, one altered; verdicts per item.
	var items []any
	for i := range 4 {
		r := e.newRequest("hire")
		p := h.prove(t, r)
		if i == 2 {
			p.Proof[40] ^= 1
		}
		items = append(items, p)
	}
	var out wire.BatchResponse
	if st, eb := e.do("POST", "/v1/verify/batch", map[string]any{"presentations": items}, &out); st != 200 {
		t.Fatalf("batch: %d %+v", st, eb)
	}
	for i, res := range out.Results {
		if (i == 2) != (res.Status == wire.StatusRejected) {
			t.Fatalf("batch item %d: %+v", i, res)
		}
	}
}
