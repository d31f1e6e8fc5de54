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

// Slots of the fixture credential.
const (
	slotName   = sampleName
	slotBirth  = sampleBirth
	slotDegree = sampleDegree
	slotGPA    = sampleGPA
	slotGrad   = sampleGrad
	slotHonour = sampleHonour
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
	s, err := newSample()
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{secret: s.Witness.HolderSecret, issuer: s.Witness.IssuerID, tree: s.Tree, trust: s.Trust, w: s.Witness}
}

type bigIntT = big.Int

func one() *big.Int { return big.NewInt(1) }
