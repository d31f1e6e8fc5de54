package issuer

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkcred/zkcred/wire"

	"github.com/mr-tron/base58"
)

// The key pair of the W3C vc-di-eddsa test vectors (specification, "Test
// Vectors"): secretKeyMultibase is 0x8026 (ed25519-priv) + the 32-byte seed.
const (
	w3cSecretKeyMultibase = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
	w3cDID                = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
)

func w3cKey(t testing.TB) *Key {
	t.Helper()
	b, err := base58.Decode(strings.TrimPrefix(w3cSecretKeyMultibase, "z"))
	if err != nil || len(b) != 34 || b[0] != 0x80 || b[1] != 0x26 {
		t.Fatalf("bad secret key multibase: %v %x", err, b)
	}
	k, err := NewKeyFromSeed(b[2:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDIDKeyVector(t *testing.T) {
	k := w3cKey(t)
	if got := k.DID(); got != w3cDID {
		t.Fatalf("DID = %s, want %s", got, w3cDID)
	}
	pub, err := wire.ParseDIDKey(k.VerificationMethod())
	if err != nil || !bytes.Equal(pub, k.Public()) {
		t.Fatalf("ParseDIDKey(verification method) = %x, %v", pub, err)
	}
}

func TestKeyFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "issuer.key")
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	opts := KeyOptions{ScryptWorkFactor: 10}
	if err := SaveKey(path, k, []byte("correct horse"), opts); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	if !bytes.HasPrefix(raw, []byte("age-encryption.org/v1")) || bytes.Contains(raw, k.Public()) {
		t.Fatalf("key file is not an age envelope")
	}
	got, err := LoadKey(path, []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Public(), k.Public()) || got.DID() != k.DID() {
		t.Fatal("loaded key differs")
	}
	msg := []byte("m")
	if !ed25519.Verify(k.Public(), msg, got.Sign(msg)) {
		t.Fatal("loaded key does not sign for the public key")
	}
	if _, err := LoadKey(path, []byte("wrong")); !errors.Is(err, ErrKeyFile) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if err := SaveKey(path, k, []byte("x"), opts); !errors.Is(err, ErrKeyFile) {
		t.Fatalf("overwrite: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}
