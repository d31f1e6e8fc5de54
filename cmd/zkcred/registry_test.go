package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRegistryCLI runs the registry commands in-process and checks the
// messages and hints a person sees.
func TestRegistryCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reg")
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"registry"}, 2, []string{"missing subcommand", "hint:"}},
		{[]string{"registry", "frobnicate"}, 2, []string{`unknown subcommand "frobnicate"`, "audit, govern, init, start, status"}},
		{[]string{"registry", "init", "--dir", dir, "--chain-id", "Bad Chain"}, 2, []string{"chain_id", "hint:"}},
		{[]string{"registry", "init", "--dir", dir, "--issuers", filepath.Join(dir, "missing.json")}, 2, []string{"--issuers"}},
		{[]string{"registry", "init", "--dir", dir, "--chain-id", "cli-test"}, 0, nil},
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
		{[]string{"registry", "govern", "register-issuer", "--dir", dir, "--pubkey", "00", "--registry", "http://127.0.0.1:1"}, 3, []string{"registry at http://127.0.0.1:1", "is the registry running"}},
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
