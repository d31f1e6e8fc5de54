package ceremony

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/consensys/gnark-crypto/ecc"
	curve "github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/fft"
	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
	"github.com/consensys/gnark/constraint"
)

// checkStart checks a phase-2 start file against the SRS and the
// constraint system without re-running the initialisation (50 CPU seconds
// for the presentation circuit). Initialize computes, for every wire w,
//
//	A_w = Σᵢ aᵢw·[Lᵢ(τ)]₁, B_w = Σᵢ bᵢw·[Lᵢ(τ)]₁ and [Lᵢ(τ)]₂,
//	K_w = Σᵢ aᵢw·[βLᵢ(τ)]₁ + bᵢw·[αLᵢ(τ)]₁ + cᵢw·[Lᵢ(τ)]₁,
//
// with Lᵢ the Lagrange polynomials of the domain, K split into the
// verifying key's (public wires) and the proving key's (the rest), and
// Z_i = [τⁱ⁺ⁿ − τⁱ]₁ (bit-reversed), δ = 1. Z and δ are recomputed
// exactly. For the vectors, take random rᵂ: Σ_w r_w·A_w must equal
// Σᵢ sᵢ·[Lᵢ(τ)]₁ with sᵢ = Σ_w aᵢw·r_w, and since Lᵢ(X) = (1/n)Σⱼ ω⁻ⁱʲXʲ
// that is Σⱼ tⱼ·[τʲ]₁ with t the inverse FFT of s: two multi-scalar
// multiplications over points the SRS already has. A vector that differs
// from Initialize's anywhere passes with probability 1/r (r the group
// order) per check; the r are drawn from crypto/rand by the verifier, after
// the file was made.
func checkStart(c *Circuit, commons *mpcsetup.SrsCommons, p *mpcsetup.Phase2, ev *mpcsetup.Phase2Evaluations) error {
	n := c.DomainSize()
	nbInternal, nbSecret, nbPublic := c.CS.GetNbVariables()
	nW := nbInternal + nbSecret + nbPublic
	_, _, g1, g2 := curve.Generators()
	if len(p.Sigmas) != 0 || len(p.Parameters.G1.SigmaCKK) != 0 || len(p.Parameters.G2.Sigma) != 0 {
		return errors.New("start file has commitment parameters")
	}
	if len(p.Challenge) != 0 {
		return errors.New("start file has a challenge")
	}
	if !p.Parameters.G1.Delta.Equal(&g1) || !p.Parameters.G2.Delta.Equal(&g2) {
		return errors.New("start file's δ is not 1")
	}
	if len(p.Parameters.G1.PKK) != nW-nbPublic || len(ev.G1.VKK) != nbPublic || len(ev.G1.A) != nW {
		return errors.New("start file's vectors do not fit the circuit")
	}

	// Z, exactly as Initialize builds it.
	z := make([]curve.G1Affine, n)
	for i := range n - 1 {
		z[i].Sub(&commons.G1.Tau[i+n], &commons.G1.Tau[i])
	}
	bitReverse(z)
	for i := range n - 1 {
		if !z[i].Equal(&p.Parameters.G1.Z[i]) {
			return fmt.Errorf("start file's Z[%d] is not [τⁱ(τⁿ−1)]₁", i)
		}
	}

	domain := fft.NewDomain(uint64(n))
	// rows returns, for random weights r over the wires, the inverse FFT of
	// sᵢ = Σ_w coeffᵢw·r_w over each of the L, R and O parts.
	rows := func(r []fr.Element) (tL, tR, tO []fr.Element) {
		tL, tR, tO = make([]fr.Element, n), make([]fr.Element, n), make([]fr.Element, n)
		it := c.CS.GetR1CIterator()
		i := 0
		acc := func(dst *fr.Element, lc []constraint.Term) {
			var t fr.Element
			for _, term := range lc {
				t.Mul(&c.CS.Coefficients[term.CID], &r[term.VID])
				dst.Add(dst, &t)
			}
		}
		for con := it.Next(); con != nil; con = it.Next() {
			acc(&tL[i], con.L)
			acc(&tR[i], con.R)
			acc(&tO[i], con.O)
			i++
		}
		for _, t := range [][]fr.Element{tL, tR, tO} {
			domain.FFTInverse(t, fft.DIF)
			fft.BitReverse(t)
		}
		return
	}
	random := func() []fr.Element {
		r := make([]fr.Element, nW)
		for i := range r {
			if _, err := r[i].SetRandom(); err != nil {
				panic(err)
			}
		}
		return r
	}
	cfg := ecc.MultiExpConfig{}
	msm1 := func(pts []curve.G1Affine, sc []fr.Element) curve.G1Jac {
		var out curve.G1Jac
		if _, err := out.MultiExp(pts, sc, cfg); err != nil {
			panic(err)
		}
		return out
	}
	msm2 := func(pts []curve.G2Affine, sc []fr.Element) curve.G2Jac {
		var out curve.G2Jac
		if _, err := out.MultiExp(pts, sc, cfg); err != nil {
			panic(err)
		}
		return out
	}
	tau1 := commons.G1.Tau[:n]

	// A: left coefficients at τ in G1.
	r := random()
	tL, tR, tO := rows(r)
	lhs, rhs := msm1(ev.G1.A, r), msm1(tau1, tL)
	if !lhs.Equal(&rhs) {
		return errors.New("start file's A evaluations do not match the circuit and phase 1")
	}
	// B: right coefficients at τ in G1 and G2.
	r = random()
	_, tR, _ = rows(r)
	lhs, rhs = msm1(ev.G1.B, r), msm1(tau1, tR)
	if !lhs.Equal(&rhs) {
		return errors.New("start file's B evaluations (G1) do not match the circuit and phase 1")
	}
	r = random()
	_, tR, _ = rows(r)
	lhs2, rhs2 := msm2(ev.G2.B, r), msm2(commons.G2.Tau, tR)
	if !lhs2.Equal(&rhs2) {
		return errors.New("start file's B evaluations (G2) do not match the circuit and phase 1")
	}
	// K = βA + αB + C, public wires first (verifying key), then the rest.
	r = random()
	tL, tR, tO = rows(r)
	k := make([]curve.G1Affine, 0, nW)
	k = append(append(k, ev.G1.VKK...), p.Parameters.G1.PKK...)
	lhs = msm1(k, r)
	rhs = msm1(commons.G1.BetaTau, tL)
	t := msm1(commons.G1.AlphaTau, tR)
	rhs.AddAssign(&t)
	t = msm1(tau1, tO)
	rhs.AddAssign(&t)
	if !lhs.Equal(&rhs) {
		return errors.New("start file's K (βA + αB + C) does not match the circuit and phase 1")
	}
	return nil
}

func bitReverse[T any](a []T) {
	n := len(a)
	shift := 64 - log2(n)
	for i := 0; i < n; i++ {
		j := int(bits.Reverse64(uint64(i)) >> shift)
		if j > i {
			a[i], a[j] = a[j], a[i]
		}
	}
}
