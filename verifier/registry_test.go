package verifier

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/light"
	"github.com/zkcred/zkcred/registry/node"
)

// startRegistry starts a registry with the given genesis issuers on
// loopback (badger in a temporary directory) and a light client following
// it; both stop when the test ends.
func startRegistry(t *testing.T, issuers ...registry.RegisterIssuer) (*node.Dir, *light.Client) {
	t.Helper()
	dir := t.TempDir()
	d, err := node.InitDir(dir, "zkcred-test", issuers, node.KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := node.StartDir(dir, ln, node.ServiceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(context.Background()) })
	lc, err := light.New(d.Genesis, svc.URL, light.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lc.Close() })
	return d, lc
}

// TestWithRegistry runs the verifier on a real registry over loopback: its
// roots come from the light client (headers checked against the genesis),
// and a kind's issuers from the registry. An issuer anchors a credential,
// the holder proves with real Groth16 keys against the new block's root.
func TestWithRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("registry and Groth16 end-to-end test skipped in -short mode")
	}
	keys, err := realKeys()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	uniPub, uniKey, _ := ed25519.GenerateKey(nil)
	uni2Pub, _, _ := ed25519.GenerateKey(nil)
	hospPub, _, _ := ed25519.GenerateKey(nil)
	d, lc := startRegistry(t,
		registry.RegisterIssuer{PubKey: hex.EncodeToString(uniPub), Name: "Uni One", Kind: "university"},
		registry.RegisterIssuer{PubKey: hex.EncodeToString(uni2Pub), Name: "Uni Two", Kind: "university"},
		registry.RegisterIssuer{PubKey: hex.EncodeToString(hospPub), Name: "Hospital", Kind: "hospital"})

	// The university anchors one credential: leaf 0 of the tree.
	schema := testSchema(t)
	attrs, _ := schema.Encode(map[string]any{"fullName": "Alice Example", "degree": "MSc",
		"birthDate": "1990-04-01", "gpa": "3.70", "graduated": "2014-06-30"})
	secret := circuits.RandomElement()
	cred := circuits.Credential{SchemaID: schema.ID(), HolderCommit: circuits.HolderCommit(secret),
		Expiry: circuits.NoExpiry, Salt: circuits.RandomElement(), Attrs: attrs}
	signer, err := lc.Registry().NewSigner(ctx, d.Genesis.ChainID, uniKey)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := signer.Do(ctx, registry.Anchor{Commitments: []circuits.Field{circuits.F(cred.Commitment())}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	hdr, ok := lc.Header(rc.Height)
	if !ok {
		t.Fatalf("light client lacks block %d", rc.Height)
	}
	issuer := circuits.IssuerID(uniPub)
	tree := circuits.NewTree(circuits.Depth)
	if _, err := tree.Append(circuits.LeafHash(issuer, cred.Commitment())); err != nil {
		t.Fatal(err)
	}
	if tree.Root() != hdr.CredRoot.El() || rc.FirstLeaf != 0 {
		t.Fatalf("local tree root differs from block %d's", rc.Height)
	}

	e := newEnv(t, func(o *Options) {
		o.Proofs = keys.Verifier()
		o.Roots = LightRoots{lc}
		o.Issuers = NewRegistryIssuers(lc)
		o.Clock = time.Now
	})
	r := e.newRequest("vote")
	want := []fr.Element{issuer, circuits.IssuerID(uni2Pub)}
	slices.SortFunc(want, func(a, b fr.Element) int { return a.Cmp(&b) })
	if len(r.TrustList.Issuers) != 2 || r.TrustList.Issuers[0].El() != want[0] || r.TrustList.Issuers[1].El() != want[1] {
		t.Fatalf("trust list of kind university: %v", r.TrustList.Issuers)
	}
	h := &realHolder{keys: keys, issuer: issuer, tree: tree, idx: 0,
		w: &circuits.Witness{Credential: cred, HolderSecret: secret, IssuerID: issuer}}
	prove := func(r *wire.Request, height uint64) *wire.Presentation {
		ids := make([]fr.Element, len(r.TrustList.Issuers))
		for i, id := range r.TrustList.Issuers {
			ids[i] = id.El()
		}
		tl, _ := circuits.NewTrustList(ids)
		ti, tp, _ := tl.Path(issuer)
		q, _ := r.Query.Circuit()
		w := *h.w
		w.LeafIndex, w.Path, w.TrustIndex, w.TrustPath = 0, tree.Path(0), ti, tp
		w.Root, w.Height = tree.Root(), height
		w.TrustRoot, w.Now, w.Nonce, w.Audience, w.Scope, w.Query = r.TrustList.Root.El(), r.Now, r.Nonce.El(), r.AudienceID.El(), r.ScopeID.El(), q
		proof, pub, err := keys.Prove(&w)
		if err != nil {
			t.Fatal(err)
		}
		return (&wallet{}).present(r, pub, proof)
	}
	if st, eb, _ := e.submit(r, prove(r, hdr.Height)); st != 200 {
		t.Fatalf("presentation against the registry's root: %d %+v", st, eb)
	}
	// Block 0 published another root (the empty tree): naming it is refused.
	r2 := e.newRequest("vote")
	if st, eb, _ := e.submit(r2, prove(r2, 0)); st != 422 || eb.Code != "root_height_mismatch" {
		t.Fatalf("root with block 0: %d %+v", st, eb)
	}
	// A kind with no registered issuers lists none (creating a request
	// under it is refused with issuers_unavailable, TestCreateRequestErrors).
	if ids, err := NewRegistryIssuers(lc).Issuers("ministry"); err != nil || len(ids) != 0 {
		t.Fatalf("listing an empty kind: %v %v", ids, err)
	}
}

// TestSyncingRoots: a block the light client has not fetched yet is found
// by SyncingRoots (which syncs on the miss) and not by LightRoots alone; a
// second miss within minSyncGap does not sync again.
func TestSyncingRoots(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	uniPub, uniKey, _ := ed25519.GenerateKey(nil)
	d, lc := startRegistry(t, registry.RegisterIssuer{PubKey: hex.EncodeToString(uniPub), Name: "Uni", Kind: "university"})
	if _, err := lc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	signer, err := lc.Registry().NewSigner(ctx, d.Genesis.ChainID, uniKey)
	if err != nil {
		t.Fatal(err)
	}
	anchor := func() *registry.Receipt {
		rc, err := signer.Do(ctx, registry.Anchor{Commitments: []circuits.Field{circuits.F(circuits.RandomElement())}})
		if err != nil {
			t.Fatal(err)
		}
		return rc
	}
	rc := anchor()
	plain, syncing := LightRoots{Client: lc}, NewSyncingRoots(lc)
	if _, ok := plain.RootAt(rc.Height); ok {
		t.Fatal("light client knows a block it never fetched")
	}
	synced := time.Now()
	root, ok := syncing.RootAt(rc.Height)
	if !ok {
		t.Fatal("SyncingRoots did not sync on a miss")
	}
	if h, _, ok := syncing.RootInfo(root); !ok || h != rc.Height {
		t.Fatalf("RootInfo after sync: height %d ok %v, want %d", h, ok, rc.Height)
	}
	// A second miss right away is answered without another sync.
	// (An acknowledgement waits for the block that signs the anchor's
	// state; on a loaded machine that can take longer than minSyncGap, and
	// then a sync is due.)
	rc2 := anchor()
	if _, ok := syncing.RootAt(rc2.Height); ok && time.Since(synced) < minSyncGap {
		t.Fatal("synced again within minSyncGap")
	}
	time.Sleep(minSyncGap)
	if _, ok := syncing.RootAt(rc2.Height); !ok {
		t.Fatal("no sync after minSyncGap")
	}
}

// TestDIDWebOfDeactivatedIssuer: a policy that names its issuer by did:web
// takes the issuer whose proven record binds it only while that issuer is
// active. Once governance deactivates it, the did:web stands for no one:
// the lookup fails with ErrUnboundDIDWeb and so does creating a request
// under the policy.
func TestDIDWebOfDeactivatedIssuer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	uniPub, _, _ := ed25519.GenerateKey(nil)
	uni := registry.RegisterIssuer{PubKey: hex.EncodeToString(uniPub), Name: "Uni One", Kind: "university"}
	d, lc := startRegistry(t, uni)
	const did = "did:web:uni.example"
	gov, err := lc.Registry().NewSigner(ctx, d.Genesis.ChainID, d.Governance)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gov.Do(ctx, registry.UpdateIssuer{PubKey: uni.PubKey, Name: uni.Name, Kind: uni.Kind, Active: true, DIDWeb: did}); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	ris := NewRegistryIssuers(lc)
	if id, err := ris.IssuerByDIDWeb(did); err != nil || id != circuits.IssuerID(uniPub) {
		t.Fatalf("bound did:web: %v %v", id, err)
	}
	cfg, err := ParseConfig([]byte(`{"audience":"https://verifier.test","policies":[
 {"name":"web","schema":` + testSchemaJSON + `,"issuers":{"dids":["` + did + `"]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) {
		o.Policies = cfg.Options().Policies
		o.Issuers = ris
	})
	if r := e.newRequest("web"); len(r.TrustList.Issuers) != 1 || r.TrustList.Issuers[0].El() != circuits.IssuerID(uniPub) {
		t.Fatalf("trust list of the did:web policy: %v", r.TrustList.Issuers)
	}

	if _, err := gov.Do(ctx, registry.DeactivateIssuer{PubKey: uni.PubKey}); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ris.IssuerByDIDWeb(did); !errors.Is(err, ErrUnboundDIDWeb) {
		t.Fatalf("did:web of a deactivated issuer: %v", err)
	}
	var cr wire.CreatedRequest
	if st, eb := e.do("POST", "/v1/requests", map[string]string{"policy": "web"}, &cr, auth...); st != http.StatusServiceUnavailable || !strings.Contains(eb.Error, "is deactivated") {
		t.Fatalf("request under a did:web of a deactivated issuer: %d %+v", st, eb)
	}
}
