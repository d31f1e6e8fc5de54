package circuits

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
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
	// assembly ("memory-safe") needs solc 0.8.13: the pragma must say so.
	if !strings.Contains(s, "pragma solidity "+SolidityPragma+";") || !strings.Contains(s, `assembly ("memory-safe")`) {
		t.Fatalf("contract pragma is not %s", SolidityPragma)
	}
}

// The calldata is the ABI encoding of verifyProof(bytes, uint256[66]):
// selector, offset, inputs, then the proof's length and its 256 bytes.
func TestSolidityCalldataLayout(t *testing.T) {
	k := keysT(t)
	p, pub, err := k.Prove(newFixture(t).w)
	if err != nil {
		t.Fatal(err)
	}
	cd, err := SolidityCalldataOf(PresentationID, p, pub.Vector())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := hex.DecodeString(strings.TrimPrefix(cd.Calldata, "0x"))
	proof, _ := hex.DecodeString(strings.TrimPrefix(cd.Proof, "0x"))
	if cd.Function != "verifyProof(bytes,uint256[66])" {
		t.Fatalf("function %s", cd.Function)
	}
	n := NbPublic
	if len(raw) != 4+32*(1+n+1)+256 || len(proof) != 256 || len(cd.Input) != n {
		t.Fatalf("calldata of %d bytes, proof %d, inputs %d", len(raw), len(proof), len(cd.Input))
	}
	if off := new(big.Int).SetBytes(raw[4:36]); off.Int64() != int64(32*(1+n)) {
		t.Fatalf("bytes offset %v", off)
	}
	if !bytes.Equal(raw[4+32*(1+n)+32:], proof) {
		t.Fatal("proof bytes are not at the end of the calldata")
	}
	// B's halves: imaginary part first, the reverse of snarkjs's pi_b.
	sp, err := SnarkJSProofOf(PresentationID, p)
	if err != nil {
		t.Fatal(err)
	}
	word := func(i int) string { return new(big.Int).SetBytes(proof[32*i : 32*i+32]).String() }
	if word(0) != sp.A[0] || word(2) != sp.B[0][1] || word(3) != sp.B[0][0] || word(4) != sp.B[1][1] || word(5) != sp.B[1][0] || word(7) != sp.C[1] {
		t.Fatal("proof words are not A, B (c1 before c0), C")
	}
}

// TestSolidityEVM compiles the exported contract with solc and runs it in
// an in-memory EVM (@ethereumjs/vm): a proof from the full prover and one
// from the incremental prover are accepted; an altered input, an altered
// proof and an input outside the field are refused. It needs node and the
// npm packages that .ci/run installs (ZKCRED_EVM_TOOLS names their npm
// prefix); set ZKCRED_REQUIRE_EVM=1 to fail rather than skip without them.
func TestSolidityEVM(t *testing.T) {
	node, _ := exec.LookPath("node")
	tools := os.Getenv("ZKCRED_EVM_TOOLS")
	missing := ""
	switch {
	case node == "":
		missing = "node not installed"
	case tools == "":
		missing = "ZKCRED_EVM_TOOLS not set"
	default:
		for _, m := range []string{"solc", "@ethereumjs/vm", "@ethereumjs/tx", "@ethereumjs/common", "@ethereumjs/util"} {
			if _, err := os.Stat(filepath.Join(tools, "node_modules", m)); err != nil {
				missing = m + " not installed in " + tools
			}
		}
	}
	if missing != "" {
		if os.Getenv("ZKCRED_REQUIRE_EVM") != "" {
			t.Fatalf("%s and ZKCRED_REQUIRE_EVM is set", missing)
		}
		t.Skipf("%s (.ci/run installs solc and @ethereumjs/vm from npm)", missing)
	}
	k := keysT(t)
	dir := t.TempDir()
	var sol bytes.Buffer
	if err := k.Verifier().ExportSolidity(&sol); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Verifier.sol"), sol.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	p, pub, err := k.Prove(f.w)
	if err != nil {
		t.Fatal(err)
	}
	good, err := SolidityCalldataOf(PresentationID, p, pub.Vector())
	if err != nil {
		t.Fatal(err)
	}
	// The incremental prover, on a prover state of this credential and a
	// request that differs in its nonce.
	var st ProverState
	if err := k.UpdateState(&st, f.w); err != nil {
		t.Fatal(err)
	}
	next := *f.w
	next.Nonce = RandomBytes31()
	ip, ipub, info, err := k.ProveFrom(&st, &next)
	if err != nil || !info.Incremental {
		t.Fatalf("incremental proof: %v (incremental %v, fallback %v)", err, info.Incremental, info.Fallback)
	}
	inc, err := SolidityCalldataOf(PresentationID, ip, ipub.Vector())
	if err != nil {
		t.Fatal(err)
	}
	vec := pub.Vector()
	altered := append([]fr.Element(nil), vec...)
	altered[5] = RandomBytes31() // the nonce
	raw, _ := hex.DecodeString(strings.TrimPrefix(good.Proof, "0x"))
	swapped := append([]byte(nil), raw...)
	copy(swapped[0:64], raw[192:256]) // A and C swapped: valid points, wrong proof
	copy(swapped[192:256], raw[0:64])
	flipped := append([]byte(nil), raw...)
	flipped[31] ^= 1 // A.x changed: not a curve point
	var overField fr.Element
	_, callAltered := solidityCall(raw, altered)
	_, callSwapped := solidityCall(swapped, vec)
	_, callFlipped := solidityCall(flipped, vec)
	_, callIncOnFull := solidityCall(raw, ipub.Vector())
	// An input of r (the modulus) instead of 0: the same value mod r, which
	// the contract must refuse rather than reduce.
	unreduced := func() string {
		_, cd := solidityCall(raw, vec)
		i := -1
		for j := range vec {
			if vec[j] == overField {
				i = j
				break
			}
		}
		if i < 0 {
			t.Fatal("no zero public input to replace")
		}
		Modulus().FillBytes(cd[4+32*(1+i) : 4+32*(2+i)])
		return "0x" + hex.EncodeToString(cd)
	}()
	hx := func(b []byte) string { return "0x" + hex.EncodeToString(b) }
	cases := []struct {
		Name     string `json:"name"`
		Calldata string `json:"calldata"`
		want     bool
	}{
		{"full prover", good.Calldata, true},
		{"incremental prover", inc.Calldata, true},
		{"altered input (nonce)", hx(callAltered), false},
		{"A and C swapped", hx(callSwapped), false},
		{"A not on the curve", hx(callFlipped), false},
		{"proof of one request, inputs of another", hx(callIncOnFull), false},
		{"input not reduced (r instead of 0)", unreduced, false},
	}
	cj, _ := json.Marshal(cases)
	if err := os.WriteFile(filepath.Join(dir, "cases.json"), cj, 0o644); err != nil {
		t.Fatal(err)
	}
	script, _ := filepath.Abs(filepath.Join("testdata", "evm", "verify.cjs"))
	cmd := exec.Command(node, script, tools, filepath.Join(dir, "Verifier.sol"), filepath.Join(dir, "cases.json"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("EVM run: %v\n%s", err, stderr.String())
	}
	var res struct {
		Solc, Hardfork string
		DeployGas      int `json:"deployGas"`
		Cases          []struct {
			Name  string
			OK    bool
			Gas   int
			Error string
		}
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Cases) != len(cases) {
		t.Fatalf("EVM output %s: %v", out, err)
	}
	t.Logf("solc %s, hardfork %s, deployment %d gas", res.Solc, res.Hardfork, res.DeployGas)
	for i, c := range res.Cases {
		t.Logf("%-45s ok %-5v %7d gas %s", c.Name, c.OK, c.Gas, c.Error)
		if c.OK != cases[i].want {
			t.Errorf("%s: contract accepted %v, want %v (%s)", c.Name, c.OK, cases[i].want, c.Error)
		}
	}
}
