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
// exponentiation. One bad item never fails the others: when the combined
// check fails, the bad items are found by bisection (see bisect).
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
	switch len(idx) {
	case 0:
		return errs
	case 1:
		errs[idx[0]] = v.check(parsed[0], inputs[0])
		return errs
	}
	b, err := v.newBatch(parsed, inputs)
	if err != nil {
		for j, i := range idx {
			errs[i] = v.check(parsed[j], inputs[j])
		}
		return errs
	}
	for j, err := range b.bisect() {
		errs[idx[j]] = err
	}
	if batchHook != nil {
		batchHook(b)
	}
	return errs
}

// batchHook, when set (by tests), sees every batch after its verdicts.
var batchHook func(*batch)

// batch holds what every combined check of a subset reuses: the random
// coefficients, rᵢ·Aᵢ, and the inputs.
type batch struct {
	v      *Verifier
	proofs []*groth16.Proof
	inputs [][]fr.Element
	r      []fr.Element
	rA     []bn254.G1Affine

	combined, single int // checks made (for tests)
}

func (v *Verifier) newBatch(proofs []*groth16.Proof, inputs [][]fr.Element) (*batch, error) {
	n := len(proofs)
	b := &batch{v: v, proofs: proofs, inputs: inputs, r: make([]fr.Element, n), rA: make([]bn254.G1Affine, n)}
	var buf [16]byte
	var ri big.Int
	for i := range b.r {
		if _, err := rand.Read(buf[:]); err != nil {
			return nil, err
		}
		b.r[i].SetBytes(buf[:])
		if b.r[i].IsZero() {
			b.r[i].SetOne() // a zero coefficient would hide its item
		}
		b.r[i].BigInt(&ri)
		b.rA[i].ScalarMultiplication(&proofs[i].Ar, &ri)
	}
	return b, nil
}

// value returns V(S) = ∏_{i∈S} Rᵢ^{rᵢ}, where Rᵢ = e(Aᵢ,Bᵢ)·e(α,β)⁻¹·
// e(Lᵢ,γ)⁻¹·e(Cᵢ,δ)⁻¹ is 1 exactly when item i is a valid proof: one
// multi-pairing over S's pairs and the three folded terms, with one final
// exponentiation.
func (b *batch) value(S []int) (bn254.GT, error) {
	b.combined++
	v := b.v
	nIC := len(v.vk.G1.K)
	// Folded public-input scalars: s₀ = Σrᵢ, sⱼ = Σ rᵢ·xᵢⱼ.
	s := make([]fr.Element, nIC)
	var t fr.Element
	rs := make([]fr.Element, len(S))
	cs := make([]bn254.G1Affine, len(S))
	for k, i := range S {
		s[0].Add(&s[0], &b.r[i])
		for j := range b.inputs[i] {
			t.Mul(&b.r[i], &b.inputs[i][j])
			s[j+1].Add(&s[j+1], &t)
		}
		rs[k], cs[k] = b.r[i], b.proofs[i].Krs
	}
	// L = s₀·K₀ + Σ sⱼ·Kⱼ from the fixed-base tables (which add K₀ once):
	// about half the cost of a multi-exponentiation over the 66 points.
	var L, C, alpha, k0 bn254.G1Affine
	L = v.fixed().eval(s[1:])
	var s0, s0m1 big.Int
	s[0].BigInt(&s0)
	var one fr.Element
	one.SetOne()
	t.Sub(&s[0], &one)
	t.BigInt(&s0m1)
	k0.ScalarMultiplication(&v.vk.G1.K[0], &s0m1)
	L.Add(&L, &k0)
	if _, err := C.MultiExp(cs, rs, ecc.MultiExpConfig{}); err != nil {
		return bn254.GT{}, err
	}
	alpha.ScalarMultiplication(&v.vk.G1.Alpha, &s0)
	alpha.Neg(&alpha)
	L.Neg(&L)
	C.Neg(&C)

	P := make([]bn254.G1Affine, 0, len(S)+1)
	Q := make([]bn254.G2Affine, 0, len(S)+1)
	for _, i := range S {
		P = append(P, b.rA[i])
		Q = append(Q, b.proofs[i].Bs)
	}
	P = append(P, alpha)
	Q = append(Q, v.vk.G2.Beta)

	// The Miller loops of γ and δ use their precomputed lines; the others
	// run in two halves, one of them on the second core (the machine has
	// two).
	type result struct {
		ml  bn254.GT
		err error
	}
	ch := make(chan result, 1)
	half := len(P) / 2
	go func() {
		ml, err := bn254.MillerLoop(P[:half], Q[:half])
		ch <- result{ml, err}
	}()
	ml2, err := bn254.MillerLoop(P[half:], Q[half:])
	// MillerLoopFixedQ scales the lines it is given in place: give it a copy.
	lines := [][2][len(bn254.LoopCounter)]bn254.LineEvaluationAff{v.lines[0], v.lines[1]}
	fixed, ferr := bn254.MillerLoopFixedQ([]bn254.G1Affine{L, C}, lines)
	r1 := <-ch
	for _, e := range []error{err, ferr, r1.err} {
		if e != nil {
			return bn254.GT{}, e
		}
	}
	ml := r1.ml
	ml.Mul(&ml, &ml2)
	ml.Mul(&ml, &fixed)
	return bn254.FinalExponentiation(&ml), nil
}

// bisect returns the verdict of every item. V is multiplicative over
// disjoint sets (V(S∪T) = V(S)·V(T)) and Rᵢ lies in the prime-order group
// GT with rᵢ ≠ 0, so V({i}) ≠ 1 exactly when item i is invalid, and
// V(S) ≠ 1 proves that S holds an invalid item. V(S) = 1 for a set with an
// invalid item has probability about 2⁻¹²⁸ over the rᵢ: that is the one
// verdict the random coefficients decide, as in every batch check.
//
// A failing set S is split in halves S₁, S₂; only V(S₁) is computed, and
// V(S₂) = V(S)·V(S₁)⁻¹ follows, so each split costs one combined check of
// half the set. One bad proof among n costs about log₂ n checks of
// shrinking halves (measured on the development machine: about 1.5 ms
// plus 0.19 ms per item each, so 20 ms for one bad proof among 64),
// against n single checks (0.9 ms each, 59 ms). Sets of fewer than four
// are settled with single checks, where the last item of a failing set
// needs none if the others are valid. When the bad items are so many that
// bisection has spent its budget (splitCost), the remaining sets are
// checked item by item: a batch costs at most its combined check, about
// 0.6 more single checks per item of bisection, and the single checks.
func (b *batch) bisect() []error {
	n := len(b.proofs)
	errs := make([]error, n)
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	root, err := b.value(all)
	if err != nil {
		return b.singles(all, errs)
	}
	if root.IsOne() {
		return errs
	}
	type node struct {
		items []int
		v     bn254.GT
	}
	stack := []node{{all, root}}
	budget := splitBudget * n
	for len(stack) > 0 {
		nd := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if len(nd.items) == 1 {
			errs[nd.items[0]] = errPairing
			continue
		}
		left, right := nd.items[:len(nd.items)/2], nd.items[len(nd.items)/2:]
		cost := splitCost + len(left)
		if len(nd.items) < 4 || cost > budget {
			b.failing(nd.items, errs)
			continue
		}
		budget -= cost
		vl, err := b.value(left)
		if err != nil {
			b.singles(nd.items, errs)
			continue
		}
		var inv, vr bn254.GT
		inv.Inverse(&vl)
		vr.Mul(&nd.v, &inv)
		if !vr.IsOne() {
			stack = append(stack, node{right, vr})
		}
		if !vl.IsOne() {
			stack = append(stack, node{left, vl})
		}
	}
	return errs
}

// Costs in units of one pair of a combined check (0.19 ms on the
// development machine): a combined check of m items costs splitCost + m, a
// single check about 5. Bisection may spend splitBudget per item.
const (
	splitCost   = 8
	splitBudget = 3
)

var errPairing = fmt.Errorf("%w: pairing check failed", ErrInvalidProof)

func (b *batch) check(i int) error {
	b.single++
	return b.v.check(b.proofs[i], b.inputs[i])
}

// singles checks the items one by one.
func (b *batch) singles(items []int, errs []error) []error {
	for _, i := range items {
		errs[i] = b.check(i)
	}
	return errs
}

// failing checks the items of a set known to hold an invalid one one by
// one; if all but the last are valid, the last is the invalid one.
func (b *batch) failing(items []int, errs []error) {
	last := len(items) - 1
	clean := true
	for _, i := range items[:last] {
		errs[i] = b.check(i)
		clean = clean && errs[i] == nil
	}
	if clean {
		errs[items[last]] = errPairing
	} else {
		errs[items[last]] = b.check(items[last])
	}
}
