package circuits

import (
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// fixedBase holds, for each public-input point Kᵢ of a verifying key,
// d·256ʷ·Kᵢ for every byte value d and byte position w, so that
// L = K₀ + Σ xᵢ·Kᵢ₊₁ costs one mixed addition per nonzero byte of each
// input and no doublings. Most public inputs of a presentation are small
// (heights, times, slots, kinds, 64-bit values) or zero, so this is several
// times cheaper than a generic multi-exponentiation over 66 points.
// Memory: 66 × 32 × 255 affine points, about 34 MB per verifying key, built
// on first use.
type fixedBase struct {
	base  bn254.G1Affine     // K₀
	table [][]bn254.G1Affine // [input][w·255 + d-1]
}

const fbWindows = fr.Bytes // 32 byte positions

func newFixedBase(k []bn254.G1Affine) *fixedBase {
	fb := &fixedBase{base: k[0], table: make([][]bn254.G1Affine, len(k)-1)}
	jac := make([]bn254.G1Jac, fbWindows*255)
	for i := range fb.table {
		var b bn254.G1Jac
		b.FromAffine(&k[i+1])
		for w := range fbWindows {
			acc := b
			for d := range 255 {
				jac[w*255+d] = acc
				acc.AddAssign(&b)
			}
			b = acc // 256·b
		}
		fb.table[i] = bn254.BatchJacobianToAffineG1(jac)
	}
	return fb
}

// eval returns K₀ + Σ xᵢ·Kᵢ₊₁.
func (fb *fixedBase) eval(inputs []fr.Element) bn254.G1Affine {
	var acc bn254.G1Jac
	acc.FromAffine(&fb.base)
	for i := range inputs {
		b := inputs[i].Bytes() // big-endian, canonical
		t := fb.table[i]
		for w := range fbWindows {
			if d := b[fbWindows-1-w]; d != 0 {
				acc.AddMixed(&t[w*255+int(d)-1])
			}
		}
	}
	var out bn254.G1Affine
	out.FromJacobian(&acc)
	return out
}
