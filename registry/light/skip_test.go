package light

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkcred/zkcred/registry"
)

// emptyChain returns a chain of n empty blocks after block 0.
func (k *chainKit) emptyChain(t *testing.T, n int) []registry.Header {
	c, err := registry.NewChain(k.g, k.prod)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if _, err := c.Commit(c.Next(), k.g.Time+int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	hs := make([]registry.Header, len(c.Blocks))
	for i, b := range c.Blocks {
		hs[i] = b.Header
	}
	return hs
}

type counting struct {
	h http.Handler
	n atomic.Int64
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.n.Add(1); c.h.ServeHTTP(w, r) }

// A client far behind verifies only the newest headers, each against the
// trusted validators, in a few round trips; its history stays bounded.
func TestSkipFarBehind(t *testing.T) {
	k := newKit(t)
	hs := k.emptyChain(t, SkipGap+50)
	f := &fakeRegistry{}
	f.set(hs, k.commits(t, hs))
	cnt := &counting{h: f}
	srv := httptest.NewServer(cnt)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "headers.jsonl")
	lc, err := New(k.g, srv.URL, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	h, err := lc.Sync(context.Background())
	if err != nil || h.Height != hs[len(hs)-1].Height {
		t.Fatalf("sync far behind: %v %+v", err, h)
	}
	// headers come three per page from the fake registry: about 35
	// requests for the newest 100, not hundreds for every block
	if n := cnt.n.Load(); n > 50 {
		t.Fatalf("%d requests to skip %d blocks", n, len(hs))
	}
	if _, ok := lc.Header(0); ok {
		t.Fatal("a header before the skipped gap is kept")
	}
	if _, ok := lc.Header(h.Height - MaxBatch + 1); !ok {
		t.Fatal("the newest headers are not kept")
	}
	lc.Close()
	// the file holds the window and reopens without the network
	lc2, err := New(k.g, "http://127.0.0.1:1", Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := lc2.Latest(); !ok || l.Height != h.Height {
		t.Fatal("skipped window not persisted")
	}
	lc2.Close()
}

// A skip verifies every header it keeps: a forged commit in the window is
// refused.
func TestSkipRefusesForgedCommit(t *testing.T) {
	k := newKit(t)
	hs := k.emptyChain(t, SkipGap+20)
	cs := k.commits(t, hs)
	cs[len(cs)-5] = enc(t, k.signed(t, &hs[len(hs)-5], k.when(hs[len(hs)-5].Height), k.vals, k.set, 0, 2))
	f := &fakeRegistry{}
	f.set(hs, cs)
	srv := httptest.NewServer(f)
	defer srv.Close()
	lc, _ := New(k.g, srv.URL, Options{})
	if _, err := lc.Sync(context.Background()); !errors.Is(err, ErrInsufficientPower) {
		t.Fatalf("skip over a commit of two of four: %v", err)
	}
	if _, ok := lc.Latest(); ok {
		t.Fatal("headers kept after a refused skip")
	}
}

// The kept history is bounded: older headers and their roots are dropped.
func TestBoundedHistory(t *testing.T) {
	k := newKit(t)
	hs := k.chain(t, 120, 1)
	f := &fakeRegistry{}
	f.set(hs, k.commits(t, hs))
	srv := httptest.NewServer(f)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "headers.jsonl")
	lc, _ := New(k.g, srv.URL, Options{Path: path, History: 50})
	if _, err := lc.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := lc.Header(10); ok {
		t.Fatal("an old header is kept beyond the history bound")
	}
	if _, _, ok := lc.RootInfo(hs[10].CredRoot.El()); ok {
		t.Fatal("an old root is kept beyond the history bound")
	}
	if _, ok := lc.Header(120); !ok {
		t.Fatal("the newest header is missing")
	}
	lc.Close()
	lc2, err := New(k.g, srv.URL, Options{Path: path, History: 50})
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := lc2.Latest(); !ok || l.Height != 120 {
		t.Fatal("pruned file does not reopen")
	}
	if _, err := lc2.Sync(context.Background()); err != nil {
		t.Fatalf("sync after reopening a pruned file: %v", err)
	}
	lc2.Close()
}

// BenchmarkSyncFarBehind measures a wallet offline for 100,000 blocks
// catching up: a fresh client (trust at the genesis validators) verifies
// the newest registry header of a 100,000-block chain of four validators,
// served over loopback HTTP. Light blocks are signed on request by the
// test's validator keys, before the timed loop.
func BenchmarkSyncFarBehind(b *testing.B) {
	k := newKit(b)
	hs := k.longChain(b, 100_000)
	benchSync(b, k, hs, schedule{{from: 1, keys: k.vals, set: k.set}})
}

// BenchmarkSyncAcrossValidatorChanges is BenchmarkSyncFarBehind on a chain
// whose governance replaced each of the four genesis validators in turn
// (at CometBFT heights 20,000, 40,000, 60,000 and 80,000), so that skipping
// bisects.
func BenchmarkSyncAcrossValidatorChanges(b *testing.B) {
	k := newKit(b)
	hs := k.longChain(b, 100_000)
	s, _ := k.replacing(20_000, 20_000)
	benchSync(b, k, hs, s)
}

func benchSync(b *testing.B, k *chainKit, hs []registry.Header, s schedule) {
	k.t0 = time.Now().Add(-48 * time.Hour) // a block a second, up to a day ago
	f := k.lazyRegistry(b, hs, s)
	cnt := &counting{h: f}
	srv := httptest.NewServer(cnt)
	defer srv.Close()
	sync := func() {
		lc, _ := New(k.g, srv.URL, Options{})
		if h, err := lc.Sync(context.Background()); err != nil || h.Height != hs[len(hs)-1].Height {
			b.Fatal(err)
		}
	}
	sync() // signs the light blocks the client asks for
	cnt.n.Store(0)
	for b.Loop() {
		sync()
	}
	b.ReportMetric(float64(cnt.n.Load())/float64(b.N), "requests/op")
}
