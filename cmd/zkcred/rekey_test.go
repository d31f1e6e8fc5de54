package main

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkcred/zkcred/internal/keyfile"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/registry/node"
)

// TestChangePassphrase: each kind of key file changes its passphrase in
// place and then opens with the new one only; a wrong current passphrase,
// the same passphrase again, a missing file or a plain key change
// nothing and say what to do.
func TestChangePassphrase(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv(passphraseEnv, "")
	t.Setenv(newPassphraseEnv, "")
	write := func(name, text string) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, []byte(text+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old, nw, wrong := write("old", "shared at init"), write("new", "our own"), write("wrong", "not it")
	fast := keyfile.Options{ScryptWorkFactor: 10}
	wf := []string{"--work-factor", "10"}
	for _, k := range []struct {
		cmd    []string
		format keyfile.Format
		path   string
		flags  []string // how the command finds the key
	}{
		{[]string{"registry", "govern"}, node.GovernanceKeyFormat, filepath.Join(tmp, "reg", node.GovernanceFile), []string{"--dir", filepath.Join(tmp, "reg")}},
		{[]string{"registry", "accredit"}, accreditorFormat, filepath.Join(tmp, "ministry.key"), []string{"--key", filepath.Join(tmp, "ministry.key")}},
		{[]string{"issuer"}, issuer.KeyFormat, filepath.Join(tmp, "uni", issuer.KeyFile), []string{"--dir", filepath.Join(tmp, "uni")}},
	} {
		_, key, _ := ed25519.GenerateKey(nil)
		os.MkdirAll(filepath.Dir(k.path), 0o700)
		if err := keyfile.Save(k.path, k.format, key, []byte("shared at init"), fast); err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(k.path)
		cmd := append(append(append([]string{}, k.cmd...), "change-passphrase"), k.flags...)
		with := func(extra ...string) []string { return append(append(append([]string{}, cmd...), wf...), extra...) }
		for _, tc := range []struct {
			args []string
			code int
			want []string
		}{
			{with("--passphrase-file", wrong, "--new-passphrase-file", nw), 4, []string{"wrong passphrase", "hint: check the current passphrase"}},
			{with("--passphrase-file", old, "--new-passphrase-file", old), 2, []string{"the new passphrase is the current one", "hint:"}},
			{with("--passphrase-file", old, "--new-passphrase-file", filepath.Join(tmp, "none")), 2, []string{"hint: give --new-passphrase-file a readable file"}},
			{with("--passphrase-file", old, "--key", filepath.Join(tmp, "missing.key")), 4, []string{"no such file", "hint: give the"}},
		} {
			var stderr bytes.Buffer
			if code := run(tc.args, &stderr); code != tc.code {
				t.Errorf("%v: exit %d, want %d\n%s", tc.args, code, tc.code, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("%v: stderr lacks %q:\n%s", tc.args, w, stderr.String())
				}
			}
			if after, _ := os.ReadFile(k.path); !bytes.Equal(before, after) {
				t.Fatalf("%v: a refused change rewrote the key file", tc.args)
			}
		}
		var stderr bytes.Buffer
		if code := run(with("--passphrase-file", old, "--new-passphrase-file", nw), &stderr); code != 0 {
			t.Fatalf("%v: exit %d\n%s", cmd, code, stderr.String())
		}
		if _, err := keyfile.Load(k.path, k.format, []byte("shared at init")); !errors.Is(err, keyfile.ErrWrongPassphrase) {
			t.Fatalf("%v: the old passphrase still opens the key: %v", cmd, err)
		}
		if got, err := keyfile.Load(k.path, k.format, []byte("our own")); err != nil || !got.Equal(key) {
			t.Fatalf("%v: the new passphrase does not open the same key: %v", cmd, err)
		}
	}
	// a plain governance key is encrypted first, by encrypt-key
	plain := write("plain.key", strings.Repeat("ab", 32))
	var stderr bytes.Buffer
	if code := run([]string{"registry", "govern", "change-passphrase", "--key", plain, "--passphrase-file", old, "--new-passphrase-file", nw}, &stderr); code != 4 || !strings.Contains(stderr.String(), "encrypt-key --key "+plain) {
		t.Fatalf("plain key: exit %d\n%s", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"registry", "accredit", "change-passphrase", "--key", plain, "--passphrase-file", old, "--new-passphrase-file", nw}, &stderr); code != 4 || strings.Contains(stderr.String(), "encrypt-key") || !strings.Contains(stderr.String(), "hint: give the encrypted accreditor key file") {
		t.Fatalf("plain accreditor key: exit %d\n%s", code, stderr.String())
	}
}
