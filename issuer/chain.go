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
	// Size returns the number of leaves the chain holds. The issuer
	// journals it before anchoring, as the lower bound for Lookup.
	Size(ctx context.Context) (uint64, error)
	// Anchor appends the leaves H(issuerID, C) of commitments, in order,
	// and returns where each landed.
	Anchor(ctx context.Context, commitments []fr.Element) ([]Anchored, error)
	// Lookup reports, for each commitment, whether this issuer anchored it
	// at a leaf index ≥ since, and where. Recovery after a crash uses it so
	// that a commitment that reached the chain is never anchored twice.
	Lookup(ctx context.Context, commitments []fr.Element, since uint64) ([]Anchored, []bool, error)
	// Revoke overwrites the given leaves, which this issuer anchored with
	// the given commitments, with 0. Revoking a revoked leaf is not an
	// error.
	Revoke(ctx context.Context, leaves []LeafRef) error
}

// LeafRef names an anchored leaf and the commitment it holds.
type LeafRef struct {
	Index      uint64
	Commitment fr.Element
}

// ErrChain is wrapped by errors from the chain (HTTP 502).
var ErrChain = errors.New("registry chain")
