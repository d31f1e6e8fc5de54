package chaintest

import (
	"context"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer"
)

// Run checks an empty chain: anchoring returns consecutive leaves, Size and
// Lookup (with its lower bound) agree with them, revocation needs the
// anchored commitment and may be repeated, and schemas publish idempotently.
func Run(t *testing.T, ch issuer.Chain) {
	ctx := context.Background()
	s := issuer.ExampleSchemas()["diploma"]
	if err := ch.RegisterSchema(ctx, s); err != nil {
		t.Fatalf("RegisterSchema: %v", err)
	}
	if err := ch.RegisterSchema(ctx, s); err != nil {
		t.Fatalf("RegisterSchema again: %v", err)
	}
	size0, err := ch.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	coms := []fr.Element{circuits.RandomElement(), circuits.RandomElement(), circuits.RandomElement()}
	a, err := ch.Anchor(ctx, coms)
	if err != nil {
		t.Fatalf("Anchor: %v", err)
	}
	if len(a) != 3 {
		t.Fatalf("Anchor returned %d positions", len(a))
	}
	for i := range a {
		if a[i].LeafIndex != size0+uint64(i) {
			t.Errorf("commitment %d at leaf %d, want %d", i, a[i].LeafIndex, size0+uint64(i))
		}
	}
	if n, _ := ch.Size(ctx); n != size0+3 {
		t.Fatalf("Size %d after anchoring 3 on %d", n, size0)
	}
	unknown := circuits.RandomElement()
	got, ok, err := ch.Lookup(ctx, []fr.Element{coms[1], unknown, coms[0]}, size0)
	if err != nil {
		t.Fatal(err)
	}
	if !ok[0] || ok[1] || !ok[2] || got[0] != a[1] || got[2] != a[0] {
		t.Fatalf("Lookup = %v %v, want %v and %v", got, ok, a[1], a[0])
	}
	if _, ok, _ := ch.Lookup(ctx, coms[:1], a[0].LeafIndex+1); ok[0] {
		t.Fatal("Lookup found a leaf below its lower bound")
	}
	if err := ch.Revoke(ctx, []issuer.LeafRef{{Index: a[2].LeafIndex, Commitment: coms[0]}}); err == nil {
		t.Fatal("revoked a leaf with another leaf's commitment")
	}
	if err := ch.Revoke(ctx, []issuer.LeafRef{{Index: a[2].LeafIndex + 100, Commitment: coms[2]}}); err == nil {
		t.Fatal("revoked a leaf that was never anchored")
	}
	if err := ch.Revoke(ctx, []issuer.LeafRef{{Index: a[2].LeafIndex, Commitment: coms[2]}}); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if err := ch.Revoke(ctx, []issuer.LeafRef{{Index: a[2].LeafIndex, Commitment: coms[2]}}); err != nil {
		t.Fatalf("Revoke again: %v", err)
	}
}
