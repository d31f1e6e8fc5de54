package registry

import (
	"crypto/ed25519"
	"fmt"
)

// memState is a state held in memory.
type memState map[string][]byte

// Get implements Reader.
func (m memState) Get(key []byte) ([]byte, bool, error) {
	v, ok := m[string(key)]
	return v, ok, nil
}

// Commit applies a block's writes.
func (m memState) Commit(writes map[string][]byte) {
	for k, v := range writes {
		m[k] = v
	}
}

// Chain is an in-memory chain: a state, its headers and blocks. It produces
// blocks the way the node does, without storage, for tests and examples.
type Chain struct {
	Genesis  *Genesis
	state    memState
	Blocks   []*Block
	producer ed25519.PrivateKey
}

// NewChain creates block 0 of a chain in memory.
func NewChain(g *Genesis, producer ed25519.PrivateKey) (*Chain, error) {
	c := &Chain{Genesis: g, state: memState{}, producer: producer}
	b, err := NewBuilder(g, c.state, nil)
	if err != nil {
		return nil, err
	}
	if _, err := c.commit(b, g.Time); err != nil {
		return nil, err
	}
	return c, nil
}

// Latest returns the last header.
func (c *Chain) Latest() *Header { return &c.Blocks[len(c.Blocks)-1].Header }

// Next starts the next block.
func (c *Chain) Next() *Builder {
	b, err := NewBuilder(c.Genesis, c.state, c.Latest())
	if err != nil {
		panic(err) // only block 0 can fail
	}
	return b
}

// Commit finishes, signs and stores a block built by Next.
func (c *Chain) Commit(b *Builder, t int64) (*Block, error) { return c.commit(b, t) }

func (c *Chain) commit(b *Builder, t int64) (*Block, error) {
	h, txs, w, err := b.Finish(t)
	if err != nil {
		return nil, err
	}
	h.Sign(c.producer)
	c.state.Commit(w)
	blk := &Block{Header: *h, Txs: txs}
	c.Blocks = append(c.Blocks, blk)
	return blk, nil
}

// Submit applies one transaction in a block of its own.
func (c *Chain) Submit(tx *Tx) (*Receipt, error) {
	st, err := VerifyTx(c.Genesis.ChainID, tx)
	if err != nil {
		return nil, err
	}
	b := c.Next()
	rc, err := b.Apply(st)
	if err != nil {
		return nil, err
	}
	if _, err := c.commit(b, c.Latest().Time+1); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return rc, nil
}
