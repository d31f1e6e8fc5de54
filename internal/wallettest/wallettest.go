// Package wallettest runs the real registry, issuer and verifier in-process on
// loopback for the wallet's tests, assembled by internal/stack: a registry
// node on badger in a temporary directory, a university issuer anchoring
// through it (with its HTTP API for claim offers), and a verifier following
// the registry with its own light client. Beside them it keeps a rogue
// issuer that signs well-formed credentials the registry never sees.
package wallettest

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/dgraph-io/badger/v4"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/stack"
	"github.com/zkcred/zkcred/issuer"
	istore "github.com/zkcred/zkcred/issuer/store"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/light"
	"github.com/zkcred/zkcred/registry/proof"
	"github.com/zkcred/zkcred/verifier"
	"github.com/zkcred/zkcred/wire"
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

	chain  issuer.Chain
	gov    *client.Signer
	tokens sync.Map // request id → result token

	rogueChain issuer.Chain
	rogueStore *istore.Store
}

// Options of Start.
type Options struct {
	// SkipCircuit leaves the circuit's verifying-key hash unpublished.
	SkipCircuit bool
	// VKHash, if set, is published instead of the keys' own hash.
	VKHash string
	// DIDWeb, if set, adds the policy "did-web": the issuer bound to this
	// did:web on the registry (Govern), disclosing the degree.
	DIDWeb string
}

// university is the one registered issuer.
var university = stack.Institution{Kind: "university", Name: "University of Examples", Schema: "diploma"}

// Small memtables: badger's default 64 MiB arenas cost more to clear than
// these tests spend on everything else.
func small(o badger.Options) badger.Options {
	return o.WithMemTableSize(8 << 20).WithValueLogFileSize(16 << 20)
}

// policies: a trust list of the university and an issuer ID no key has
// (so that the proof hides which of two issuers signed), and one of that
// unknown issuer alone.
func policies(s *stack.Stack) []*verifier.Policy {
	uni := circuits.F(s.Issuers[university.Kind].Issuer.Key().IssuerID())
	pol := func(name string, preds ...verifier.PredicateSpec) *verifier.Policy {
		return &verifier.Policy{
			Name: name, Schema: Schema(), Issuers: verifier.IssuerSpec{IDs: []circuits.Field{uni, circuits.F(circuits.U64(7))}},
			Disclose: []string{"degree"}, Predicates: preds,
		}
	}
	raw := func(s string) []json.RawMessage { return []json.RawMessage{json.RawMessage(s)} }
	return []*verifier.Policy{
		pol("graduate", verifier.PredicateSpec{Attribute: "birthDate", Op: verifier.OpAgeAtLeast, Years: 18},
			verifier.PredicateSpec{Attribute: "gpa", Op: "gte", Values: raw(`"3.00"`)}),
		pol("excellent", verifier.PredicateSpec{Attribute: "gpa", Op: "gte", Values: raw(`"3.90"`)}),
		{Name: "other-issuer", Schema: Schema(), Issuers: verifier.IssuerSpec{IDs: []circuits.Field{circuits.F(circuits.U64(7))}}},
	}
}

// Start starts everything; it is stopped by t's cleanup.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	ctx := context.Background()
	keys := Keys(t)
	dir := t.TempDir()
	so := stack.Options{
		Dir: filepath.Join(dir, "stack"), Keys: keys,
		Institutions: []stack.Institution{university}, Policies: policies,
		BlockInterval: 2 * time.Millisecond, // the verifier's audience is its URL
		KeyWorkFactor: 10, Badger: small,
	}
	switch {
	case o.SkipCircuit:
		so.CircuitHashes = map[string]string{}
	case o.VKHash != "":
		so.CircuitHashes = map[string]string{circuits.PresentationID: o.VKHash, circuits.HolderID: keys.HolderVerifier().Hash()}
	}
	if o.DIDWeb != "" {
		so.Policies = func(s *stack.Stack) []*verifier.Policy {
			return append(policies(s), &verifier.Policy{Name: "did-web", Schema: Schema(),
				Issuers: verifier.IssuerSpec{DIDs: []string{o.DIDWeb}}, Disclose: []string{"degree"}})
		}
	}
	st, err := stack.Start(ctx, so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	uni := st.Issuers[university.Kind]
	e := &Env{
		T: t, Keys: keys, Genesis: st.Genesis, Registry: st.Registry,
		RegistryURL: st.RegistryURL, IssuerURL: uni.URL, VerifierURL: st.VerifierURL,
		Issuer: uni.Issuer, Verifier: st.Verifier, chain: uni.Chain, gov: st.Governance,
	}

	// A rogue issuer: signs well-formed credentials and anchors them in a
	// chain of its own, which the registry never sees.
	rogueKey, err := issuer.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	bo := small(badger.DefaultOptions(""))
	rst, err := istore.Open(filepath.Join(dir, "rogue"), istore.Options{Badger: &bo})
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
	e.rogueChain, e.rogueStore = rogueChain, rst
	return e
}

// WithDIDWeb returns the registered issuer (rogue false) or the rogue one
// signing its credentials as did (issuer.Options.DIDWeb).
func (e *Env) WithDIDWeb(rogue bool, did string) *issuer.Issuer {
	if rogue {
		return issuer.New(e.Rogue.Key(), e.rogueChain, e.rogueStore, issuer.Options{DIDWeb: did})
	}
	return issuer.New(e.Issuer.Key(), e.chain, e.Issuer.Store(), issuer.Options{DIDWeb: did})
}

// IssueWith issues a diploma to holderCommit with is and returns the
// bundle JSON.
func (e *Env) IssueWith(is *issuer.Issuer, holderCommit circuits.Field) []byte {
	e.T.Helper()
	b, err := is.Issue(context.Background(), issuer.Request{Schema: Schema(), Subject: Subject("3.50"), HolderCommit: holderCommit.El()})
	if err != nil {
		e.T.Fatal(err)
	}
	out, _ := json.Marshal(b)
	return out
}

// Govern submits a governance transaction.
func (e *Env) Govern(body registry.Body) error {
	_, err := e.gov.Do(context.Background(), body)
	return err
}

// Proven returns a reader of the registry's proven answers, over a light
// client of its own.
func (e *Env) Proven() proof.Reader {
	e.T.Helper()
	lc, err := light.New(e.Genesis, e.RegistryURL, light.Options{})
	if err != nil {
		e.T.Fatal(err)
	}
	if _, err := lc.Sync(context.Background()); err != nil {
		e.T.Fatal(err)
	}
	return proof.New(lc.Registry(), lc)
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
	e.tokens.Store(r.ID, r.ResultToken)
	return e.VerifierURL + "/v1/requests/" + r.ID
}

// Result reads the verifier's result of a request made by Request, as its
// creator (with the request's result token).
func (e *Env) Result(id string) (*wire.Result, error) {
	tok, _ := e.tokens.Load(id)
	s, _ := tok.(string)
	return e.Verifier.Result(id, s)
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

// Anchor appends n random commitments of the registered issuer, in
// transactions of up to 4,096 (a new root, as other holders' credentials
// would make).
func (e *Env) Anchor(n int) {
	e.T.Helper()
	for n > 0 {
		m := min(n, 4096)
		coms := make([]fr.Element, m)
		for i := range coms {
			coms[i] = circuits.RandomElement()
		}
		if _, err := e.chain.Anchor(context.Background(), coms); err != nil {
			e.T.Fatal(err)
		}
		n -= m
	}
}
