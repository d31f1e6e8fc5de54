package abci

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/dgraph-io/badger/v4"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/store"
)

var ctx = context.Background()

var testStore = store.Options{Badger: func(o badger.Options) badger.Options {
	return o.WithMemTableSize(8 << 20).WithValueThreshold(64 << 10).WithBlockCacheSize(4 << 20)
}}

type kit struct {
	g     *registry.Genesis
	gov   ed25519.PrivateKey
	prod  ed25519.PrivateKey
	uni   ed25519.PrivateKey
	nonce uint64
}

func newKit(t testing.TB) *kit {
	t.Helper()
	_, uni, _ := ed25519.GenerateKey(nil)
	g, gov, prod, err := registry.NewGenesis("abci-test", time.Unix(1700000000, 0),
		registry.RegisterIssuer{PubKey: hex.EncodeToString(uni.Public().(ed25519.PublicKey)), Name: "Uni", Kind: "university"})
	if err != nil {
		t.Fatal(err)
	}
	return &kit{g: g, gov: gov, prod: prod, uni: uni}
}

// open initialises and opens a store in dir with an app over it.
func (k *kit) open(t testing.TB, dir string, opts Options) *App {
	t.Helper()
	if err := store.Init(dir, k.g, k.prod, testStore); err != nil {
		t.Fatal(err)
	}
	return k.reopen(t, dir, opts)
}

func (k *kit) reopen(t testing.TB, dir string, opts Options) *App {
	t.Helper()
	st, err := store.Open(dir, testStore)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return New(st, opts)
}

// anchor returns an encoded anchor transaction of n commitments.
func (k *kit) anchor(t testing.TB, n int) []byte {
	t.Helper()
	k.nonce++
	cs := make([]circuits.Field, n)
	for i := range cs {
		cs[i] = circuits.F(circuits.U64(k.nonce*100000 + uint64(i) + 1))
	}
	return k.encode(t, k.uni, k.nonce, registry.Anchor{Commitments: cs})
}

func (k *kit) encode(t testing.TB, key ed25519.PrivateKey, nonce uint64, body registry.Body) []byte {
	t.Helper()
	tx, err := registry.NewTx(k.g.ChainID, key, nonce, body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(tx)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func initChain(t testing.TB, a *App) []byte {
	t.Helper()
	gj, _ := json.Marshal(a.g)
	res, err := a.InitChain(ctx, &abcitypes.InitChainRequest{ChainId: a.g.ChainID, InitialHeight: 1, AppStateBytes: gj})
	if err != nil {
		t.Fatal(err)
	}
	return res.AppHash
}

// block finalizes and commits one block.
func block(t testing.TB, a *App, when time.Time, txs ...[]byte) *abcitypes.FinalizeBlockResponse {
	t.Helper()
	res := finalize(t, a, when, txs...)
	if _, err := a.Commit(ctx, &abcitypes.CommitRequest{}); err != nil {
		t.Fatal(err)
	}
	return res
}

func finalize(t testing.TB, a *App, when time.Time, txs ...[]byte) *abcitypes.FinalizeBlockResponse {
	t.Helper()
	h := a.st.Latest().Height + 1
	res, err := a.FinalizeBlock(ctx, &abcitypes.FinalizeBlockRequest{Height: int64(h), Time: when, Txs: txs})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func checkCode(t testing.TB, a *App, tx []byte) uint32 {
	t.Helper()
	res, err := a.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: tx, Type: abcitypes.CHECK_TX_TYPE_CHECK})
	if err != nil {
		t.Fatal(err)
	}
	return res.Code
}

func TestBlockFlow(t *testing.T) {
	k := newKit(t)
	var outs []Outcome
	a := k.open(t, t.TempDir(), Options{OnCommit: func(_ *registry.Header, o []Outcome) { outs = o }})
	h0 := a.st.Latest()
	if got := initChain(t, a); !bytes.Equal(got, AppHash(&h0)) {
		t.Fatalf("InitChain app hash %x, want block 0's %x", got, AppHash(&h0))
	}
	info, _ := a.Info(ctx, &abcitypes.InfoRequest{})
	if info.LastBlockHeight != 0 || !bytes.Equal(info.LastBlockAppHash, AppHash(&h0)) {
		t.Fatalf("Info at genesis: %d %x", info.LastBlockHeight, info.LastBlockAppHash)
	}

	tx1 := k.anchor(t, 3)
	if c := checkCode(t, a, tx1); c != CodeOK {
		t.Fatalf("CheckTx of a valid anchor: code %d", c)
	}
	replayed := k.encode(t, k.uni, k.nonce, registry.Anchor{Commitments: []circuits.Field{circuits.F(circuits.U64(9))}})
	when := time.Unix(1700000100, 0)
	res := block(t, a, when, tx1, replayed)
	h1 := a.st.Latest()
	if h1.Height != 1 || h1.CredSize != 3 || h1.TxCount != 1 || h1.Time != when.UnixMilli() {
		t.Fatalf("block 1: %+v", h1)
	}
	if !bytes.Equal(res.AppHash, AppHash(&h1)) {
		t.Fatal("FinalizeBlock app hash is not the committed header's")
	}
	if res.TxResults[0].Code != CodeOK || res.TxResults[1].Code != CodeConflict {
		t.Fatalf("tx results %d %d, want ok and conflict (same nonce twice in a block)", res.TxResults[0].Code, res.TxResults[1].Code)
	}
	var rc registry.Receipt
	if err := json.Unmarshal(res.TxResults[0].Data, &rc); err != nil || rc.Count != 3 || rc.Height != 1 {
		t.Fatalf("receipt %+v %v", rc, err)
	}
	if len(outs) != 2 || outs[0].Receipt == nil || outs[1].Err == nil {
		t.Fatalf("outcomes %+v", outs)
	}
	info, _ = a.Info(ctx, &abcitypes.InfoRequest{})
	if info.LastBlockHeight != 1 || !bytes.Equal(info.LastBlockAppHash, AppHash(&h1)) {
		t.Fatalf("Info after block 1: %d %x", info.LastBlockHeight, info.LastBlockAppHash)
	}
	// the committed nonce now refuses the replay in CheckTx
	if c := checkCode(t, a, replayed); c != CodeConflict {
		t.Fatalf("CheckTx of a replayed nonce: code %d, want %d", c, CodeConflict)
	}
	// InitChain on a chain that has blocks
	if _, err := a.InitChain(ctx, &abcitypes.InitChainRequest{ChainId: a.g.ChainID}); err == nil {
		t.Fatal("InitChain at height 1 accepted")
	}
	// FinalizeBlock at a height that does not follow
	if _, err := a.FinalizeBlock(ctx, &abcitypes.FinalizeBlockRequest{Height: 5, Time: when}); err == nil {
		t.Fatal("FinalizeBlock at height 5 after 1 accepted")
	}
	if _, err := a.Commit(ctx, &abcitypes.CommitRequest{}); err == nil {
		t.Fatal("Commit without FinalizeBlock accepted")
	}
	// block time is BFT time, never going back
	block(t, a, when.Add(-time.Hour))
	if h2 := a.st.Latest(); h2.Time != h1.Time {
		t.Fatalf("block 2 time %d before block 1's %d", h2.Time, h1.Time)
	}
}

func TestInitChainRefusesOtherGenesis(t *testing.T) {
	k := newKit(t)
	a := k.open(t, t.TempDir(), Options{})
	if _, err := a.InitChain(ctx, &abcitypes.InitChainRequest{ChainId: "other"}); err == nil {
		t.Fatal("InitChain for another chain ID accepted")
	}
	other := newKit(t)
	gj, _ := json.Marshal(other.g)
	if _, err := a.InitChain(ctx, &abcitypes.InitChainRequest{ChainId: a.g.ChainID, AppStateBytes: gj}); err == nil {
		t.Fatal("InitChain with another registry genesis accepted")
	}
	if _, err := a.InitChain(ctx, &abcitypes.InitChainRequest{ChainId: a.g.ChainID, AppStateBytes: []byte("{")}); err == nil {
		t.Fatal("InitChain with malformed app state accepted")
	}
}

func TestCheckTxRefuses(t *testing.T) {
	k := newKit(t)
	a := k.open(t, t.TempDir(), Options{MaxBlockLeaves: 10})
	good := k.anchor(t, 2)
	var tx registry.Tx
	json.Unmarshal(good, &tx)

	forged := tx
	sig, _ := hex.DecodeString(tx.Signature)
	sig[0] ^= 1
	forged.Signature = hex.EncodeToString(sig)
	fb, _ := json.Marshal(forged)

	_, stranger, _ := ed25519.GenerateKey(nil)
	unknown := k.encode(t, stranger, 1, registry.Anchor{Commitments: []circuits.Field{circuits.F(circuits.U64(1))}})
	notGov := k.encode(t, k.uni, 50, registry.PublishCircuit{Circuit: "x", VKHash: hex.EncodeToString(make([]byte, 32))})
	otherChain := &kit{g: &registry.Genesis{ChainID: "other-chain"}}
	wrongChain := otherChain.encode(t, k.uni, 51, registry.Anchor{Commitments: []circuits.Field{circuits.F(circuits.U64(1))}})
	for _, c := range []struct {
		name string
		tx   []byte
		code uint32
	}{
		{"garbage", []byte("not json"), CodeInvalid},
		{"empty", nil, CodeInvalid},
		{"forged signature", fb, CodeForbidden},
		{"other chain", wrongChain, CodeForbidden},
		{"unknown issuer", unknown, CodeForbidden},
		{"issuer signs governance", notGov, CodeForbidden},
		{"beyond the block weight", k.anchor(t, 11), CodeTooLarge},
		{"valid", good, CodeOK},
	} {
		if got := checkCode(t, a, c.tx); got != c.code {
			t.Errorf("%s: code %d, want %d", c.name, got, c.code)
		}
	}
}

func TestProposalLimits(t *testing.T) {
	k := newKit(t)
	a := k.open(t, t.TempDir(), Options{MaxBlockTxs: 2, MaxBlockLeaves: 5})
	t1, t2, t3 := k.anchor(t, 2), k.anchor(t, 2), k.anchor(t, 2)
	pp, err := a.PrepareProposal(ctx, &abcitypes.PrepareProposalRequest{Txs: [][]byte{[]byte("junk"), t1, t2, t3}, MaxTxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(pp.Txs) != 2 || !bytes.Equal(pp.Txs[0], t1) || !bytes.Equal(pp.Txs[1], t2) {
		t.Fatalf("PrepareProposal kept %d txs, want the two that fit", len(pp.Txs))
	}
	// MaxTxBytes from CometBFT bounds the bytes too
	pp, _ = a.PrepareProposal(ctx, &abcitypes.PrepareProposalRequest{Txs: [][]byte{t1, t2}, MaxTxBytes: int64(len(t1))})
	if len(pp.Txs) != 1 {
		t.Fatalf("PrepareProposal kept %d txs within %d bytes, want 1", len(pp.Txs), len(t1))
	}
	status := func(txs ...[]byte) abcitypes.ProcessProposalStatus {
		r, err := a.ProcessProposal(ctx, &abcitypes.ProcessProposalRequest{Txs: txs, Height: 1})
		if err != nil {
			t.Fatal(err)
		}
		return r.Status
	}
	if s := status(t1, t2); s != abcitypes.PROCESS_PROPOSAL_STATUS_ACCEPT {
		t.Fatalf("ProcessProposal of a block within limits: %v", s)
	}
	if s := status(t1, t2, t3); s != abcitypes.PROCESS_PROPOSAL_STATUS_REJECT {
		t.Fatalf("ProcessProposal of 3 txs with a limit of 2: %v", s)
	}
	if s := status(k.anchor(t, 3), k.anchor(t, 3)); s != abcitypes.PROCESS_PROPOSAL_STATUS_REJECT {
		t.Fatalf("ProcessProposal beyond the weight: %v", s)
	}
	if s := status(t1, []byte(`{"payload":{},"signature":""}`)); s != abcitypes.PROCESS_PROPOSAL_STATUS_REJECT {
		t.Fatalf("ProcessProposal with a malformed tx: %v", s)
	}
}

// A crash between FinalizeBlock and Commit loses the finalized block (only
// memory held it); the store reports the previous height, the handshake
// replays the block, and the state equals that of a chain that never
// crashed: nothing applied twice, nothing lost.
func TestCrashBetweenFinalizeAndCommit(t *testing.T) {
	k := newKit(t)
	dir := t.TempDir()
	a := k.open(t, dir, Options{})
	initChain(t, a)
	t0 := time.Unix(1700000100, 0)
	blocks := [][][]byte{{k.anchor(t, 5)}, {k.anchor(t, 7), k.anchor(t, 1)}, {}, {k.anchor(t, 4)}}
	for i, txs := range blocks[:2] {
		block(t, a, t0.Add(time.Duration(i)*time.Second), txs...)
	}
	// block 3 finalized, not committed: the process dies
	finalize(t, a, t0.Add(2*time.Second), blocks[2]...)
	finalize3 := a.pending.block.Header
	a.st.Close()

	b := k.reopen(t, dir, Options{})
	info, _ := b.Info(ctx, &abcitypes.InfoRequest{})
	if info.LastBlockHeight != 2 {
		t.Fatalf("after the crash the app reports height %d, want 2", info.LastBlockHeight)
	}
	// the handshake replays block 3, then the chain goes on
	for i := 2; i < len(blocks); i++ {
		block(t, b, t0.Add(time.Duration(i)*time.Second), blocks[i]...)
	}
	if h3, _ := b.st.Header(3); h3.Hash() != finalize3.Hash() {
		t.Fatal("the replayed block 3 differs from the one finalized before the crash")
	}

	// the same blocks on a store that never crashed
	ref := k.open(t, t.TempDir(), Options{})
	initChain(t, ref)
	for i, txs := range blocks {
		block(t, ref, t0.Add(time.Duration(i)*time.Second), txs...)
	}
	got, want := b.st.Latest(), ref.st.Latest()
	if got.Hash() != want.Hash() || got.CredSize != 17 {
		t.Fatalf("after crash and replay: %+v\nwithout crash: %+v", got, want)
	}
	for h := uint64(0); h <= want.Height; h++ {
		x, _ := b.st.Header(h)
		y, _ := ref.st.Header(h)
		if x.Hash() != y.Hash() {
			t.Fatalf("block %d differs after the crash", h)
		}
	}
}

func FuzzCheckTx(f *testing.F) {
	k := newKit(f)
	a := k.open(f, f.TempDir(), Options{})
	f.Add(k.anchor(f, 2))
	f.Add(k.encode(f, k.gov, 1, registry.Accredit{PubKey: hex.EncodeToString(k.uni.Public().(ed25519.PublicKey)), Name: "M", Kinds: []string{"college"}}))
	f.Add([]byte(`{"payload":{"type":"anchor"},"signature":"00"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := a.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: b})
		if err != nil {
			t.Fatal(err)
		}
		if res.Code == CodeInternal {
			t.Fatalf("internal error for %q: %s", b, res.Log)
		}
		if res.Code == CodeOK {
			if _, err := registry.DecodeTx(k.g.ChainID, b); err != nil {
				t.Fatalf("CheckTx accepted what DecodeTx refuses: %v", err)
			}
		}
	})
}

// An empty block keeps the app hash (CometBFT then makes no further
// block); a block that applies a transaction changes it; a block whose only
// transaction is refused keeps it.
func TestAppHashFollowsState(t *testing.T) {
	k := newKit(t)
	a := k.open(t, t.TempDir(), Options{})
	h0 := initChain(t, a)
	r1 := block(t, a, time.Unix(1700000100, 0))
	if !bytes.Equal(r1.AppHash, h0) {
		t.Fatal("an empty block after block 0 changed the app hash")
	}
	r2 := block(t, a, time.Unix(1700000101, 0), k.anchor(t, 1))
	if bytes.Equal(r2.AppHash, r1.AppHash) {
		t.Fatal("an anchor left the app hash unchanged")
	}
	r3 := block(t, a, time.Unix(1700000102, 0))
	if !bytes.Equal(r3.AppHash, r2.AppHash) {
		t.Fatal("an empty block after an anchor changed the app hash")
	}
	r4 := block(t, a, time.Unix(1700000104, 0), []byte("junk"))
	if !bytes.Equal(r4.AppHash, r3.AppHash) {
		t.Fatal("a refused transaction changed the app hash")
	}
}

// TestValidatorUpdates: a governance update_validators transaction
// reaches CometBFT as a validator update of its block.
func TestValidatorUpdates(t *testing.T) {
	k := newKit(t)
	a := k.open(t, t.TempDir(), Options{})
	initChain(t, a)
	pub, _, _ := ed25519.GenerateKey(nil)
	tx := k.encode(t, k.gov, 1, registry.UpdateValidators{Validators: []registry.Validator{{PubKey: hex.EncodeToString(pub), Power: 7}}})
	res := block(t, a, time.Unix(1700000001, 0), tx)
	if res.TxResults[0].Code != CodeOK {
		t.Fatalf("update_validators: %s", res.TxResults[0].Log)
	}
	if len(res.ValidatorUpdates) != 1 || res.ValidatorUpdates[0].Power != 7 || res.ValidatorUpdates[0].PubKeyType != "ed25519" ||
		!bytes.Equal(res.ValidatorUpdates[0].PubKeyBytes, pub) {
		t.Fatalf("validator updates %+v", res.ValidatorUpdates)
	}
	if res := block(t, a, time.Unix(1700000002, 0), k.anchor(t, 1)); len(res.ValidatorUpdates) != 0 {
		t.Fatalf("a block without governance changed validators: %+v", res.ValidatorUpdates)
	}
}
