package light

import (
	"bytes"
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

	cmtversion "github.com/cometbft/cometbft/api/cometbft/version/v1"
	"github.com/cometbft/cometbft/crypto"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
)

// fakeRegistry serves headers and their commits from slices that tests
// may swap or alter.
type fakeRegistry struct {
	mu      sync.Mutex
	hs      []registry.Header
	cs      [][]byte // cs[h]: light block for the state after header h
	pageAll bool     // pages of up to 1,000 headers, as the registry's
	// lazy, if set, makes the light block of header h on request (the
	// first ncs of them), instead of cs
	lazy func(h int) []byte
	ncs  int
}

func (f *fakeRegistry) set(hs []registry.Header, cs [][]byte) {
	f.mu.Lock()
	f.hs = append([]registry.Header(nil), hs...)
	f.cs = append([][]byte(nil), cs...)
	f.mu.Unlock()
}

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	from, _ := strconv.Atoi(r.URL.Query().Get("from"))
	to, _ := strconv.Atoi(r.URL.Query().Get("to"))
	switch r.URL.Path {
	case "/v1/headers/latest":
		json.NewEncoder(w).Encode(f.hs[len(f.hs)-1])
	case "/v1/headers":
		if f.pageAll {
			to = min(to, len(f.hs)-1, from+999)
		} else {
			to = min(to, len(f.hs)-1, from+2) // small pages exercise paging
		}
		json.NewEncoder(w).Encode(f.hs[from : to+1])
	case "/v1/commits":
		n := len(f.cs)
		if f.lazy != nil {
			n = f.ncs
		}
		to = min(to, n-1, from+99)
		out := []json.RawMessage{}
		for h := from; h <= to; h++ {
			if f.lazy != nil {
				out = append(out, f.lazy(h))
			} else {
				out = append(out, f.cs[h])
			}
		}
		json.NewEncoder(w).Encode(out)
	default:
		if h, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/v1/headers/")); err == nil && h < len(f.hs) {
			json.NewEncoder(w).Encode(f.hs[h])
			return
		}
		http.NotFound(w, r)
	}
}

type chainKit struct {
	g    *registry.Genesis
	prod ed25519.PrivateKey
	uni  ed25519.PrivateKey
	vals []crypto.PrivKey
	set  *cmttypes.ValidatorSet
	t0   time.Time
}

// newKit makes a chain of four validators of power 1.
func newKit(t testing.TB) *chainKit {
	_, uni, _ := ed25519.GenerateKey(nil)
	g, _, prod, err := registry.NewGenesis("light-test", time.Unix(1700000000, 0),
		registry.RegisterIssuer{PubKey: hexKey(uni), Name: "Uni", Kind: "university"})
	if err != nil {
		t.Fatal(err)
	}
	k := &chainKit{g: g, prod: prod, uni: uni, t0: time.Now().Add(-time.Hour).Truncate(time.Millisecond)}
	for i := range 4 {
		pk := cmted25519.GenPrivKey()
		k.vals = append(k.vals, pk)
		g.Validators = append(g.Validators, registry.GenesisValidator{PubKey: hex.EncodeToString(pk.PubKey().Bytes()), Power: 1, Name: "v" + strconv.Itoa(i)})
	}
	if k.set, err = ValidatorSet(g); err != nil {
		t.Fatal(err)
	}
	return k
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

// signed returns the light block at CometBFT height h.Height+1 carrying
// h's app hash, signed by the validators keys[first:last].
func (k *chainKit) signed(t *testing.T, h *registry.Header, when time.Time, keys []crypto.PrivKey, set *cmttypes.ValidatorSet, first, last int) *cmttypes.LightBlock {
	t.Helper()
	hd := &cmttypes.Header{
		Version:            cmtversion.Consensus{Block: version.BlockProtocol},
		ChainID:            k.g.ChainID,
		Height:             int64(h.Height) + 1,
		Time:               when,
		ValidatorsHash:     set.Hash(),
		NextValidatorsHash: set.Hash(),
		AppHash:            h.AppHash[:],
		ConsensusHash:      make([]byte, 32),
		LastResultsHash:    make([]byte, 32),
		ProposerAddress:    set.Validators[0].Address,
	}
	bid := cmttypes.BlockID{Hash: hd.Hash(), PartSetHeader: cmttypes.PartSetHeader{Total: 1, Hash: make([]byte, 32)}}
	sigs := make([]cmttypes.CommitSig, len(keys))
	for i := range sigs {
		sigs[i] = cmttypes.NewCommitSigAbsent()
	}
	for i := first; i < last; i++ {
		addr := keys[i].PubKey().Address()
		idx, _ := set.GetByAddress(addr)
		v := &cmttypes.Vote{ValidatorAddress: addr, ValidatorIndex: idx, Height: hd.Height, Round: 0, Timestamp: when,
			Type: cmttypes.PrecommitType, BlockID: bid}
		sig, err := keys[i].Sign(cmttypes.VoteSignBytes(k.g.ChainID, v.ToProto()))
		if err != nil {
			t.Fatal(err)
		}
		v.Signature = sig
		sigs[idx] = v.CommitSig()
	}
	return &cmttypes.LightBlock{
		SignedHeader: &cmttypes.SignedHeader{Header: hd, Commit: &cmttypes.Commit{Height: hd.Height, BlockID: bid, Signatures: sigs}},
		ValidatorSet: set,
	}
}

func enc(t *testing.T, lb *cmttypes.LightBlock) []byte {
	t.Helper()
	b, err := cmtjson.Marshal(lb)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (k *chainKit) when(h uint64) time.Time { return k.t0.Add(time.Duration(h) * time.Second) }

// commits signs every header with three of the four validators.
func (k *chainKit) commits(t *testing.T, hs []registry.Header) [][]byte {
	var out [][]byte
	for i := range hs {
		out = append(out, enc(t, k.signed(t, &hs[i], k.when(hs[i].Height), k.vals, k.set, 0, 3)))
	}
	return out
}

func TestSyncAndRoots(t *testing.T) {
	k := newKit(t)
	hs := k.chain(t, 7, 1)
	cs := k.commits(t, hs)
	f := &fakeRegistry{}
	f.set(hs[:4], cs[:4])
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
	// the latest block has no commit yet: verified up to the one before
	f.set(hs, cs[:7])
	if h, err := lc.Sync(ctx); err != nil || h.Height != 6 {
		t.Fatal(h, err)
	}
	f.set(hs, cs)
	if h, err := lc.Sync(ctx); err != nil || h.Height != 7 {
		t.Fatal(h, err)
	}
	// a root's time is the BFT time of the commit that verified it
	height, ts, ok := lc.RootInfo(hs[5].CredRoot.El())
	if !ok || height != 5 || !ts.Equal(k.when(5)) {
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
	if _, ts, _ := lc2.RootInfo(hs[5].CredRoot.El()); !ts.Equal(k.when(5)) {
		t.Fatal("verified time not persisted")
	}
	lc2.Close()
	// a tampered file is refused
	b, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(b), `"tx_count":1`, `"tx_count":2`, 1)), 0o600)
	if _, err := New(k.g, srv.URL, Options{Path: path}); !errors.Is(err, ErrInvalidHeader) {
		t.Fatalf("tampered file: %v", err)
	}
}

func TestNoCommitYet(t *testing.T) {
	k := newKit(t)
	hs := k.chain(t, 0, 1)
	f := &fakeRegistry{}
	f.set(hs, nil)
	srv := httptest.NewServer(f)
	defer srv.Close()
	lc, _ := New(k.g, srv.URL, Options{})
	if _, err := lc.Sync(context.Background()); !errors.Is(err, ErrNoCommit) {
		t.Fatalf("sync of a chain without commits: %v", err)
	}
}

func TestRejects(t *testing.T) {
	k := newKit(t)
	hs := k.chain(t, 4, 1)
	cs := k.commits(t, hs)
	ctx := context.Background()
	run := func(t *testing.T, first []registry.Header, fc [][]byte, second []registry.Header, sc [][]byte, want error) {
		t.Helper()
		f := &fakeRegistry{}
		f.set(first, fc)
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
			f.set(second, sc)
			_, err = lc.Sync(ctx)
		}
		if !errors.Is(err, want) {
			t.Fatalf("got %v, want %v", err, want)
		}
	}
	with := func(i int, lb []byte) [][]byte {
		c := append([][]byte(nil), cs...)
		c[i] = lb
		return c
	}
	t.Run("commit by two of four", func(t *testing.T) {
		run(t, hs, with(2, enc(t, k.signed(t, &hs[2], k.when(2), k.vals, k.set, 0, 2))), nil, nil, ErrInsufficientPower)
	})
	t.Run("forged signature", func(t *testing.T) {
		lb := k.signed(t, &hs[2], k.when(2), k.vals, k.set, 0, 3)
		for i := range lb.Commit.Signatures {
			if len(lb.Commit.Signatures[i].Signature) > 0 {
				lb.Commit.Signatures[i].Signature[0] ^= 1
				break
			}
		}
		run(t, hs, with(2, enc(t, lb)), nil, nil, ErrInvalidHeader)
	})
	t.Run("signed by validators nobody trusts", func(t *testing.T) {
		var others []crypto.PrivKey
		var vs []*cmttypes.Validator
		for range 4 {
			pk := cmted25519.GenPrivKey()
			others = append(others, pk)
			vs = append(vs, cmttypes.NewValidator(pk.PubKey(), 1))
		}
		set := cmttypes.NewValidatorSet(vs)
		run(t, hs, with(2, enc(t, k.signed(t, &hs[2], k.when(2), others, set, 0, 4))), nil, nil, ErrInvalidHeader)
	})
	t.Run("replayed commit of another height", func(t *testing.T) {
		run(t, hs, with(3, cs[2]), nil, nil, ErrInvalidHeader)
	})
	t.Run("altered root under a valid commit", func(t *testing.T) {
		bad := append([]registry.Header(nil), hs...)
		bad[4].CredRoot = circuits.F(circuits.U64(9))
		run(t, bad, cs, nil, nil, ErrInvalidHeader)
	})
	t.Run("valid commit for an invented root", func(t *testing.T) {
		// the app hash the validators signed is that of the real block:
		// a header with another root, signed as if, does not match it
		bad := append([]registry.Header(nil), hs...)
		bad[4].CredRoot = circuits.F(circuits.U64(9))
		lb := k.signed(t, &hs[4], k.when(4), k.vals, k.set, 0, 3)
		run(t, bad, with(4, enc(t, lb)), nil, nil, ErrInvalidHeader)
	})
	t.Run("header from the future", func(t *testing.T) {
		lb := k.signed(t, &hs[4], time.Now().Add(time.Minute), k.vals, k.set, 0, 3)
		run(t, hs, with(4, enc(t, lb)), nil, nil, ErrFutureHeader)
	})
	t.Run("garbage commit", func(t *testing.T) {
		run(t, hs, with(1, []byte(`{"signed_header":null}`)), nil, nil, ErrInvalidHeader)
	})
	t.Run("broken hash link", func(t *testing.T) {
		bad := append([]registry.Header(nil), hs...)
		bad[3].PrevHash[0] ^= 1
		run(t, bad, k.commits(t, bad), nil, nil, ErrInvalidHeader)
	})
	t.Run("app hash not the hash of its roots, validly signed", func(t *testing.T) {
		bad := append([]registry.Header(nil), hs...)
		bad[2].AppHash[0] ^= 1
		run(t, bad[:3], k.commits(t, bad[:3]), nil, nil, ErrInvalidHeader)
	})
	t.Run("wrong genesis", func(t *testing.T) {
		other := newKit(t)
		oh := other.chain(t, 1, 1)
		run(t, oh, other.commits(t, oh), nil, nil, ErrInvalidHeader)
	})
	t.Run("different block at a known height", func(t *testing.T) {
		h2 := k.chain(t, 4, 2)
		run(t, hs, cs, h2, k.commits(t, h2), ErrFork)
	})
	t.Run("longer fork from a known height", func(t *testing.T) {
		h2 := k.chain(t, 6, 2)
		run(t, hs[:3], cs[:3], h2, k.commits(t, h2), ErrFork)
	})
	t.Run("rollback", func(t *testing.T) {
		run(t, hs, cs, hs[:2], cs[:2], ErrRollback)
	})
}

func cmtjsonMarshal(lb *cmttypes.LightBlock) ([]byte, error) { return cmtjson.Marshal(lb) }

// TestCheckAnchor: a trust anchor is a CometBFT height of 1 or more and a
// 32-byte header hash; New refuses a half or malformed one.
func TestCheckAnchor(t *testing.T) {
	k := newKit(t)
	h32 := bytes.Repeat([]byte{1}, 32)
	if err := CheckAnchor(5, h32); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		height int64
		hash   []byte
	}{{0, h32}, {-1, h32}, {5, nil}, {5, h32[:31]}, {5, append(h32, 0)}} {
		if err := CheckAnchor(c.height, c.hash); err == nil {
			t.Errorf("anchor %d %x accepted", c.height, c.hash)
		}
		if _, err := New(k.g, "http://127.0.0.1:1", Options{TrustHeight: c.height, TrustHash: c.hash}); err == nil || !strings.Contains(err.Error(), "trust anchor") {
			t.Errorf("New with anchor %d %x: %v", c.height, c.hash, err)
		}
	}
}
