package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/jsonmut"
	"github.com/zkcred/zkcred/issuer/store"
	"github.com/zkcred/zkcred/wire"
)

type testEnv struct {
	key   *Key
	chain *LocalChain
	store *store.Store
	is    *Issuer
}

func newEnv(t testing.TB, opts Options) *testEnv {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ch, err := OpenLocalChain(filepath.Join(dir, "chain"), k.IssuerID())
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "store"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(); ch.Close() })
	return &testEnv{k, ch, st, New(k, ch, st, opts)}
}

func diplomaSubject() map[string]any {
	return map[string]any{
		"name": "Ada Lovelace", "birthDate": "1990-12-10", "degree": "MSc",
		"field": "Mathematics", "graduationDate": "2026-06-30", "gpa": "3.85", "honours": true,
	}
}

func holder() (secret, commit fr.Element) {
	s := circuits.RandomElement()
	return s, circuits.HolderCommit(s)
}

func TestIssueVerifyAndAnchor(t *testing.T) {
	env := newEnv(t, Options{StatusBase: "https://registry.example"})
	_, hc := holder()
	until := time.Date(2036, 6, 30, 0, 0, 0, 0, time.UTC)
	b, err := env.is.Issue(context.Background(), Request{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject(), HolderCommit: hc, ValidUntil: until})
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.Check()
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != env.key.DID() || c.ValidUntil != "2036-06-30T00:00:00Z" || b.Private.Expiry != uint64(until.Unix()) {
		t.Fatalf("credential %+v", c)
	}
	if !strings.HasPrefix(c.CredentialStatus.ID, "https://registry.example/leaves/") {
		t.Fatalf("status id %s", c.CredentialStatus.ID)
	}
	// The chain holds H(issuerID, C) at the recorded leaf, under its root.
	leaf, path, err := env.chain.Leaf(b.Private.LeafIndex)
	if err != nil {
		t.Fatal(err)
	}
	if leaf != circuits.LeafHash(env.key.IssuerID(), b.Private.Commitment.El()) {
		t.Fatal("anchored leaf is not H(issuerID, C)")
	}
	root, height, _, _ := env.chain.Root()
	if circuits.RootFromPath(leaf, b.Private.LeafIndex, path) != root || height != b.Private.BlockHeight {
		t.Fatal("leaf not under the chain root")
	}
	// The bundle round-trips through its JSON.
	raw, _ := json.Marshal(b)
	b2, err := wire.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b2.Check(); err != nil {
		t.Fatal(err)
	}
	// Our own credential, changed anywhere, no longer verifies.
	n := 0
	for name, m := range jsonmut.Mutations(t, b.Credential) {
		n++
		if _, err := wire.VerifyCredential(m); err == nil {
			t.Errorf("mutated credential (%s) verifies", name)
		}
	}
	if n < 40 {
		t.Fatalf("only %d mutations", n)
	}
}

func TestBundleCheckCatchesPrivateChanges(t *testing.T) {
	env := newEnv(t, Options{})
	_, hc := holder()
	b, err := env.is.Issue(context.Background(), Request{Schema: ExampleSchemas()["vaccination"], HolderCommit: hc, Subject: map[string]any{
		"name": "Bo", "birthDate": "2001-01-01", "vaccine": "measles", "dose": 2, "vaccinationDate": "2025-03-01", "lot": "X-1",
	}})
	if err != nil {
		t.Fatal(err)
	}
	one := circuits.F(circuits.U64(1))
	for name, f := range map[string]func(p *wire.Private){
		"salt":       func(p *wire.Private) { p.Salt = one },
		"slot":       func(p *wire.Private) { p.Slots[3] = one },
		"empty slot": func(p *wire.Private) { p.Slots[15] = one },
		"expiry":     func(p *wire.Private) { p.Expiry = 5 },
		"holder":     func(p *wire.Private) { p.HolderCommit = one },
		"issuer":     func(p *wire.Private) { p.IssuerID = one },
		"leaf":       func(p *wire.Private) { p.LeafIndex++ },
		"schema":     func(p *wire.Private) { s := *p.Schema; s.Version = "2"; p.Schema = &s },
	} {
		c := *b
		f(&c.Private)
		if _, err := c.Check(); !errors.Is(err, wire.ErrCredential) {
			t.Errorf("%s changed: Check = %v", name, err)
		}
	}
}

// v2Terms are the VC 2.0 context's terms that zkcred credentials use.
var v2Terms = map[string]bool{
	"@context": true, "id": true, "type": true, "name": true, "issuer": true, "validFrom": true,
	"validUntil": true, "credentialSchema": true, "credentialSubject": true, "credentialStatus": true,
	"proof": true, "VerifiableCredential": true, "DataIntegrityProof": true, "cryptosuite": true,
	"created": true, "verificationMethod": true, "proofPurpose": true, "proofValue": true,
}

// TestContextDefinesEveryTerm walks a credential and checks that each
// member name and type is defined by the VC 2.0 context or by the zkcred
// context, so that JSON-LD processors in safe mode accept it. Claims are a
// @json literal and need no terms.
func TestContextDefinesEveryTerm(t *testing.T) {
	var ctx struct {
		Context map[string]any `json:"@context"`
	}
	if err := json.Unmarshal(wire.ContextDocument(), &ctx); err != nil {
		t.Fatal(err)
	}
	if def, _ := ctx.Context["claims"].(map[string]any); def["@type"] != "@json" {
		t.Fatal("claims must be a @json literal")
	}
	env := newEnv(t, Options{})
	_, hc := holder()
	b, err := env.is.Issue(context.Background(), Request{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject(), HolderCommit: hc, ValidUntil: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal(b.Credential, &doc)
	defined := func(term string) bool { return v2Terms[term] || ctx.Context[term] != nil }
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if !defined(k) {
					t.Errorf("term %q is not defined", k)
				}
				if k == "type" {
					var ts []any
					switch y := e.(type) {
					case string:
						ts = []any{y}
					case []any:
						ts = y
					}
					for _, ty := range ts {
						if s, _ := ty.(string); !defined(s) {
							t.Errorf("type %q is not defined", ty)
						}
					}
				}
				if k != "claims" && k != "@context" {
					walk(e)
				}
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(doc)
}

func TestSubjectErrorsNameTheField(t *testing.T) {
	env := newEnv(t, Options{})
	_, hc := holder()
	for _, tc := range []struct{ field, set string }{
		{"degree", "Bachelor"},
		{"gpa", "3.855"},
		{"birthDate", "10/12/1990"},
		{"honours", "yes"},
		{"name", ""}, // delete
		{"shoeSize", "44"},
	} {
		s := diplomaSubject()
		if tc.set == "" {
			delete(s, tc.field)
		} else {
			s[tc.field] = tc.set
		}
		_, err := env.is.Issue(context.Background(), Request{Schema: ExampleSchemas()["diploma"], Subject: s, HolderCommit: hc})
		var fe *circuits.FieldError
		if !errors.Is(err, ErrSubject) || !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s=%q: %v", tc.field, tc.set, err)
		}
	}
	if _, _, size, _ := env.chain.Root(); size != 0 {
		t.Fatalf("%d leaves anchored for invalid requests", size)
	}
	_, err := env.is.Issue(context.Background(), Request{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject()})
	if !errors.Is(err, ErrSubject) {
		t.Fatalf("zero holder commitment: %v", err)
	}
}

func TestRevoke(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	var reqs []Request
	for range 3 {
		_, hc := holder()
		reqs = append(reqs, Request{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject(), HolderCommit: hc})
	}
	bs, err := env.is.IssueBatch(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	rootBefore, _, _, _ := env.chain.Root()
	if _, err := env.is.Revoke(ctx, []string{bs[0].Private.CredentialID}, []uint64{bs[2].Private.LeafIndex}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false, true} {
		leaf, path, _ := env.chain.Leaf(bs[i].Private.LeafIndex)
		_, revoked, err := env.is.Credential(bs[i].Private.CredentialID)
		if err != nil || revoked != want || leaf.IsZero() != want {
			t.Errorf("credential %d: revoked=%v leafZero=%v err=%v, want %v", i, revoked, leaf.IsZero(), err, want)
		}
		// The old leaf no longer opens against the new root.
		old := circuits.LeafHash(env.key.IssuerID(), bs[i].Private.Commitment.El())
		root, _, _, _ := env.chain.Root()
		if (circuits.RootFromPath(old, bs[i].Private.LeafIndex, path) == root) == want {
			t.Errorf("credential %d: membership against the later root = %v", i, !want)
		}
	}
	if root, _, _, _ := env.chain.Root(); root == rootBefore {
		t.Fatal("root unchanged by revocation")
	}
	if _, err := env.is.Revoke(ctx, []string{"urn:uuid:nope"}, nil); !errors.Is(err, ErrRevoke) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := env.is.Revoke(ctx, nil, []uint64{99}); !errors.Is(err, ErrRevoke) {
		t.Fatalf("unknown leaf: %v", err)
	}
	if _, err := env.is.Revoke(ctx, []string{bs[0].Private.CredentialID}, nil); err != nil {
		t.Fatalf("second revocation: %v", err)
	}
}

// crashChain fails like a process that dies around the chain call: before
// the transaction reaches the chain, or after the chain committed it but
// before the answer arrives.
type crashChain struct {
	Chain
	failBefore, failAfter bool
}

var errCrash = errors.New("simulated crash")

func (c *crashChain) Anchor(ctx context.Context, coms []fr.Element) ([]Anchored, error) {
	if c.failBefore {
		return nil, errCrash
	}
	a, err := c.Chain.Anchor(ctx, coms)
	if c.failAfter {
		return nil, errCrash
	}
	return a, err
}

func TestRecoverAnchorsExactlyOnce(t *testing.T) {
	for _, tc := range []struct {
		name          string
		before, after bool
	}{{"before anchoring", true, false}, {"after anchoring", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, Options{AnchorBatch: 2})
			cc := &crashChain{Chain: env.chain, failBefore: tc.before, failAfter: tc.after}
			crashing := New(env.key, cc, env.store, Options{AnchorBatch: 2})
			var reqs []Request
			for range 5 {
				_, hc := holder()
				reqs = append(reqs, Request{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject(), HolderCommit: hc})
			}
			if _, err := crashing.IssueBatch(context.Background(), reqs); !errors.Is(err, errCrash) {
				t.Fatalf("crash not reported: %v", err)
			}
			if n, _ := env.store.CountCredentials(); n != 0 {
				t.Fatalf("%d credentials recorded before the crash was resolved", n)
			}
			if err := env.is.Recover(context.Background()); err != nil {
				t.Fatal(err)
			}
			_, _, size, _ := env.chain.Root()
			n, _ := env.store.CountCredentials()
			if size != 5 || n != 5 {
				t.Fatalf("after recovery: %d leaves, %d credentials, want 5 and 5", size, n)
			}
			if p, _ := env.store.Pendings(); len(p) != 0 {
				t.Fatalf("%d journal entries left", len(p))
			}
			if err := env.is.Recover(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, _, size, _ := env.chain.Root(); size != 5 {
				t.Fatalf("second recovery anchored again: %d leaves", size)
			}
		})
	}
}
