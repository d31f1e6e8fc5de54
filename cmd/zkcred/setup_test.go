package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zkcred/zkcred/circuits"
)

// capture runs f with *file (os.Stdout or os.Stderr) redirected and
// returns what f wrote there.
func capture(t *testing.T, file **os.File, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := *file
	*file = w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	f()
	w.Close()
	*file = old
	return <-done
}

func captureStdout(t *testing.T, f func()) string { return capture(t, &os.Stdout, f) }

// TestSetupAndBench: setup makes keys once (and says they are unsafe),
// loads them the second time, exports the snarkjs key and the Solidity
// verifier; bench circuit prints the JSON object of the issue with a
// snarkjs proof set that an independent check accepts.
func TestSetupAndBench(t *testing.T) {
	if testing.Short() {
		t.Skip("makes keys and proves")
	}
	dir := t.TempDir()
	keys, export := filepath.Join(dir, "keys"), filepath.Join(dir, "export")
	var stderr bytes.Buffer
	var first, second map[string]any
	var out string
	warning := capture(t, &os.Stderr, func() {
		out = captureStdout(t, func() {
			if code := run([]string{"setup", "--keys", keys, "--json"}, &stderr); code != 0 {
				t.Fatalf("setup: exit %d\n%s", code, stderr.String())
			}
		})
	})
	if err := json.Unmarshal([]byte(out), &first); err != nil || first["new"] != true {
		t.Fatalf("first setup: %v %s", err, out)
	}
	if !strings.Contains(warning, "WARNING") || !strings.Contains(warning, "forge proofs") {
		t.Fatalf("new development keys without the loud warning; stderr: %q", warning)
	}
	out = captureStdout(t, func() {
		if code := run([]string{"setup", "--keys", keys, "--json", "--export", export}, &stderr); code != 0 {
			t.Fatalf("second setup: exit %d\n%s", code, stderr.String())
		}
	})
	if err := json.Unmarshal([]byte(out), &second); err != nil || second["new"] != false || second["vk_sha256"] != first["vk_sha256"] {
		t.Fatalf("second setup did not load the same keys: %v %s", err, out)
	}
	for _, f := range []string{"verification_key.json", "Verifier.sol"} {
		if _, err := os.Stat(filepath.Join(export, f)); err != nil {
			t.Fatal(err)
		}
	}

	out = captureStdout(t, func() {
		if code := run([]string{"bench", "circuit", "--keys", keys, "--json", "--export", export}, &stderr); code != 0 {
			t.Fatalf("bench: exit %d\n%s", code, stderr.String())
		}
	})
	var b map[string]float64
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("bench output %q: %v", out, err)
	}
	for _, k := range []string{"constraints", "public_inputs", "prove_ms", "prove_warm_ms", "verify_ms", "pk_bytes", "proof_bytes"} {
		if b[k] <= 0 {
			t.Errorf("bench %s = %v", k, b[k])
		}
	}
	read := func(name string) []byte {
		x, err := os.ReadFile(filepath.Join(export, name))
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	if err := circuits.VerifySnarkJS(read("verification_key.json"), read("proof.json"), read("public.json")); err != nil {
		t.Fatalf("exported proof set: %v", err)
	}
	// calldata.json calls the contract with the same proof and inputs.
	var cd circuits.SolidityCalldata
	var public []string
	if err := json.Unmarshal(read("calldata.json"), &cd); err != nil || json.Unmarshal(read("public.json"), &public) != nil {
		t.Fatalf("calldata.json: %v", err)
	}
	if cd.Function != "verifyProof(bytes,uint256[66])" || !slices.Equal(cd.Input, public) || len(cd.Proof) != 2+2*256 {
		t.Fatalf("calldata.json does not match public.json: %+v", cd)
	}
	if code := run([]string{"bench", "circuit", "--proofs", "3"}, &stderr); code != 2 {
		t.Fatalf("bench with 3 proofs: exit %d, want 2", code)
	}
}
