package circuits

import (
	"errors"
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

func TestPresentationProveVerify(t *testing.T) {
	k := keysT(t)
	f := newFixture(t)
	proof, pub, err := k.Prove(f.w)
	if err != nil {
		t.Fatal(err)
	}
	v := k.Verifier()
	if err := v.Verify(proof, pub); err != nil {
		t.Fatalf("valid proof rejected: %v", err)
	}
	if !pub.Disclosed[slotDegree].Equal(&f.w.Credential.Attrs[slotDegree]) || !pub.Disclosed[slotName].IsZero() {
		t.Fatal("disclosed values do not follow the mask")
	}
	if pub.Nullifier.IsZero() {
		t.Fatal("scoped presentation has no nullifier")
	}

	// Each public input altered in turn after proving must fail to verify.
	vec := pub.Vector()
	if len(vec) != NbPublic || v.NbPublic() != NbPublic {
		t.Fatalf("public inputs: vector %d, key %d, want %d", len(vec), v.NbPublic(), NbPublic)
	}
	one := U64(1)
	for i := range vec {
		alt := append([]fr.Element(nil), vec...)
		alt[i].Add(&alt[i], &one)
		if err := v.verifyVector(proof, alt); !errors.Is(err, ErrInvalidProof) {
			t.Errorf("public input %d altered: got %v, want ErrInvalidProof", i, err)
		}
	}

	// A tampered proof body fails too.
	bad := append([]byte(nil), proof...)
	bad[len(bad)-1] ^= 1
	if err := v.Verify(bad, pub); err == nil {
		t.Error("tampered proof accepted")
	}
}

// TestPresentationNegatives changes one thing at a time in a valid
// assignment; each change must leave the constraint system unsatisfied.
func TestPresentationNegatives(t *testing.T) {
	f := newFixture(t)
	if err := f.w.Check(); err != nil {
		t.Fatalf("fixture witness: %v", err)
	}
	if err := solve(t, f.w.assignment()); err != nil {
		t.Fatalf("valid assignment not solved: %v", err)
	}
	otherScope := ScopeID("another-verifier")
	otherAudience := AudienceID("https://another-verifier.example")
	c := f.w.Credential.Commitment()
	cases := []struct {
		name   string
		mutate func(a *PresentationCircuit)
	}{
		{"wrong attribute value", func(a *PresentationCircuit) { a.Attrs[slotGrad] = 20240631 }},
		{"wrong salt", func(a *PresentationCircuit) { a.Salt = 7 }},
		{"wrong schema", func(a *PresentationCircuit) { a.SchemaID = 9 }},
		{"flipped mask bit (disclosed slot hidden)", func(a *PresentationCircuit) { a.Disclose = uint64(f.w.Query.Disclose) ^ 1<<slotDegree }},
		{"flipped mask bit (hidden slot disclosed)", func(a *PresentationCircuit) { a.Disclose = uint64(f.w.Query.Disclose) | 1<<slotBirth }},
		{"disclosed value of an undisclosed slot", func(a *PresentationCircuit) { a.Disclosed[slotBirth] = 19951210 }},
		{"wrong disclosed value", func(a *PresentationCircuit) { a.Disclosed[slotDegree] = 2 }},
		{"wrong root", func(a *PresentationCircuit) { a.Root = 12345 }},
		{"wrong leaf index", func(a *PresentationCircuit) { a.LeafIndex = f.w.LeafIndex + 1 }},
		{"leaf index beyond 2^32", func(a *PresentationCircuit) { a.LeafIndex = f.w.LeafIndex + 1<<32 }},
		{"wrong path sibling", func(a *PresentationCircuit) { a.Path[7] = 1 }},
		{"wrong trust root", func(a *PresentationCircuit) { a.TrustRoot = 99 }},
		{"issuer swapped", func(a *PresentationCircuit) { a.IssuerID = IssuerID([]byte("a")) }},
		{"wrong holder secret", func(a *PresentationCircuit) { a.HolderSecret = RandomElement() }},
		{"expired credential", func(a *PresentationCircuit) { a.Now = f.w.Credential.Expiry + 1 }},
		{"nullifier of another scope", func(a *PresentationCircuit) { a.Nullifier = Nullifier(f.secret, c, f.w.Audience, otherScope) }},
		// Another verifier using the same scope name: the nullifier the
		// first verifier saw is refused under the second one's audience.
		{"nullifier of another audience, same scope", func(a *PresentationCircuit) { a.Audience = otherAudience }},
		{"nullifier computed for another audience", func(a *PresentationCircuit) {
			a.Nullifier = Nullifier(f.secret, c, otherAudience, f.w.Scope)
		}},
		{"nullifier for another scope value", func(a *PresentationCircuit) { a.Scope = otherScope }},
		{"nonzero nullifier with scope 0", func(a *PresentationCircuit) { a.Scope = 0 }},
		{"zero nullifier with a scope", func(a *PresentationCircuit) { a.Nullifier = 0 }},
		{"predicate slot moved", func(a *PresentationCircuit) { a.Predicates[1].Slot = slotGPA }},
		{"predicate kind changed", func(a *PresentationCircuit) { a.Predicates[2].Kind = uint64(PredIn) }},
		{"predicate kind out of range", func(a *PresentationCircuit) { a.Predicates[0].Kind = 4 }},
		{"predicate slot out of range", func(a *PresentationCircuit) { a.Predicates[0].Slot = 16 }},
		{"disclose mask beyond 16 bits", func(a *PresentationCircuit) { a.Disclose = uint64(f.w.Query.Disclose) | 1<<16 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := f.w.assignment()
			tc.mutate(a)
			if solve(t, a) == nil {
				t.Fatal("assignment solved; want unsatisfied")
			}
		})
	}
	// Boundary: a credential expiring exactly now is still valid.
	t.Run("expiry equals now", func(t *testing.T) {
		a := f.w.assignment()
		a.Now = f.w.Credential.Expiry
		if err := solve(t, a); err != nil {
			t.Fatal(err)
		}
	})
}

func TestPresentationRevoked(t *testing.T) {
	f := newFixture(t)
	if err := f.tree.Set(f.w.LeafIndex, fr.Element{}); err != nil {
		t.Fatal(err)
	}
	f.w.Root = f.tree.Root()
	f.w.Path = f.tree.Path(f.w.LeafIndex)
	if err := f.w.Check(); !errors.Is(err, ErrNotInTree) {
		t.Fatalf("Check on revoked leaf: %v, want ErrNotInTree", err)
	}
	if solve(t, f.w.assignment()) == nil {
		t.Fatal("revoked (zeroed) leaf proves membership")
	}
}

func TestPresentationUntrustedIssuer(t *testing.T) {
	f := newFixture(t)
	others, err := NewTrustList([]fr.Element{IssuerID([]byte("a")), IssuerID([]byte("b"))})
	if err != nil {
		t.Fatal(err)
	}
	f.w.TrustRoot = others.Root()
	if err := f.w.Check(); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("Check: %v, want ErrUntrusted", err)
	}
	for i := range uint64(4) { // every position of the list, and an empty one
		a := f.w.assignment()
		a.TrustIndex = i
		p, _ := Path(others.tree, TrustDepth, i)
		for j := range a.TrustPath {
			a.TrustPath[j] = p[j]
		}
		if solve(t, a) == nil {
			t.Fatalf("issuer outside the list proved at position %d", i)
		}
	}
}

// TestPredicateOperators proves, for each operator, a true instance (which
// must solve) and a false one (which must not, and which Check reports).
func TestPredicateOperators(t *testing.T) {
	gpa := U64(372) // the fixture's slotGPA
	name := StringValue("Ada Lovelace")
	cases := []struct {
		op          string
		slot        int
		true, false []fr.Element
	}{
		{"eq", slotName, []fr.Element{name}, []fr.Element{StringValue("Ada")}},
		{"ne", slotName, []fr.Element{StringValue("Bob")}, []fr.Element{name}},
		{"lt", slotGPA, []fr.Element{U64(373)}, []fr.Element{gpa}},
		{"lte", slotGPA, []fr.Element{gpa}, []fr.Element{U64(371)}},
		{"gt", slotGPA, []fr.Element{U64(371)}, []fr.Element{gpa}},
		{"gte", slotGPA, []fr.Element{gpa}, []fr.Element{U64(373)}},
		{"between", slotGPA, []fr.Element{gpa, gpa}, []fr.Element{U64(373), U64(400)}},
		{"in", slotGPA, []fr.Element{U64(1), U64(2), U64(3), U64(4), U64(5), U64(6), U64(7), gpa}, []fr.Element{U64(1), U64(2), U64(3), U64(4), U64(5), U64(6), U64(7), U64(8)}},
		{"nin", slotGPA, []fr.Element{U64(1), U64(2), U64(3), U64(4), U64(5), U64(6), U64(7), U64(8)}, []fr.Element{U64(1), U64(2), U64(3), U64(4), U64(5), U64(6), U64(7), gpa}},
	}
	for _, tc := range cases {
		t.Run(tc.op, func(t *testing.T) {
			for _, want := range []bool{true, false} {
				vals := tc.true
				if !want {
					vals = tc.false
				}
				f := newFixture(t)
				p, err := NewPredicate(tc.slot, tc.op, vals...)
				if err != nil {
					t.Fatal(err)
				}
				f.w.Query.Predicates[3] = p
				checkErr := f.w.Check()
				solveErr := solve(t, f.w.assignment())
				if want && (checkErr != nil || solveErr != nil) {
					t.Fatalf("true %s: check %v, solve %v", tc.op, checkErr, solveErr)
				}
				if !want && (!errors.Is(checkErr, ErrPredicateFalse) || solveErr == nil) {
					t.Fatalf("false %s: check %v, solved %v", tc.op, checkErr, solveErr == nil)
				}
			}
		})
	}
}

// TestRangeBoundary: range predicates compare 64-bit values. An attribute of
// 2^64 (one past the largest) fails even against the full range, 2^64-1
// passes, and so does a value near the modulus that would wrap around.
func TestRangeBoundary(t *testing.T) {
	f := newFixture(t)
	full, err := NewPredicate(slotGPA, "gte", U64(0))
	if err != nil {
		t.Fatal(err)
	}
	f.w.Query.Predicates[3] = full
	two64 := new(big.Int).Lsh(big.NewInt(1), 64)
	pMinus1 := new(big.Int).Sub(Modulus(), big.NewInt(1))
	for _, tc := range []struct {
		v  *big.Int
		ok bool
	}{
		{new(big.Int).Sub(two64, big.NewInt(1)), true},
		{two64, false},
		{pMinus1, false},
	} {
		a := f.w.assignment()
		a.Attrs[slotGPA] = tc.v
		a.Predicates[3].Values[0], a.Predicates[3].Values[1] = 0, new(big.Int).Sub(two64, big.NewInt(1))
		// The credential must commit to the value for the rest to hold.
		cred := f.w.Credential
		cred.Attrs[slotGPA].SetBigInt(tc.v)
		tree := NewTree(Depth)
		idx, _ := tree.Append(LeafHash(f.issuer, cred.Commitment()))
		a.LeafIndex, a.Root = idx, tree.Root()
		for i, s := range tree.Path(idx) {
			a.Path[i] = s
		}
		a.Nullifier = Nullifier(f.secret, cred.Commitment(), f.w.Audience, f.w.Scope)
		if err := solve(t, a); (err == nil) != tc.ok {
			t.Errorf("attribute %v against [0, 2^64-1]: solved %v, want %v", tc.v, err == nil, tc.ok)
		}
	}
	// A range bound at or above 2^64 is refused before any circuit sees it.
	if _, err := NewPredicate(slotGPA, "lte", fr.Element{0, 0, 1, 0}); !errors.Is(err, ErrPredicate) {
		t.Errorf("range bound 2^128 accepted: %v", err)
	}
}

func TestHolderProof(t *testing.T) {
	k := keysT(t)
	secret, challenge := RandomElement(), RandomElement()
	proof, err := k.ProveHolder(secret, challenge)
	if err != nil {
		t.Fatal(err)
	}
	v := k.HolderVerifier()
	hc := HolderCommit(secret)
	if err := v.VerifyHolder(hc, challenge, proof); err != nil {
		t.Fatal(err)
	}
	if err := v.VerifyHolder(hc, RandomElement(), proof); err == nil {
		t.Error("holder proof accepted for another challenge")
	}
	if err := v.VerifyHolder(HolderCommit(RandomElement()), challenge, proof); err == nil {
		t.Error("holder proof accepted for another commitment")
	}
	if err := k.Verifier().VerifyHolder(hc, challenge, proof); !errors.Is(err, ErrWrongCircuit) {
		t.Error("presentation key verified a holder proof")
	}
}

func TestVerifyBatch(t *testing.T) {
	k := keysT(t)
	v := k.Verifier()
	var proofs [][]byte
	var pubs []*Public
	for range 4 {
		f := newFixture(t)
		p, pub, err := k.Prove(f.w)
		if err != nil {
			t.Fatal(err)
		}
		proofs, pubs = append(proofs, p), append(pubs, pub)
	}
	for i, err := range v.VerifyBatch(proofs, pubs) {
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}
	// One altered statement and one malformed proof: only they fail.
	bad := *pubs[1]
	bad.Now++
	pubs[1] = &bad
	proofs[3] = proofs[3][:10]
	errs := v.VerifyBatch(proofs, pubs)
	for i, err := range errs {
		if want := i == 1 || i == 3; (err != nil) != want {
			t.Errorf("item %d: err %v, want failure %v", i, err, want)
		}
	}
}

func TestKeysRoundTrip(t *testing.T) {
	k := keysT(t)
	dir := t.TempDir()
	if err := WriteKeysDir(dir, k); err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrSetup(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if k.Verifier().Hash() != k2.Verifier().Hash() {
		t.Fatal("verifying key changed across save/load")
	}
	f := newFixture(t)
	proof, pub, err := k2.Prove(f.w)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Verifier().Verify(proof, pub); err != nil {
		t.Fatalf("proof from loaded key: %v", err)
	}
	// A proof for another circuit id or format version is refused.
	other := append([]byte(nil), proof...)
	other[len(magic)+1]++
	if _, err := decodeProof(PresentationID, other); err == nil {
		t.Error("proof with another format version accepted")
	}
}
