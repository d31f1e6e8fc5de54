package wallet

import (
	"context"
	"testing"
	"time"

	testenv "github.com/zkcred/zkcred/internal/wallettest"
)

// BenchmarkPresentRootChange measures a presentation as `zkcred wallet
// present` makes it, warm keys: Prepare (reported as prepare-ms), then,
// timed, the request fetch, choice, proof from the prepared state,
// submission and verdict. Warm: the root has not moved since the last
// presentation. Root change: the registry appended a block of 2^14 leaves
// first, with the credential far from the append frontier (one or two
// path levels change) or just before it (fourteen change). Prepare pads
// each credential's refresh to RefreshBudget and the timed part refreshes
// nothing, so far and frontier should agree within noise in both figures.
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
	run := func(b *testing.B, before func() *Entry) {
		var prep time.Duration
		b.StopTimer()
		for range b.N {
			e := before()
			start := time.Now()
			if err := w.Prepare(ctx, env.Keys); err != nil {
				b.Fatal(err)
			}
			prep += time.Since(start)
			b.StartTimer()
			info := present(b, w, env, e)
			b.StopTimer()
			if !info.Incremental {
				b.Fatalf("not made from the state: %v", info.Fallback)
			}
			if e != far {
				w.Remove(e.ID)
			}
		}
		b.ReportMetric(float64(prep.Microseconds())/1e3/float64(b.N), "prepare-ms")
	}
	b.Run("warm", func(b *testing.B) {
		run(b, func() *Entry { return far })
	})
	b.Run("root-change-far", func(b *testing.B) {
		run(b, func() *Entry { env.Anchor(1 << 14); return far })
	})
	b.Run("root-change-frontier", func(b *testing.B) {
		// A credential of the same holder, just issued: the block lands
		// right after its leaf. (Removed again after the iteration, so that
		// Prepare always refreshes two credentials.)
		run(b, func() *Entry {
			e, err := w.Receive(ctx, env.Issue(w.HolderCommit(), "3.72", time.Time{}))
			if err != nil {
				b.Fatal(err)
			}
			if err := w.SyncState(ctx, e, env.Keys); err != nil {
				b.Fatal(err)
			}
			env.Anchor(1 << 14)
			return e
		})
	})
}
