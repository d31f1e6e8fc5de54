package store

import (
	"errors"
	"sync"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAcceptOnce(t *testing.T) {
	s := open(t)
	a := Acceptance{RequestID: "r1", Nonce: [32]byte{1}, Digest: []byte("d1"), TTL: time.Hour,
		UseNullifier: true, Scope: [32]byte{9}, Nullifier: [32]byte{7}, Result: []byte(`{"status":"verified"}`)}
	if err := s.Accept(a); err != nil {
		t.Fatal(err)
	}
	if err := s.Accept(a); !errors.Is(err, ErrNonceUsed) {
		t.Fatalf("second use of a nonce: %v", err)
	}
	d, err := s.NonceUse(a.Nonce)
	if err != nil || string(d) != "d1" {
		t.Fatalf("nonce digest: %q %v", d, err)
	}
	// Same nullifier, another request: refused, and the nonce stays unused.
	b := a
	b.RequestID, b.Nonce = "r2", [32]byte{2}
	if err := s.Accept(b); !errors.Is(err, ErrNullifierSeen) {
		t.Fatalf("nullifier reuse: %v", err)
	}
	if _, err := s.NonceUse(b.Nonce); !errors.Is(err, ErrNotFound) {
		t.Fatalf("failed acceptance used the nonce: %v", err)
	}
	// Another scope is a different nullifier space.
	b.Scope = [32]byte{8}
	if err := s.Accept(b); err != nil {
		t.Fatalf("other scope: %v", err)
	}
	if seen, _ := s.NullifierSeen([32]byte{9}, [32]byte{7}); !seen {
		t.Fatal("nullifier not recorded")
	}
	if r, _ := s.Result("r1"); string(r) != `{"status":"verified"}` {
		t.Fatalf("result: %s", r)
	}
}

// TestAcceptRace: many goroutines race for one nonce; exactly one wins.
func TestAcceptRace(t *testing.T) {
	s := open(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Accept(Acceptance{RequestID: "r", Nonce: [32]byte{5}, Digest: []byte{byte(i)}, TTL: time.Hour})
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, ErrNonceUsed) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d winners", wins)
	}
}

func TestExpiryAndPersistence(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{SyncWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutRequest("r", []byte("doc"), 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Accept(Acceptance{RequestID: "r", Nonce: [32]byte{1}, Digest: []byte("d"), TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	// Nonces and requests carry an expiry; nullifiers do not.
	err = s.db.View(func(txn *badger.Txn) error {
		for key, want := range map[string]time.Duration{"r/r": 2 * time.Hour, string(nonceKey([32]byte{1})): time.Hour} {
			it, err := txn.Get([]byte(key))
			if err != nil {
				return err
			}
			left := time.Until(time.Unix(int64(it.ExpiresAt()), 0))
			if left > want || left < want-time.Minute {
				t.Errorf("%q expires in %v, want about %v", key, left, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.GC(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if d, err := s.Request("r"); err != nil || string(d) != "doc" {
		t.Fatalf("request after reopen: %q %v", d, err)
	}
	if _, err := s.NonceUse([32]byte{1}); err != nil {
		t.Fatalf("used nonce forgotten after reopen: %v", err)
	}
}

// TestLargeValues: a request with a full 256-issuer trust list is tens of
// kilobytes, on disk and in memory.
func TestLargeValues(t *testing.T) {
	for _, o := range []Options{{}, {InMemory: true}} {
		dir := t.TempDir()
		if o.InMemory {
			dir = ""
		}
		s, err := Open(dir, o)
		if err != nil {
			t.Fatal(err)
		}
		big := make([]byte, 64<<10)
		if err := s.PutRequest("r", big, time.Hour); err != nil {
			t.Fatalf("in memory %v: %v", o.InMemory, err)
		}
		if got, err := s.Request("r"); err != nil || len(got) != len(big) {
			t.Fatalf("in memory %v: %d bytes, %v", o.InMemory, len(got), err)
		}
		s.Close()
	}
}
