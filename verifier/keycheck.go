package verifier

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
)

// CircuitLister reads a circuit's verifying-key hash as the chain
// publishes it, proven against a verified header (proof.Reader is one);
// nil means none is published.
type CircuitLister interface {
	Circuit(ctx context.Context, id string) (*registry.CircuitRecord, error)
}

// ErrKeyNotPublished is wrapped by *KeyHashError: the verifying key's hash
// is not the one the chain publishes for its circuit. A verifier refuses
// to start with such a key.
var ErrKeyNotPublished = errors.New("verifying key not published on the chain")

// KeyHashError names the key's hash and the published one (empty when the
// chain publishes none for the circuit).
type KeyHashError struct {
	Circuit   string
	Have      string // the key's hash (circuits.Verifier.Hash)
	Published string // the chain's, or ""
	Height    uint64 // block that published it
}

func (e *KeyHashError) Error() string {
	if e.Published == "" {
		return fmt.Sprintf("the chain publishes no verifying-key hash for circuit %s; this key's hash is %s", e.Circuit, e.Have)
	}
	return fmt.Sprintf("the verifying key for circuit %s has hash %s, but the chain published %s (block %d)", e.Circuit, e.Have, e.Published, e.Height)
}

func (e *KeyHashError) Unwrap() error { return ErrKeyNotPublished }

// CheckPublishedKey returns nil if the chain publishes v's hash for v's
// circuit, and a *KeyHashError naming both hashes otherwise.
func CheckPublishedKey(ctx context.Context, l CircuitLister, v *circuits.Verifier) error {
	r, err := l.Circuit(ctx, v.CircuitID())
	if err != nil {
		return fmt.Errorf("reading the published verifying-key hash: %w", err)
	}
	have := v.Hash()
	if r == nil || r.Circuit != v.CircuitID() {
		return &KeyHashError{Circuit: v.CircuitID(), Have: have}
	}
	if !strings.EqualFold(r.VKHash, have) {
		return &KeyHashError{Circuit: r.Circuit, Have: have, Published: r.VKHash, Height: r.Height}
	}
	return nil
}
