package registry

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"testing"
)

// TestEncodeTxKeepsSignedBytes: a transaction whose payload a client
// signed without escaping '&', '<', '>' or U+2028 (as the specification
// lets it) encodes to bytes that every node decodes and verifies again;
// encoding/json's Marshal would not.
func TestEncodeTxKeepsSignedBytes(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	const chain = "test-chain"
	pub := hex.EncodeToString(key.Public().(ed25519.PublicKey))
	payload := []byte(`{"type":"register_issuer","signer":"` + pub + `","nonce":1,"body":{"pubkey":"` + pub + `","name":"A&B <x> ` + "\u2028" + `","kind":"university"}}`)
	sig := ed25519.Sign(key, SigningBytes(chain, payload))
	st, err := VerifyTx(chain, &Tx{Payload: payload, Signature: hex.EncodeToString(sig)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := EncodeTx(st.Tx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, payload) {
		t.Fatalf("encoded transaction does not hold the signed payload: %s", b)
	}
	again, err := DecodeTx(chain, b)
	if err != nil {
		t.Fatalf("encoded transaction does not verify: %v", err)
	}
	if again.Hash != st.Hash {
		t.Fatal("encoded transaction has another hash")
	}
	// the defect EncodeTx avoids: Marshal escapes the signed bytes
	m, err := json.Marshal(st.Tx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeTx(chain, m); err == nil {
		t.Fatal("json.Marshal kept the payload; this test no longer shows why EncodeTx exists")
	}
}
