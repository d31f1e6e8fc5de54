package registry

import (
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/zkcred/zkcred/circuits"
)

// BucketBits is log2 of the witness bucket size: a wallet fetches the 256
// leaves of its leaf's bucket and the 24 nodes above it, so the registry
// learns only the bucket.
const BucketBits = 8

// BucketSize is the number of leaves in a witness bucket.
const BucketSize = 1 << BucketBits

// Bucket is a witness bucket: for one block height, all leaves of bucket
// number Index (leaves Index*256 ... Index*256+255) and the siblings of the
// bucket's subtree root from level 8 up to level 31, whose path leads to
// Root, the credential root of block Height.
type Bucket struct {
	Height   uint64           `json:"height"`
	Root     circuits.Field   `json:"root"`
	Index    uint64           `json:"bucket"`
	Leaves   []circuits.Field `json:"leaves"`   // BucketSize
	Siblings []circuits.Field `json:"siblings"` // circuits.Depth - BucketBits, bottom-up
}

// BucketOf returns the bucket that holds a leaf index.
func BucketOf(index uint64) uint64 { return index >> BucketBits }

// Path returns the leaf at index and its full sibling path, after checking
// that the bucket leads to its root.
func (b *Bucket) Path(index uint64) (leaf fr.Element, siblings []fr.Element, err error) {
	if BucketOf(index) != b.Index {
		return leaf, nil, fmt.Errorf("leaf %d is not in bucket %d", index, b.Index)
	}
	if len(b.Leaves) != BucketSize || len(b.Siblings) != circuits.Depth-BucketBits {
		return leaf, nil, fmt.Errorf("bucket has %d leaves and %d siblings, want %d and %d", len(b.Leaves), len(b.Siblings), BucketSize, circuits.Depth-BucketBits)
	}
	ls := make([]fr.Element, len(b.Leaves))
	for i, l := range b.Leaves {
		ls[i] = l.El()
	}
	pos := int(index & (BucketSize - 1))
	_, low, err := circuits.SubtreePath(ls, pos)
	if err != nil {
		return leaf, nil, err
	}
	siblings = low
	for _, s := range b.Siblings {
		siblings = append(siblings, s.El())
	}
	leaf = ls[pos]
	root := circuits.RootFromPath(leaf, index, siblings)
	if want := b.Root.El(); !root.Equal(&want) {
		return leaf, nil, fmt.Errorf("bucket %d does not lead to the root of block %d", b.Index, b.Height)
	}
	return leaf, siblings, nil
}
