package circuits

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// writeSnarkJS exports a fresh proof as snarkjs's three files into dir.
func writeSnarkJS(t *testing.T, dir string) (vk, proof, public []byte) {
	t.Helper()
	k := keysT(t)
	f := newFixture(t)
	p, pub, err := k.Prove(f.w)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := SnarkJSProofOf(PresentationID, p)
	if err != nil {
		t.Fatal(err)
	}
	vk, _ = json.Marshal(k.Verifier().SnarkJS())
	proof, _ = json.Marshal(sp)
	public, _ = json.Marshal(SnarkJSPublic(pub.Vector()))
	for name, b := range map[string][]byte{"verification_key.json": vk, "proof.json": proof, "public.json": public} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return vk, proof, public
}

func TestSnarkJSExportIndependentVerifier(t *testing.T) {
	vk, proof, public := writeSnarkJS(t, t.TempDir())
	if err := VerifySnarkJS(vk, proof, public); err != nil {
		t.Fatalf("exported proof rejected: %v", err)
	}
	var pub []string
	json.Unmarshal(public, &pub)
	pub[5] = "1" // the nonce
	altered, _ := json.Marshal(pub)
	if err := VerifySnarkJS(vk, proof, altered); err == nil {
		t.Fatal("exported proof accepted with an altered public input")
	}
	var sp SnarkJSProof
	json.Unmarshal(proof, &sp)
	sp.A, sp.C = sp.C, sp.A
	swapped, _ := json.Marshal(sp)
	if err := VerifySnarkJS(vk, swapped, public); err == nil {
		t.Fatal("exported proof accepted with A and C swapped")
	}
}

// TestSnarkJSCLI runs snarkjs itself on the export. It needs the snarkjs
// command (.ci/run installs it from npm); set ZKCRED_REQUIRE_SNARKJS=1 to
// fail rather than skip when it is missing.
func TestSnarkJSCLI(t *testing.T) {
	bin := os.Getenv("SNARKJS")
	if bin == "" {
		bin, _ = exec.LookPath("snarkjs")
	}
	if bin == "" {
		if os.Getenv("ZKCRED_REQUIRE_SNARKJS") != "" {
			t.Fatal("snarkjs not found and ZKCRED_REQUIRE_SNARKJS is set")
		}
		t.Skip("snarkjs not installed (npm install snarkjs@0.7.6)")
	}
	dir := t.TempDir()
	writeSnarkJS(t, dir)
	run := func() (string, error) {
		cmd := exec.Command(bin, "groth16", "verify", "verification_key.json", "public.json", "proof.json")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run()
	if err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("snarkjs rejected the exported proof: %v\n%s", err, out)
	}
	pub, _ := os.ReadFile(filepath.Join(dir, "public.json"))
	pub = bytes.Replace(pub, []byte(`"42"`), []byte(`"43"`), 1) // the block height
	os.WriteFile(filepath.Join(dir, "public.json"), pub, 0o644)
	if out, err := run(); err == nil && !strings.Contains(out, "Invalid") {
		t.Fatalf("snarkjs accepted an altered public input:\n%s", out)
	}
}

func TestSolidityExport(t *testing.T) {
	var b bytes.Buffer
	if err := keysT(t).Verifier().ExportSolidity(&b); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if !strings.Contains(s, "function verifyProof") || strings.Contains(s, "commitments") && strings.Contains(s, "verifyCommitment") {
		t.Fatal("Solidity verifier missing verifyProof or uses commitments")
	}
}
