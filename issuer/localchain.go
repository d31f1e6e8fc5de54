package issuer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/dgraph-io/badger/v4"

	"github.com/zkcred/zkcred/circuits"
)

// LocalChain is a single-issuer chain kept in a local badger database: it
// appends leaves H(issuerID, C) to a depth-32 Poseidon2 tree, counts one
// block per call and syncs every write, but has no transactions, signatures
// or consensus. It serves offline issuance, development and tests; a
// production issuer anchors on the registry chain.
type LocalChain struct {
	mu       sync.Mutex
	db       *badger.DB
	issuerID fr.Element
}

// OpenLocalChain opens (creating) a local chain in dir for the issuer with
// the given ID.
func OpenLocalChain(dir string, issuerID fr.Element) (*LocalChain, error) {
	bo := badger.DefaultOptions(dir)
	bo.SyncWrites = true
	bo.Logger = chainLogger{}
	db, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("opening local chain %s: %w", dir, err)
	}
	return &LocalChain{db: db, issuerID: issuerID}, nil
}

// Close closes the database.
func (c *LocalChain) Close() error { return c.db.Close() }

// chainLogger sends badger's warnings and errors to slog.
type chainLogger struct{}

func (chainLogger) Errorf(f string, a ...any)   { slog.Error(fmt.Sprintf("badger: "+f, a...)) }
func (chainLogger) Warningf(f string, a ...any) { slog.Warn(fmt.Sprintf("badger: "+f, a...)) }
func (chainLogger) Infof(string, ...any)        {}
func (chainLogger) Debugf(string, ...any)       {}

var (
	lcSize   = []byte("m/size")
	lcHeight = []byte("m/height")
)

func lcKey(prefix byte, parts ...uint64) []byte {
	k := []byte{prefix, '/'}
	for _, p := range parts {
		k = binary.BigEndian.AppendUint64(k, p)
	}
	return k
}

func lcCommitKey(com fr.Element) []byte {
	b := com.Bytes()
	return append([]byte("c/"), b[:]...)
}

func getU64(txn *badger.Txn, k []byte) (uint64, error) {
	it, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var v uint64
	err = it.Value(func(b []byte) error { v = binary.BigEndian.Uint64(b); return nil })
	return v, err
}

func putU64(txn *badger.Txn, k []byte, v uint64) error {
	return txn.Set(k, binary.BigEndian.AppendUint64(nil, v))
}

// txnNodes reads tree nodes inside a badger transaction.
type txnNodes struct{ txn *badger.Txn }

func (r txnNodes) Node(level int, index uint64) (fr.Element, bool, error) {
	it, err := r.txn.Get(lcKey('n', uint64(level), index))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return fr.Element{}, false, nil
	}
	if err != nil {
		return fr.Element{}, false, err
	}
	var e fr.Element
	err = it.Value(func(b []byte) error { e.SetBytes(b); return nil })
	return e, true, err
}

func (c *LocalChain) update(leaves map[uint64]fr.Element, txn *badger.Txn) error {
	upd, err := circuits.UpdateBatch(txnNodes{txn}, circuits.Depth, leaves)
	if err != nil {
		return err
	}
	for k, v := range upd {
		b := v.Bytes()
		if err := txn.Set(lcKey('n', uint64(k.Level), k.Index), b[:]); err != nil {
			return err
		}
	}
	return nil
}

// RegisterSchema implements Chain; a local chain keeps no schemas.
func (c *LocalChain) RegisterSchema(ctx context.Context, s *circuits.Schema) error {
	return s.Validate()
}

// Anchor implements Chain.
func (c *LocalChain) Anchor(ctx context.Context, coms []fr.Element) ([]Anchored, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Anchored, len(coms))
	err := c.db.Update(func(txn *badger.Txn) error {
		size, err := getU64(txn, lcSize)
		if err != nil {
			return err
		}
		h, err := getU64(txn, lcHeight)
		if err != nil {
			return err
		}
		h++
		leaves := make(map[uint64]fr.Element, len(coms))
		for i, com := range coms {
			idx := size + uint64(i)
			if _, err := txn.Get(lcCommitKey(com)); err == nil {
				return fmt.Errorf("commitment %s already anchored", circuits.Dec(com))
			}
			leaves[idx] = circuits.LeafHash(c.issuerID, com)
			v := binary.BigEndian.AppendUint64(nil, idx)
			v = binary.BigEndian.AppendUint64(v, h)
			if err := txn.Set(lcCommitKey(com), v); err != nil {
				return err
			}
			out[i] = Anchored{LeafIndex: idx, Height: h}
		}
		if err := c.update(leaves, txn); err != nil {
			return err
		}
		if err := putU64(txn, lcSize, size+uint64(len(coms))); err != nil {
			return err
		}
		return putU64(txn, lcHeight, h)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Size implements Chain.
func (c *LocalChain) Size(ctx context.Context) (uint64, error) {
	var n uint64
	err := c.db.View(func(txn *badger.Txn) error {
		var err error
		n, err = getU64(txn, lcSize)
		return err
	})
	return n, err
}

// Lookup implements Chain.
func (c *LocalChain) Lookup(ctx context.Context, coms []fr.Element, since uint64) ([]Anchored, []bool, error) {
	out := make([]Anchored, len(coms))
	ok := make([]bool, len(coms))
	err := c.db.View(func(txn *badger.Txn) error {
		for i, com := range coms {
			it, err := txn.Get(lcCommitKey(com))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			var a Anchored
			if err := it.Value(func(b []byte) error {
				a = Anchored{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])}
				return nil
			}); err != nil {
				return err
			}
			if a.LeafIndex >= since {
				out[i], ok[i] = a, true
			}
		}
		return nil
	})
	return out, ok, err
}

// Revoke implements Chain: the leaves become 0 in a new block. As on the
// registry, a leaf can be revoked only with the commitment this issuer
// anchored there.
func (c *LocalChain) Revoke(ctx context.Context, leaves []LeafRef) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.db.Update(func(txn *badger.Txn) error {
		size, err := getU64(txn, lcSize)
		if err != nil {
			return err
		}
		m := make(map[uint64]fr.Element, len(leaves))
		for _, l := range leaves {
			if l.Index >= size {
				return fmt.Errorf("leaf %d was never anchored", l.Index)
			}
			it, err := txn.Get(lcCommitKey(l.Commitment))
			if err != nil {
				return fmt.Errorf("leaf %d: commitment was not anchored here: %w", l.Index, err)
			}
			var idx uint64
			it.Value(func(b []byte) error { idx = binary.BigEndian.Uint64(b); return nil })
			if idx != l.Index {
				return fmt.Errorf("leaf %d does not hold that commitment", l.Index)
			}
			m[l.Index] = fr.Element{}
		}
		if err := c.update(m, txn); err != nil {
			return err
		}
		h, err := getU64(txn, lcHeight)
		if err != nil {
			return err
		}
		return putU64(txn, lcHeight, h+1)
	})
}

// Root returns the current tree root, height and number of leaves.
func (c *LocalChain) Root() (root fr.Element, height, size uint64, err error) {
	err = c.db.View(func(txn *badger.Txn) error {
		var ok bool
		root, ok, err = txnNodes{txn}.Node(circuits.Depth, 0)
		if err != nil {
			return err
		}
		if !ok {
			root = circuits.ZeroHash(circuits.Depth)
		}
		if height, err = getU64(txn, lcHeight); err != nil {
			return err
		}
		size, err = getU64(txn, lcSize)
		return err
	})
	return
}

// Leaf returns a leaf and its Merkle path.
func (c *LocalChain) Leaf(index uint64) (leaf fr.Element, path []fr.Element, err error) {
	err = c.db.View(func(txn *badger.Txn) error {
		r := txnNodes{txn}
		l, ok, err := r.Node(0, index)
		if err != nil {
			return err
		}
		if ok {
			leaf = l
		}
		path, err = circuits.Path(r, circuits.Depth, index)
		return err
	})
	return
}
