package circuits

import (
	"math/big"
	"sync"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	cs "github.com/consensys/gnark/constraint/bn254"
	"github.com/consensys/gnark/frontend"
)

// Keys are made once per test binary.
var testKeys = sync.OnceValues(Setup)

func keysT(t testing.TB) *Keys {
	t.Helper()
	k, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var presCCS = sync.OnceValues(func() (*cs.R1CS, error) { return compile(&PresentationCircuit{}) })

// solve reports whether an assignment satisfies the compiled presentation
// constraint system (the exact system that is proved): nil means a proof
// can be made.
func solve(t testing.TB, a *PresentationCircuit) error {
	t.Helper()
	c, err := presCCS()
	if err != nil {
		t.Fatal(err)
	}
	wit, err := frontend.NewWitness(a, ecc.BN254.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	return c.IsSolved(wit)
}

// Slots of the fixture credential (a diploma).
const (
	slotName   = 0 // string
	slotBirth  = 1 // date
	slotDegree = 2 // enum: 0 BSc, 1 MSc, 2 PhD
	slotGPA    = 3 // decimal, scale 2
	slotGrad   = 4 // date
	slotHonour = 5 // boolean
)

type fixture struct {
	secret fr.Element
	issuer fr.Element
	tree   *Tree
	trust  *TrustList
	w      *Witness
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{secret: RandomElement(), issuer: IssuerID([]byte("university-of-examples-ed25519-k"))}
	cred := Credential{
		SchemaID:     HashBytes(TagSchema, []byte(`{"name":"diploma"}`)),
		HolderCommit: HolderCommit(f.secret),
		Expiry:       2_000_000_000,
		Salt:         RandomElement(),
	}
	cred.Attrs[slotName] = StringValue("Ada Lovelace")
	cred.Attrs[slotBirth] = U64(19951210)
	cred.Attrs[slotDegree] = U64(1)
	cred.Attrs[slotGPA] = U64(372)
	cred.Attrs[slotGrad] = U64(20240630)
	cred.Attrs[slotHonour] = U64(1)

	f.tree = NewTree(Depth)
	for range 5 {
		f.tree.Append(RandomElement())
	}
	idx, err := f.tree.Append(LeafHash(f.issuer, cred.Commitment()))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		f.tree.Append(RandomElement())
	}
	f.trust, err = NewTrustList([]fr.Element{IssuerID([]byte("a")), f.issuer, IssuerID([]byte("b"))})
	if err != nil {
		t.Fatal(err)
	}
	ti, tp, ok := f.trust.Path(f.issuer)
	if !ok {
		t.Fatal("issuer not in trust list")
	}
	var q Query
	q.Disclose = 1<<slotDegree | 1<<slotHonour
	preds := []struct {
		slot int
		op   string
		vals []fr.Element
	}{
		{slotBirth, "lte", []fr.Element{U64(20081128)}},
		{slotDegree, "in", []fr.Element{U64(1), U64(2)}},
		{slotName, "ne", []fr.Element{StringValue("Bob")}},
		{slotGPA, "between", []fr.Element{U64(300), U64(400)}},
	}
	for i, p := range preds {
		if q.Predicates[i], err = NewPredicate(p.slot, p.op, p.vals...); err != nil {
			t.Fatal(err)
		}
	}
	f.w = &Witness{
		Credential:   cred,
		HolderSecret: f.secret,
		IssuerID:     f.issuer,
		LeafIndex:    idx,
		Path:         f.tree.Path(idx),
		TrustIndex:   ti,
		TrustPath:    tp,
		Root:         f.tree.Root(),
		Height:       42,
		TrustRoot:    f.trust.Root(),
		Now:          1_800_000_000,
		Nonce:        RandomBytes31(),
		Audience:     AudienceID("https://employer.example"),
		Scope:        ScopeID("job-application-42"),
		Query:        q,
	}
	return f
}

type bigIntT = big.Int

func one() *big.Int { return big.NewInt(1) }
