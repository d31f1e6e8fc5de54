package registry_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
)

// An issuer anchors two commitments; a wallet takes the witness bucket of
// its leaf and computes a path to the block's root.
func Example() {
	_, uni, _ := ed25519.GenerateKey(nil)
	g, _, producer, _ := registry.NewGenesis("example", time.Unix(1700000000, 0),
		registry.RegisterIssuer{PubKey: hex.EncodeToString(uni.Public().(ed25519.PublicKey)), Name: "Example University", Kind: "university"})
	chain, _ := registry.NewChain(g, producer)

	c1, c2 := circuits.F(circuits.U64(111)), circuits.F(circuits.U64(222))
	tx, _ := registry.NewTx(g.ChainID, uni, 1, registry.Anchor{Commitments: []circuits.Field{c1, c2}})
	rc, err := chain.Submit(tx)
	if err != nil {
		panic(err)
	}
	fmt.Println("block", rc.Height, "leaves", rc.Indices())

	// the bucket a registry would serve for leaf 1 (built from the state here)
	h := chain.Latest()
	b := &registry.Bucket{Height: h.Height, Root: h.CredRoot, Index: 0}
	tree := circuits.NewTree(circuits.Depth)
	id := circuits.IssuerID(uni.Public().(ed25519.PublicKey))
	tree.Append(circuits.LeafHash(id, c1.El()), circuits.LeafHash(id, c2.El()))
	for i := range registry.BucketSize {
		b.Leaves = append(b.Leaves, circuits.F(tree.Leaf(uint64(i))))
	}
	for _, s := range tree.Path(0)[registry.BucketBits:] {
		b.Siblings = append(b.Siblings, circuits.F(s))
	}
	leaf, path, err := b.Path(1)
	want := circuits.LeafHash(id, c2.El())
	fmt.Println("path ok:", err == nil, len(path), leaf.Equal(&want))
	// Output:
	// block 1 leaves [0 1]
	// path ok: true 32 true
}
