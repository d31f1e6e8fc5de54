package wallet

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newWallet(t *testing.T, pass string) *Wallet {
	t.Helper()
	w, err := Create(filepath.Join(t.TempDir(), "wallet.age"), pass, CreateOptions{WorkFactor: MinWorkFactor})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestCreateOpen(t *testing.T) {
	w := newWallet(t, "correct horse")
	st, err := os.Stat(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("wallet mode %v, want 0600", st.Mode().Perm())
	}
	w2, err := Open(w.Path(), "correct horse", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if w2.HolderCommit() != w.HolderCommit() || w2.f.Secret != w.f.Secret {
		t.Fatal("reopened wallet has another secret")
	}
	if _, err := Open(w.Path(), "wrong horse", Options{}); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "none.age"), "x", Options{}); !errors.Is(err, ErrNoWallet) {
		t.Fatalf("missing wallet: %v", err)
	}
	if _, err := Create(w.Path(), "other", CreateOptions{WorkFactor: MinWorkFactor}); !errors.Is(err, ErrExists) {
		t.Fatalf("create over an existing wallet: %v", err)
	}
	// Nothing of the content is readable without the passphrase.
	raw, _ := os.ReadFile(w.Path())
	for _, s := range []string{w.f.Secret.String(), w.HolderCommit().String(), walletFormat} {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatalf("wallet file holds %q in the clear", s)
		}
	}
	if !bytes.HasPrefix(raw, []byte("age-encryption.org/v1\n-> scrypt ")) {
		t.Fatal("wallet file is not an age scrypt file")
	}
}

// A crash while saving leaves the previous wallet readable.
func TestCrashDuringSave(t *testing.T) {
	w := newWallet(t, "pw")
	dir := filepath.Dir(w.Path())
	w.SetConfig(Config{Registry: "http://127.0.0.1:1"})
	if err := w.Save(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(w.Path())

	// 1. The write fails after the temporary file is written.
	boom := errors.New("disk full")
	failAfterTempWrite = func([]byte) error { return boom }
	w.SetConfig(Config{Registry: "http://127.0.0.1:2"})
	err := w.Save()
	failAfterTempWrite = nil
	if !errors.Is(err, boom) {
		t.Fatalf("save: %v", err)
	}
	after, _ := os.ReadFile(w.Path())
	if !bytes.Equal(before, after) {
		t.Fatal("failed save changed the wallet file")
	}
	got, err := Open(w.Path(), "pw", Options{})
	if err != nil || got.Config().Registry != "http://127.0.0.1:1" {
		t.Fatalf("old wallet after failed save: %v %+v", err, got)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temporary file left behind: %v", ents)
	}

	// 2. The process dies mid-write: a torn temporary file stays behind.
	failAfterTempWrite = func(b []byte) error {
		os.WriteFile(filepath.Join(dir, ".wallet.age.tmp-crashed"), b[:len(b)/2], 0o600)
		return boom
	}
	err = w.Save()
	failAfterTempWrite = nil
	if err == nil {
		t.Fatal("save did not fail")
	}
	if got, err = Open(w.Path(), "pw", Options{}); err != nil || got.Config().Registry != "http://127.0.0.1:1" {
		t.Fatalf("old wallet after crash: %v", err)
	}
	// and the next save still works
	if err := w.Save(); err != nil {
		t.Fatal(err)
	}
	if got, err = Open(w.Path(), "pw", Options{}); err != nil || got.Config().Registry != "http://127.0.0.1:2" {
		t.Fatalf("wallet after a good save: %v", err)
	}
}

func TestTamperedFileRefused(t *testing.T) {
	w := newWallet(t, "pw")
	raw, _ := os.ReadFile(w.Path())
	raw[len(raw)-5] ^= 1
	os.WriteFile(w.Path(), raw, 0o600)
	if _, err := Open(w.Path(), "pw", Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("tampered wallet: %v", err)
	}
}

func TestBackupRestoreEmpty(t *testing.T) {
	w := newWallet(t, "pw")
	var buf bytes.Buffer
	if err := w.Backup(&buf, "backup-pw"); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte(w.f.Secret.String())) {
		t.Fatal("backup holds the secret in the clear")
	}
	dst := filepath.Join(t.TempDir(), "restored.age")
	if _, err := Restore(bytes.NewReader(buf.Bytes()), "pw", dst, "new-pw", Options{}); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("restore with the wallet's passphrase instead of the backup's: %v", err)
	}
	r, err := Restore(bytes.NewReader(buf.Bytes()), "backup-pw", dst, "new-pw", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.HolderCommit() != w.HolderCommit() {
		t.Fatal("restored wallet has another secret")
	}
	if _, err := Open(dst, "new-pw", Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(bytes.NewReader(buf.Bytes()), "backup-pw", dst, "x", Options{}); !errors.Is(err, ErrExists) {
		t.Fatalf("restore over a wallet: %v", err)
	}
	// a wallet file is not a backup
	wf, _ := os.ReadFile(w.Path())
	if _, err := Restore(bytes.NewReader(wf), "pw", filepath.Join(t.TempDir(), "x.age"), "x", Options{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("restore from a wallet file: %v", err)
	}
}

func TestCredentialLookup(t *testing.T) {
	w := newWallet(t, "pw")
	w.f.Credentials = []*Entry{{ID: "abcd1234"}, {ID: "abcd9999"}, {ID: "ffff0000"}}
	if e, err := w.Credential("ffff"); err != nil || e.ID != "ffff0000" {
		t.Fatalf("prefix: %v", err)
	}
	if _, err := w.Credential("abcd"); !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("ambiguous: %v", err)
	}
	if _, err := w.Credential("abc"); !errors.Is(err, ErrUnknownCredential) {
		t.Fatalf("short prefix: %v", err)
	}
	if _, err := w.Credential("12345678"); !errors.Is(err, ErrUnknownCredential) || !strings.Contains(err.Error(), "12345678") {
		t.Fatalf("unknown: %v", err)
	}
}

func TestLock(t *testing.T) {
	p := filepath.Join(t.TempDir(), "wallet.age")
	unlock, err := Lock(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(p); !errors.Is(err, ErrBusy) {
		t.Fatalf("second lock: %v", err)
	}
	unlock()
	unlock2, err := Lock(p)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}
