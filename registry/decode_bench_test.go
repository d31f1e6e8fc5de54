package registry

import (
	"crypto/ed25519"
	"encoding/json"
	"testing"

	"github.com/zkcred/zkcred/circuits"
)

// BenchmarkDecodeAnchor measures DecodeTx of a 2,500-commitment anchor
// (strict JSON and the signature): what a validator pays once per
// transaction.
func BenchmarkDecodeAnchor(b *testing.B) {
	_, key, _ := ed25519.GenerateKey(nil)
	cs := make([]circuits.Field, 2500)
	for i := range cs {
		var e = circuits.U64(uint64(i) * 0x9e3779b97f4a7c15)
		e.Square(&e) // full-size field elements
		cs[i] = circuits.F(e)
	}
	tx, err := NewTx("bench", key, 1, Anchor{Commitments: cs})
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := json.Marshal(tx)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := DecodeTx("bench", raw); err != nil {
			b.Fatal(err)
		}
	}
}
