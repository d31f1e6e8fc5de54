package wallet

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
	testenv "github.com/zkcred/zkcred/internal/wallettest"
	"github.com/zkcred/zkcred/wire"
)

func newTestWallet(t testing.TB, e *testenv.Env) *Wallet {
	t.Helper()
	w, err := Create(filepath.Join(t.TempDir(), "wallet.age"), "pw", CreateOptions{
		WorkFactor: MinWorkFactor,
		Config:     Config{Registry: e.RegistryURL, Genesis: e.Genesis},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// present answers a fresh request of the test verifier with credential e
// and returns how the proof was made.
func present(t testing.TB, w *Wallet, env *testenv.Env, e *Entry) circuits.ProveInfo {
	t.Helper()
	ctx := context.Background()
	req, err := w.ReadRequest(ctx, env.Request("graduate"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := w.Present(ctx, req, PresentOptions{CredentialID: e.ID, Keys: env.Keys})
	if err != nil || out.Result.Status != wire.StatusVerified {
		t.Fatalf("presentation not verified: %v %+v", err, out)
	}
	return w.lastProve
}

// TestProverStates follows one credential's prover state from receipt to
// removal: built by Sync, used by Prove, refreshed after a new root, rebuilt
// from a corrupt file, kept encrypted, dropped on revocation and removal.
func TestProverStates(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	w := newTestWallet(t, env)
	ctx := context.Background()
	bundle := env.Issue(w.HolderCommit(), "3.72", time.Time{})
	e, err := w.Receive(ctx, bundle)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(w.statePath(e)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a state exists before Sync: %v", err)
	}
	if revoked, err := w.Sync(ctx, env.Keys); err != nil || len(revoked) != 0 {
		t.Fatal(err, revoked)
	}

	// Encrypted under the holder secret, bound to the credential.
	raw, err := os.ReadFile(w.statePath(e))
	if err != nil {
		t.Fatal(err)
	}
	secret := w.f.Secret.El()
	sb := secret.Bytes()
	salt := e.Private().Salt.El()
	saltB := salt.Bytes()
	if bytes.Contains(raw, sb[:]) || bytes.Contains(raw, saltB[:]) {
		t.Fatal("the state file holds the holder secret or the salt in the clear")
	}
	other := newTestWallet(t, env)
	other.path = w.path
	if _, err := other.loadState(e); err == nil {
		t.Fatal("another holder's key decrypts the state")
	}
	renamed := *e
	renamed.ID = "00000000"
	os.WriteFile(w.statePath(&renamed), raw, 0o600)
	if _, err := w.loadState(&renamed); err == nil {
		t.Fatal("a state file decrypts under another credential's name")
	}

	// Warm: the proof comes from the state.
	if info := present(t, w, env, e); !info.Incremental {
		t.Fatalf("warm presentation not made from the state: %v", info.Fallback)
	}

	// A new root: Prove's refresh step brings the state along first.
	before, _ := w.loadState(e)
	env.Anchor(300)
	if info := present(t, w, env, e); !info.Incremental {
		t.Fatalf("presentation after a new root not made from the state: %v", info.Fallback)
	}
	after, _ := w.loadState(e)
	if after.root.Equal(&before.root) {
		t.Fatal("the refresh step did not store the state at the new root")
	}

	// A corrupt state file is rebuilt, and the proof still verifies.
	raw, _ = os.ReadFile(w.statePath(e))
	raw[len(raw)/2] ^= 1
	os.WriteFile(w.statePath(e), raw, 0o600)
	if info := present(t, w, env, e); !info.Incremental {
		t.Fatalf("state not rebuilt from a corrupt file: %v", info.Fallback)
	}

	// Another credential's state under this one's name (same root): the
	// proof falls back to a full one that verifies, the state is dropped,
	// and the next presentation rebuilds it.
	e3, err := w.Receive(ctx, env.Issue(w.HolderCommit(), "3.60", time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Sync(ctx, env.Keys); err != nil {
		t.Fatal(err)
	}
	pe, err := w.loadState(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.saveState(e3, pe); err != nil {
		t.Fatal(err)
	}
	if info := present(t, w, env, e3); info.Incremental || !errors.Is(info.Fallback, circuits.ErrStateOtherCredential) {
		t.Fatalf("another credential's state: incremental %v, fallback %v", info.Incremental, info.Fallback)
	}
	if _, err := os.Stat(w.statePath(e3)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a mismatched state was kept")
	}
	if info := present(t, w, env, e3); !info.Incremental {
		t.Fatalf("state not rebuilt after a mismatch: %v", info.Fallback)
	}

	// Revoked: Sync says so and drops the state.
	env.Revoke(bundle)
	revoked, err := w.Sync(ctx, env.Keys)
	if err != nil || len(revoked) != 1 || revoked[0] != e { // e3 stays
		t.Fatalf("revocation not reported by Sync: %v %v", err, revoked)
	}
	if _, err := os.Stat(w.statePath(e)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a revoked credential keeps its state")
	}

	// Removed: the state goes with it.
	e2, err := w.Receive(ctx, env.Issue(w.HolderCommit(), "3.50", time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SyncState(ctx, e2, env.Keys); err != nil {
		t.Fatal(err)
	}
	if err := w.Remove(e2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(w.statePath(e2)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a removed credential keeps its state")
	}
}

// TestRefreshStepFixedLength: the refresh step inside Prove never ends
// before RefreshBudget, whether the state is current, stale, or missing,
// so that no shorter path reveals which. (Its upper end is measured by
// BenchmarkPresentRootChange.)
func TestRefreshStepFixedLength(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	w := newTestWallet(t, env)
	ctx := context.Background()
	e, err := w.Receive(ctx, env.Issue(w.HolderCommit(), "3.72", time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SyncState(ctx, e, env.Keys); err != nil {
		t.Fatal(err)
	}
	step := func(name string) {
		bk, _, path, err := w.verifiedBucket(ctx, e.Private().LeafIndex)
		if err != nil {
			t.Fatal(err)
		}
		wit := w.resting(e, &proverEntry{root: bk.Root.El(), height: w.rootHeight(bk.Root.El(), bk.Height)}, path)
		start := time.Now()
		st := w.presentState(env.Keys, e, wit)
		if d := time.Since(start); d < RefreshBudget {
			t.Errorf("%s: refresh step took %v, under the budget %v", name, d, RefreshBudget)
		}
		if st == nil {
			t.Errorf("%s: no state", name)
		}
	}
	step("current")
	env.Anchor(50)
	step("stale")
	w.removeState(e)
	step("missing")

	// Prepare: one budget per credential, whether anything changed or not.
	if _, err := w.Receive(ctx, env.Issue(w.HolderCommit(), "3.50", time.Time{})); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"prepare, one state missing", "prepare, nothing changed"} {
		start := time.Now()
		if err := w.Prepare(ctx, env.Keys); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 2*RefreshBudget {
			t.Errorf("%s: Prepare of two credentials took %v, under twice the budget %v", name, d, RefreshBudget)
		}
	}
}

// TestPrepareThenPresent: after Prepare, Present proves from the prepared
// state against the prepared root, fetching no bucket (a block appended in
// between changes nothing), and the preparation is used up by it.
func TestPrepareThenPresent(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	w := newTestWallet(t, env)
	ctx := context.Background()
	e, err := w.Receive(ctx, env.Issue(w.HolderCommit(), "3.72", time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Prepare(ctx, env.Keys); err != nil {
		t.Fatal(err)
	}
	prepared := w.ready[e.ID]
	if prepared == nil {
		t.Fatal("Prepare left no prepared state")
	}
	env.Anchor(100) // a new root after Prepare: not used by this presentation
	req, err := w.ReadRequest(ctx, env.Request("graduate"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := w.Present(ctx, req, PresentOptions{Keys: env.Keys})
	if err != nil || out.Result.Status != wire.StatusVerified {
		t.Fatalf("presentation not verified: %v %+v", err, out)
	}
	if !w.lastProve.Incremental {
		t.Fatalf("not made from the prepared state: %v", w.lastProve.Fallback)
	}
	if got := out.Presentation.Root.El(); !got.Equal(&prepared.root) {
		t.Fatal("the proof is not against the prepared root")
	}
	if w.ready[e.ID] != nil {
		t.Fatal("the preparation was not used up")
	}
	// Without a new Prepare, the next presentation fetches the newest root
	// and refreshes in its own fixed-length step.
	if info := present(t, w, env, e); !info.Incremental {
		t.Fatalf("unprepared presentation not made from the state: %v", info.Fallback)
	}
	if pe, _ := w.loadState(e); pe.root.Equal(&prepared.root) {
		t.Fatal("the unprepared presentation did not refresh to the newest root")
	}
}
