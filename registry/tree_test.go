package registry

import (
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/zkcred/zkcred/circuits"
)

// TestUpdateTreeMatchesUpdateBatch holds the parallel tree update to
// circuits.UpdateBatch node for node, on empty trees and on top of earlier
// batches (partial chunks, revocations).
func TestUpdateTreeMatchesUpdateBatch(t *testing.T) {
	par, ser := nodeMap{}, nodeMap{}
	next := uint64(0)
	apply := func(leaves map[uint64]fr.Element) {
		t.Helper()
		a, err := parallelUpdate(par, circuits.Depth, leaves)
		if err != nil {
			t.Fatal(err)
		}
		b, err := circuits.UpdateBatch(ser, circuits.Depth, leaves)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Fatalf("%d nodes, want %d", len(a), len(b))
		}
		for k, v := range b {
			if a[k] != v {
				t.Fatalf("node %v differs", k)
			}
		}
		for k, v := range a {
			par[k] = v
			ser[k] = v
		}
	}
	for _, n := range []int{2048, 3000, 5000, 1, 4096} {
		leaves := map[uint64]fr.Element{}
		for range n {
			leaves[next] = circuits.U64(next*31 + 7)
			next++
		}
		apply(leaves)
	}
	revoke := map[uint64]fr.Element{}
	for i := uint64(0); i < next; i += 3 {
		revoke[i] = fr.Element{}
	}
	apply(revoke)
}

// nodeMap is a NodeReader over a map of nodes.
type nodeMap map[circuits.NodeKey]fr.Element

func (m nodeMap) Node(level int, index uint64) (fr.Element, bool, error) {
	v, ok := m[circuits.NodeKey{Level: level, Index: index}]
	return v, ok, nil
}
