package ceremony

import (
	"math/big"
	"math/bits"
	"runtime"
	"slices"
	"sync"

	curve "github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/fft"
	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
	"github.com/consensys/gnark/constraint"
)

// initialize computes exactly what gnark's Phase2.Initialize computes for
// a circuit without commitments (a test holds the two together byte for
// byte), on every core (gnark's accumulation runs on one) and with fewer
// scalar multiplications: per wire, the Lagrange points that share a
// coefficient are summed before one multiplication, and the FFTs skip the
// twiddle 1. checkStart verifies the result independently.
func initialize(c *Circuit, commons *mpcsetup.SrsCommons) (mpcsetup.Phase2, mpcsetup.Phase2Evaluations) {
	n := len(commons.G1.AlphaTau)
	domain := fft.NewDomain(uint64(n))
	var lag1, lagA, lagB []curve.G1Jac
	var lag2 []curve.G2Jac
	lag1 = lagrangeG1(commons.G1.Tau[:n], domain)
	lagA = lagrangeG1(commons.G1.AlphaTau, domain)
	lagB = lagrangeG1(commons.G1.BetaTau, domain)
	lag2 = lagrangeG2(commons.G2.Tau, domain)

	nbInternal, nbSecret, nbPublic := c.CS.GetNbVariables()
	nW := nbInternal + nbSecret + nbPublic

	// Column view: for each wire, its (kind, coefficient, row) terms.
	type term struct {
		kind  uint8 // 0 L, 1 R, 2 O
		coeff uint32
		row   uint32
	}
	cols := make([][]term, nW)
	it := c.CS.GetR1CIterator()
	row := uint32(0)
	for con := it.Next(); con != nil; con = it.Next() {
		for k, lc := range [][]constraint.Term{con.L, con.R, con.O} {
			for _, t := range lc {
				if t.CID == constraint.CoeffIdZero {
					continue
				}
				cols[t.VID] = append(cols[t.VID], term{uint8(k), t.CID, row})
			}
		}
		row++
	}

	A := make([]curve.G1Jac, nW)
	B := make([]curve.G1Jac, nW)
	K := make([]curve.G1Jac, nW)
	B2 := make([]curve.G2Jac, nW)
	coeff := func(id uint32) *big.Int {
		var b big.Int
		return c.CS.Coefficients[id].BigInt(&b)
	}
	parallelRange(nW, func(start, end int) {
		var s1, s1b curve.G1Jac
		var s2 curve.G2Jac
		for w := start; w < end; w++ {
			ts := cols[w]
			slices.SortFunc(ts, func(a, b term) int {
				if a.kind != b.kind {
					return int(a.kind) - int(b.kind)
				}
				return int(a.coeff) - int(b.coeff)
			})
			for i := 0; i < len(ts); {
				j := i
				for j < len(ts) && ts[j].kind == ts[i].kind && ts[j].coeff == ts[i].coeff {
					j++
				}
				co := coeff(ts[i].coeff)
				scale1 := func(p *curve.G1Jac) {
					switch ts[i].coeff {
					case constraint.CoeffIdOne:
					case constraint.CoeffIdMinusOne:
						p.Neg(p)
					case constraint.CoeffIdTwo:
						p.DoubleAssign()
					default:
						p.ScalarMultiplication(p, co)
					}
				}
				scale2 := func(p *curve.G2Jac) {
					switch ts[i].coeff {
					case constraint.CoeffIdOne:
					case constraint.CoeffIdMinusOne:
						p.Neg(p)
					case constraint.CoeffIdTwo:
						p.DoubleAssign()
					default:
						p.ScalarMultiplication(p, co)
					}
				}
				switch ts[i].kind {
				case 0: // A += a·L, K += a·βL
					s1, s1b = curve.G1Jac{}, curve.G1Jac{}
					for _, t := range ts[i:j] {
						s1.AddAssign(&lag1[t.row])
						s1b.AddAssign(&lagB[t.row])
					}
					scale1(&s1)
					scale1(&s1b)
					A[w].AddAssign(&s1)
					K[w].AddAssign(&s1b)
				case 1: // B += b·L (G1 and G2), K += b·αL
					s1, s1b, s2 = curve.G1Jac{}, curve.G1Jac{}, curve.G2Jac{}
					for _, t := range ts[i:j] {
						s1.AddAssign(&lag1[t.row])
						s1b.AddAssign(&lagA[t.row])
						s2.AddAssign(&lag2[t.row])
					}
					scale1(&s1)
					scale1(&s1b)
					scale2(&s2)
					B[w].AddAssign(&s1)
					K[w].AddAssign(&s1b)
					B2[w].AddAssign(&s2)
				default: // K += c·L
					s1 = curve.G1Jac{}
					for _, t := range ts[i:j] {
						s1.AddAssign(&lag1[t.row])
					}
					scale1(&s1)
					K[w].AddAssign(&s1)
				}
				i = j
			}
		}
	})

	var ev mpcsetup.Phase2Evaluations
	ci := c.CS.CommitmentInfo.(constraint.Groth16Commitments)
	ev.PublicAndCommitmentCommitted = ci.GetPublicAndCommitmentCommitted(ci.CommitmentIndexes(), nbPublic)
	ev.G1.A = curve.BatchJacobianToAffineG1(A)
	ev.G1.B = curve.BatchJacobianToAffineG1(B)
	ev.G2.B = make([]curve.G2Affine, nW)
	parallelRange(nW, func(start, end int) {
		for i := start; i < end; i++ {
			ev.G2.B[i].FromJacobian(&B2[i])
		}
	})
	k := curve.BatchJacobianToAffineG1(K)
	ev.G1.VKK = k[:nbPublic:nbPublic]
	ev.G1.CKK = [][]curve.G1Affine{}

	var p mpcsetup.Phase2
	_, _, g1, g2 := curve.Generators()
	p.Parameters.G1.Delta, p.Parameters.G2.Delta = g1, g2
	z := make([]curve.G1Affine, n)
	for i := range n - 1 {
		z[i].Sub(&commons.G1.Tau[i+n], &commons.G1.Tau[i])
	}
	bitReverse(z)
	p.Parameters.G1.Z = z[:n-1]
	p.Parameters.G1.PKK = k[nbPublic:]
	p.Parameters.G1.SigmaCKK = [][]curve.G1Affine{}
	p.Parameters.G2.Sigma = []curve.G2Affine{}
	p.Sigmas = nil
	return p, ev
}

// lagrangeG1 returns [Lᵢ(τ)]₁ for i < n from the powers [τʲ]₁, j < n:
// Lᵢ(τ) = (1/n)·Σⱼ ω⁻ⁱʲτʲ, an inverse FFT over the group.
func lagrangeG1(pow []curve.G1Affine, d *fft.Domain) []curve.G1Jac {
	return lagrange[curve.G1Jac](pow, d)
}

// lagrangeG2 is lagrangeG1 in G2.
func lagrangeG2(pow []curve.G2Affine, d *fft.Domain) []curve.G2Jac {
	return lagrange[curve.G2Jac](pow, d)
}

// jacobian is what lagrange needs of a group in Jacobian coordinates (J)
// with affine points A.
type jacobian[J, A any] interface {
	*J
	FromAffine(*A) *J
	ScalarMultiplication(*J, *big.Int) *J
	SubAssign(*J) *J
	AddAssign(*J) *J
}

func lagrange[J, A any, P jacobian[J, A]](pow []A, d *fft.Domain) []J {
	a := make([]J, len(pow))
	for i := range pow {
		P(&a[i]).FromAffine(&pow[i])
	}
	groupFFT(len(a), d, func(i, j int, w *big.Int) {
		t := a[j]
		if w != nil {
			P(&t).ScalarMultiplication(&t, w)
		}
		a[j] = a[i]
		P(&a[j]).SubAssign(&t)
		P(&a[i]).AddAssign(&t)
	}, func(i, j int) { a[i], a[j] = a[j], a[i] })
	var inv big.Int
	d.CardinalityInv.BigInt(&inv)
	parallelRange(len(a), func(s, e int) {
		for i := s; i < e; i++ {
			P(&a[i]).ScalarMultiplication(&a[i], &inv)
		}
	})
	return a
}

// groupFFT runs an iterative radix-2 decimation-in-time DFT with ω⁻¹ over
// n elements through butterfly(i, j, w): (aᵢ, aⱼ) ← (aᵢ + w·aⱼ, aᵢ − w·aⱼ),
// after a bit-reversal permutation (swap); w is nil for the twiddle 1. The
// butterflies of a stage run on every core.
func groupFFT(n int, d *fft.Domain, butterfly func(i, j int, w *big.Int), swap func(i, j int)) {
	logn := log2(n)
	for i := 0; i < n; i++ {
		j := int(bits.Reverse64(uint64(i)) >> (64 - logn))
		if j > i {
			swap(i, j)
		}
	}
	for m := 2; m <= n; m <<= 1 {
		// ω_m⁻¹ = ω⁻¹^(n/m)
		var wm fr.Element
		wm.Exp(d.GeneratorInv, big.NewInt(int64(n/m)))
		half := m / 2
		tw := make([]big.Int, half)
		var w fr.Element
		w.SetOne()
		for k := range half {
			w.BigInt(&tw[k])
			w.Mul(&w, &wm)
		}
		parallelRange(n/2, func(s, e int) {
			for b := s; b < e; b++ {
				blk, k := b/half, b%half
				i := blk*m + k
				if k == 0 {
					butterfly(i, i+half, nil)
				} else {
					butterfly(i, i+half, &tw[k])
				}
			}
		})
	}
}

// parallelRange splits [0, n) over the cores.
func parallelRange(n int, f func(start, end int)) {
	workers := runtime.GOMAXPROCS(0)
	if n < 64 || workers == 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for s := 0; s < n; s += chunk {
		e := min(s+chunk, n)
		wg.Add(1)
		go func() { defer wg.Done(); f(s, e) }()
	}
	wg.Wait()
}
