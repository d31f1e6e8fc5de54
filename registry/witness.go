package registry

import (
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"strconv"

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
	// CredSize and StateRoot complete the block's app hash
	// (VerifyAppHash).
	CredSize  uint64 `json:"cred_size"`
	StateRoot Hash   `json:"state_root"`
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

// AppendJSON appends the bucket's JSON encoding (the same as
// encoding/json's) without reflection: a bucket holds 280 field elements
// and the witness endpoint is the registry's hottest read.
func (b *Bucket) AppendJSON(buf []byte) []byte {
	field := func(f circuits.Field) {
		e := f.El()
		buf = append(buf, '"')
		buf = appendDecimal(buf, &e)
		buf = append(buf, '"')
	}
	list := func(fs []circuits.Field) {
		buf = append(buf, '[')
		for i, f := range fs {
			if i > 0 {
				buf = append(buf, ',')
			}
			field(f)
		}
		buf = append(buf, ']')
	}
	buf = append(buf, `{"height":`...)
	buf = strconv.AppendUint(buf, b.Height, 10)
	buf = append(buf, `,"root":`...)
	field(b.Root)
	buf = append(buf, `,"bucket":`...)
	buf = strconv.AppendUint(buf, b.Index, 10)
	buf = append(buf, `,"leaves":`...)
	list(b.Leaves)
	buf = append(buf, `,"siblings":`...)
	list(b.Siblings)
	buf = append(buf, `,"cred_size":`...)
	buf = strconv.AppendUint(buf, b.CredSize, 10)
	buf = append(buf, `,"state_root":"`...)
	buf = hex.AppendEncode(buf, b.StateRoot[:])
	return append(buf, `"}`...)
}

// FormatElement returns e's canonical decimal form (for URLs and logs).
// Unlike fr.Element.String it never writes a value near the modulus as a
// negative number.
func FormatElement(e fr.Element) string { return string(appendDecimal(nil, &e)) }

// appendDecimal appends e's canonical decimal form: the 256-bit value is
// split into base-10^19 digits with 64-bit divisions.
func appendDecimal(buf []byte, e *fr.Element) []byte {
	b := e.Bytes()
	var w [4]uint64 // most significant first
	for i := range w {
		w[i] = binary.BigEndian.Uint64(b[8*i:])
	}
	const base = 1e19
	var digits [5]uint64 // least significant first
	n := 0
	for w != [4]uint64{} {
		var r uint64
		for i := range w {
			w[i], r = bits.Div64(r, w[i], base)
		}
		digits[n] = r
		n++
	}
	if n == 0 {
		return append(buf, '0')
	}
	buf = strconv.AppendUint(buf, digits[n-1], 10)
	for i := n - 2; i >= 0; i-- {
		var tmp [19]byte
		v := digits[i]
		for j := 18; j >= 0; j-- {
			tmp[j] = byte('0' + v%10)
			v /= 10
		}
		buf = append(buf, tmp[:]...)
	}
	return buf
}
