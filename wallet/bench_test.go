package wallet_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/zkcred/zkcred/circuits"
	testenv "github.com/zkcred/zkcred/internal/wallettest"
	"github.com/zkcred/zkcred/wallet"
)

// BenchmarkPresent measures one presentation from request fetch to the
// verifier's verdict with warm keys (loaded and checked once): fetch and
// check the request, choose the credential, fetch and check the witness
// bucket (light client sync included), prove, submit, and read the verdict.
// The verifier runs in-process on loopback and verifies the real proof.
func BenchmarkPresent(b *testing.B) {
	e := testenv.Start(b, testenv.Options{})
	w := newWallet(b, e)
	ctx := context.Background()
	if _, err := w.Receive(ctx, e.Issue(w.HolderCommit(), "3.72", time.Time{})); err != nil {
		b.Fatal(err)
	}
	if err := wallet.CheckKeys(ctx, e.Keys, e.Proven()); err != nil {
		b.Fatal(err)
	}
	// As zkcred wallet present does it: Prepare (untimed: it runs before
	// the request is fetched) brings the prover state to the newest root,
	// then the timed part proves from it.
	b.Run("present", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			u := e.Request("graduate")
			if err := w.Prepare(ctx, e.Keys); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			presentOnce(b, w, e, u)
		}
	})
	// Without Prepare, Present refreshes the state in its own step of
	// wallet.RefreshBudget before proving.
	b.Run("present-unprepared", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			u := e.Request("graduate")
			b.StartTimer()
			presentOnce(b, w, e, u)
		}
	})
	// Everything but the proof and the submission: fetch and check the
	// request, choose, fetch and check the witness bucket.
	b.Run("request-and-witness", func(b *testing.B) {
		u := e.Request("graduate")
		for range b.N {
			req, err := w.ReadRequest(ctx, u)
			if err != nil {
				b.Fatal(err)
			}
			stop := errors.New("stop before proving")
			if _, err := w.Present(ctx, req, wallet.PresentOptions{Keys: e.Keys, Confirm: func(*wallet.Plan) error { return stop }}); !errors.Is(err, stop) {
				b.Fatal(err)
			}
		}
	})
	// The Groth16 proof alone, under the same conditions: the difference
	// to "present" is what the wallet, registry and verifier add.
	b.Run("prove-only", func(b *testing.B) {
		wit, err := circuits.SampleWitness()
		if err != nil {
			b.Fatal(err)
		}
		for range b.N {
			if _, _, err := e.Keys.Prove(wit); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func presentOnce(b *testing.B, w *wallet.Wallet, e *testenv.Env, u string) {
	ctx := context.Background()
	{
		req, err := w.ReadRequest(ctx, u)
		if err != nil {
			b.Fatal(err)
		}
		done, err := w.Present(ctx, req, wallet.PresentOptions{Keys: e.Keys})
		if err != nil || done.Result.Status != wire.StatusVerified {
			b.Fatalf("%v %+v", err, done)
		}
	}
}
