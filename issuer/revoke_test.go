package issuer

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

// countingChain counts revocations that reach the chain.
type countingChain struct {
	Chain
	revokes atomic.Int32
}

func (c *countingChain) Revoke(ctx context.Context, leaves []LeafRef) error {
	c.revokes.Add(1)
	return c.Chain.Revoke(ctx, leaves)
}

// Revocation is idempotent: five concurrent revocations of one credential
// all succeed, the chain sees one, and a later one is answered from the
// store.
func TestRevokeConcurrentlyAndTwice(t *testing.T) {
	env := newEnv(t, Options{})
	cc := &countingChain{Chain: env.chain}
	is := New(env.key, cc, env.store, Options{})
	ctx := context.Background()
	_, hc := holder()
	b, err := is.Issue(ctx, Request{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject(), HolderCommit: hc})
	if err != nil {
		t.Fatal(err)
	}
	id := b.Private.CredentialID
	var wg sync.WaitGroup
	var newly atomic.Int32
	for range 5 {
		wg.Go(func() {
			r, err := is.Revoke(ctx, []string{id}, nil)
			if err != nil {
				t.Errorf("concurrent revocation: %v", err)
				return
			}
			if len(r.IDs) != 1 || r.IDs[0] != id || len(r.Leaves) != 1 || r.Leaves[0] != b.Private.LeafIndex {
				t.Errorf("revocation %+v", r)
			}
			newly.Add(int32(r.Newly))
		})
	}
	wg.Wait()
	if cc.revokes.Load() != 1 || newly.Load() != 1 {
		t.Fatalf("%d chain revocations, %d newly revoked, want 1 and 1", cc.revokes.Load(), newly.Load())
	}
	// By leaf and by ID in one call, again: no chain call.
	r, err := is.Revoke(ctx, []string{id}, []uint64{b.Private.LeafIndex})
	if err != nil || r.Newly != 0 || len(r.IDs) != 1 || cc.revokes.Load() != 1 {
		t.Fatalf("repeat: %+v %v, %d chain calls", r, err, cc.revokes.Load())
	}
	if _, revoked, _ := is.Credential(id); !revoked {
		t.Fatal("not marked revoked")
	}
	if leaf, _, _ := env.chain.Leaf(b.Private.LeafIndex); !leaf.IsZero() {
		t.Fatal("leaf not zero")
	}
}
