package verifier

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
)

type listed []registry.CircuitRecord

func (l listed) Circuit(_ context.Context, id string) (*registry.CircuitRecord, error) {
	for _, r := range l {
		if r.Circuit == id {
			return &r, nil
		}
	}
	return nil, nil
}

func TestCheckPublishedKey(t *testing.T) {
	keys, err := circuits.LoadOrSetup(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	v := keys.Verifier()
	ctx := context.Background()
	ok := listed{{Circuit: circuits.HolderID, VKHash: keys.HolderVerifier().Hash()}, {Circuit: v.CircuitID(), VKHash: v.Hash(), Height: 3}}
	if err := CheckPublishedKey(ctx, ok, v); err != nil {
		t.Fatalf("published key refused: %v", err)
	}
	other := strings.Repeat("ab", 32)
	err = CheckPublishedKey(ctx, listed{{Circuit: v.CircuitID(), VKHash: other, Height: 7}}, v)
	var ke *KeyHashError
	if !errors.As(err, &ke) || !errors.Is(err, ErrKeyNotPublished) || !strings.Contains(err.Error(), other) || !strings.Contains(err.Error(), v.Hash()) {
		t.Fatalf("mismatched key: %v, want an error naming both hashes", err)
	}
	// Another circuit's hash does not count for this one.
	err = CheckPublishedKey(ctx, listed{{Circuit: circuits.HolderID, VKHash: v.Hash()}}, v)
	if !errors.Is(err, ErrKeyNotPublished) || !strings.Contains(err.Error(), v.Hash()) {
		t.Fatalf("unpublished key: %v", err)
	}
}
