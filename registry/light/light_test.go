package light

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
)

// fakeRegistry serves headers from a slice that tests may swap or alter.
type fakeRegistry struct {
	mu sync.Mutex
	hs []registry.Header
}

func (f *fakeRegistry) set(hs []registry.Header) {
	f.mu.Lock()
	f.hs = append([]registry.Header(nil), hs...)
	f.mu.Unlock()
}

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.URL.Path == "/v1/headers/latest":
		json.NewEncoder(w).Encode(f.hs[len(f.hs)-1])
	case r.URL.Path == "/v1/headers":
		from, _ := strconv.Atoi(r.URL.Query().Get("from"))
		to, _ := strconv.Atoi(r.URL.Query().Get("to"))
		to = min(to, len(f.hs)-1, from+2) // small pages exercise paging
		json.NewEncoder(w).Encode(f.hs[from : to+1])
	default:
		http.NotFound(w, r)
	}
}

type chainKit struct {
	g    *registry.Genesis
	prod ed25519.PrivateKey
	uni  ed25519.PrivateKey
}

func newKit(t *testing.T) *chainKit {
	_, uni, _ := ed25519.GenerateKey(nil)
	g, _, prod, err := registry.NewGenesis("light-test", time.Unix(1700000000, 0),
		registry.RegisterIssuer{PubKey: hexKey(uni), Name: "Uni", Kind: "university"})
	if err != nil {
		t.Fatal(err)
	}
	return &chainKit{g: g, prod: prod, uni: uni}
}

func hexKey(k ed25519.PrivateKey) string { return hex.EncodeToString(k.Public().(ed25519.PublicKey)) }

// chain builds n anchoring blocks; seed varies their content.
func (k *chainKit) chain(t *testing.T, n int, seed uint64) []registry.Header {
	c, err := registry.NewChain(k.g, k.prod)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		tx, _ := registry.NewTx(k.g.ChainID, k.uni, uint64(i), registry.Anchor{Commitments: []circuits.Field{circuits.F(circuits.U64(seed*1000 + uint64(i)))}})
		if _, err := c.Submit(tx); err != nil {
			t.Fatal(err)
		}
	}
	hs := make([]registry.Header, len(c.Blocks))
	for i, b := range c.Blocks {
		hs[i] = b.Header
	}
	return hs
}

func TestSyncAndRoots(t *testing.T) {
	k := newKit(t)
	hs := k.chain(t, 7, 1)
	f := &fakeRegistry{}
	f.set(hs[:4])
	srv := httptest.NewServer(f)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "headers.jsonl")
	lc, err := New(k.g, srv.URL, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if h, err := lc.Sync(ctx); err != nil || h.Height != 3 {
		t.Fatal(h, err)
	}
	f.set(hs)
	if h, err := lc.Sync(ctx); err != nil || h.Height != 7 {
		t.Fatal(h, err)
	}
	height, ts, ok := lc.RootInfo(hs[5].CredRoot.El())
	if !ok || height != 5 || !ts.Equal(hs[5].T()) {
		t.Fatalf("root info %d %v %v", height, ts, ok)
	}
	if _, _, ok := lc.RootInfo(circuits.U64(42)); ok {
		t.Fatal("unknown root found")
	}
	lc.Close()
	// reopen from the file: no network needed for known headers
	lc2, err := New(k.g, "http://127.0.0.1:1", Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if h, ok := lc2.Latest(); !ok || h.Height != 7 {
		t.Fatal("headers not persisted")
	}
	lc2.Close()
	// a tampered file is refused
	b, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(b), `"tx_count":1`, `"tx_count":2`, 1)), 0o600)
	if _, err := New(k.g, srv.URL, Options{Path: path}); !errors.Is(err, ErrInvalidHeader) {
		t.Fatalf("tampered file: %v", err)
	}
}

func TestRejects(t *testing.T) {
	k := newKit(t)
	hs := k.chain(t, 4, 1)
	ctx := context.Background()
	run := func(t *testing.T, first, second []registry.Header, want error) {
		t.Helper()
		f := &fakeRegistry{}
		f.set(first)
		srv := httptest.NewServer(f)
		defer srv.Close()
		lc, err := New(k.g, srv.URL, Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = lc.Sync(ctx)
		if second != nil {
			if err != nil {
				t.Fatal(err)
			}
			f.set(second)
			_, err = lc.Sync(ctx)
		}
		if !errors.Is(err, want) {
			t.Fatalf("got %v, want %v", err, want)
		}
	}
	t.Run("forged signature", func(t *testing.T) {
		_, other, _ := ed25519.GenerateKey(nil)
		bad := append([]registry.Header(nil), hs...)
		bad[2].Sign(other)
		run(t, bad, nil, ErrInvalidHeader)
	})
	t.Run("altered header keeps old signature", func(t *testing.T) {
		bad := append([]registry.Header(nil), hs...)
		bad[2].CredRoot = circuits.F(circuits.U64(9))
		run(t, bad, nil, ErrInvalidHeader)
	})
	t.Run("broken hash link, validly signed", func(t *testing.T) {
		bad := append([]registry.Header(nil), hs...)
		bad[3].PrevHash[0] ^= 1
		bad[3].Sign(k.prod)
		run(t, bad, nil, ErrInvalidHeader)
	})
	t.Run("app hash not the hash of its roots, validly signed", func(t *testing.T) {
		bad := append([]registry.Header(nil), hs...)
		bad[2].AppHash[0] ^= 1
		bad[2].Sign(k.prod)
		run(t, bad[:3], nil, ErrInvalidHeader)
	})
	t.Run("wrong genesis", func(t *testing.T) {
		other := newKit(t)
		run(t, other.chain(t, 1, 1), nil, ErrInvalidHeader)
	})
	t.Run("different block at a known height", func(t *testing.T) {
		// the same producer signs a second history: a fork
		run(t, hs, k.chain(t, 4, 2), ErrFork)
	})
	t.Run("longer fork from a known height", func(t *testing.T) {
		run(t, hs[:3], k.chain(t, 6, 2), ErrFork)
	})
	t.Run("rollback", func(t *testing.T) {
		run(t, hs, hs[:2], ErrRollback)
	})
}
