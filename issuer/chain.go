package issuer

import (
	"context"
	"errors"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
)

// Anchored is where the chain put one commitment.
type Anchored struct {
	LeafIndex uint64 `json:"leafIndex"`
	Height    uint64 `json:"height"` // block that committed it
}

// Chain is what the issuer needs from the registry chain. Implementations
// sign transactions with the issuer's key; every method returns only after
// the block holding its transaction has been committed.
type Chain interface {
	// RegisterSchema publishes a schema; publishing one twice is not an
	// error.
	RegisterSchema(ctx context.Context, s *circuits.Schema) error
	// Anchor appends the leaves H(issuerID, C) of commitments, in order, in
	// one transaction, and returns where each landed.
	Anchor(ctx context.Context, commitments []fr.Element) ([]Anchored, error)
	// Lookup reports, for each commitment, whether this issuer anchored it
	// and where. Recovery after a crash uses it so that a commitment that
	// reached the chain is never anchored twice.
	Lookup(ctx context.Context, commitments []fr.Element) ([]Anchored, []bool, error)
	// Revoke overwrites the given leaves, which this issuer anchored, with
	// 0. Revoking a revoked leaf is not an error.
	Revoke(ctx context.Context, leafIndices []uint64) error
}

// ErrChain is wrapped by errors from the chain (HTTP 502).
var ErrChain = errors.New("registry chain")
