package keyfile

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	testFormat  = Format{ID: "zkcred-test-key/1", What: "test"}
	otherFormat = Format{ID: "zkcred-other-key/1", What: "other"}
	fast        = Options{ScryptWorkFactor: 10}
)

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSaveLoad: a saved key loads with its passphrase and with nothing
// else, and the file holds none of the key's bytes in any encoding.
func TestSaveLoad(t *testing.T) {
	k := newKey(t)
	path := filepath.Join(t.TempDir(), "k.key")
	if err := Save(path, testFormat, k, []byte("correct horse"), fast); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v: %v", fi.Mode(), err)
	}
	raw, _ := os.ReadFile(path)
	seed := k.Seed()
	for name, enc := range map[string][]byte{
		"raw":    seed,
		"hex":    []byte(hex.EncodeToString(seed)),
		"base64": []byte(base64.StdEncoding.EncodeToString(seed)),
		"priv":   k,
	} {
		if bytes.Contains(raw, enc) || bytes.Contains(raw, enc[:16]) {
			t.Errorf("key file holds the seed (%s)", name)
		}
	}
	if !bytes.HasPrefix(raw, []byte("age-encryption.org/v1")) {
		t.Errorf("not an age file: %q", raw[:20])
	}
	got, err := Load(path, testFormat, []byte("correct horse"))
	if err != nil || !got.Equal(k) {
		t.Fatalf("load: %v", err)
	}
	if _, err := Load(path, testFormat, []byte("wrong")); !errors.Is(err, ErrWrongPassphrase) || !strings.Contains(err.Error(), "test key file: wrong passphrase") {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := Load(path, otherFormat, []byte("correct horse")); !errors.Is(err, ErrKeyFile) || errors.Is(err, ErrWrongPassphrase) || !strings.Contains(err.Error(), "not a zkcred other key") {
		t.Fatalf("other format: %v", err)
	}
	if err := Save(path, testFormat, k, []byte("x"), fast); !errors.Is(err, ErrKeyFile) || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("overwrite: %v", err)
	}
	if err := Save(filepath.Join(t.TempDir(), "e.key"), testFormat, k, nil, fast); !errors.Is(err, ErrKeyFile) {
		t.Fatalf("empty passphrase: %v", err)
	}
	// a missing file is ErrKeyFile and still os.ErrNotExist, which callers
	// take as "this key is kept elsewhere"
	if _, err := Load(filepath.Join(t.TempDir(), "none"), testFormat, []byte("x")); !errors.Is(err, ErrKeyFile) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := Load(path, testFormat, []byte("wrong")); errors.Is(err, os.ErrNotExist) {
		t.Fatalf("wrong passphrase reads as a missing file: %v", err)
	}
}

// TestPlainMigrate: a plain hex seed file is refused until Encrypt
// rewrites it; then it loads with the passphrase and is no longer plain.
func TestPlainMigrate(t *testing.T) {
	k := newKey(t)
	path := filepath.Join(t.TempDir(), "old.key")
	if err := os.WriteFile(path, []byte(hex.EncodeToString(k.Seed())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, testFormat, []byte("pw")); !errors.Is(err, ErrPlain) {
		t.Fatalf("plain file: %v", err)
	}
	got, err := Encrypt(path, testFormat, []byte("pw"), fast)
	if err != nil || !got.Equal(k) {
		t.Fatalf("encrypt: %v", err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte(hex.EncodeToString(k.Seed()))) {
		t.Fatal("migrated file still holds the hex seed")
	}
	if got, err := Load(path, testFormat, []byte("pw")); err != nil || !got.Equal(k) {
		t.Fatalf("load after migration: %v", err)
	}
	if _, err := Encrypt(path, testFormat, []byte("pw"), fast); !errors.Is(err, ErrKeyFile) || !strings.Contains(err.Error(), "not a plain hex seed") {
		t.Fatalf("encrypt twice: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "short.key")
	os.WriteFile(bad, []byte("abcd\n"), 0o600)
	if _, err := Encrypt(bad, testFormat, []byte("pw"), fast); !errors.Is(err, ErrKeyFile) {
		t.Fatalf("short seed: %v", err)
	}
	if _, err := Encrypt(path+"-none", testFormat, []byte("pw"), fast); !errors.Is(err, ErrKeyFile) {
		t.Fatalf("missing: %v", err)
	}
}

// TestRekey: after a passphrase change the key opens with the new
// passphrase only; a wrong old passphrase or an empty new one changes
// nothing.
func TestRekey(t *testing.T) {
	k := newKey(t)
	path := filepath.Join(t.TempDir(), "k.key")
	if err := Save(path, testFormat, k, []byte("old one"), fast); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	if _, err := Rekey(path, testFormat, []byte("not it"), []byte("new one"), fast); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong old passphrase: %v", err)
	}
	if _, err := Rekey(path, testFormat, []byte("old one"), nil, fast); !errors.Is(err, ErrKeyFile) {
		t.Fatalf("empty new passphrase: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("a refused change rewrote the file")
	}
	got, err := Rekey(path, testFormat, []byte("old one"), []byte("new one"), fast)
	if err != nil || !got.Equal(k) {
		t.Fatalf("rekey: %v", err)
	}
	if _, err := Load(path, testFormat, []byte("old one")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("old passphrase still opens the key: %v", err)
	}
	if got, err := Load(path, testFormat, []byte("new one")); err != nil || !got.Equal(k) {
		t.Fatalf("new passphrase: %v", err)
	}
}
