package issuer

import (
	"context"
	"fmt"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer/store"
)

// LocalChain is a single-issuer chain kept in a local badger database
// (store.ChainDB): it appends leaves H(issuerID, C) to a depth-32 Poseidon2
// tree, counts one block per call and syncs every write, but has no
// transactions, signatures or consensus. It serves offline issuance,
// development and tests; a production issuer anchors on the registry chain.
type LocalChain struct {
	mu       sync.Mutex
	db       *store.ChainDB
	issuerID fr.Element
}

// OpenLocalChain opens (creating) a local chain in dir for the issuer with
// the given ID.
func OpenLocalChain(dir string, issuerID fr.Element) (*LocalChain, error) {
	db, err := store.OpenChain(dir, store.Options{})
	if err != nil {
		return nil, err
	}
	return &LocalChain{db: db, issuerID: issuerID}, nil
}

// Close closes the database.
func (c *LocalChain) Close() error { return c.db.Close() }

// update writes the tree nodes that setting leaves changes.
func update(tx *store.ChainTxn, leaves map[uint64]fr.Element) error {
	upd, err := circuits.UpdateBatch(tx, circuits.Depth, leaves)
	if err != nil {
		return err
	}
	for k, v := range upd {
		if err := tx.PutNode(k.Level, k.Index, v); err != nil {
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
	err := c.db.Update(func(tx *store.ChainTxn) error {
		size, err := tx.Size()
		if err != nil {
			return err
		}
		h, err := tx.Height()
		if err != nil {
			return err
		}
		h++
		leaves := make(map[uint64]fr.Element, len(coms))
		for i, com := range coms {
			idx := size + uint64(i)
			if _, _, ok, err := tx.Commitment(com); err != nil || ok {
				if err == nil {
					err = fmt.Errorf("commitment %s already anchored", circuits.Dec(com))
				}
				return err
			}
			leaves[idx] = circuits.LeafHash(c.issuerID, com)
			if err := tx.PutCommitment(com, idx, h); err != nil {
				return err
			}
			out[i] = Anchored{LeafIndex: idx, Height: h}
		}
		if err := update(tx, leaves); err != nil {
			return err
		}
		if err := tx.SetSize(size + uint64(len(coms))); err != nil {
			return err
		}
		return tx.SetHeight(h)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Size implements Chain.
func (c *LocalChain) Size(ctx context.Context) (n uint64, err error) {
	err = c.db.View(func(tx *store.ChainTxn) error { n, err = tx.Size(); return err })
	return n, err
}

// Lookup implements Chain.
func (c *LocalChain) Lookup(ctx context.Context, coms []fr.Element, since uint64) ([]Anchored, []bool, error) {
	out := make([]Anchored, len(coms))
	ok := make([]bool, len(coms))
	err := c.db.View(func(tx *store.ChainTxn) error {
		for i, com := range coms {
			leaf, height, found, err := tx.Commitment(com)
			if err != nil {
				return err
			}
			if found && leaf >= since {
				out[i], ok[i] = Anchored{LeafIndex: leaf, Height: height}, true
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
	return c.db.Update(func(tx *store.ChainTxn) error {
		size, err := tx.Size()
		if err != nil {
			return err
		}
		m := make(map[uint64]fr.Element, len(leaves))
		for _, l := range leaves {
			if l.Index >= size {
				return fmt.Errorf("leaf %d was never anchored", l.Index)
			}
			idx, _, found, err := tx.Commitment(l.Commitment)
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("leaf %d: commitment was not anchored here", l.Index)
			}
			if idx != l.Index {
				return fmt.Errorf("leaf %d does not hold that commitment", l.Index)
			}
			m[l.Index] = fr.Element{}
		}
		if err := update(tx, m); err != nil {
			return err
		}
		h, err := tx.Height()
		if err != nil {
			return err
		}
		return tx.SetHeight(h + 1)
	})
}

// Root returns the current tree root, height and number of leaves.
func (c *LocalChain) Root() (root fr.Element, height, size uint64, err error) {
	err = c.db.View(func(tx *store.ChainTxn) error {
		var ok bool
		root, ok, err = tx.Node(circuits.Depth, 0)
		if err != nil {
			return err
		}
		if !ok {
			root = circuits.ZeroHash(circuits.Depth)
		}
		if height, err = tx.Height(); err != nil {
			return err
		}
		size, err = tx.Size()
		return err
	})
	return
}

// Leaf returns a leaf and its Merkle path.
func (c *LocalChain) Leaf(index uint64) (leaf fr.Element, path []fr.Element, err error) {
	err = c.db.View(func(tx *store.ChainTxn) error {
		l, ok, err := tx.Node(0, index)
		if err != nil {
			return err
		}
		if ok {
			leaf = l
		}
		path, err = circuits.Path(tx, circuits.Depth, index)
		return err
	})
	return
}
