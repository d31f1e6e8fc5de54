package registry

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/canonjson"
	"github.com/zkcred/zkcred/registry/internal/layout"
)

// The state map is a sparse Merkle tree of depth 256 over SHA-256 that
// commits to every record a wallet or verifier relies on besides the
// credential tree: issuer records, the issuer lists by kind, schemas,
// published verifying-key hashes, governance and the validator set. A
// record's position is the SHA-256 of its state key, so lookups and proofs
// of absence need no index. SHA-256, not Poseidon2, because no circuit
// opens these records: only Go code on the light client's side checks
// them, where SHA-256 is about a hundred times cheaper.
//
//	key hash   K = SHA-256("zkcred-state-key/v1\0" ‖ state key)
//	value hash V = SHA-256("zkcred-state-record/v1\0" ‖ RFC 8785 JSON of the record)
//	leaf         = SHA-256(0x00 ‖ K ‖ V)
//	node         = SHA-256(0x01 ‖ left ‖ right), or 32 zero bytes when both children are
//	empty subtree = 32 zero bytes
//
// A key's path runs from the root by the bits of K, most significant bit
// first: at height h (0 for leaves, 256 for the root) bit h of K, counting
// from the least significant, says whether the node is the right child.
const StateDepth = 256

const (
	stateKeyPrefix    = "zkcred-state-key/v1\x00"
	stateRecordPrefix = "zkcred-state-record/v1\x00"
	appHashPrefix     = "zkcred-app-hash/v1\x00"
)

// AppHash is what a block commits to: SHA-256("zkcred-app-hash/v1\0" ‖
// credential root (32 bytes big-endian) ‖ credential size (8 bytes
// big-endian) ‖ state-map root).
func AppHash(credRoot circuits.Field, credSize uint64, stateRoot Hash) Hash {
	cr := credRoot.El()
	crb := cr.Bytes()
	b := make([]byte, 0, len(appHashPrefix)+72)
	b = append(b, appHashPrefix...)
	b = append(b, crb[:]...)
	b = binary.BigEndian.AppendUint64(b, credSize)
	b = append(b, stateRoot[:]...)
	return sha256.Sum256(b)
}

// stateKeyHash returns K for a state key.
func stateKeyHash(key []byte) Hash {
	return sha256.Sum256(append([]byte(stateKeyPrefix), key...))
}

// RecordHash returns V for a record: the SHA-256 of its canonical JSON.
func RecordHash(rec any) (Hash, error) {
	b, err := canonjson.Marshal(rec)
	if err != nil {
		return Hash{}, fmt.Errorf("state record: %w", err)
	}
	return sha256.Sum256(append([]byte(stateRecordPrefix), b...)), nil
}

func stateLeaf(k, v Hash) Hash {
	b := make([]byte, 0, 65)
	b = append(b, 0)
	b = append(b, k[:]...)
	b = append(b, v[:]...)
	return sha256.Sum256(b)
}

func stateNode(l, r Hash) Hash {
	if l == (Hash{}) && r == (Hash{}) {
		return Hash{}
	}
	b := make([]byte, 0, 65)
	b = append(b, 1)
	b = append(b, l[:]...)
	b = append(b, r[:]...)
	return sha256.Sum256(b)
}

// pathAt returns K with its low h bits cleared: the position of K's
// ancestor at height h.
func pathAt(k Hash, h int) Hash {
	for i := 0; i < h/8; i++ {
		k[31-i] = 0
	}
	if r := h % 8; r != 0 {
		k[31-h/8] &^= byte(1)<<r - 1
	}
	return k
}

// bit returns bit h of K, counting from the least significant.
func bit(k Hash, h int) byte { return k[31-h/8] >> (h % 8) & 1 }

func flip(k Hash, h int) Hash { k[31-h/8] ^= 1 << (h % 8); return k }

// getStateNode reads a state-map node; absent nodes are empty.
func getStateNode(r Reader, h int, pos Hash) (Hash, error) {
	v, ok, err := r.Get(layout.StateNodeKey(h, pos))
	if err != nil || !ok {
		return Hash{}, err
	}
	if len(v) != 32 {
		return Hash{}, fmt.Errorf("state node %d/%x: %d bytes", h, pos, len(v))
	}
	var out Hash
	copy(out[:], v)
	return out, nil
}

// updateStateMap sets the leaf of key hash k to leaf and writes every node
// on its path; it returns the new root.
func (b *Builder) updateStateMap(k, leaf Hash) (Hash, error) {
	cur := leaf
	b.set(layout.StateNodeKey(0, k), append([]byte(nil), cur[:]...))
	for h := 0; h < StateDepth; h++ {
		sib, err := getStateNode(b, h, flip(pathAt(k, h), h))
		if err != nil {
			return Hash{}, err
		}
		if bit(k, h) == 0 {
			cur = stateNode(cur, sib)
		} else {
			cur = stateNode(sib, cur)
		}
		b.set(layout.StateNodeKey(h+1, pathAt(k, h+1)), append([]byte(nil), cur[:]...))
	}
	return cur, nil
}

// StateRoot reads the state-map root of a state.
func StateRoot(r Reader) (Hash, error) { return getStateNode(r, StateDepth, Hash{}) }

// StateProof proves a record's presence in, or absence from, the state map
// of one block, and binds that map to the block's app hash together with
// the credential root and size.
type StateProof struct {
	Height    uint64         `json:"height"`
	CredRoot  circuits.Field `json:"cred_root"`
	CredSize  uint64         `json:"cred_size"`
	StateRoot Hash           `json:"state_root"`
	// Levels are the heights (0 = leaf level) whose sibling is not empty,
	// increasing; Siblings holds those siblings in the same order. Every
	// other sibling is the empty subtree.
	Levels   []uint16 `json:"levels"`
	Siblings []Hash   `json:"siblings"`
}

// ErrProof marks an answer whose proof does not match the app hash of the
// block the reader verified.
var ErrProof = fmt.Errorf("proof does not match the verified app hash: %w", ErrForbidden)

func proofError(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrProof, fmt.Sprintf(format, a...))
}

// ProveState returns the proof for a state key, read from r (which must be
// the state of block height with credential root credRoot and size
// credSize).
func ProveState(r Reader, height uint64, credRoot circuits.Field, credSize uint64, key []byte) (*StateProof, error) {
	root, err := StateRoot(r)
	if err != nil {
		return nil, err
	}
	p := &StateProof{Height: height, CredRoot: credRoot, CredSize: credSize, StateRoot: root, Levels: []uint16{}, Siblings: []Hash{}}
	k := stateKeyHash(key)
	for h := 0; h < StateDepth; h++ {
		sib, err := getStateNode(r, h, flip(pathAt(k, h), h))
		if err != nil {
			return nil, err
		}
		if sib != (Hash{}) {
			p.Levels = append(p.Levels, uint16(h))
			p.Siblings = append(p.Siblings, sib)
		}
	}
	return p, nil
}

// AppHash returns the app hash the proof claims.
func (p *StateProof) AppHash() Hash { return AppHash(p.CredRoot, p.CredSize, p.StateRoot) }

// Verify checks that, in the block whose app hash is appHash, the state
// key holds rec (or holds nothing, when rec is nil).
func (p *StateProof) Verify(appHash Hash, key []byte, rec any) error {
	if p.AppHash() != appHash {
		return proofError("roots of block %d do not hash to its app hash", p.Height)
	}
	if len(p.Levels) != len(p.Siblings) {
		return proofError("%d levels but %d siblings", len(p.Levels), len(p.Siblings))
	}
	k := stateKeyHash(key)
	cur := Hash{}
	if rec != nil {
		v, err := RecordHash(rec)
		if err != nil {
			return proofError("%v", err)
		}
		cur = stateLeaf(k, v)
	}
	next := 0
	for h := 0; h < StateDepth; h++ {
		sib := Hash{}
		if next < len(p.Levels) && int(p.Levels[next]) == h {
			sib = p.Siblings[next]
			next++
		} else if next < len(p.Levels) && int(p.Levels[next]) < h {
			return proofError("levels not increasing")
		}
		if bit(k, h) == 0 {
			cur = stateNode(cur, sib)
		} else {
			cur = stateNode(sib, cur)
		}
	}
	if next != len(p.Levels) {
		return proofError("levels beyond the tree's depth")
	}
	if cur != p.StateRoot {
		what := "record"
		if rec == nil {
			what = "absence"
		}
		return proofError("the %s of state key %q does not lead to the state root of block %d", what, printableKey(key), p.Height)
	}
	return nil
}

func printableKey(k []byte) string {
	if len(k) == 0 {
		return ""
	}
	if printable(string(k[1:])) {
		return string(k)
	}
	return fmt.Sprintf("%c/%x", k[0], k[1:])
}
