package verifier

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
)

// CircuitLister lists the verifying-key hashes the chain publishes (the
// light client's registry client is one).
type CircuitLister interface {
	Circuits(ctx context.Context) ([]registry.CircuitRecord, error)
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
	recs, err := l.Circuits(ctx)
	if err != nil {
		return fmt.Errorf("reading the published verifying-key hashes: %w", err)
	}
	have := v.Hash()
	for _, r := range recs {
		if r.Circuit != v.CircuitID() {
			continue
		}
		if !strings.EqualFold(r.VKHash, have) {
			return &KeyHashError{Circuit: r.Circuit, Have: have, Published: r.VKHash, Height: r.Height}
		}
		return nil
	}
	return &KeyHashError{Circuit: v.CircuitID(), Have: have}
}
