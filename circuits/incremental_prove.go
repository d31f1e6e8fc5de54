// The Groth16 prover below is adapted from gnark v0.16.3's
// backend/groth16/bn254/prove.go (Copyright 2020-2026 Consensys Software
// Inc., Apache License 2.0): the same proof, computed from wire sums that
// can be carried over from an earlier witness, without the commitment
// extension (zkcred proves plain Groth16 only).

package circuits

import (
	"fmt"
	"math/big"
	"runtime"
	"sync"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/fft"
	groth16 "github.com/consensys/gnark/backend/groth16/bn254"
	cs "github.com/consensys/gnark/constraint/bn254"
	"github.com/consensys/gnark/frontend"
)

// wireSums are the four witness-dependent multi-exponentiations of a
// Groth16 proof, without the key's constant terms (α, β, δ):
//
//	a  = Σ wᵢ·[Aᵢ(τ)]₁     b1 = Σ wᵢ·[Bᵢ(τ)]₁     b2 = Σ wᵢ·[Bᵢ(τ)]₂
//	k  = Σ wᵢ·[Kᵢ(τ)]₁ over the private wires
//
// They are linear in the wire vector w, so the sums of a new witness are
// those of an old one plus Σ (w′ᵢ − wᵢ)·Pᵢ over the wires that differ.
type wireSums struct {
	a, b1, k bn254.G1Jac
	b2       bn254.G2Jac
}

func (s *wireSums) add(d *wireSums) {
	s.a.AddAssign(&d.a)
	s.b1.AddAssign(&d.b1)
	s.k.AddAssign(&d.k)
	s.b2.AddAssign(&d.b2)
}

func (s *wireSums) equal(o *wireSums) bool {
	return s.a.Equal(&o.a) && s.b1.Equal(&o.b1) && s.k.Equal(&o.k) && s.b2.Equal(&o.b2)
}

// proverKey is what the prover derives once from a proving key: where each
// wire's points are. gnark stores no point for a wire whose A (or B)
// polynomial vanishes at τ (InfinityA/B), so pk.G1.A is indexed by the
// wire's rank among the others; pk.G1.K is indexed by private wire (wire
// index minus the number of public wires, the constant one included).
type proverKey struct {
	ccs      *cs.R1CS
	pk       *groth16.ProvingKey
	nbWires  int
	nbPublic int
	idxA     []int32 // wire → index in pk.G1.A, or -1
	idxB     []int32 // wire → index in pk.G1.B and pk.G2.B, or -1
	digest   [32]byte
}

func newProverKey(ccs *cs.R1CS, pk *groth16.ProvingKey) (*proverKey, error) {
	nbPublic := ccs.GetNbPublicVariables()
	nbWires := nbPublic + ccs.GetNbSecretVariables() + ccs.NbInternalVariables
	if len(pk.CommitmentKeys) != 0 {
		return nil, fmt.Errorf("%w: proving key uses gnark commitments", ErrFormat)
	}
	if len(pk.InfinityA) != nbWires || len(pk.InfinityB) != nbWires ||
		len(pk.G1.A) != nbWires-int(pk.NbInfinityA) || len(pk.G1.B) != nbWires-int(pk.NbInfinityB) ||
		len(pk.G2.B) != len(pk.G1.B) || len(pk.G1.K) != nbWires-nbPublic ||
		len(pk.G1.Z) < int(pk.Domain.Cardinality)-1 || pk.Domain.Cardinality < uint64(ccs.GetNbConstraints()) {
		return nil, fmt.Errorf("%w: proving key does not match the circuit", ErrFormat)
	}
	k := &proverKey{ccs: ccs, pk: pk, nbWires: nbWires, nbPublic: nbPublic,
		idxA: make([]int32, nbWires), idxB: make([]int32, nbWires)}
	for _, x := range []struct {
		inf []bool
		idx []int32
	}{{pk.InfinityA, k.idxA}, {pk.InfinityB, k.idxB}} {
		j := int32(0)
		for i, inf := range x.inf {
			if inf {
				x.idx[i] = -1
				continue
			}
			x.idx[i] = j
			j++
		}
	}
	k.digest = keyDigest(pk, nbPublic)
	return k, nil
}

// solution is a solved witness: the wire vector and the evaluations of the
// constraints' A, B and C linear combinations.
type solution struct {
	w, a, b, c []fr.Element
}

func (k *proverKey) solve(assignment frontend.Circuit) (*solution, error) {
	wit, err := frontend.NewWitness(assignment, ecc.BN254.ScalarField())
	if err != nil {
		return nil, err
	}
	s, err := k.ccs.Solve(wit)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnprovable, err)
	}
	r := s.(*cs.R1CSSolution)
	if len(r.W) != k.nbWires {
		return nil, fmt.Errorf("solver returned %d wires, want %d", len(r.W), k.nbWires)
	}
	return &solution{w: r.W, a: r.A, b: r.B, c: r.C}, nil
}

// delta holds the multi-exponentiations that bring wire sums from an old
// wire vector to a new one. A sparse delta lists only the changed wires,
// with the scalar negated (and the point with it) when that makes it
// small: a bit that goes from 1 to 0 is −1 = r − 1, a 254-bit scalar,
// but 1 after negation. A dense delta (every wire, or most of them) uses
// the key's point slices as gnark's prover does.
type delta struct {
	dense   bool
	changed int

	// dense: scalars in the order of pk.G1.A, pk.G1.B (and G2.B), pk.G1.K.
	sa, sb, sk []fr.Element

	// sparse: gathered points and their scalars; unit scalars (±1, after
	// negation 1) need no multiplication and go to the *1 point lists.
	pa, pb1, pk    []bn254.G1Affine
	pb2            []bn254.G2Affine
	xa, xb, xk     []fr.Element
	pa1, pb11, pk1 []bn254.G1Affine
	pb21           []bn254.G2Affine
}

// denseFraction: above this share of changed wires, the delta is dense.
const denseFraction = 4

func (k *proverKey) newDelta(old, w []fr.Element) *delta {
	d := &delta{}
	if old == nil {
		d.dense = true
	} else {
		for i := range w {
			if !w[i].Equal(&old[i]) {
				d.changed++
			}
		}
		d.dense = d.changed*denseFraction > len(w)
	}
	if d.dense {
		diff := w
		if old != nil {
			diff = make([]fr.Element, len(w))
			for i := range w {
				diff[i].Sub(&w[i], &old[i])
			}
		}
		d.sa = make([]fr.Element, 0, len(k.pk.G1.A))
		d.sb = make([]fr.Element, 0, len(k.pk.G1.B))
		for i := range diff {
			if !diff[i].IsZero() && old == nil {
				d.changed++
			}
			if k.idxA[i] >= 0 {
				d.sa = append(d.sa, diff[i])
			}
			if k.idxB[i] >= 0 {
				d.sb = append(d.sb, diff[i])
			}
		}
		d.sk = diff[k.nbPublic:]
		return d
	}
	var one fr.Element
	one.SetOne()
	for i := range w {
		if w[i].Equal(&old[i]) {
			continue
		}
		var x fr.Element
		x.Sub(&w[i], &old[i])
		neg := x.LexicographicallyLargest() // x > (r−1)/2: −x is smaller
		if neg {
			x.Neg(&x)
		}
		unit := x.Equal(&one)
		if j := k.idxA[i]; j >= 0 {
			p := k.pk.G1.A[j]
			if neg {
				p.Neg(&p)
			}
			if unit {
				d.pa1 = append(d.pa1, p)
			} else {
				d.pa, d.xa = append(d.pa, p), append(d.xa, x)
			}
		}
		if j := k.idxB[i]; j >= 0 {
			p1, p2 := k.pk.G1.B[j], k.pk.G2.B[j]
			if neg {
				p1.Neg(&p1)
				p2.Neg(&p2)
			}
			if unit {
				d.pb11, d.pb21 = append(d.pb11, p1), append(d.pb21, p2)
			} else {
				d.pb1, d.pb2, d.xb = append(d.pb1, p1), append(d.pb2, p2), append(d.xb, x)
			}
		}
		if i >= k.nbPublic {
			p := k.pk.G1.K[i-k.nbPublic]
			if neg {
				p.Neg(&p)
			}
			if unit {
				d.pk1 = append(d.pk1, p)
			} else {
				d.pk, d.xk = append(d.pk, p), append(d.xk, x)
			}
		}
	}
	return d
}

func msmG1(p *bn254.G1Jac, points []bn254.G1Affine, scalars []fr.Element, units []bn254.G1Affine, tasks int) error {
	*p = bn254.G1Jac{} // Z = 0: infinity
	if len(points) > 0 {
		if _, err := p.MultiExp(points, scalars, ecc.MultiExpConfig{NbTasks: tasks}); err != nil {
			return err
		}
	}
	for i := range units {
		p.AddMixed(&units[i])
	}
	return nil
}

func msmG2(p *bn254.G2Jac, points []bn254.G2Affine, scalars []fr.Element, units []bn254.G2Affine, tasks int) error {
	*p = bn254.G2Jac{}
	if len(points) > 0 {
		if _, err := p.MultiExp(points, scalars, ecc.MultiExpConfig{NbTasks: tasks}); err != nil {
			return err
		}
	}
	for i := range units {
		p.AddMixed(&units[i])
	}
	return nil
}

// sparseSums computes a sparse delta's four sums, all cores for each in
// turn (each is small).
func (d *delta) sparseSums(out *wireSums) error {
	n := runtime.NumCPU()
	if err := msmG2(&out.b2, d.pb2, d.xb, d.pb21, n); err != nil {
		return err
	}
	if err := msmG1(&out.a, d.pa, d.xa, d.pa1, n); err != nil {
		return err
	}
	if err := msmG1(&out.b1, d.pb1, d.xb, d.pb11, n); err != nil {
		return err
	}
	return msmG1(&out.k, d.pk, d.xk, d.pk1, n)
}

// sums computes the delta's sums alone (no proof): the state update.
func (k *proverKey) sums(d *delta, out *wireSums) error {
	if !d.dense {
		return d.sparseSums(out)
	}
	n := runtime.NumCPU()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	wg.Add(3)
	go func() { defer wg.Done(); errs[0] = msmG1(&out.a, k.pk.G1.A, d.sa, nil, n/2) }()
	go func() { defer wg.Done(); errs[1] = msmG1(&out.b1, k.pk.G1.B, d.sb, nil, n/2) }()
	go func() { defer wg.Done(); errs[2] = msmG1(&out.k, k.pk.G1.K, d.sk, nil, n/2) }()
	err := msmG2(&out.b2, k.pk.G2.B, d.sb, nil, g2Tasks(n))
	wg.Wait()
	for _, e := range errs {
		if err == nil {
			err = e
		}
	}
	return err
}

// g2Tasks is gnark's task count for the G2 multi-exponentiation: with few
// CPUs, splitting it further keeps both halves of the machine busy.
func g2Tasks(n int) int {
	if n <= 16 {
		return 2 * n
	}
	return n
}

// prove makes a proof for the solution s whose wire sums are base + d's,
// and returns those sums. base must hold the sums of the old wire vector d
// was computed from (zero for a full proof).
func (k *proverKey) prove(base *wireSums, d *delta, s *solution) (*groth16.Proof, *wireSums, error) {
	pk := k.pk
	n := runtime.NumCPU()
	sizeH := int(pk.Domain.Cardinality - 1) // deg(H) = (n−1)+(n−1)−n = n−2

	// Fresh r and s for every proof, as gnark's prover draws them.
	var r, sc big.Int
	var _r, _s, _kr fr.Element
	if _, err := _r.SetRandom(); err != nil {
		return nil, nil, err
	}
	if _, err := _s.SetRandom(); err != nil {
		return nil, nil, err
	}
	_kr.Mul(&_r, &_s).Neg(&_kr)
	_r.BigInt(&r)
	_s.BigInt(&sc)
	deltas := bn254.BatchScalarMultiplicationG1(&pk.G1.Delta, []fr.Element{_r, _s, _kr})

	var ds wireSums
	var krs2 bn254.G1Jac
	if d.dense {
		// gnark's schedule: the FFTs use every CPU; then the five
		// multi-exponentiations share them.
		h := computeH(s.a, s.b, s.c, &pk.Domain)
		chZ := make(chan error, 1)
		go func() {
			_, err := krs2.MultiExp(pk.G1.Z, h[:sizeH], ecc.MultiExpConfig{NbTasks: n / 2})
			chZ <- err
		}()
		if err := k.sums(d, &ds); err != nil {
			return nil, nil, err
		}
		if err := <-chZ; err != nil {
			return nil, nil, err
		}
	} else {
		// The wire multi-exponentiations are small: compute them, then give
		// the quotient's 2^14-point multi-exponentiation every CPU.
		if err := d.sparseSums(&ds); err != nil {
			return nil, nil, err
		}
		h := computeH(s.a, s.b, s.c, &pk.Domain)
		if _, err := krs2.MultiExp(pk.G1.Z, h[:sizeH], ecc.MultiExpConfig{NbTasks: n}); err != nil {
			return nil, nil, err
		}
	}
	sums := *base
	sums.add(&ds)

	proof := &groth16.Proof{}
	var ar, bs1, krs, p1 bn254.G1Jac
	ar = sums.a
	ar.AddMixed(&pk.G1.Alpha)
	ar.AddMixed(&deltas[0])
	proof.Ar.FromJacobian(&ar)

	bs1 = sums.b1
	bs1.AddMixed(&pk.G1.Beta)
	bs1.AddMixed(&deltas[1])

	var bs, deltaS bn254.G2Jac
	bs = sums.b2
	deltaS.FromAffine(&pk.G2.Delta)
	deltaS.ScalarMultiplication(&deltaS, &sc)
	bs.AddAssign(&deltaS)
	bs.AddMixed(&pk.G2.Beta)
	proof.Bs.FromJacobian(&bs)

	krs = sums.k
	krs.AddMixed(&deltas[2])
	krs.AddAssign(&krs2)
	p1.ScalarMultiplication(&ar, &sc)
	krs.AddAssign(&p1)
	p1.ScalarMultiplication(&bs1, &r)
	krs.AddAssign(&p1)
	proof.Krs.FromJacobian(&krs)
	return proof, &sums, nil
}

// computeH is gnark's quotient computation: h = (a·b − c)/Z over the
// domain, through a coset (hz = ab − c, Z = xⁿ − 1).
func computeH(a, b, c []fr.Element, domain *fft.Domain) []fr.Element {
	n := int(domain.Cardinality)
	pad := func(v []fr.Element) []fr.Element {
		out := make([]fr.Element, n)
		copy(out, v)
		return out
	}
	a, b, c = pad(a), pad(b), pad(c)

	domain.FFTInverse(a, fft.DIF)
	domain.FFTInverse(b, fft.DIF)
	domain.FFTInverse(c, fft.DIF)

	domain.FFT(a, fft.DIT, fft.OnCoset())
	domain.FFT(b, fft.DIT, fft.OnCoset())
	domain.FFT(c, fft.DIT, fft.OnCoset())

	var den, one fr.Element
	one.SetOne()
	den.Exp(domain.FrMultiplicativeGen, big.NewInt(int64(domain.Cardinality)))
	den.Sub(&den, &one).Inverse(&den)

	parallelize(n, func(start, end int) {
		for i := start; i < end; i++ {
			a[i].Mul(&a[i], &b[i]).
				Sub(&a[i], &c[i]).
				Mul(&a[i], &den)
		}
	})

	domain.FFTInverse(a, fft.DIF, fft.OnCoset())
	return a
}

// parallelize runs f over [0, n) in one contiguous range per CPU.
func parallelize(n int, f func(start, end int)) {
	cpus := runtime.NumCPU()
	if cpus > n {
		cpus = n
	}
	var wg sync.WaitGroup
	per := (n + cpus - 1) / cpus
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(start, end)
		}()
	}
	wg.Wait()
}
