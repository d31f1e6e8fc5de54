package circuits

import (
	"fmt"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

func BenchmarkNative(b *testing.B) {
	x, y := RandomElement(), RandomElement()
	b.Run("compress", func(b *testing.B) {
		for b.Loop() {
			x = Compress(x, y)
		}
	})
	in := make([]fr.Element, 20)
	for i := range in {
		in[i] = RandomElement()
	}
	for _, n := range []int{2, 3, 20} {
		b.Run(fmt.Sprintf("sponge-%d", n), func(b *testing.B) {
			for b.Loop() {
				Sponge(TagBytes, in[:n]...)
			}
		})
	}
}

// BenchmarkSchemaID: the schema ID is RFC 8785 canonical JSON (encode,
// number check, JCS transform) then a width-16 Poseidon2 sponge.
func BenchmarkSchemaID(b *testing.B) {
	s := &Schema{Name: "UniversityDiploma", Version: "1.0"}
	for i := range Slots {
		s.Attributes = append(s.Attributes, Attribute{Name: fmt.Sprintf("attribute%d", i), Type: TypeString, Display: "Attribute & <display> name"})
	}
	b.Run("canonical", func(b *testing.B) {
		for b.Loop() {
			s.Canonical()
		}
	})
	b.Run("id", func(b *testing.B) {
		for b.Loop() {
			s.ID()
		}
	})
}

func BenchmarkProve(b *testing.B) {
	k := keysT(b)
	f := newFixture(b)
	for b.Loop() {
		if _, _, err := k.Prove(f.w); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	k := keysT(b)
	f := newFixture(b)
	proof, pub, err := k.Prove(f.w)
	if err != nil {
		b.Fatal(err)
	}
	v := k.Verifier()
	if err := v.Verify(proof, pub); err != nil { // builds the fixed-base tables
		b.Fatal(err)
	}
	for b.Loop() {
		if err := v.Verify(proof, pub); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyBatch reports the cost per proof of batches of 64, to set
// beside BenchmarkVerify.
func BenchmarkVerifyBatch(b *testing.B) {
	k := keysT(b)
	f := newFixture(b)
	const n = 64
	proofs := make([][]byte, n)
	pubs := make([]*Public, n)
	for i := range n {
		f.w.Nonce = RandomBytes31()
		p, pub, err := k.Prove(f.w)
		if err != nil {
			b.Fatal(err)
		}
		proofs[i], pubs[i] = p, pub
	}
	v := k.Verifier()
	b.ResetTimer()
	for b.Loop() {
		for _, err := range v.VerifyBatch(proofs, pubs) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n)/1e6, "ms/proof")
}
