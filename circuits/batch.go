package circuits

import (
	"crypto/rand"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	groth16 "github.com/consensys/gnark/backend/groth16/bn254"
)

// VerifyBatch verifies many presentations at once and returns one verdict
// per item (nil for valid). It checks a random linear combination of the
// Groth16 equations,
//
//	∏ e(rᵢAᵢ, Bᵢ) · e(−Σrᵢ·α, β) · e(−Σrᵢ·Lᵢ, γ) · e(−ΣrᵢCᵢ, δ) = 1,
//
// with independent 128-bit rᵢ, so that all the public-input terms fold into
// one multi-exponentiation and all the pairings share one final
// exponentiation. If the combined check fails, each item is verified alone,
// so one bad item never fails the others.
func (v *Verifier) VerifyBatch(proofs [][]byte, pubs []*Public) []error {
	errs := make([]error, len(proofs))
	if len(proofs) != len(pubs) {
		for i := range errs {
			errs[i] = fmt.Errorf("%w: %d proofs for %d statements", ErrInvalidProof, len(proofs), len(pubs))
		}
		return errs
	}
	if v.id != PresentationID {
		for i := range errs {
			errs[i] = ErrWrongCircuit
		}
		return errs
	}
	var (
		idx    []int
		parsed []*groth16.Proof
		inputs [][]fr.Element
	)
	for i := range proofs {
		p, err := decodeProof(v.id, proofs[i])
		if err != nil {
			errs[i] = err
			continue
		}
		idx = append(idx, i)
		parsed = append(parsed, p)
		inputs = append(inputs, pubs[i].Vector())
	}
	if len(idx) == 0 {
		return errs
	}
	if len(idx) == 1 || !v.batchCheck(parsed, inputs) {
		for _, i := range idx {
			errs[i] = v.Verify(proofs[i], pubs[i])
		}
	}
	return errs
}

func (v *Verifier) batchCheck(proofs []*groth16.Proof, inputs [][]fr.Element) bool {
	n := len(proofs)
	nIC := len(v.vk.G1.K)
	r := make([]fr.Element, n)
	var buf [16]byte
	for i := range r {
		if _, err := rand.Read(buf[:]); err != nil {
			return false
		}
		r[i].SetBytes(buf[:])
	}

	// Folded public-input scalars: s₀ = Σrᵢ, sⱼ = Σ rᵢ·xᵢⱼ.
	s := make([]fr.Element, nIC)
	var t fr.Element
	for i := range proofs {
		s[0].Add(&s[0], &r[i])
		for j, x := range inputs[i] {
			t.Mul(&r[i], &x)
			s[j+1].Add(&s[j+1], &t)
		}
	}
	cfg := ecc.MultiExpConfig{}
	var L, C, alpha bn254.G1Affine
	if _, err := L.MultiExp(v.vk.G1.K, s, cfg); err != nil {
		return false
	}
	cs := make([]bn254.G1Affine, n)
	for i, p := range proofs {
		cs[i] = p.Krs
	}
	if _, err := C.MultiExp(cs, r, cfg); err != nil {
		return false
	}
	var s0 big.Int
	s[0].BigInt(&s0)
	alpha.ScalarMultiplication(&v.vk.G1.Alpha, &s0)

	P := make([]bn254.G1Affine, 0, n+3)
	Q := make([]bn254.G2Affine, 0, n+3)
	var ri big.Int
	for i, p := range proofs {
		var a bn254.G1Affine
		r[i].BigInt(&ri)
		a.ScalarMultiplication(&p.Ar, &ri)
		P = append(P, a)
		Q = append(Q, p.Bs)
	}
	L.Neg(&L)
	C.Neg(&C)
	alpha.Neg(&alpha)
	P = append(P, alpha, L, C)
	Q = append(Q, v.vk.G2.Beta, v.vk.G2.Gamma, v.vk.G2.Delta)

	// Two Miller loops in parallel (the machine has two cores), one final
	// exponentiation.
	half := len(P) / 2
	type result struct {
		ml  bn254.GT
		err error
	}
	ch := make(chan result, 1)
	go func() {
		ml, err := bn254.MillerLoop(P[:half], Q[:half])
		ch <- result{ml, err}
	}()
	ml2, err := bn254.MillerLoop(P[half:], Q[half:])
	r1 := <-ch
	if err != nil || r1.err != nil {
		return false
	}
	ml1 := r1.ml
	ml1.Mul(&ml1, &ml2)
	res := bn254.FinalExponentiation(&ml1)
	return res.IsOne()
}
