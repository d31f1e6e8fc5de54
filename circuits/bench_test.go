package circuits

import (
	"fmt"
	"testing"
	"time"

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

// BenchmarkProve reports, besides wall time, the process's CPU seconds per
// proof (cpu-s/op), which a machine shared with other work changes far
// less than wall time.
func BenchmarkProve(b *testing.B) {
	k := keysT(b)
	f := newFixture(b)
	var cpu0 time.Duration
	for i := 0; b.Loop(); i++ {
		if i == 0 {
			cpu0 = cpuTime()
		}
		if _, _, err := k.Prove(f.w); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}
