package wallet_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	testenv "github.com/zkcred/zkcred/internal/wallettest"
	"github.com/zkcred/zkcred/wallet"
	"github.com/zkcred/zkcred/wire"
)

// staleWitness sits between the wallet and the registry: while record is
// set it keeps each witness answer, and while replay is not 0 it answers
// witness requests with the kept (older) bucket instead, as a registry
// that picks which root each wallet proves against would. replay counts
// down; a negative replay replaces every answer.
type staleWitness struct {
	mu     sync.Mutex
	record bool
	replay int
	saved  map[string][]byte
	served int // stale answers given
}

func (s *staleWitness) set(record bool, replay int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.record, s.replay = record, replay
}

func (s *staleWitness) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || !strings.HasPrefix(r.URL.Path, "/v1/witness/") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.saved[r.URL.Path]; ok && s.replay != 0 {
		if s.replay > 0 {
			s.replay--
		}
		s.served++
		body = old
	} else if s.record {
		s.saved[r.URL.Path] = body
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// The wallet proves against the newest root its light client verified: a
// witness for an older root (still within the policy's maximum age) is
// fetched again, and refused when no fresh one comes.
func TestPresentRefusesOldWitness(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	tr := &staleWitness{record: true, saved: map[string][]byte{}}
	w := newWalletWith(t, e, wallet.Options{HTTP: &http.Client{Transport: tr}})
	ctx := context.Background()
	if _, err := w.Receive(ctx, e.Issue(w.HolderCommit(), "3.72", time.Time{})); err != nil {
		t.Fatal(err)
	}
	// The bucket the wallet saw on receipt becomes old: another
	// credential is anchored in it.
	tr.set(false, 0)
	e.Issue(w.HolderCommit(), "2.50", time.Time{})

	tr.set(false, -1) // every witness answer is the old bucket
	req, err := w.ReadRequest(ctx, e.Request("graduate"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Present(ctx, req, wallet.PresentOptions{Keys: e.Keys})
	if !errors.Is(err, wallet.ErrStaleWitness) {
		t.Fatalf("old witness bucket: %v, want ErrStaleWitness", err)
	}
	if r, err := e.Result(req.ID); err != nil || r.Status != wire.StatusPending {
		t.Fatalf("the verifier heard something: %+v %v", r, err)
	}

	// One old answer, then the registry's real one: the wallet asks
	// again and proves at the newest block.
	tr.set(false, 1)
	req, err = w.ReadRequest(ctx, e.Request("graduate"))
	if err != nil {
		t.Fatal(err)
	}
	done, err := w.Present(ctx, req, wallet.PresentOptions{Keys: e.Keys})
	if err != nil {
		t.Fatal(err)
	}
	latest, err := e.Registry.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if done.Result.Status != wire.StatusVerified || done.Presentation.Root != latest.CredRoot {
		t.Fatalf("after a refetch: %+v at root %s, want verified at the latest root %s", done.Result, done.Presentation.Root, latest.CredRoot)
	}
	if tr.served < witnessTriesServed {
		t.Fatalf("%d stale answers served; the test did not exercise the refetch", tr.served)
	}
}

// witnessTriesServed: stale answers the test expects at least (every try
// of the refused presentation, and one before the refetch).
const witnessTriesServed = 2

// A request whose minHeight is beyond every block the registry shows the
// wallet is refused before proving: the registry is hiding newer blocks.
func TestPresentRefusesBelowMinHeight(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	w := newWallet(t, e)
	ctx := context.Background()
	if _, err := w.Receive(ctx, e.Issue(w.HolderCommit(), "3.72", time.Time{})); err != nil {
		t.Fatal(err)
	}
	req, err := w.ReadRequest(ctx, e.Request("graduate"))
	if err != nil {
		t.Fatal(err)
	}
	latest, _ := e.Registry.Latest(ctx)
	if req.MinHeight == 0 || req.MinHeight > latest.Height {
		t.Fatalf("request minHeight %d, registry at %d", req.MinHeight, latest.Height)
	}
	req.MinHeight = latest.Height + 1000
	if _, err := w.Present(ctx, req, wallet.PresentOptions{Keys: e.Keys}); !errors.Is(err, wallet.ErrStaleWitness) {
		t.Fatalf("minHeight beyond the registry: %v, want ErrStaleWitness", err)
	}
}
