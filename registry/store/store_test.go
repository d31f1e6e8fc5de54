package store

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/internal/layout"
)

type kit struct {
	dir  string
	g    *registry.Genesis
	prod ed25519.PrivateKey
	uni  ed25519.PrivateKey
	n    uint64
}

// newStore makes a store with a few anchoring blocks, produced the way the
// node does (builder on the store, then Commit).
func newStore(t testing.TB, blocks, perBlock int) (*Store, *kit) {
	t.Helper()
	_, uni, _ := ed25519.GenerateKey(nil)
	g, _, prod, err := registry.NewGenesis("store-test", time.Unix(1700000000, 0),
		registry.RegisterIssuer{PubKey: hex.EncodeToString(uni.Public().(ed25519.PublicKey)), Name: "Uni", Kind: "university"})
	if err != nil {
		t.Fatal(err)
	}
	k := &kit{dir: t.TempDir(), g: g, prod: prod, uni: uni}
	if err := Init(k.dir, g, prod, testOpts); err != nil {
		t.Fatal(err)
	}
	if err := Init(k.dir, g, prod, testOpts); !errors.Is(err, ErrExists) {
		t.Fatalf("second init: %v", err)
	}
	s, err := Open(k.dir, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	for range blocks {
		k.block(t, s, perBlock)
	}
	return s, k
}

func (k *kit) block(t testing.TB, s *Store, n int) {
	latest := s.Latest()
	b, err := registry.NewBuilder(s.Genesis(), s, &latest)
	if err != nil {
		t.Fatal(err)
	}
	for n > 0 {
		m := min(n, registry.MaxAnchor)
		cs := make([]circuits.Field, m)
		for i := range cs {
			cs[i] = circuits.F(circuits.U64(latest.CredSize + uint64(n-i)*7919 + 1))
		}
		n -= m
		k.n++
		tx, _ := registry.NewTx(k.g.ChainID, k.uni, k.n, registry.Anchor{Commitments: cs})
		st, err := registry.VerifyTx(k.g.ChainID, tx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Apply(st); err != nil {
			t.Fatal(err)
		}
	}
	h, txs, w, err := b.Finish(latest.Time + 1000)
	if err != nil {
		t.Fatal(err)
	}
	h.Sign(k.prod)
	if err := s.Commit(&registry.Block{Header: *h, Txs: txs}, w); err != nil {
		t.Fatal(err)
	}
}

// bucketBothWays reads a bucket through the sibling cache and through
// badger alone, and checks that both agree and lead to the root.
func bucketBothWays(t *testing.T, s *Store, i uint64) *registry.Bucket {
	t.Helper()
	cached, err := s.Bucket(i)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.upperAt += 1000 // as if a block committed after the snapshot
	s.mu.Unlock()
	direct, err := s.Bucket(i)
	s.mu.Lock()
	s.upperAt -= 1000
	s.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	cj, _ := json.Marshal(cached)
	dj, _ := json.Marshal(direct)
	if string(cj) != string(dj) {
		t.Fatal("cached and direct buckets differ")
	}
	if _, _, err := cached.Path(i << registry.BucketBits); err != nil {
		t.Fatal(err)
	}
	return cached
}

func TestReopenAndRead(t *testing.T) {
	s, k := newStore(t, 3, 300)
	bucketBothWays(t, s, 2) // cache kept up to date by Commit
	k.block(t, s, 3000)
	bucketBothWays(t, s, 5)
	want := s.Latest()
	s.Close()
	s, err := Open(k.dir, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Latest(); got != want {
		t.Fatal("latest header not kept across reopen")
	}
	bk := bucketBothWays(t, s, 15) // leaves 3840..4095: partly filled
	if _, _, err := bk.Path(3850); err != nil {
		t.Fatal(err)
	}
	if !bk.Leaves[255].IsZero() || bk.Leaves[0].IsZero() {
		t.Fatal("bucket leaves")
	}
	hd, err := s.RootInfo(want.CredRoot.El())
	if err != nil || hd.Height != want.Height {
		t.Fatal("root lookup", err)
	}
	if _, err := s.RootInfo(circuits.U64(3)); !errors.Is(err, registry.ErrNotFound) {
		t.Fatal("unknown root", err)
	}
	hs, _ := s.Headers(1, 2, 10)
	if len(hs) != 2 || hs[0].Height != 1 {
		t.Fatal("headers range")
	}
	wrong := want
	wrong.Height += 5
	if err := s.Commit(&registry.Block{Header: wrong}, nil); err == nil {
		t.Fatal("commit out of order accepted")
	}
	if _, err := Open(t.TempDir(), testOpts); !errors.Is(err, ErrNotInitialised) {
		t.Fatal("open of an empty dir", err)
	}
}

func TestAuditFindsTampering(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, s *Store, k *kit)
		want   string
	}{
		{"untouched", func(*testing.T, *Store, *kit) {}, ""},
		{"tree node changed", func(t *testing.T, s *Store, k *kit) {
			set(t, s, stateKey(layout.NodeKey(layout.CredNode, 0, 5)), make([]byte, 32))
		}, "differs from the replay"},
		{"inner node changed", func(t *testing.T, s *Store, k *kit) {
			e := circuits.U64(77)
			v := e.Bytes()
			set(t, s, stateKey(layout.NodeKey(layout.CredNode, 3, 1)), v[:])
		}, "differs from the replay"},
		{"node deleted", func(t *testing.T, s *Store, k *kit) {
			s.db.Update(func(txn *badger.Txn) error {
				return txn.Delete(stateKey(layout.NodeKey(layout.CredNode, 0, 9)))
			})
		}, "state keys"},
		{"extra leaf", func(t *testing.T, s *Store, k *kit) {
			e := circuits.U64(1)
			v := e.Bytes()
			set(t, s, stateKey(layout.NodeKey(layout.CredNode, 0, 100000)), v[:])
		}, "does not exist in the replay"},
		{"transaction changed", func(t *testing.T, s *Store, k *kit) {
			blk, _ := s.Block(2)
			blk.Txs[0].Payload = []byte(strings.Replace(string(blk.Txs[0].Payload), `"nonce":2`, `"nonce":9`, 1))
			j, _ := json.Marshal(blk.Txs)
			set(t, s, blockKey(2), j)
		}, "bad signature"},
		{"transaction dropped", func(t *testing.T, s *Store, k *kit) {
			set(t, s, blockKey(2), []byte(`[]`))
		}, "replay gives"},
		{"header root changed", func(t *testing.T, s *Store, k *kit) {
			h, _ := s.Header(1)
			h.CredRoot = circuits.F(circuits.U64(1))
			j, _ := json.Marshal(h)
			set(t, s, headerKey(1), j)
		}, "signature does not verify"},
		{"root index points elsewhere", func(t *testing.T, s *Store, k *kit) {
			h, _ := s.Header(2)
			set(t, s, rootKey(h.CredRoot), u64(1))
		}, "root index"},
		{"latest height lowered", func(t *testing.T, s *Store, k *kit) {
			set(t, s, keyLatest, u64(2))
		}, "does not exist in the replay"}, // the state is ahead of the claimed latest block
		{"producer signs a false root", func(t *testing.T, s *Store, k *kit) {
			h, _ := s.Header(3)
			h.CredRoot = circuits.F(circuits.U64(1))
			h.Sign(k.prod)
			j, _ := json.Marshal(h)
			set(t, s, headerKey(3), j)
		}, "replay gives"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, k := newStore(t, 3, 40)
			tc.tamper(t, s, k)
			s = reopen(t, s, k) // as audit runs: on a stopped registry
			defer s.Close()
			rep, err := s.Audit(ctx, nil)
			if tc.want == "" {
				if err != nil || rep.Blocks != 4 || rep.Leaves != 120 {
					t.Fatalf("clean store: %+v %v", rep, err)
				}
				return
			}
			if !errors.Is(err, ErrAudit) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an audit failure with %q", err, tc.want)
			}
		})
	}
}

func set(t *testing.T, s *Store, k, v []byte) {
	t.Helper()
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(k, v) }); err != nil {
		t.Fatal(err)
	}
}

func reopen(t *testing.T, s *Store, k *kit) *Store {
	t.Helper()
	s.Close()
	s2, err := Open(k.dir, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	return s2
}

// testOpts keeps badger's memory small so the many stores of these tests
// open quickly.
var testOpts = Options{Badger: func(o badger.Options) badger.Options {
	return o.WithMemTableSize(8 << 20).WithValueThreshold(64 << 10).WithBlockCacheSize(4 << 20)
}}

// TestOpenRefusesOldGenesisHash: a directory whose block 0 names another
// genesis hash (as every registry made before genesis hash v2 does) is
// refused with ErrOldFormat, not served with a chain that no light client
// accepts.
func TestOpenRefusesOldGenesisHash(t *testing.T) {
	s, k := newStore(t, 1, 1)
	s.Close()
	db, err := openDB(k.dir, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		hj, err := get(txn, headerKey(0))
		if err != nil {
			return err
		}
		var h registry.Header
		if err := json.Unmarshal(hj, &h); err != nil {
			return err
		}
		h.PrevHash[0] ^= 1
		hj, _ = json.Marshal(h)
		return txn.Set(headerKey(0), hj)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(k.dir, testOpts); !errors.Is(err, ErrOldFormat) {
		t.Fatalf("got %v, want ErrOldFormat", err)
	}
}
