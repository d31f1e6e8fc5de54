package wire

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mr-tron/base58"
	"github.com/zkcred/zkcred/internal/jsonmut"
)

// sharedVector finds a file under shared/testvectors by walking up from the
// working directory, as the repository may be checked out as a worktree.
func sharedVector(t *testing.T, rel string) []byte {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "testvectors", rel)
		if b, err := os.ReadFile(p); err == nil {
			return b
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skipf("shared/testvectors/%s not found in any parent directory (outside test vectors are not part of the repository)", rel)
		}
		dir = parent
	}
}

// The key pair of the W3C vc-di-eddsa test vectors (specification, "Test
// Vectors"): secretKeyMultibase is 0x8026 (ed25519-priv) + the 32-byte seed.
const (
	w3cSecretKeyMultibase = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
	w3cDID                = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
)

func w3cKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	b, err := base58.Decode(strings.TrimPrefix(w3cSecretKeyMultibase, "z"))
	if err != nil || len(b) != 34 || b[0] != 0x80 || b[1] != 0x26 {
		t.Fatalf("bad secret key multibase: %v %x", err, b)
	}
	return ed25519.NewKeyFromSeed(b[2:])
}

func signer(k ed25519.PrivateKey) func([]byte) []byte {
	return func(msg []byte) []byte { return ed25519.Sign(k, msg) }
}

func TestDIDKeyVector(t *testing.T) {
	k := w3cKey(t)
	pub := k.Public().(ed25519.PublicKey)
	if got := DIDKey(pub); got != w3cDID {
		t.Fatalf("DID = %s, want %s", got, w3cDID)
	}
	back, err := ParseDIDKey(VerificationMethod(pub))
	if err != nil || !bytes.Equal(back, pub) {
		t.Fatalf("ParseDIDKey(verification method) = %x, %v", back, err)
	}
}

func TestParseDIDKeyRejects(t *testing.T) {
	pub := w3cKey(t).Public().(ed25519.PublicKey)
	other, _, _ := ed25519.GenerateKey(nil)
	for _, s := range []string{
		"",
		"did:web:example.com",
		"did:key:" + strings.TrimPrefix(w3cDID, "did:key:z"),         // no multibase prefix
		w3cDID + "#" + strings.TrimPrefix(DIDKey(other), "did:key:"), // fragment names another key
		w3cDID[:len(w3cDID)-2], // truncated
		"did:key:z" + base58.Encode(append([]byte{0x12, 0x00}, pub...)), // wrong codec
		"did:key:z0OIl", // not base58
	} {
		if _, err := ParseDIDKey(s); !errors.Is(err, ErrDID) {
			t.Errorf("ParseDIDKey(%q) = %v, want ErrDID", s, err)
		}
	}
}

func TestW3CVectorVerifies(t *testing.T) {
	vec := sharedVector(t, "vc-di-eddsa/signedJCS.json")
	v, err := VerifyProof(vec)
	if err != nil {
		t.Fatalf("W3C eddsa-jcs-2022 vector does not verify: %v", err)
	}
	if DIDKey(v.PublicKey) != w3cDID {
		t.Fatalf("verification key %s", DIDKey(v.PublicKey))
	}
	// The issuer is an https URL, not the key's DID: VerifyCredential, which
	// binds the issuer to the key, must refuse it.
	if _, err := VerifyCredential(vec); !errors.Is(err, ErrCredential) {
		t.Fatalf("VerifyCredential accepted an issuer that is not the signing DID: %v", err)
	}
}

// TestW3CVectorResign signs the vector's unsecured document with the
// vector's key and creation time and gets the published proofValue back
// (ed25519 is deterministic), which pins the canonicalisation and the hash
// layout to the specification's.
func TestW3CVectorResign(t *testing.T) {
	vec := sharedVector(t, "vc-di-eddsa/signedJCS.json")
	var m map[string]json.RawMessage
	if err := json.Unmarshal(vec, &m); err != nil {
		t.Fatal(err)
	}
	var p Proof
	if err := json.Unmarshal(m["proof"], &p); err != nil {
		t.Fatal(err)
	}
	delete(m, "proof")
	doc, _ := json.Marshal(m)
	created, _ := time.Parse(time.RFC3339, p.Created)
	k := w3cKey(t)
	out, err := Sign(doc, VerificationMethod(k.Public().(ed25519.PublicKey)), signer(k), created)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Proof Proof }
	json.Unmarshal(out, &got)
	if got.Proof.ProofValue != p.ProofValue {
		t.Fatalf("proofValue\n got %s\nwant %s", got.Proof.ProofValue, p.ProofValue)
	}
}

func TestW3CVectorTamper(t *testing.T) {
	vec := sharedVector(t, "vc-di-eddsa/signedJCS.json")
	n := 0
	for name, m := range jsonmut.Mutations(t, vec) {
		n++
		if _, err := VerifyProof(m); err == nil {
			t.Errorf("mutation %s still verifies", name)
		}
	}
	if n < 20 {
		t.Fatalf("only %d mutations", n)
	}
}

func TestSignRejects(t *testing.T) {
	k := w3cKey(t)
	vm := VerificationMethod(k.Public().(ed25519.PublicKey))
	for _, doc := range []string{`[]`, `{"a":1}{}`, `{"proof":{}}`, `{"a":1,"a":2}`, `not json`} {
		if _, err := Sign([]byte(doc), vm, signer(k), time.Now()); err == nil {
			t.Errorf("Sign(%s) succeeded", doc)
		}
	}
}

func TestVerifyRejectsDuplicateMembers(t *testing.T) {
	k := w3cKey(t)
	out, err := Sign([]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"a":"1"}`), VerificationMethod(k.Public().(ed25519.PublicKey)), signer(k), time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyProof(out); err != nil {
		t.Fatal(err)
	}
	dup := bytes.Replace(out, []byte(`"a":"1"`), []byte(`"a":"1","a":"2"`), 1)
	if _, err := VerifyProof(dup); !errors.Is(err, ErrProof) {
		t.Fatalf("duplicate member accepted: %v", err)
	}
}
