package registry

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry/internal/layout"
)

type fixture struct {
	c         *Chain
	gov       ed25519.PrivateKey
	uni, hosp ed25519.PrivateKey
	nonces    map[string]uint64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	_, uni, _ := ed25519.GenerateKey(nil)
	_, hosp, _ := ed25519.GenerateKey(nil)
	g, gov, prod, err := NewGenesis("test-chain", time.Unix(1700000000, 0),
		RegisterIssuer{PubKey: hex.EncodeToString(uni.Public().(ed25519.PublicKey)), Name: "Uni", Kind: "university"},
		RegisterIssuer{PubKey: hex.EncodeToString(hosp.Public().(ed25519.PublicKey)), Name: "Hospital", Kind: "hospital"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewChain(g, prod)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{c: c, gov: gov, uni: uni, hosp: hosp, nonces: map[string]uint64{}}
}

func (f *fixture) tx(t *testing.T, key ed25519.PrivateKey, body Body) *Tx {
	t.Helper()
	k := string(key.Public().(ed25519.PublicKey))
	f.nonces[k]++
	tx, err := NewTx(f.c.Genesis.ChainID, key, f.nonces[k], body)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func commitments(n int, seed uint64) []circuits.Field {
	out := make([]circuits.Field, n)
	for i := range out {
		out[i] = circuits.F(circuits.U64(seed*1000003 + uint64(i) + 1))
	}
	return out
}

// mustReject submits tx, expects an error wrapping want, and checks that the
// state is unchanged.
func (f *fixture) mustReject(t *testing.T, tx *Tx, want error) {
	t.Helper()
	before := maps.Clone(f.c.state)
	nb := len(f.c.Blocks)
	_, err := f.c.Submit(tx)
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
	if len(f.c.Blocks) != nb || !maps.EqualFunc(before, f.c.state, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Fatal("rejected transaction changed the state")
	}
}

func TestAnchorRevokeAndTree(t *testing.T) {
	f := newFixture(t)
	ref := circuits.NewTree(circuits.Depth)
	uid := circuits.IssuerID(f.uni.Public().(ed25519.PublicKey))
	hid := circuits.IssuerID(f.hosp.Public().(ed25519.PublicKey))
	cs := commitments(3000, 1) // large enough for the parallel tree path
	rc, err := f.c.Submit(f.tx(t, f.uni, Anchor{Commitments: cs}))
	if err != nil {
		t.Fatal(err)
	}
	if rc.FirstLeaf != 0 || rc.Count != len(cs) {
		t.Fatalf("receipt %+v", rc)
	}
	for _, c := range cs {
		ref.Append(circuits.LeafHash(uid, c.El()))
	}
	if got, want := f.c.Latest().CredRoot.El(), ref.Root(); !got.Equal(&want) {
		t.Fatal("credential root of the first block differs from circuits.Tree")
	}
	hs := commitments(5, 2)
	rc, err = f.c.Submit(f.tx(t, f.hosp, Anchor{Commitments: hs}))
	if err != nil {
		t.Fatal(err)
	}
	if rc.FirstLeaf != 3000 || rc.Count != 5 {
		t.Fatalf("receipt %+v", rc)
	}
	for _, c := range hs {
		ref.Append(circuits.LeafHash(hid, c.El()))
	}
	if got, want := f.c.Latest().CredRoot.El(), ref.Root(); !got.Equal(&want) {
		t.Fatal("credential root differs from circuits.Tree")
	}
	// revoke leaf 7 (the university's)
	if _, err := f.c.Submit(f.tx(t, f.uni, Revoke{Leaves: []RevokeLeaf{{Index: 7, Commitment: cs[7]}}})); err != nil {
		t.Fatal(err)
	}
	ref.Set(7, fr.Element{})
	if got, want := f.c.Latest().CredRoot.El(), ref.Root(); !got.Equal(&want) {
		t.Fatal("credential root after revocation differs")
	}
	// a path from stored nodes verifies against the block root
	p, err := circuits.Path(nodeReader{&Builder{r: f.c.state, writes: map[string][]byte{}}, layout.CredNode}, circuits.Depth, 3001)
	if err != nil {
		t.Fatal(err)
	}
	root := circuits.RootFromPath(circuits.LeafHash(hid, hs[1].El()), 3001, p)
	if want := f.c.Latest().CredRoot.El(); !root.Equal(&want) {
		t.Fatal("path does not lead to the block root")
	}
	f.mustReject(t, f.tx(t, f.uni, Revoke{Leaves: []RevokeLeaf{{Index: 7, Commitment: cs[7]}}}), ErrAlreadyRevoked)
}

func TestAuthorisationNegatives(t *testing.T) {
	f := newFixture(t)
	_, stranger, _ := ed25519.GenerateKey(nil)
	cs := commitments(4, 3)
	if _, err := f.c.Submit(f.tx(t, f.uni, Anchor{Commitments: cs})); err != nil {
		t.Fatal(err)
	}
	t.Run("anchor with unregistered key", func(t *testing.T) {
		f.mustReject(t, f.tx(t, stranger, Anchor{Commitments: cs}), ErrUnknownIssuer)
	})
	t.Run("revoke another issuer's leaf", func(t *testing.T) {
		f.mustReject(t, f.tx(t, f.hosp, Revoke{Leaves: []RevokeLeaf{{Index: 1, Commitment: cs[1]}}}), ErrNotLeafOwner)
	})
	t.Run("revoke with a wrong commitment", func(t *testing.T) {
		f.mustReject(t, f.tx(t, f.uni, Revoke{Leaves: []RevokeLeaf{{Index: 1, Commitment: cs[2]}}}), ErrNotLeafOwner)
	})
	t.Run("revoke one bad leaf among good ones changes nothing", func(t *testing.T) {
		f.mustReject(t, f.tx(t, f.uni, Revoke{Leaves: []RevokeLeaf{{Index: 0, Commitment: cs[0]}, {Index: 99, Commitment: cs[0]}}}), ErrNotFound)
	})
	t.Run("register issuer without governance", func(t *testing.T) {
		f.mustReject(t, f.tx(t, f.uni, RegisterIssuer{PubKey: hex.EncodeToString(stranger.Public().(ed25519.PublicKey)), Name: "Fake", Kind: "university"}), ErrNotGovernance)
	})
	t.Run("publish circuit without governance", func(t *testing.T) {
		f.mustReject(t, f.tx(t, f.hosp, PublishCircuit{Circuit: "present", VKHash: hex.EncodeToString(make([]byte, 32))}), ErrNotGovernance)
	})
	t.Run("replay of an accepted transaction", func(t *testing.T) {
		tx := f.tx(t, f.hosp, Anchor{Commitments: cs[:1]})
		if _, err := f.c.Submit(tx); err != nil {
			t.Fatal(err)
		}
		f.mustReject(t, tx, ErrReplay)
	})
	t.Run("signature from another chain", func(t *testing.T) {
		tx, _ := NewTx("other-chain", f.uni, 1000, Anchor{Commitments: cs})
		f.mustReject(t, tx, ErrBadSignature)
	})
	t.Run("tampered payload", func(t *testing.T) {
		tx := f.tx(t, f.uni, Anchor{Commitments: cs})
		var p txPayload
		json.Unmarshal(tx.Payload, &p)
		p.Nonce++
		tx.Payload, _ = json.Marshal(p)
		f.mustReject(t, tx, ErrBadSignature)
	})
	t.Run("deactivated issuer", func(t *testing.T) {
		if _, err := f.c.Submit(f.tx(t, f.gov, DeactivateIssuer{PubKey: hex.EncodeToString(f.uni.Public().(ed25519.PublicKey))})); err != nil {
			t.Fatal(err)
		}
		f.mustReject(t, f.tx(t, f.uni, Anchor{Commitments: cs}), ErrIssuerInactive)
		f.mustReject(t, f.tx(t, f.uni, Revoke{Leaves: []RevokeLeaf{{Index: 0, Commitment: cs[0]}}}), ErrIssuerInactive)
	})
}

func TestGovernance(t *testing.T) {
	f := newFixture(t)
	_, nu, _ := ed25519.GenerateKey(nil)
	pub := hex.EncodeToString(nu.Public().(ed25519.PublicKey))
	root0 := f.c.Latest().IssuerRoot
	rc, err := f.c.Submit(f.tx(t, f.gov, RegisterIssuer{PubKey: pub, Name: "New U", Kind: "university"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := circuits.IssuerID(nu.Public().(ed25519.PublicKey)); rc.IssuerID == nil || rc.IssuerID.El() != want {
		t.Fatal("receipt issuer id")
	}
	if f.c.Latest().IssuerRoot == root0 || f.c.Latest().IssuerCount != 3 {
		t.Fatal("issuer root did not change")
	}
	f.mustReject(t, f.tx(t, f.gov, RegisterIssuer{PubKey: pub, Name: "Again", Kind: "university"}), ErrIssuerExists)
	schema := json.RawMessage(`{"name":"diploma","version":"1","attributes":[{"name":"degree","type":"string"}]}`)
	rc, err = f.c.Submit(f.tx(t, nu, PublishSchema{Schema: schema}))
	if err != nil || rc.SchemaID == nil {
		t.Fatal(err)
	}
	f.mustReject(t, f.tx(t, nu, PublishSchema{Schema: schema}), ErrSchemaExists)
	if _, err := f.c.Submit(f.tx(t, f.gov, PublishCircuit{Circuit: "present-v1", VKHash: hex.EncodeToString(make([]byte, 32))})); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.c.state[string(layout.CircuitKey("present-v1"))]; !ok {
		t.Fatal("circuit not stored")
	}
	// A ceremony transcript hash is stored with the key hash; a malformed
	// one is refused.
	th := strings.Repeat("cd", 32)
	if _, err := f.c.Submit(f.tx(t, f.gov, PublishCircuit{Circuit: "present-v2", VKHash: hex.EncodeToString(make([]byte, 32)), TranscriptHash: th})); err != nil {
		t.Fatal(err)
	}
	var rec CircuitRecord
	if err := json.Unmarshal(f.c.state[string(layout.CircuitKey("present-v2"))], &rec); err != nil || rec.TranscriptHash != th {
		t.Fatalf("transcript hash not stored: %+v %v", rec, err)
	}
	for _, bad := range []string{"CD" + th[2:], th[:62], "zz" + th[2:]} {
		if _, err := DecodeTx(f.c.Genesis.ChainID, mustJSON(t, f.tx(t, f.gov, PublishCircuit{Circuit: "present-v3", VKHash: th, TranscriptHash: bad}))); !errors.Is(err, ErrInvalidTx) {
			t.Errorf("transcript hash %q: %v, want ErrInvalidTx", bad, err)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBlockHashAndSignature(t *testing.T) {
	f := newFixture(t)
	h0 := f.c.Blocks[0].Header
	if h0.PrevHash != f.c.Genesis.Hash() {
		t.Fatal("block 0 does not link to genesis")
	}
	if err := h0.VerifySignature(f.c.Genesis.ProducerKey()); err != nil {
		t.Fatal(err)
	}
	f.c.Submit(f.tx(t, f.uni, Anchor{Commitments: commitments(2, 9)}))
	h1 := f.c.Blocks[1].Header
	if err := h1.VerifyLink(&h0); err != nil {
		t.Fatal(err)
	}
	bad := h1
	bad.CredSize++
	if bad.VerifySignature(f.c.Genesis.ProducerKey()) == nil {
		t.Fatal("altered header still verifies")
	}
	if txRoot(nil) == txRoot([][32]byte{{}}) {
		t.Fatal("tx root of empty and one-tx lists agree")
	}
}

func TestDecodeRejects(t *testing.T) {
	f := newFixture(t)
	good, _ := json.Marshal(f.tx(t, f.uni, Anchor{Commitments: commitments(1, 1)}))
	if _, err := DecodeTx("test-chain", good); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]string{
		"unknown field":    `{"payload":{},"signature":"","x":1}`,
		"trailing":         string(good) + "{}",
		"empty":            ``,
		"not object":       `[]`,
		"bad signer":       `{"payload":{"type":"anchor","signer":"zz","nonce":1,"body":{}},"signature":"00"}`,
		"huge":             `{"payload":"` + string(make([]byte, MaxTxBytes)) + `"}`,
		"duplicate key":    strings.Replace(string(good), `"nonce":`, `"nonce":5,"nonce":`, 1),
		"case-folded key":  strings.Replace(string(good), `"nonce":`, `"Nonce":`, 1),
		"nested duplicate": strings.Replace(string(good), `"commitments":`, `"commitments":[],"commitments":`, 1),
	} {
		if _, err := DecodeTx("test-chain", []byte(b)); !errors.Is(err, ErrInvalidTx) && !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v, want a malformed or too-large error", name, err)
		}
	}
}

func FuzzDecodeTx(f *testing.F) {
	_, k, _ := ed25519.GenerateKey(nil)
	for _, body := range []Body{
		Anchor{Commitments: commitments(2, 1)},
		Revoke{Leaves: []RevokeLeaf{{Index: 3, Commitment: circuits.F(circuits.U64(5))}}},
		RegisterIssuer{PubKey: hex.EncodeToString(k.Public().(ed25519.PublicKey)), Name: "U", Kind: "university"},
		PublishCircuit{Circuit: "c", VKHash: hex.EncodeToString(make([]byte, 32))},
		PublishSchema{Schema: json.RawMessage(`{"name":"d","version":"1","attributes":[{"name":"a","type":"integer"}]}`)},
		GovernanceRevoke{Issuer: hex.EncodeToString(k.Public().(ed25519.PublicKey)), Leaves: []RevokeLeaf{{Index: 3, Commitment: circuits.F(circuits.U64(5))}}},
		UpdateValidators{Validators: []Validator{{PubKey: hex.EncodeToString(k.Public().(ed25519.PublicKey)), Power: 0}}},
		Accredit{PubKey: hex.EncodeToString(k.Public().(ed25519.PublicKey)), Name: "M", Kinds: []string{"university", "college"}},
		WithdrawAccreditation{PubKey: hex.EncodeToString(k.Public().(ed25519.PublicKey))},
	} {
		tx, _ := NewTx("fuzz", k, 1, body)
		b, _ := json.Marshal(tx)
		f.Add(b)
		// with approvals: another key's, and the signer's own again
		_, k2, _ := ed25519.GenerateKey(nil)
		tx.Approve("fuzz", k2)
		tx.Approve("fuzz", k)
		b, _ = json.Marshal(tx)
		f.Add(b)
	}
	f.Add([]byte(`{"payload":{"type":"anchor"},"signature":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := DecodeTx("fuzz", b)
		if err != nil {
			if !errors.Is(err, ErrInvalidTx) && !errors.Is(err, ErrForbidden) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error outside the groups: %v", err)
			}
			return
		}
		// a decoded transaction re-encodes and decodes to the same hash
		// and the same approvers
		b2, _ := json.Marshal(st.Tx)
		st2, err := DecodeTx("fuzz", b2)
		if err != nil || st2.Hash != st.Hash || len(st2.Approvers) != len(st.Approvers) {
			t.Fatalf("round trip: %v", err)
		}
		if len(st.Approvers) > 1+len(st.Tx.Approvals) || !st.Approvers[0].Equal(st.Signer) {
			t.Fatalf("approvers %d for %d approvals", len(st.Approvers), len(st.Tx.Approvals))
		}
	})
}

func TestBucketAppendJSON(t *testing.T) {
	b := &Bucket{Height: 7, Root: circuits.F(circuits.U64(3)), Index: 9}
	for i := range BucketSize {
		b.Leaves = append(b.Leaves, circuits.F(circuits.LeafHash(circuits.U64(uint64(i)), circuits.U64(1))))
	}
	b.Leaves[5] = circuits.F(fr.Element{})
	b.Leaves[6] = circuits.F(circuits.U64(1e19))
	b.Leaves[7] = circuits.F(circuits.U64(1e19 - 1))
	for i := range circuits.Depth - BucketBits {
		b.Siblings = append(b.Siblings, circuits.F(circuits.ZeroHash(i)))
	}
	want, _ := json.Marshal(b)
	if got := b.AppendJSON(nil); string(got) != string(want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("AppendJSON differs from encoding/json at byte %d: %s | %s", i, got[max(0, i-90):i+5], want[max(0, i-90):i+5])
			}
		}
		t.Fatalf("AppendJSON length %d, encoding/json %d", len(got), len(want))
	}
}

// TestFormatElement checks the decimal writer against math/big, including
// values near the modulus (which fr.Element.String writes as negatives).
func TestFormatElement(t *testing.T) {
	p := circuits.Modulus()
	vals := []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(1e18), new(big.Int).SetUint64(1e19 - 1), new(big.Int).SetUint64(1e19),
		new(big.Int).Sub(p, big.NewInt(1)), new(big.Int).Sub(p, big.NewInt(65535)), new(big.Int).Lsh(big.NewInt(1), 253)}
	for i := range 50 {
		e := circuits.LeafHash(circuits.U64(uint64(i)), circuits.U64(2))
		vals = append(vals, e.BigInt(new(big.Int)))
	}
	for _, v := range vals {
		var e fr.Element
		e.SetBigInt(v)
		got := FormatElement(e)
		if got != v.String() {
			t.Fatalf("FormatElement(%s) = %s", v, got)
		}
		if back, err := circuits.ParseElement(got); err != nil || !back.Equal(&e) {
			t.Fatalf("%s does not parse back: %v", got, err)
		}
	}
}

// TestNonceBounds: a nonce of 2^64−1 is refused, since after it the signer
// could never transact again; 2^64−2 is the last one accepted.
func TestNonceBounds(t *testing.T) {
	f := newFixture(t)
	cs := commitments(1, 7)
	last, err := NewTx(f.c.Genesis.ChainID, f.uni, MaxNonce, Anchor{Commitments: cs})
	if err != nil {
		t.Fatal(err)
	}
	over, err := NewTx(f.c.Genesis.ChainID, f.hosp, MaxNonce+1, Anchor{Commitments: cs})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(over)
	if _, err := DecodeTx(f.c.Genesis.ChainID, b); !errors.Is(err, ErrInvalidTx) {
		t.Fatalf("nonce 2^64-1 decoded: %v", err)
	}
	f.mustReject(t, over, ErrInvalidTx)
	if _, err := f.c.Submit(last); err != nil {
		t.Fatalf("nonce 2^64-2: %v", err)
	}
}

// TestSignedNulls: a signed payload with null in a number or field
// element is refused, not read as 0 (a revocation of leaf 0).
func TestSignedNulls(t *testing.T) {
	f := newFixture(t)
	pub := hex.EncodeToString(f.uni.Public().(ed25519.PublicKey))
	for name, payload := range map[string]string{
		"null nonce":      `{"type":"anchor","signer":"` + pub + `","nonce":null,"body":{"commitments":["5"]}}`,
		"null leaf index": `{"type":"revoke","signer":"` + pub + `","nonce":1,"body":{"leaves":[{"index":null,"commitment":"5"}]}}`,
		"null commitment": `{"type":"anchor","signer":"` + pub + `","nonce":1,"body":{"commitments":[null]}}`,
		"null type":       `{"type":null,"signer":"` + pub + `","nonce":1,"body":{"commitments":["5"]}}`,
	} {
		sig := ed25519.Sign(f.uni, SigningBytes(f.c.Genesis.ChainID, []byte(payload)))
		b, _ := json.Marshal(Tx{Payload: json.RawMessage(payload), Signature: hex.EncodeToString(sig)})
		if _, err := DecodeTx(f.c.Genesis.ChainID, b); !errors.Is(err, ErrInvalidTx) || !strings.Contains(err.Error(), "null") {
			t.Errorf("%s: %v, want a malformed transaction naming the null", name, err)
		}
	}
}
