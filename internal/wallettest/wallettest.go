// Package wallettest runs the real registry, issuer and verifier in-process on
// loopback for the wallet's tests: a registry node on badger in a temporary
// directory, an issuer anchoring through it (with a small HTTP front for
// claim offers), and a verifier following the registry with its own light
// client.
package wallettest

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/dgraph-io/badger/v4"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/issuer/regchain"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/light"
	"github.com/zkcred/zkcred/registry/node"
	"github.com/zkcred/zkcred/registry/store"
	"github.com/zkcred/zkcred/verifier"
	vstore "github.com/zkcred/zkcred/verifier/store"
)

// KeyDir is where test keys are cached across test runs (making them takes
// seconds; loading them a fraction of one).
func KeyDir() string { return filepath.Join(os.TempDir(), "zkcred-wallet-test-keys") }

var keysOnce = sync.OnceValues(func() (*circuits.Keys, error) { return circuits.LoadOrSetup(KeyDir(), nil) })

// Keys returns the cached development keys.
func Keys(t testing.TB) *circuits.Keys {
	t.Helper()
	k, err := keysOnce()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Schema is the diploma schema the tests issue.
func Schema() *circuits.Schema { return issuer.ExampleSchemas()["diploma"] }

// Subject is a diploma subject.
func Subject(gpa string) map[string]any {
	return map[string]any{
		"name": "Ada Lovelace", "birthDate": "1995-12-10", "degree": "MSc",
		"field": "Mathematics", "graduationDate": "2024-06-30", "gpa": gpa, "honours": true,
	}
}

// Env is a running registry, issuer and verifier.
type Env struct {
	T        testing.TB
	Keys     *circuits.Keys
	Genesis  *registry.Genesis
	Registry *client.Client
	// RegistryURL, IssuerURL and VerifierURL are the services' base URLs.
	RegistryURL, IssuerURL, VerifierURL string

	Issuer   *issuer.Issuer
	Rogue    *issuer.Issuer // a well-formed issuer the registry does not know
	Verifier *verifier.Server

	chain issuer.Chain
	gov   *client.Signer
}

// Options of Start.
type Options struct {
	// SkipCircuit leaves the circuit's verifying-key hash unpublished.
	SkipCircuit bool
	// VKHash, if set, is published instead of the keys' own hash.
	VKHash string
}

// Start starts everything; it is stopped by t's cleanup.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	ctx := context.Background()
	keys := Keys(t)
	uniKey, _ := issuer.GenerateKey()
	rogueKey, _ := issuer.GenerateKey()
	g, gov, prod, err := registry.NewGenesis("wallet-test", time.Now(),
		registry.RegisterIssuer{PubKey: hex.EncodeToString(uniKey.Public()), Name: "University of Examples", Kind: "university"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Small memtables: badger's default 64 MiB arenas cost more to clear
	// than these tests spend on everything else.
	small := func(o badger.Options) badger.Options {
		return o.WithMemTableSize(8 << 20).WithValueLogFileSize(16 << 20)
	}
	smallOpts := small(badger.DefaultOptions(""))
	if err := store.Init(filepath.Join(dir, "registry"), g, prod, store.Options{Badger: small}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := node.Start(filepath.Join(dir, "registry"), prod, ln, node.ServiceOptions{Node: node.Options{Interval: 2 * time.Millisecond}, Store: store.Options{Badger: small}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(context.Background()) })
	reg, _ := client.New(svc.URL, client.Options{})
	e := &Env{T: t, Keys: keys, Genesis: g, Registry: reg, RegistryURL: svc.URL}
	if e.gov, err = reg.NewSigner(ctx, g.ChainID, gov); err != nil {
		t.Fatal(err)
	}
	if !o.SkipCircuit {
		h := keys.Verifier().Hash()
		if o.VKHash != "" {
			h = o.VKHash
		}
		if _, err := e.gov.Do(ctx, registry.PublishCircuit{Circuit: circuits.PresentationID, VKHash: h}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.gov.Do(ctx, registry.PublishCircuit{Circuit: circuits.HolderID, VKHash: keys.HolderVerifier().Hash()}); err != nil {
			t.Fatal(err)
		}
	}

	// The issuer anchors through the registry.
	if e.chain, err = regchain.New(ctx, reg, uniKey); err != nil {
		t.Fatal(err)
	}
	st, err := issuer.OpenStore(filepath.Join(dir, "issuer"), issuer.StoreOptions{Badger: &smallOpts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// The issuer API is served on a listener made first, so that the
	// issuer's claim links name its URL.
	issuerSrv := httptest.NewUnstartedServer(nil)
	t.Cleanup(issuerSrv.Close)
	e.IssuerURL = "http://" + issuerSrv.Listener.Addr().String()
	hv := keys.HolderVerifier()
	e.Issuer = issuer.New(uniKey, e.chain, st, issuer.Options{PublicURL: e.IssuerURL, HolderProof: hv.VerifyHolder})
	if err := e.Issuer.PublishSchema(ctx, Schema()); err != nil {
		t.Fatal(err)
	}
	h, err := issuer.NewServer(e.Issuer, issuer.ServerOptions{AdminToken: "wallettest-admin-token"})
	if err != nil {
		t.Fatal(err)
	}
	issuerSrv.Config.Handler = h
	issuerSrv.Start()

	// A rogue issuer: signs well-formed credentials and anchors them in a
	// chain of its own, which the registry never sees.
	rst, err := issuer.OpenStore(filepath.Join(dir, "rogue"), issuer.StoreOptions{Badger: &smallOpts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rst.Close() })
	rogueChain, err := issuer.OpenLocalChain(filepath.Join(dir, "rogue-chain"), rogueKey.IssuerID())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rogueChain.Close() })
	e.Rogue = issuer.New(rogueKey, rogueChain, rst, issuer.Options{})

	// The verifier follows the registry with its own light client.
	vlc, err := light.New(g, svc.URL, light.Options{})
	if err != nil {
		t.Fatal(err)
	}
	uni := circuits.F(uniKey.IssuerID())
	pol := func(name string, preds ...verifier.PredicateSpec) *verifier.Policy {
		return &verifier.Policy{
			Name: name, Schema: Schema(), Issuers: verifier.IssuerSpec{IDs: []circuits.Field{uni, circuits.F(circuits.U64(7))}},
			Disclose: []string{"degree"}, Predicates: preds,
		}
	}
	raw := func(s string) []json.RawMessage { return []json.RawMessage{json.RawMessage(s)} }
	v, err := verifier.New(verifier.Options{
		Dir: filepath.Join(dir, "verifier"), Store: vstore.Options{Badger: small}, Audience: "employer-example", RateLimit: -1,
		Proofs: keys.Verifier(), Roots: syncingRoots{vlc},
		Policies: []*verifier.Policy{
			pol("graduate", verifier.PredicateSpec{Attribute: "birthDate", Op: verifier.OpAgeAtLeast, Years: 18},
				verifier.PredicateSpec{Attribute: "gpa", Op: "gte", Values: raw(`"3.00"`)}),
			pol("excellent", verifier.PredicateSpec{Attribute: "gpa", Op: "gte", Values: raw(`"3.90"`)}),
			{Name: "other-issuer", Schema: Schema(), Issuers: verifier.IssuerSpec{IDs: []circuits.Field{circuits.F(circuits.U64(7))}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	vs := httptest.NewServer(v.Handler())
	t.Cleanup(vs.Close)
	e.Verifier, e.VerifierURL = v, vs.URL
	return e
}

// syncingRoots syncs the verifier's light client before every lookup, as
// a verifier that follows the registry closely would be. (The verifier
// takes a root's latest height; a light client that lags the wallet's
// would name an older one.)
type syncingRoots struct{ lc *light.Client }

func (r syncingRoots) RootInfo(root fr.Element) (uint64, time.Time, bool) {
	r.lc.Sync(context.Background())
	return r.lc.RootInfo(root)
}

// Issue issues a diploma to holderCommit and returns the bundle JSON.
func (e *Env) Issue(holderCommit circuits.Field, gpa string, validUntil time.Time) []byte {
	e.T.Helper()
	b, err := e.Issuer.Issue(context.Background(), issuer.Request{Schema: Schema(), Subject: Subject(gpa), HolderCommit: holderCommit.El(), ValidUntil: validUntil})
	if err != nil {
		e.T.Fatal(err)
	}
	out, err := json.Marshal(b)
	if err != nil {
		e.T.Fatal(err)
	}
	return out
}

// IssueRogue issues a diploma from the unregistered issuer.
func (e *Env) IssueRogue(holderCommit circuits.Field) []byte {
	e.T.Helper()
	b, err := e.Rogue.Issue(context.Background(), issuer.Request{Schema: Schema(), Subject: Subject("3.50"), HolderCommit: holderCommit.El()})
	if err != nil {
		e.T.Fatal(err)
	}
	out, _ := json.Marshal(b)
	return out
}

// IssueExpired issues a diploma that expired a day ago.
func (e *Env) IssueExpired(holderCommit circuits.Field) []byte {
	e.T.Helper()
	past := func() time.Time { return time.Now().Add(-72 * time.Hour) }
	is := issuer.New(e.Issuer.Key(), e.chain, e.Issuer.Store(), issuer.Options{Now: past})
	b, err := is.Issue(context.Background(), issuer.Request{Schema: Schema(), Subject: Subject("3.50"),
		HolderCommit: holderCommit.El(), ValidUntil: time.Now().Add(-24 * time.Hour)})
	if err != nil {
		e.T.Fatal(err)
	}
	out, _ := json.Marshal(b)
	return out
}

// RegisterRogue registers the rogue issuer on the chain.
func (e *Env) RegisterRogue() {
	e.T.Helper()
	pub := hex.EncodeToString(e.Rogue.Key().Public())
	if _, err := e.gov.Do(context.Background(), registry.RegisterIssuer{PubKey: pub, Name: "Rogue", Kind: "university"}); err != nil {
		e.T.Fatal(err)
	}
}

// Offer creates a claim offer and returns its URL.
func (e *Env) Offer(gpa string) string {
	e.T.Helper()
	l, err := e.Issuer.CreateOffer(context.Background(), issuer.OfferRequest{Schema: Schema(), Subject: Subject(gpa)})
	if err != nil {
		e.T.Fatal(err)
	}
	return l.URL
}

// Request creates a presentation request and returns its URL.
func (e *Env) Request(policy string) string {
	e.T.Helper()
	r, err := e.Verifier.CreateRequest(policy)
	if err != nil {
		e.T.Fatal(err)
	}
	return e.VerifierURL + "/v1/requests/" + r.ID
}

// Revoke revokes the credential of a bundle.
func (e *Env) Revoke(bundle []byte) {
	e.T.Helper()
	b, err := wire.ParseBundle(bundle)
	if err != nil {
		e.T.Fatal(err)
	}
	if _, err := e.Issuer.Revoke(context.Background(), []string{b.Private.CredentialID}, nil); err != nil {
		e.T.Fatal(err)
	}
}

// Deactivate deactivates the registered issuer.
func (e *Env) Deactivate() {
	e.T.Helper()
	pub := hex.EncodeToString(e.Issuer.Key().Public())
	if _, err := e.gov.Do(context.Background(), registry.DeactivateIssuer{PubKey: pub}); err != nil {
		e.T.Fatal(err)
	}
}

// GenesisFile writes the genesis to a file and returns its path.
func (e *Env) GenesisFile(dir string) string {
	b, _ := json.MarshalIndent(e.Genesis, "", "  ")
	p := filepath.Join(dir, "genesis.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		e.T.Fatal(err)
	}
	return p
}
