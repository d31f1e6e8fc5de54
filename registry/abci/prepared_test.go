package abci

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
)

// The decoded transactions and leaves kept between calls change no
// outcome: a validator that checked, proposed and then applied a block
// ends with the same state as one that applied it cold, and the leaves
// are LeafHash(issuer, C).
func TestPreparedSameState(t *testing.T) {
	k := newKit(t)
	warm := k.open(t, t.TempDir(), Options{})
	cold := k.open(t, t.TempDir(), Options{})
	initChain(t, warm)
	initChain(t, cold)
	txs := [][]byte{k.anchor(t, 3000), k.anchor(t, 5), k.anchor(t, 1)}
	for _, tx := range txs {
		if c := checkCode(t, warm, tx); c != CodeOK {
			t.Fatalf("CheckTx: code %d", c)
		}
	}
	if r, err := warm.ProcessProposal(ctx, &abcitypes.ProcessProposalRequest{Txs: txs, Height: 1}); err != nil || r.Status != abcitypes.PROCESS_PROPOSAL_STATUS_ACCEPT {
		t.Fatalf("ProcessProposal: %v %v", r, err)
	}
	when := time.Unix(1700000100, 0)
	rw := block(t, warm, when, txs...)
	rc := block(t, cold, when, txs...)
	if !bytes.Equal(rw.AppHash, rc.AppHash) {
		t.Fatal("app hash after checked transactions differs from the one applied cold")
	}
	for _, zl := range zeroLeaves {
		if !zl.IsZero() {
			t.Fatal("a dry run wrote into the stand-in leaves")
		}
	}
	id := circuits.IssuerID(k.uni.Public().(ed25519.PublicKey))
	b, err := warm.st.Bucket(0)
	if err != nil {
		t.Fatal(err)
	}
	want := circuits.LeafHash(id, circuits.U64(100001)) // the first anchor's first commitment (kit.anchor)
	if got := b.Leaves[0].El(); !got.Equal(&want) {
		t.Fatalf("leaf 0 = %s, want LeafHash(issuer, C) %s", got.String(), want.String())
	}
}

// Only the bytes that were checked are trusted: a forged copy of a
// checked transaction is refused by ProcessProposal and not applied by
// FinalizeBlock.
func TestPreparedForgedCopy(t *testing.T) {
	k := newKit(t)
	a := k.open(t, t.TempDir(), Options{})
	initChain(t, a)
	good := k.anchor(t, 4)
	if c := checkCode(t, a, good); c != CodeOK {
		t.Fatalf("CheckTx: code %d", c)
	}
	var tx registry.Tx
	json.Unmarshal(good, &tx)
	sig, _ := hex.DecodeString(tx.Signature)
	sig[5] ^= 1
	tx.Signature = hex.EncodeToString(sig)
	forged, _ := json.Marshal(tx)
	r, err := a.ProcessProposal(ctx, &abcitypes.ProcessProposalRequest{Txs: [][]byte{forged}, Height: 1})
	if err != nil || r.Status != abcitypes.PROCESS_PROPOSAL_STATUS_REJECT {
		t.Fatalf("ProcessProposal of a forged copy: %v %v", r, err)
	}
	res := block(t, a, time.Unix(1700000100, 0), forged)
	if res.TxResults[0].Code != CodeForbidden {
		t.Fatalf("FinalizeBlock of a forged copy: code %d", res.TxResults[0].Code)
	}
	if h := a.st.Latest(); h.CredSize != 0 {
		t.Fatalf("forged anchor applied: %d leaves", h.CredSize)
	}
}

// CheckSigned re-verifies the signatures for this chain, so a transaction
// decoded for another chain, or altered after decoding, is refused.
func TestCheckSignedRefuses(t *testing.T) {
	k := newKit(t)
	a := k.open(t, t.TempDir(), Options{})
	initChain(t, a)
	other := &kit{g: &registry.Genesis{ChainID: "other-chain"}}
	ob := other.encode(t, k.uni, 1, registry.Anchor{Commitments: []circuits.Field{circuits.F(circuits.U64(1))}})
	st, err := registry.DecodeTx("other-chain", ob)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.CheckSigned(st); !errors.Is(err, registry.ErrBadSignature) {
		t.Fatalf("CheckSigned of another chain's tx: %v", err)
	}
	gb := k.anchor(t, 2)
	st, err = registry.DecodeTx(k.g.ChainID, gb)
	if err != nil {
		t.Fatal(err)
	}
	altered := *st
	altered.Signer, _, _ = ed25519.GenerateKey(nil)
	if _, _, err := a.CheckSigned(&altered); !errors.Is(err, registry.ErrBadSignature) {
		t.Fatalf("CheckSigned with another signer: %v", err)
	}
	// leaves that came with the transaction are not trusted
	bad := *st
	bad.Leaves = make([]fr.Element, 2)
	_, got, err := a.CheckSigned(&bad)
	if err != nil {
		t.Fatalf("CheckSigned of a good tx: %v", err)
	}
	id := circuits.IssuerID(k.uni.Public().(ed25519.PublicKey))
	for i, c := range st.Body.(registry.Anchor).Commitments {
		if want := circuits.LeafHash(id, c.El()); !got.Leaves[i].Equal(&want) {
			t.Fatalf("leaf %d taken from the caller, not hashed", i)
		}
	}
}

// A key that is no active issuer makes the registry hash and keep
// nothing: CheckTx refuses its anchor before any leaf is hashed or queued,
// and the refused transaction is not kept.
func TestCheckTxHashesNothingForStrangers(t *testing.T) {
	k := newKit(t)
	a := k.open(t, t.TempDir(), Options{})
	initChain(t, a)
	_, stranger, _ := ed25519.GenerateKey(nil)
	tx := k.encode(t, stranger, 1, registry.Anchor{Commitments: make([]circuits.Field, 1000)})
	if c := checkCode(t, a, tx); c != CodeForbidden {
		t.Fatalf("CheckTx of a stranger's anchor: code %d", c)
	}
	a.pmu.Lock()
	_, kept := a.prepared[sha256Sum(tx)]
	n := len(a.hashq)
	a.pmu.Unlock()
	if kept || n != 0 {
		t.Fatalf("stranger's anchor kept (%v) or queued for hashing (%d)", kept, n)
	}
}

// The kept transactions stay within Options.Prepared, and an evicted one
// is decoded again when its block comes.
func TestPreparedBounded(t *testing.T) {
	k := newKit(t)
	a := k.open(t, t.TempDir(), Options{Prepared: 3})
	initChain(t, a)
	var txs [][]byte
	for range 6 {
		tx := k.anchor(t, 2)
		txs = append(txs, tx)
		if c := checkCode(t, a, tx); c != CodeOK {
			t.Fatalf("CheckTx: code %d", c)
		}
	}
	a.pmu.Lock()
	n, w := len(a.prepared), a.weight
	a.pmu.Unlock()
	if n > 3 || w != 2*n {
		t.Fatalf("%d transactions of weight %d kept, limit 3", n, w)
	}
	res := block(t, a, time.Unix(1700000100, 0), txs...)
	for i, r := range res.TxResults {
		if r.Code != CodeOK {
			t.Fatalf("tx %d: code %d %s", i, r.Code, r.Log)
		}
	}
	if h := a.st.Latest(); h.CredSize != 12 {
		t.Fatalf("%d leaves, want 12", h.CredSize)
	}
	a.pmu.Lock()
	n, w = len(a.prepared), a.weight
	a.pmu.Unlock()
	if n != 0 || w != 0 {
		t.Fatalf("after the block %d transactions of weight %d kept", n, w)
	}
}
