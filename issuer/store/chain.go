package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/dgraph-io/badger/v4"
)

// ChainDB is the badger database of a local chain (issuer.LocalChain): the
// nodes of its tree, its size and height, and where each commitment was
// anchored. Every write is synced.
//
// Key layout:
//
//	m/size, m/height                       8 bytes BE each
//	n/<level 8 B BE><index 8 B BE>         tree node, 32 bytes
//	c/<commitment, 32 bytes>               leaf index and height, 8 bytes BE each
type ChainDB struct {
	db *badger.DB
}

// OpenChain opens (creating) a local chain's database in dir.
func OpenChain(dir string, opts Options) (*ChainDB, error) {
	bo := badger.DefaultOptions(dir)
	if opts.Badger != nil {
		bo = *opts.Badger
	}
	bo.Dir, bo.ValueDir = dir, dir
	bo.SyncWrites = true
	bo.Logger = badgerLogger{opts.Logger}
	db, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("opening local chain %s: %w", dir, err)
	}
	return &ChainDB{db}, nil
}

// Close closes the database.
func (c *ChainDB) Close() error { return c.db.Close() }

// ChainTxn is one transaction on a local chain.
type ChainTxn struct {
	txn *badger.Txn
}

// Update runs fn in one synced read-write transaction, committed if fn
// returns nil.
func (c *ChainDB) Update(fn func(*ChainTxn) error) error {
	return c.db.Update(func(txn *badger.Txn) error { return fn(&ChainTxn{txn}) })
}

// View runs fn in a read-only transaction.
func (c *ChainDB) View(fn func(*ChainTxn) error) error {
	return c.db.View(func(txn *badger.Txn) error { return fn(&ChainTxn{txn}) })
}

var (
	chainSize   = []byte("m/size")
	chainHeight = []byte("m/height")
)

func nodeKey(level int, index uint64) []byte {
	k := binary.BigEndian.AppendUint64([]byte("n/"), uint64(level))
	return binary.BigEndian.AppendUint64(k, index)
}

func commitKey(com fr.Element) []byte {
	b := com.Bytes()
	return append([]byte("c/"), b[:]...)
}

func (t *ChainTxn) u64(k []byte) (uint64, error) {
	it, err := t.txn.Get(k)
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

// Size returns the number of leaves.
func (t *ChainTxn) Size() (uint64, error) { return t.u64(chainSize) }

// Height returns the number of blocks.
func (t *ChainTxn) Height() (uint64, error) { return t.u64(chainHeight) }

// SetSize records the number of leaves.
func (t *ChainTxn) SetSize(n uint64) error {
	return t.txn.Set(chainSize, binary.BigEndian.AppendUint64(nil, n))
}

// SetHeight records the number of blocks.
func (t *ChainTxn) SetHeight(h uint64) error {
	return t.txn.Set(chainHeight, binary.BigEndian.AppendUint64(nil, h))
}

// Node returns a tree node and whether it is set; it makes a ChainTxn a
// circuits node reader.
func (t *ChainTxn) Node(level int, index uint64) (fr.Element, bool, error) {
	it, err := t.txn.Get(nodeKey(level, index))
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

// PutNode sets a tree node.
func (t *ChainTxn) PutNode(level int, index uint64, v fr.Element) error {
	b := v.Bytes()
	return t.txn.Set(nodeKey(level, index), b[:])
}

// Commitment returns where a commitment was anchored, if it was.
func (t *ChainTxn) Commitment(com fr.Element) (leaf, height uint64, ok bool, err error) {
	it, err := t.txn.Get(commitKey(com))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, err
	}
	err = it.Value(func(b []byte) error {
		if len(b) != 16 {
			return fmt.Errorf("commitment record of %d bytes", len(b))
		}
		leaf, height = binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])
		return nil
	})
	return leaf, height, err == nil, err
}

// PutCommitment records where a commitment was anchored.
func (t *ChainTxn) PutCommitment(com fr.Element, leaf, height uint64) error {
	v := binary.BigEndian.AppendUint64(nil, leaf)
	return t.txn.Set(commitKey(com), binary.BigEndian.AppendUint64(v, height))
}
