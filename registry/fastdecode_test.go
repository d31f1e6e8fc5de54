package registry

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/strictjson"
)

// generalDecode is DecodeTx's general path, without the fast one.
func generalDecode(b []byte) (*Tx, *txPayload, *Anchor, error) {
	var tx Tx
	if err := strictjson.Unmarshal(b, &tx); err != nil {
		return nil, nil, nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, tx.Payload); err != nil {
		return nil, nil, nil, err
	}
	tx.Payload = buf.Bytes()
	if err := checkKeys(tx.Payload); err != nil {
		return nil, nil, nil, err
	}
	var p txPayload
	if err := strictjson.Unmarshal(tx.Payload, &p); err != nil {
		return nil, nil, nil, err
	}
	var a Anchor
	if err := decodeBody(p.Body, &a); err != nil {
		return nil, nil, nil, err
	}
	return &tx, &p, &a, nil
}

// checkFast fails if the fast path accepts b and the general path refuses
// it or reads it otherwise.
func checkFast(t *testing.T, b []byte) bool {
	t.Helper()
	ftx, fp, fa, ok := fastAnchorTx(b)
	if !ok {
		return false
	}
	gtx, gp, ga, err := generalDecode(b)
	if err != nil {
		t.Fatalf("fast path accepts what the general one refuses (%v): %.200q", err, b)
	}
	if !bytes.Equal(ftx.Payload, gtx.Payload) || ftx.Signature != gtx.Signature || len(gtx.Approvals) != 0 {
		t.Fatalf("fast path reads another transaction: %.200q", b)
	}
	if fp.Type != gp.Type || fp.Signer != gp.Signer || fp.Nonce != gp.Nonce || !bytes.Equal(fp.Body, gp.Body) {
		t.Fatalf("fast path reads another payload: %+v, general %+v", fp, gp)
	}
	if !reflect.DeepEqual(fa, ga) {
		t.Fatalf("fast path reads other commitments: %.200q", b)
	}
	return true
}

func TestFastAnchorDecode(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	q := fr.Modulus()
	qm1 := new(big.Int).Sub(q, big.NewInt(1))
	var max fr.Element
	max.SetBigInt(qm1)
	tx, err := NewTx("c", key, 7, Anchor{Commitments: []circuits.Field{circuits.F(circuits.U64(0)), circuits.F(circuits.U64(1)), circuits.F(max)}})
	if err != nil {
		t.Fatal(err)
	}
	good, _ := json.Marshal(tx)
	if !checkFast(t, good) {
		t.Fatalf("fast path refuses NewTx's own encoding: %s", good)
	}
	if !checkFast(t, append(append([]byte(nil), good...), '\n')) {
		t.Fatal("fast path refuses a trailing newline")
	}
	st, err := DecodeTx("c", good)
	if err != nil || st.Nonce != 7 || len(st.Body.(Anchor).Commitments) != 3 {
		t.Fatalf("DecodeTx: %v %+v", err, st)
	}
	// every variant: the fast path declines it, or reads it exactly as the
	// general path does
	sig := tx.Signature
	payload := string(tx.Payload)
	variants := map[string]string{
		"leading zero":     strings.Replace(payload, `["0","1"`, `["0","01"`, 1),
		"modulus":          strings.Replace(payload, qm1.String(), q.String(), 1),
		"2^256":            strings.Replace(payload, qm1.String(), new(big.Int).Lsh(big.NewInt(1), 256).String(), 1),
		"79 digits":        strings.Replace(payload, qm1.String(), strings.Repeat("1", 79), 1),
		"escape":           strings.Replace(payload, `"1"`, `"\u0031"`, 1),
		"space":            strings.Replace(payload, `"1",`, `"1", `, 1),
		"trailing comma":   strings.Replace(payload, `"]}}`, `",]}}`, 1),
		"empty list":       `{"type":"anchor","signer":"` + pubHex(key) + `","nonce":7,"body":{"commitments":[]}}`,
		"nonce zero":       strings.Replace(payload, `"nonce":7`, `"nonce":0`, 1),
		"nonce leading 0":  strings.Replace(payload, `"nonce":7`, `"nonce":07`, 1),
		"nonce overflow":   strings.Replace(payload, `"nonce":7`, `"nonce":18446744073709551616`, 1),
		"nonce max":        strings.Replace(payload, `"nonce":7`, `"nonce":18446744073709551615`, 1),
		"nonce float":      strings.Replace(payload, `"nonce":7`, `"nonce":7.0`, 1),
		"upper hex signer": strings.Replace(payload, pubHex(key), strings.ToUpper(pubHex(key)), 1),
		"odd signer":       strings.Replace(payload, pubHex(key), pubHex(key)[1:], 1),
		"other type":       strings.Replace(payload, `"anchor"`, `"revoke"`, 1),
		"extra member":     strings.Replace(payload, `]}}`, `],"x":1}}`, 1),
		"number":           strings.Replace(payload, `"1"`, `1`, 1),
		"unterminated":     strings.TrimSuffix(payload, `"]}}`) + `]}}`,
		"nested":           strings.Replace(payload, `"1"`, `["1"]`, 1),
		"empty string":     strings.Replace(payload, `"1"`, `""`, 1),
	}
	for name, p := range variants {
		for _, s := range []string{sig, strings.ToUpper(sig), sig[2:]} {
			b := []byte(`{"payload":` + p + `,"signature":"` + s + `"}`)
			// a nonce out of range is VerifyTx's to refuse, after either path
			if checkFast(t, b) && (s != sig || name != "nonce zero" && name != "nonce max") {
				t.Errorf("%s: fast path accepts %.120q", name, b)
			}
		}
	}
	// approvals, another member order: the general path's
	withApproval := []byte(`{"payload":` + payload + `,"signature":"` + sig + `","approvals":[]}`)
	if _, _, _, ok := fastAnchorTx(withApproval); ok {
		t.Error("fast path takes a transaction with approvals")
	}
	reordered := []byte(`{"signature":"` + sig + `","payload":` + payload + `}`)
	if _, _, _, ok := fastAnchorTx(reordered); ok {
		t.Error("fast path takes members in another order")
	}
	if st, err := DecodeTx("c", reordered); err != nil || st.Hash != tx.Hash() {
		t.Errorf("general path: %v", err)
	}
}

func pubHex(k ed25519.PrivateKey) string { return hex.EncodeToString(k.Public().(ed25519.PublicKey)) }

// TestParseDecimal holds parseDecimal to circuits.ParseElement.
func TestParseDecimal(t *testing.T) {
	q := fr.Modulus()
	cases := []string{"", "0", "1", "00", "01", "9", "10", "18446744073709551615", "18446744073709551616",
		strings.Repeat("9", 19), strings.Repeat("9", 20), strings.Repeat("9", 38), strings.Repeat("9", 77), strings.Repeat("9", 78), strings.Repeat("9", 79),
		new(big.Int).Sub(q, big.NewInt(1)).String(), q.String(), new(big.Int).Add(q, big.NewInt(1)).String(),
		new(big.Int).Lsh(big.NewInt(1), 256).String(), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)).String(),
		"12a", "-1", "+1", " 1", "1 ", "1e3", "0x10"}
	for i := range 2000 {
		v := new(big.Int).Exp(big.NewInt(7), big.NewInt(int64(i)), nil)
		cases = append(cases, v.String(), new(big.Int).Mod(v, q).String())
	}
	for _, c := range cases {
		want, werr := circuits.ParseElement(c)
		got, ok := parseDecimal([]byte(c))
		if ok != (werr == nil) || ok && !got.Equal(&want) {
			t.Errorf("%.80q: parseDecimal %v %v, ParseElement %v %v", c, got.String(), ok, want.String(), werr)
		}
	}
}

// FuzzFastAnchorDecode: whatever the fast path accepts, the general path
// reads the same way.
func FuzzFastAnchorDecode(f *testing.F) {
	_, key, _ := ed25519.GenerateKey(nil)
	tx, _ := NewTx("c", key, 3, Anchor{Commitments: []circuits.Field{circuits.F(circuits.U64(5)), circuits.F(circuits.U64(123456789))}})
	good, _ := json.Marshal(tx)
	f.Add(good)
	f.Add([]byte(`{"payload":{"type":"anchor","signer":"aa","nonce":1,"body":{"commitments":["1"]}},"signature":"` + strings.Repeat("a", 128) + `"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkFast(t, b)
		DecodeTx("c", b) // no panic
	})
}

// The fast path knows the members of Tx, the payload and Anchor; a new
// member must be taught to it (fastdecode.go), or it would read
// transactions without it.
func TestFastDecodeKnowsTheFormat(t *testing.T) {
	for _, c := range []struct {
		v    any
		tags []string
	}{
		{Tx{}, []string{"payload", "signature", "approvals,omitempty"}},
		{txPayload{}, []string{"type", "signer", "nonce", "body"}},
		{Anchor{}, []string{"commitments"}},
	} {
		rt := reflect.TypeOf(c.v)
		var tags []string
		for i := range rt.NumField() {
			tags = append(tags, rt.Field(i).Tag.Get("json"))
		}
		if !reflect.DeepEqual(tags, c.tags) {
			t.Errorf("%s has members %q; the fast anchor decoder reads %q: update fastdecode.go", rt.Name(), tags, c.tags)
		}
	}
}
