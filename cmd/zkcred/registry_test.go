package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkcred/zkcred/registry/node"
)

// TestRegistryCLI runs the registry commands in-process and checks the
// messages and hints a person sees.
func TestRegistryCLI(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "reg")
	t.Setenv(passphraseEnv, "")
	pass, wrong := filepath.Join(tmp, "pass"), filepath.Join(tmp, "wrong")
	os.WriteFile(pass, []byte("registry governance\n"), 0o600)
	os.WriteFile(wrong, []byte("not it\n"), 0o600)
	// a governance key as registry directories held it before keys were
	// encrypted: a plain hex seed
	_, oldKey, _ := ed25519.GenerateKey(nil)
	plain := filepath.Join(tmp, "old-governance.key")
	os.WriteFile(plain, []byte(hex.EncodeToString(oldKey.Seed())+"\n"), 0o600)
	somePub := hex.EncodeToString(oldKey.Public().(ed25519.PublicKey))
	wf := []string{"--work-factor", "10"}
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"registry"}, 2, []string{"missing subcommand", "hint:"}},
		{[]string{"registry", "frobnicate"}, 2, []string{`unknown subcommand "frobnicate"`, "audit, govern, init, start, status"}},
		{[]string{"registry", "init", "--dir", dir, "--chain-id", "Bad Chain"}, 2, []string{"chain_id", "hint:"}},
		{[]string{"registry", "init", "--dir", dir, "--issuers", filepath.Join(dir, "missing.json")}, 2, []string{"--issuers"}},
		{[]string{"registry", "init", "--dir", dir, "--chain-id", "cli-test", "--passphrase-file", filepath.Join(tmp, "none")}, 2, []string{"passphrase file", "hint: give --passphrase-file a readable file"}},
		{append([]string{"registry", "init", "--dir", dir, "--chain-id", "cli-test", "--passphrase-file", pass}, wf...), 0, nil},
		{[]string{"registry", "init", "--dir", dir}, 2, []string{"already exists", "zkcred registry start --dir"}},
		{[]string{"registry", "audit", "--dir", dir}, 0, nil},
		{[]string{"registry", "audit", "--dir", filepath.Join(dir, "nope")}, 4, []string{"no registry", "registry init"}},
		{[]string{"registry", "start", "--dir", filepath.Join(dir, "nope"), "--addr", "127.0.0.1:0"}, 4, []string{"no registry", "zkcred registry init --dir"}},
		{[]string{"registry", "start", "--dir", dir, "--addr", "not-an-address"}, 2, []string{"--addr"}},
		{[]string{"registry", "status", "--registry", "http://127.0.0.1:1"}, 3, []string{"is the registry running?"}},
		{[]string{"registry", "status", "--registry", "ftp://x"}, 2, []string{"http(s)"}},
		{[]string{"registry", "govern"}, 2, []string{"missing subcommand", "register-issuer"}},
		{[]string{"registry", "govern", "register-issuer", "--dir", filepath.Join(dir, "nope")}, 2, []string{"no issuer given", "--entry"}},
		{[]string{"registry", "govern", "register-issuer", "--dir", filepath.Join(dir, "nope"), "--pubkey", "00"}, 4, []string{"registry init", "hint:"}},
		{[]string{"registry", "govern", "register-issuer", "--dir", dir, "--pubkey", "00", "--registry", "http://127.0.0.1:1", "--passphrase-file", pass}, 3, []string{"registry at http://127.0.0.1:1", "is the registry running"}},
		// the governance key: encrypted, its passphrase checked, plain old
		// files refused until 'encrypt-key' migrates them
		{[]string{"registry", "govern", "deactivate-issuer", "--dir", dir, "--pubkey", somePub, "--passphrase-file", wrong}, 4, []string{"governance key file: wrong passphrase", "hint: check the passphrase"}},
		{[]string{"registry", "govern", "deactivate-issuer", "--dir", dir, "--pubkey", somePub, "--key", filepath.Join(tmp, "none.key")}, 4, []string{"no such file", "hint: give the governance key with --key"}},
		{[]string{"registry", "govern", "deactivate-issuer", "--dir", dir, "--pubkey", somePub, "--key", plain, "--passphrase-file", pass}, 4, []string{"stored unencrypted", "hint: encrypt it with 'zkcred registry govern encrypt-key --key " + plain + "'"}},
		{[]string{"registry", "govern", "approve", "--dir", dir, "--key", plain, "--in", filepath.Join(tmp, "tx.json"), "--passphrase-file", pass}, 4, []string{"stored unencrypted", "encrypt-key"}},
		{append([]string{"registry", "govern", "encrypt-key", "--key", plain, "--passphrase-file", pass}, wf...), 0, nil},
		{append([]string{"registry", "govern", "encrypt-key", "--key", plain, "--passphrase-file", pass}, wf...), 4, []string{"not a plain governance key", "already encrypted"}},
		{[]string{"registry", "govern", "deactivate-issuer", "--dir", dir, "--pubkey", somePub, "--key", plain, "--passphrase-file", wrong}, 4, []string{"wrong passphrase"}},
		{[]string{"registry", "govern", "deactivate-issuer", "--dir", dir, "--pubkey", somePub, "--key", plain, "--passphrase-file", pass, "--registry", "http://127.0.0.1:1"}, 3, []string{"registry at http://127.0.0.1:1"}},
		{[]string{"registry", "govern", "deactivate-issuer", "--dir", dir, "--pubkey", "zz"}, 2, []string{"hex public key"}},
	} {
		var stderr bytes.Buffer
		code := run(tc.args, &stderr)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d\n%s", tc.args, code, tc.code, stderr.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tc.args, w, stderr.String())
			}
		}
	}
	// The governance key on disk is an age file that holds none of the
	// key's bytes, and opens with the passphrase only.
	d, err := node.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, node.GovernanceFile))
	gov, err := d.GovernanceKey([]byte("registry governance"))
	if err != nil || len(d.Genesis.Governance) != 1 || d.Genesis.Governance[0] != hex.EncodeToString(gov.Public().(ed25519.PublicKey)) {
		t.Fatalf("governance key: %v", err)
	}
	if !bytes.HasPrefix(raw, []byte("age-encryption.org/v1\n")) || bytes.Contains(raw, gov.Seed()[:8]) || bytes.Contains(raw, []byte(hex.EncodeToString(gov.Seed())[:16])) {
		t.Fatalf("governance key file is not encrypted:\n%s", raw)
	}
	if _, err := d.GovernanceKey([]byte("not it")); !errors.Is(err, node.ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if k, err := node.ReadKey(plain, []byte("registry governance")); err != nil || !k.Equal(oldKey) {
		t.Fatalf("migrated key: %v", err)
	}
	for _, f := range []string{"genesis.json", "governance.key", "cometbft/config/priv_validator_key.json"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if f != "genesis.json" && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", f, fi.Mode().Perm())
		}
	}
}
