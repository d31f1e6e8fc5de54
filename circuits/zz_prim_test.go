package circuits

import (
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

func BenchmarkZZPrim(b *testing.B) {
	k := keysT(b)
	f := newFixture(b)
	proof, pub, err := k.Prove(f.w)
	if err != nil {
		b.Fatal(err)
	}
	v := k.Verifier()
	v.Prepare()
	p, _ := DecodeProof(v.id, proof)
	P := make([]bn254.G1Affine, 67)
	Q := make([]bn254.G2Affine, 67)
	for i := range P {
		P[i], Q[i] = p.Ar, p.Bs
	}
	b.Run("ml-multi-67", func(b *testing.B) {
		for b.Loop() {
			bn254.MillerLoop(P, Q)
		}
	})
	b.Run("ml-1", func(b *testing.B) {
		for b.Loop() {
			bn254.MillerLoop(P[:1], Q[:1])
		}
	})
	ml, _ := bn254.MillerLoop(P[:1], Q[:1])
	b.Run("fe", func(b *testing.B) {
		for b.Loop() {
			bn254.FinalExponentiation(&ml)
		}
	})
	b.Run("ml-fixed-2", func(b *testing.B) {
		for b.Loop() {
			lines := [][2][len(bn254.LoopCounter)]bn254.LineEvaluationAff{v.lines[0], v.lines[1]}
			bn254.MillerLoopFixedQ([]bn254.G1Affine{p.Ar, p.Krs}, lines)
		}
	})
	b.Run("gt-mul", func(b *testing.B) {
		x := ml
		for b.Loop() {
			x.Mul(&x, &ml)
		}
	})
	var r fr.Element
	r.SetRandom()
	var rb big.Int
	r.BigInt(&rb)
	rb.Rsh(&rb, 126)
	b.Run("g1-smul-128", func(b *testing.B) {
		var a bn254.G1Affine
		for b.Loop() {
			a.ScalarMultiplication(&p.Ar, &rb)
		}
	})
	s := make([]fr.Element, len(v.vk.G1.K))
	for i := range s {
		s[i].SetRandom()
	}
	b.Run("msm-K", func(b *testing.B) {
		var L bn254.G1Affine
		for b.Loop() {
			L.MultiExp(v.vk.G1.K, s, ecc.MultiExpConfig{})
		}
	})
	b.Run("fixed-eval", func(b *testing.B) {
		in := pub.Vector()
		for b.Loop() {
			v.fixed().eval(in)
		}
	})
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			v.Verify(proof, pub)
		}
	})
}
