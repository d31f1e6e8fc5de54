package registry

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry/internal/layout"
)

type govKit struct {
	t     *testing.T
	g     *Genesis
	c     *Chain
	keys  []ed25519.PrivateKey // governance
	uni   ed25519.PrivateKey
	nonce map[string]uint64
}

// newGovKit makes a chain whose genesis names three governance keys with
// threshold 2, and one university.
func newGovKit(t *testing.T) *govKit {
	k := &govKit{t: t, nonce: map[string]uint64{}}
	var hexes []string
	for range 3 {
		pub, priv, _ := ed25519.GenerateKey(nil)
		k.keys = append(k.keys, priv)
		hexes = append(hexes, hex.EncodeToString(pub))
	}
	_, k.uni, _ = ed25519.GenerateKey(nil)
	g, _, prod, err := NewGenesis("gov", time.Unix(1700000000, 0),
		RegisterIssuer{PubKey: hex.EncodeToString(k.uni.Public().(ed25519.PublicKey)), Name: "Uni", Kind: "university"})
	if err != nil {
		t.Fatal(err)
	}
	g.Governance, g.Threshold = hexes, 2
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	k.g = g
	if k.c, err = NewChain(g, prod); err != nil {
		t.Fatal(err)
	}
	return k
}

// tx signs body with signer and adds the approvals, in order.
func (k *govKit) tx(signer ed25519.PrivateKey, body Body, approvers ...ed25519.PrivateKey) *Tx {
	k.t.Helper()
	pub := hex.EncodeToString(signer.Public().(ed25519.PublicKey))
	tx, err := NewTx(k.g.ChainID, signer, k.nonce[pub]+1, body)
	if err != nil {
		k.t.Fatal(err)
	}
	for _, a := range approvers {
		tx.Approve(k.g.ChainID, a)
	}
	return tx
}

// submit submits tx; on success the signer's nonce advances.
func (k *govKit) submit(tx *Tx) (*Receipt, error) {
	rc, err := k.c.Submit(tx)
	if err == nil {
		st, _ := VerifyTx(k.g.ChainID, tx)
		k.nonce[hex.EncodeToString(st.Signer)] = st.Nonce
	}
	return rc, err
}

func (k *govKit) mustSubmit(tx *Tx) *Receipt {
	k.t.Helper()
	rc, err := k.submit(tx)
	if err != nil {
		k.t.Fatal(err)
	}
	return rc
}

func (k *govKit) issuer(pub string) *Issuer {
	p, _ := ParsePubKey(pub)
	is, err := k.c.Next().getIssuer(circuits.IssuerID(p))
	if err != nil {
		k.t.Fatal(err)
	}
	return is
}

// TestGovernanceThreshold: every governance transaction needs 2 of the 3
// keys. One signature, one key signing twice, or a key outside governance
// do not reach it, and a refused change changes nothing.
func TestGovernanceThreshold(t *testing.T) {
	k := newGovKit(t)
	a, b, c := k.keys[0], k.keys[1], k.keys[2]
	pub, _, _ := ed25519.GenerateKey(nil)
	hosp := RegisterIssuer{PubKey: hex.EncodeToString(pub), Name: "Hospital", Kind: "hospital"}
	_, outsider, _ := ed25519.GenerateKey(nil)

	before := *k.c.Latest()
	for name, tx := range map[string]*Tx{
		"one signature":         k.tx(a, hosp),
		"one key twice":         k.tx(a, hosp, a),
		"one key thrice":        k.tx(a, hosp, a, a),
		"approval by outsider":  k.tx(a, hosp, outsider),
		"signed by an outsider": k.tx(outsider, hosp, a),
	} {
		_, err := k.submit(tx)
		if !errors.Is(err, ErrForbidden) || !(errors.Is(err, ErrBelowThreshold) || errors.Is(err, ErrNotGovernance)) {
			t.Fatalf("%s: got %v, want a threshold or governance refusal", name, err)
		}
		if name == "one key twice" && !strings.Contains(err.Error(), "1 of the 2") {
			t.Fatalf("%s: the duplicate counted: %v", name, err)
		}
	}
	if after := *k.c.Latest(); after != before {
		t.Fatal("a refused change made a block")
	}
	if k.issuer(hosp.PubKey) != nil {
		t.Fatal("a refused registration registered the issuer")
	}
	// A forged approval is a bad signature, refused before any state.
	forged := k.tx(a, hosp, b)
	forged.Approvals[0].Signature = hex.EncodeToString(ed25519.Sign(c, []byte("something else")))
	if _, err := k.submit(forged); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("forged approval: %v", err)
	}
	// Approvals belong to governance transactions only.
	anchor := k.tx(k.uni, Anchor{Commitments: []circuits.Field{circuits.F(circuits.U64(1))}}, a)
	if _, err := k.submit(anchor); !errors.Is(err, ErrMalformed) {
		t.Fatalf("approval on an anchor: %v", err)
	}

	// Two distinct keys: accepted, in any order, the signer's nonce used.
	rc := k.mustSubmit(k.tx(a, hosp, a, b))
	if is := k.issuer(hosp.PubKey); is == nil || !is.Active || *rc.IssuerID != is.ID {
		t.Fatalf("registration with 2 of 3: %+v", is)
	}
	k.mustSubmit(k.tx(c, DeactivateIssuer{PubKey: hosp.PubKey}, b))
	if k.issuer(hosp.PubKey).Active {
		t.Fatal("deactivation with 2 of 3 did not deactivate")
	}
	for name, body := range map[string]Body{
		"update issuer":   UpdateIssuer{PubKey: hosp.PubKey, Name: "H", Kind: "hospital", Active: true},
		"publish circuit": PublishCircuit{Circuit: "zkcred/x", VKHash: strings.Repeat("ab", 32)},
		"validators":      UpdateValidators{Validators: []Validator{{PubKey: hosp.PubKey, Power: 1}}},
	} {
		if _, err := k.submit(k.tx(b, body)); !errors.Is(err, ErrBelowThreshold) {
			t.Fatalf("%s with one signature: %v", name, err)
		}
		k.mustSubmit(k.tx(b, body, c))
	}
	// The approvals are part of the transaction's hash: a block commits to
	// who approved.
	tx := k.tx(a, hosp, b)
	h := tx.Hash()
	tx.Approvals = nil
	if tx.Hash() == h {
		t.Fatal("transaction hash does not cover the approvals")
	}
}

// TestGovernanceRevoke: governance revokes leaves of a deactivated issuer
// (with the threshold); of an active issuer it is refused, since that
// issuer revokes its own.
func TestGovernanceRevoke(t *testing.T) {
	k := newGovKit(t)
	a, b := k.keys[0], k.keys[1]
	uniPub := hex.EncodeToString(k.uni.Public().(ed25519.PublicKey))
	c5, c6 := circuits.F(circuits.U64(5)), circuits.F(circuits.U64(6))
	rc := k.mustSubmit(k.tx(k.uni, Anchor{Commitments: []circuits.Field{c5, c6}}))
	leaf := func(i uint64) circuits.Field {
		v, _ := k.c.Next().leaf(i)
		return circuits.F(v)
	}
	revoke := GovernanceRevoke{Issuer: uniPub, Leaves: []RevokeLeaf{{Index: rc.FirstLeaf, Commitment: c5}}}
	if _, err := k.submit(k.tx(a, revoke, b)); !errors.Is(err, ErrIssuerActive) {
		t.Fatalf("governance revoke of an active issuer's leaf: %v", err)
	}
	if leaf(rc.FirstLeaf).IsZero() {
		t.Fatal("a refused revocation zeroed the leaf")
	}
	k.mustSubmit(k.tx(a, DeactivateIssuer{PubKey: uniPub}, b))
	// The deactivated issuer cannot revoke any more; governance can, with
	// the threshold and the right commitment.
	if _, err := k.submit(k.tx(k.uni, Revoke{Leaves: revoke.Leaves})); !errors.Is(err, ErrIssuerInactive) {
		t.Fatalf("deactivated issuer revoking: %v", err)
	}
	if _, err := k.submit(k.tx(a, revoke)); !errors.Is(err, ErrBelowThreshold) {
		t.Fatalf("governance revoke with one signature: %v", err)
	}
	wrong := GovernanceRevoke{Issuer: uniPub, Leaves: []RevokeLeaf{{Index: rc.FirstLeaf, Commitment: c6}}}
	if _, err := k.submit(k.tx(a, wrong, b)); !errors.Is(err, ErrNotLeafOwner) {
		t.Fatalf("governance revoke with another commitment: %v", err)
	}
	k.mustSubmit(k.tx(a, revoke, b))
	if !leaf(rc.FirstLeaf).IsZero() || leaf(rc.FirstLeaf+1).IsZero() {
		t.Fatal("governance revoke did not zero exactly the named leaf")
	}
	if _, err := k.submit(k.tx(a, revoke, b)); !errors.Is(err, ErrAlreadyRevoked) {
		t.Fatalf("revoking twice: %v", err)
	}
}

// TestValidatorUpdates: the set changes with the threshold, the block
// reports the changes, and the set never becomes empty.
func TestValidatorUpdates(t *testing.T) {
	k := newGovKit(t)
	a, b := k.keys[0], k.keys[1]
	pub, _, _ := ed25519.GenerateKey(nil)
	v := hex.EncodeToString(pub)
	bl := k.c.Next()
	st, _ := VerifyTx(k.g.ChainID, k.tx(a, UpdateValidators{Validators: []Validator{{PubKey: v, Power: 10}}}, b))
	if _, err := bl.Apply(st); err != nil {
		t.Fatal(err)
	}
	if u := bl.ValidatorUpdates(); len(u) != 1 || u[0].PubKey != v || u[0].Power != 10 {
		t.Fatalf("validator updates %+v", u)
	}
	if _, err := k.c.Commit(bl, k.c.Latest().Time+1); err != nil {
		t.Fatal(err)
	}
	k.nonce[hex.EncodeToString(a.Public().(ed25519.PublicKey))]++
	var vs ValidatorSet
	if _, err := k.c.Next().getJSON(layout.ValidatorsKey(), &vs); err != nil || len(vs.Validators) != 2 {
		t.Fatalf("validator set %+v: %v", vs, err)
	}
	k.mustSubmit(k.tx(a, UpdateValidators{Validators: []Validator{{PubKey: k.g.Producer, Power: 0}}}, b))
	if _, err := k.submit(k.tx(a, UpdateValidators{Validators: []Validator{{PubKey: v, Power: 0}}}, b)); !errors.Is(err, ErrConflict) {
		t.Fatalf("emptying the set: %v", err)
	}
}

func TestGenesisThreshold(t *testing.T) {
	k := newGovKit(t)
	for name, edit := range map[string]func(g *Genesis){
		"above the keys": func(g *Genesis) { g.Threshold = 4 },
		"negative":       func(g *Genesis) { g.Threshold = -1 },
		"key twice":      func(g *Genesis) { g.Governance = append(g.Governance, g.Governance[0]) },
	} {
		g := *k.g
		g.Governance = append([]string(nil), k.g.Governance...)
		edit(&g)
		if g.Validate() == nil {
			t.Errorf("%s: genesis accepted", name)
		}
	}
}
