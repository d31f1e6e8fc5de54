package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/zkcred/zkcred/registry"
)

// AuditReport summarises a successful audit.
type AuditReport struct {
	Blocks    uint64 `json:"blocks"`
	Txs       uint64 `json:"txs"`
	Leaves    uint64 `json:"leaves"`
	StateKeys int    `json:"state_keys"`
}

// Audit replays the chain from genesis in memory: it checks every
// transaction's signature and validity, recomputes every block's roots and
// hash link, checks every producer signature (for a genesis naming one), and finally compares each
// stored state key (tree nodes included) with the replayed state. It
// returns the first discrepancy, wrapped in ErrAudit. progress, if not nil,
// is called after each block.
func (s *Store) Audit(ctx context.Context, progress func(height, latest uint64)) (*AuditReport, error) {
	g := s.genesis
	latest := s.Latest()
	mem := memState{}
	rep := &AuditReport{}
	fail := func(format string, a ...any) (*AuditReport, error) {
		return nil, fmt.Errorf("%w: %s", ErrAudit, fmt.Sprintf(format, a...))
	}
	var prev *registry.Header
	roots := map[string]uint64{} // root index as the replay makes it
	for h := uint64(0); h <= latest.Height; h++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		blk, err := s.Block(h)
		if err != nil {
			return fail("block %d: %v", h, err)
		}
		hd := &blk.Header
		if hd.Height != h {
			return fail("block %d: stored header names height %d", h, hd.Height)
		}
		if g.Producer != "" {
			if err := hd.VerifySignature(g.ProducerKey()); err != nil {
				return fail("%v", err)
			}
		} else if hd.Signature != "" {
			return fail("block %d: a signature on a chain without a producer", h)
		}
		if prev != nil {
			if err := hd.VerifyLink(prev); err != nil {
				return fail("%v", err)
			}
		}
		b, err := registry.NewBuilder(g, mem, prev)
		if err != nil {
			return fail("block %d: %v", h, err)
		}
		for i, tx := range blk.Txs {
			st, err := registry.VerifyTx(g.ChainID, tx)
			if err != nil {
				return fail("block %d tx %d: %v", h, i, err)
			}
			if _, err := b.Apply(st); err != nil {
				return fail("block %d tx %d: %v", h, i, err)
			}
		}
		want, _, w, err := b.Finish(hd.Time)
		if err != nil {
			return fail("block %d: %v", h, err)
		}
		want.Signature = hd.Signature
		if *want != *hd {
			return fail("block %d: stored header %+v, replay gives %+v", h, *hd, *want)
		}
		for k, v := range w {
			mem[k] = v
		}
		roots[string(rootKey(hd.CredRoot))] = h
		rep.Blocks++
		rep.Txs += uint64(len(blk.Txs))
		prev = hd
		if progress != nil {
			progress(h, latest.Height)
		}
	}
	rep.Leaves = latest.CredSize
	// compare the stored state with the replay, key by key
	seen := 0
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, Prefix: []byte{'s'}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()[1:]
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			r, ok := mem[string(k)]
			if !ok {
				return fmt.Errorf("%w: stored state key %x does not exist in the replay", ErrAudit, k)
			}
			if !bytes.Equal(r, v) {
				return fmt.Errorf("%w: stored state key %x differs from the replay", ErrAudit, k)
			}
			seen++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if seen != len(mem) {
		return fail("the store holds %d state keys, the replay %d", seen, len(mem))
	}
	// the root index, and no header or block beyond the latest
	err = s.db.View(func(txn *badger.Txn) error {
		n := 0
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, Prefix: []byte{'r'}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			want, ok := roots[string(it.Item().Key())]
			if !ok || len(v) != 8 || binary.BigEndian.Uint64(v) != want {
				return fmt.Errorf("%w: root index entry %x does not match the chain", ErrAudit, it.Item().Key()[1:])
			}
			n++
		}
		if n != len(roots) {
			return fmt.Errorf("%w: root index holds %d roots, the chain %d", ErrAudit, n, len(roots))
		}
		for _, p := range []byte{'h', 'b'} {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{p}})
			for it.Rewind(); it.Valid(); it.Next() {
				if h := binary.BigEndian.Uint64(it.Item().Key()[1:]); h > latest.Height {
					it.Close()
					return fmt.Errorf("%w: block %d is stored beyond the latest height %d", ErrAudit, h, latest.Height)
				}
			}
			it.Close()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep.StateKeys = seen
	return rep, nil
}

// memState is the replayed state, held in memory.
type memState map[string][]byte

// Get implements registry.Reader.
func (m memState) Get(key []byte) ([]byte, bool, error) {
	v, ok := m[string(key)]
	return v, ok, nil
}
