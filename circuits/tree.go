package circuits

import (
	"fmt"
	"slices"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// Depth is the depth of the registry's credential tree: 2^32 leaves.
const Depth = 32

// maxDepth bounds the depth of any tree zkcred builds.
const maxDepth = 64

var zeroHashes = sync.OnceValue(func() []fr.Element {
	z := make([]fr.Element, maxDepth+1)
	for i := 1; i <= maxDepth; i++ {
		z[i] = Compress(z[i-1], z[i-1])
	}
	return z
})

// ZeroHash returns the root of an empty subtree of the given height (0 for a
// leaf, whose empty value is 0).
func ZeroHash(level int) fr.Element { return zeroHashes()[level] }

// HashNode returns a Merkle node from its children.
func HashNode(left, right fr.Element) fr.Element { return Compress(left, right) }

// NodeKey names a node: Level 0 holds leaves, Level = depth holds the root.
type NodeKey struct {
	Level int
	Index uint64
}

// NodeReader reads stored tree nodes. A node that was never written must be
// reported as absent (ok false); it then stands for ZeroHash(level).
type NodeReader interface {
	Node(level int, index uint64) (v fr.Element, ok bool, err error)
}

func readNode(r NodeReader, level int, index uint64) (fr.Element, error) {
	v, ok, err := r.Node(level, index)
	if err != nil {
		return v, err
	}
	if !ok {
		return ZeroHash(level), nil
	}
	return v, nil
}

// UpdateBatch sets the given leaves of a tree of the given depth and returns
// every node that changes, the root included (key {depth, 0}). Ancestors
// shared by several leaves are hashed once, so appending n contiguous leaves
// costs about 2n+depth compressions.
func UpdateBatch(r NodeReader, depth int, leaves map[uint64]fr.Element) (map[NodeKey]fr.Element, error) {
	if depth < 1 || depth > maxDepth {
		return nil, fmt.Errorf("tree depth %d outside 1..%d", depth, maxDepth)
	}
	out := make(map[NodeKey]fr.Element, 2*len(leaves)+depth)
	idx := make([]uint64, 0, len(leaves))
	for i, v := range leaves {
		if depth < 64 && i>>uint(depth) != 0 {
			return nil, fmt.Errorf("leaf index %d outside a depth-%d tree", i, depth)
		}
		out[NodeKey{0, i}] = v
		idx = append(idx, i)
	}
	slices.Sort(idx)
	get := func(level int, i uint64) (fr.Element, error) {
		if v, ok := out[NodeKey{level, i}]; ok {
			return v, nil
		}
		return readNode(r, level, i)
	}
	for level := 0; level < depth; level++ {
		parents := idx[:0]
		for _, i := range idx {
			p := i >> 1
			if len(parents) > 0 && parents[len(parents)-1] == p {
				continue
			}
			parents = append(parents, p)
		}
		for _, p := range parents {
			l, err := get(level, 2*p)
			if err != nil {
				return nil, err
			}
			rt, err := get(level, 2*p+1)
			if err != nil {
				return nil, err
			}
			out[NodeKey{level + 1, p}] = HashNode(l, rt)
		}
		idx = parents
	}
	return out, nil
}

// Path returns the siblings of leaf index from the bottom up.
func Path(r NodeReader, depth int, index uint64) ([]fr.Element, error) {
	sib := make([]fr.Element, depth)
	for level := 0; level < depth; level++ {
		v, err := readNode(r, level, index^1)
		if err != nil {
			return nil, err
		}
		sib[level] = v
		index >>= 1
	}
	return sib, nil
}

// RootFromPath recomputes the root above leaf at index from its siblings.
func RootFromPath(leaf fr.Element, index uint64, siblings []fr.Element) fr.Element {
	cur := leaf
	for _, s := range siblings {
		if index&1 == 0 {
			cur = HashNode(cur, s)
		} else {
			cur = HashNode(s, cur)
		}
		index >>= 1
	}
	return cur
}

// SubtreePath computes, from all leaves of a complete subtree (a witness
// bucket, len a power of two), the root of that subtree and the siblings of
// the leaf at position pos inside it.
func SubtreePath(leaves []fr.Element, pos int) (root fr.Element, siblings []fr.Element, err error) {
	n := len(leaves)
	if n == 0 || n&(n-1) != 0 {
		return root, nil, fmt.Errorf("bucket of %d leaves is not a power of two", n)
	}
	if pos < 0 || pos >= n {
		return root, nil, fmt.Errorf("position %d outside a bucket of %d", pos, n)
	}
	level := slices.Clone(leaves)
	for len(level) > 1 {
		siblings = append(siblings, level[pos^1])
		next := make([]fr.Element, len(level)/2)
		for i := range next {
			next[i] = HashNode(level[2*i], level[2*i+1])
		}
		level, pos = next, pos/2
	}
	return level[0], siblings, nil
}

// Tree is an in-memory sparse Merkle tree (trust lists, tests). The registry
// keeps its own nodes in badger and uses UpdateBatch and Path directly.
type Tree struct {
	depth int
	nodes map[NodeKey]fr.Element
	size  uint64 // next append index
}

// NewTree returns an empty tree of the given depth.
func NewTree(depth int) *Tree {
	return &Tree{depth: depth, nodes: make(map[NodeKey]fr.Element)}
}

// Node implements NodeReader.
func (t *Tree) Node(level int, index uint64) (fr.Element, bool, error) {
	v, ok := t.nodes[NodeKey{level, index}]
	return v, ok, nil
}

// Size returns the number of appended leaves.
func (t *Tree) Size() uint64 { return t.size }

// Append adds leaves at the next free indices and returns the first index.
func (t *Tree) Append(leaves ...fr.Element) (uint64, error) {
	first := t.size
	m := make(map[uint64]fr.Element, len(leaves))
	for i, l := range leaves {
		m[first+uint64(i)] = l
	}
	if err := t.apply(m); err != nil {
		return 0, err
	}
	t.size += uint64(len(leaves))
	return first, nil
}

// Set overwrites a leaf (revocation writes 0).
func (t *Tree) Set(index uint64, leaf fr.Element) error {
	if index >= t.size {
		return fmt.Errorf("leaf %d not appended yet (size %d)", index, t.size)
	}
	return t.apply(map[uint64]fr.Element{index: leaf})
}

func (t *Tree) apply(m map[uint64]fr.Element) error {
	upd, err := UpdateBatch(t, t.depth, m)
	if err != nil {
		return err
	}
	for k, v := range upd {
		t.nodes[k] = v
	}
	return nil
}

// Leaf returns the leaf at index.
func (t *Tree) Leaf(index uint64) fr.Element {
	v, _ := readNode(t, 0, index)
	return v
}

// Root returns the current root.
func (t *Tree) Root() fr.Element {
	v, _ := readNode(t, t.depth, 0)
	return v
}

// Path returns the siblings of leaf index.
func (t *Tree) Path(index uint64) []fr.Element {
	p, _ := Path(t, t.depth, index)
	return p
}
