package wallet

import (
	"context"
	"testing"
	"time"

	testenv "github.com/zkcred/zkcred/internal/wallettest"
	"github.com/zkcred/zkcred/wire"
)

// BenchmarkPresentRootChange measures a presentation as `zkcred wallet
// present` makes it, warm keys: Prepare (reported as prepare-ms), then,
// timed, the wallet's part between fetching the request and submitting:
// the request fetch, choice and proof from the prepared state. (The
// submission is checked but not timed: the verifier's own light-client
// sync on a new root is its cost, and grows with the blocks since its last
// sync.) Warm: the root has not moved since the states were synced. Root
// change: the registry appended a block of 2^14 leaves first, and the
// credential presented is far from the append frontier (its path changes
// from level 15 up) or just before it (every level changes). Prepare pads
// each refresh to RefreshBudget and the timed part refreshes nothing, so
// far and frontier should agree within noise in both figures, as long as
// a refresh fits the budget (on an idle machine).
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
	// Each iteration holds two credentials: far, and one just issued (at
	// the frontier), so that Prepare refreshes the same two in every case;
	// the cases differ in which one is presented.
	run := func(b *testing.B, rootChange, frontier bool) {
		var prep time.Duration
		changed := 0
		b.StopTimer()
		for range b.N {
			fresh, err := w.Receive(ctx, env.Issue(w.HolderCommit(), "3.72", time.Time{}))
			if err != nil {
				b.Fatal(err)
			}
			if err := w.SyncState(ctx, fresh, env.Keys); err != nil {
				b.Fatal(err)
			}
			if err := w.SyncState(ctx, far, env.Keys); err != nil {
				b.Fatal(err)
			}
			if rootChange {
				env.Anchor(1 << 14)
			}
			e := far
			if frontier {
				e = fresh
			}
			start := time.Now()
			if err := w.Prepare(ctx, env.Keys); err != nil {
				b.Fatal(err)
			}
			prep += time.Since(start)
			if w.ready[e.ID] == nil {
				b.Fatal("Prepare left no prepared state")
			}
			u := env.Request("graduate")
			b.StartTimer()
			req, err := w.ReadRequest(ctx, u)
			if err != nil {
				b.Fatal(err)
			}
			out, err := w.Present(ctx, req, PresentOptions{CredentialID: e.ID, Keys: env.Keys, ProveOnly: true})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if !w.lastProve.Incremental {
				b.Fatalf("not made from the state: %v", w.lastProve.Fallback)
			}
			changed += w.lastProve.Changed
			res, err := w.Submit(ctx, req, out.Presentation)
			if err != nil || res.Status != wire.StatusVerified {
				b.Fatalf("presentation not verified: %v %+v", err, res)
			}
			w.Remove(fresh.ID)
		}
		b.ReportMetric(float64(prep.Microseconds())/1e3/float64(b.N), "prepare-ms")
		b.ReportMetric(float64(changed)/float64(b.N), "wires") // proved by difference
	}
	b.Run("warm", func(b *testing.B) { run(b, false, false) })
	b.Run("root-change-far", func(b *testing.B) { run(b, true, false) })
	b.Run("root-change-frontier", func(b *testing.B) { run(b, true, true) })
}
