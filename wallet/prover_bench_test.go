package wallet

import (
	"context"
	"testing"
	"time"

	testenv "github.com/zkcred/zkcred/internal/wallettest"
)

// BenchmarkPresentRootChange measures one presentation (request fetch to
// verdict, warm keys) from a prover state: warm (the root has not moved
// since the state was synced), and after the registry appended a block of
// 2^14 leaves, for a credential far from the append frontier (one or two
// path levels change) and for one just before it (fourteen change). The
// refresh step pads both to RefreshBudget, so the two root-change figures
// should agree within noise.
func BenchmarkPresentRootChange(b *testing.B) {
	env := testenv.Start(b, testenv.Options{})
	w := newTestWallet(b, env)
	ctx := context.Background()
	far, err := w.Receive(ctx, env.Issue(w.HolderCommit(), "3.72", time.Time{}))
	if err != nil {
		b.Fatal(err)
	}
	env.Anchor(1 << 15)
	if err := w.SyncState(ctx, far, env.Keys); err != nil {
		b.Fatal(err)
	}
	timed := func(b *testing.B, e *Entry) {
		b.StartTimer()
		info := present(b, w, env, e)
		b.StopTimer()
		if !info.Incremental {
			b.Fatalf("not made from the state: %v", info.Fallback)
		}
	}
	b.Run("warm", func(b *testing.B) {
		b.StopTimer()
		for range b.N {
			timed(b, far)
		}
	})
	b.Run("root-change-far", func(b *testing.B) {
		b.StopTimer()
		for range b.N {
			env.Anchor(1 << 14)
			timed(b, far)
		}
	})
	b.Run("root-change-frontier", func(b *testing.B) {
		b.StopTimer()
		for range b.N {
			e, err := w.Receive(ctx, env.Issue(w.HolderCommit(), "3.72", time.Time{}))
			if err != nil {
				b.Fatal(err)
			}
			if err := w.SyncState(ctx, e, env.Keys); err != nil {
				b.Fatal(err)
			}
			env.Anchor(1 << 14)
			timed(b, e)
			w.Remove(e.ID)
		}
	})
}
