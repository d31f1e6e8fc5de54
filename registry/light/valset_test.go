package light

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cmtversion "github.com/cometbft/cometbft/api/cometbft/version/v1"
	"github.com/cometbft/cometbft/crypto"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"

	"github.com/zkcred/zkcred/registry"
)

// era is a validator set in force from a CometBFT height on, with the keys
// of its members.
type era struct {
	from int64
	keys []crypto.PrivKey
	set  *cmttypes.ValidatorSet
}

// schedule is a chain's validator sets by CometBFT height, as governance's
// update_validators changes them.
type schedule []era

func newEra(from int64, keys ...crypto.PrivKey) era {
	var vs []*cmttypes.Validator
	for _, k := range keys {
		vs = append(vs, cmttypes.NewValidator(k.PubKey(), 1))
	}
	return era{from: from, keys: keys, set: cmttypes.NewValidatorSet(vs)}
}

func (s schedule) at(h int64) era {
	e := s[0]
	for _, x := range s {
		if x.from <= h {
			e = x
		}
	}
	return e
}

// replacing returns the schedule that starts with the kit's four genesis
// validators and, every `every` CometBFT heights from `first`, replaces one
// more of them with a new validator, until none of the four is left.
func (k *chainKit) replacing(first, every int64) (schedule, []crypto.PrivKey) {
	keys := append([]crypto.PrivKey(nil), k.vals...)
	s := schedule{{from: 1, keys: k.vals, set: k.set}}
	var fresh []crypto.PrivKey
	for i := range 4 {
		n := cmted25519.GenPrivKey()
		fresh = append(fresh, n)
		keys = append(append([]crypto.PrivKey(nil), keys[1:]...), n)
		s = append(s, newEra(first+int64(i)*every, keys...))
	}
	return s, fresh
}

// sign returns the light block at CometBFT height height with the given
// app hash and time, naming set and next as its validators and the next
// block's, signed by signers (members of set).
func sign(tb testing.TB, chainID string, height int64, app []byte, when time.Time, set, next *cmttypes.ValidatorSet, signers []crypto.PrivKey) *cmttypes.LightBlock {
	tb.Helper()
	hd := &cmttypes.Header{
		Version:            cmtversion.Consensus{Block: version.BlockProtocol},
		ChainID:            chainID,
		Height:             height,
		Time:               when,
		ValidatorsHash:     set.Hash(),
		NextValidatorsHash: next.Hash(),
		AppHash:            app,
		ConsensusHash:      make([]byte, 32),
		LastResultsHash:    make([]byte, 32),
		ProposerAddress:    set.Validators[0].Address,
	}
	bid := cmttypes.BlockID{Hash: hd.Hash(), PartSetHeader: cmttypes.PartSetHeader{Total: 1, Hash: make([]byte, 32)}}
	sigs := make([]cmttypes.CommitSig, set.Size())
	for i := range sigs {
		sigs[i] = cmttypes.NewCommitSigAbsent()
	}
	for _, key := range signers {
		addr := key.PubKey().Address()
		idx, _ := set.GetByAddress(addr)
		if idx < 0 {
			tb.Fatalf("signer %X is not in the set", addr)
		}
		v := &cmttypes.Vote{ValidatorAddress: addr, ValidatorIndex: idx, Height: height, Type: cmttypes.PrecommitType, BlockID: bid, Timestamp: when}
		sig, err := key.Sign(cmttypes.VoteSignBytes(chainID, v.ToProto()))
		if err != nil {
			tb.Fatal(err)
		}
		v.Signature = sig
		sigs[idx] = v.CommitSig()
	}
	return &cmttypes.LightBlock{
		SignedHeader: &cmttypes.SignedHeader{Header: hd, Commit: &cmttypes.Commit{Height: height, BlockID: bid, Signatures: sigs}},
		ValidatorSet: set,
	}
}

// scheduled signs header h's light block with three of the four
// validators in force at CometBFT height h+1.
func (k *chainKit) scheduled(tb testing.TB, s schedule, h *registry.Header) []byte {
	height := int64(h.Height) + 1
	e := s.at(height)
	lb := sign(tb, k.g.ChainID, height, h.AppHash[:], k.when(h.Height), e.set, s.at(height+1).set, e.keys[:3])
	b, err := cmtjsonMarshal(lb)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// longChain extends block 0 of the kit's chain to n empty blocks, cheaply:
// an empty block keeps its predecessor's roots.
func (k *chainKit) longChain(tb testing.TB, n int) []registry.Header {
	c, err := registry.NewChain(k.g, k.prod)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := c.Commit(c.Next(), k.g.Time+1); err != nil {
		tb.Fatal(err)
	}
	hs := make([]registry.Header, n+1)
	hs[0], hs[1] = c.Blocks[0].Header, c.Blocks[1].Header
	for i := 2; i <= n; i++ {
		h := hs[i-1]
		h.Height, h.PrevHash, h.Time, h.Signature = uint64(i), hs[i-1].Hash(), hs[i-1].Time+1, ""
		hs[i] = h
	}
	return hs
}

// lazyRegistry serves hs with light blocks signed on request under s.
func (k *chainKit) lazyRegistry(tb testing.TB, hs []registry.Header, s schedule) *fakeRegistry {
	cache := map[int][]byte{}
	f := &fakeRegistry{pageAll: true, ncs: len(hs)}
	f.hs = hs
	f.lazy = func(h int) []byte {
		if b, ok := cache[h]; ok {
			return b
		}
		b := k.scheduled(tb, s, &hs[h])
		cache[h] = b
		return b
	}
	return f
}

// A client follows the validator set as governance changes it: synced
// block by block across the changes, and, offline while every genesis
// validator was replaced, it catches up by skipping, in a few light blocks
// (bisection) and the newest window.
func TestFollowsValidatorChanges(t *testing.T) {
	k := newKit(t)
	s, _ := k.replacing(5, 3)
	hs := k.longChain(t, 30)
	f := k.lazyRegistry(t, hs, s)
	srv := httptest.NewServer(f)
	defer srv.Close()
	lc, err := New(k.g, srv.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if h, err := lc.Sync(context.Background()); err != nil || h.Height != 30 {
		t.Fatalf("sync across validator changes: %v %+v", err, h)
	}

	// far behind across every change
	hs = k.longChain(t, SkipGap+500)
	s, _ = k.replacing(200, 150)
	f = k.lazyRegistry(t, hs, s)
	f.ncs = 11 // the client first sees blocks 0..10, under the genesis set
	cnt := &counting{h: f}
	srv2 := httptest.NewServer(cnt)
	defer srv2.Close()
	path := filepath.Join(t.TempDir(), "headers.jsonl")
	lc, _ = New(k.g, srv2.URL, Options{Path: path})
	f.mu.Lock()
	f.hs = hs[:11]
	f.mu.Unlock()
	if h, err := lc.Sync(context.Background()); err != nil || h.Height != 10 {
		t.Fatalf("first sync: %v %+v", err, h)
	}
	f.mu.Lock()
	f.hs, f.ncs = hs, len(hs)
	f.mu.Unlock()
	cnt.n.Store(0)
	h, err := lc.Sync(context.Background())
	if err != nil || h.Height != uint64(len(hs)-1) {
		t.Fatalf("sync far behind across four validator changes: %v %+v", err, h)
	}
	if n := cnt.n.Load(); n > 20 {
		t.Fatalf("%d requests to catch up across %d blocks", n, len(hs))
	}
	height, _, _ := lc.Trusted()
	if got, want := height, int64(len(hs)); got != want {
		t.Fatalf("trusted CometBFT block %d, want %d", got, want)
	}
	lc.Close()
	// reopened, the client goes on from the trusted block it saved
	lc, err = New(k.g, srv2.URL, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if th, _, ok := lc.Trusted(); !ok || th != int64(len(hs)) {
		t.Fatalf("trusted block not persisted: %d %v", th, ok)
	}
	lc.Close()
}

// Once the client has followed the set past a change, a header signed by
// validators that have left the set is refused, whether it is the next
// block or one far ahead, even when every genesis validator signs it.
func TestRefusesRetiredValidators(t *testing.T) {
	k := newKit(t)
	s, _ := k.replacing(5, 3)
	all := k.longChain(t, SkipGap+100)
	hs := all[:31]
	f := k.lazyRegistry(t, hs, s)
	f.ncs = 30 // the commit of header 30 is to come
	srv := httptest.NewServer(f)
	defer srv.Close()
	lc, _ := New(k.g, srv.URL, Options{})
	if h, err := lc.Sync(context.Background()); err != nil || h.Height != 29 {
		t.Fatalf("sync: %v %+v", err, h)
	}
	genesis := s[0]
	forge := func(h *registry.Header, set *cmttypes.ValidatorSet, signers []crypto.PrivKey) []byte {
		height := int64(h.Height) + 1
		b, _ := cmtjsonMarshal(sign(t, k.g.ChainID, height, h.AppHash[:], k.when(h.Height), set, set, signers))
		return b
	}
	cases := map[string][]byte{
		// the genesis validators, all four, sign under their own set
		"genesis set": forge(&hs[30], genesis.set, genesis.keys),
	}
	for name, lb := range cases {
		t.Run("next block, "+name, func(t *testing.T) {
			f.mu.Lock()
			f.lazy, f.ncs = func(h int) []byte {
				if h == 30 {
					return lb
				}
				return k.scheduled(t, s, &hs[h])
			}, 31
			f.mu.Unlock()
			_, err := lc.Sync(context.Background())
			if !errors.Is(err, ErrInvalidHeader) {
				t.Fatalf("a block signed by retired validators: %v", err)
			}
			if l, _ := lc.Latest(); l.Height != 29 {
				t.Fatal("the forged block was kept")
			}
		})
	}
	// a block far ahead: a skip must not trust it either
	far := &all[len(all)-MaxBatch] // the first of the window a skip verifies
	forged := forge(far, genesis.set, genesis.keys)
	f.mu.Lock()
	f.hs, f.ncs = all, len(all)
	f.lazy = func(h int) []byte {
		if h == int(far.Height) {
			return forged
		}
		return k.scheduled(t, s, &all[h])
	}
	f.mu.Unlock()
	if _, err := lc.Sync(context.Background()); !errors.Is(err, ErrInvalidHeader) {
		t.Fatalf("skip to a window holding a block signed by retired validators: %v", err)
	}
	// and the chain as it is, signed by the validators in force, verifies
	f.mu.Lock()
	f.lazy = func(h int) []byte { return k.scheduled(t, s, &all[h]) }
	f.mu.Unlock()
	if h, err := lc.Sync(context.Background()); err != nil || h.Height != uint64(len(all)-1) {
		t.Fatalf("sync of the honest chain: %v", err)
	}
}

// A client whose newest trusted block is older than the trust period
// refuses to go on and says how to re-anchor; re-anchored at a recent block
// (height and hash), it syncs again. An anchor with another hash, or itself
// too old, is refused.
func TestTrustPeriod(t *testing.T) {
	k := newKit(t)
	hs := k.longChain(t, 40)
	s := schedule{{from: 1, keys: k.vals, set: k.set}}
	f := k.lazyRegistry(t, hs, s)
	f.ncs = 11
	srv := httptest.NewServer(f)
	defer srv.Close()
	now := time.Now()
	clock := func() time.Time { return now }
	path := filepath.Join(t.TempDir(), "headers.jsonl")
	lc, _ := New(k.g, srv.URL, Options{Path: path, Now: clock, TrustPeriod: time.Hour + 20*time.Second})
	if _, err := lc.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	lc.Close()
	// 40 s later the blocks after 10 appear: the trusted block (dated an
	// hour minus 10 s before the test's start, trusted for an hour and 20 s)
	// has expired; block 35 (an hour minus 35 s before) has not
	now = now.Add(40 * time.Second)
	f.mu.Lock()
	f.ncs = len(hs)
	f.mu.Unlock()
	lc, _ = New(k.g, srv.URL, Options{Path: path, Now: clock, TrustPeriod: time.Hour + 20*time.Second})
	_, err := lc.Sync(context.Background())
	if !errors.Is(err, ErrTrustExpired) || !strings.Contains(err.Error(), "re-anchor") {
		t.Fatalf("sync from an expired trusted block: %v", err)
	}
	if l, _ := lc.Latest(); l.Height != 10 {
		t.Fatal("headers accepted from an expired trusted block")
	}
	lc.Close()
	// a fresh client, whose root of trust is the chain's first block, is
	// refused as well
	fresh, _ := New(k.g, srv.URL, Options{Now: clock, TrustPeriod: time.Hour})
	if _, err := fresh.Sync(context.Background()); !errors.Is(err, ErrTrustExpired) {
		t.Fatalf("fresh client on a chain older than the trust period: %v", err)
	}

	lbOf := func(h int) *cmttypes.LightBlock {
		lb, err := parseLightBlock(k.g.ChainID, f.lazy(h))
		if err != nil {
			t.Fatal(err)
		}
		return lb
	}
	recent := lbOf(35)
	opts := func(h int64, hash []byte) Options {
		return Options{Path: path, Now: clock, TrustPeriod: time.Hour + 20*time.Second, TrustHeight: h, TrustHash: hash}
	}
	wrong := bytes.Clone(recent.Hash())
	wrong[0] ^= 1
	lc, _ = New(k.g, srv.URL, opts(recent.Height, wrong))
	if _, err := lc.Sync(context.Background()); !errors.Is(err, ErrInvalidHeader) {
		t.Fatalf("anchor with a wrong hash: %v", err)
	}
	lc.Close()
	old := lbOf(12)
	lc, _ = New(k.g, srv.URL, opts(old.Height, old.Hash()))
	if _, err := lc.Sync(context.Background()); !errors.Is(err, ErrTrustExpired) {
		t.Fatalf("anchor older than the trust period: %v", err)
	}
	lc.Close()
	lc, _ = New(k.g, srv.URL, opts(recent.Height, recent.Hash()))
	if h, err := lc.Sync(context.Background()); err != nil || h.Height != 40 {
		t.Fatalf("sync after re-anchoring: %v %+v", err, h)
	}
	if _, ok := lc.Header(10); ok {
		t.Fatal("headers from before the anchor are kept")
	}
	lc.Close()
	// the anchor is kept: reopened without it, the client goes on
	lc, _ = New(k.g, srv.URL, Options{Path: path, Now: clock, TrustPeriod: time.Hour + 20*time.Second})
	if h, err := lc.Sync(context.Background()); err != nil || h.Height != 40 {
		t.Fatalf("sync after reopening: %v", err)
	}
	lc.Close()
}

// A file written before the trust file existed loads, and its client
// verifies on from the genesis validators.
func TestHeadersFileWithoutTrust(t *testing.T) {
	k := newKit(t)
	hs := k.chain(t, 6, 1)
	cs := k.commits(t, hs)
	f := &fakeRegistry{}
	f.set(hs[:4], cs[:4])
	srv := httptest.NewServer(f)
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "headers.jsonl")
	lc, _ := New(k.g, srv.URL, Options{Path: path})
	if _, err := lc.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	lc.Close()
	if err := os.Remove(path + TrustSuffix); err != nil {
		t.Fatal(err)
	}
	f.set(hs, cs)
	lc, err := New(k.g, srv.URL, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if h, err := lc.Sync(context.Background()); err != nil || h.Height != 6 {
		t.Fatalf("sync from a file without trust: %v %+v", err, h)
	}
	lc.Close()
}
