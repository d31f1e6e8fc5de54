package ceremony

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	curve "github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
)

// writePtau encodes commons of 2^power powers in snarkjs's .ptau layout
// (the parser's mirror, for tests without snarkjs).
func writePtau(c *mpcsetup.SrsCommons, power int) []byte {
	var b bytes.Buffer
	le32 := func(v uint32) { binary.Write(&b, binary.LittleEndian, v) }
	le64 := func(v uint64) { binary.Write(&b, binary.LittleEndian, v) }
	el := func(e *fp.Element) {
		for _, l := range e {
			le64(l)
		}
	}
	b.WriteString("ptau")
	le32(1)
	le32(7)
	le32(1)
	le64(44)
	le32(32)
	q := fp.Modulus().Bytes()
	b.Write(reverse(q))
	le32(uint32(power))
	le32(uint32(power))
	section := func(typ uint32, g1 []curve.G1Affine, g2 []curve.G2Affine) {
		le32(typ)
		le64(uint64(len(g1)*64 + len(g2)*128))
		for i := range g1 {
			el(&g1[i].X)
			el(&g1[i].Y)
		}
		for i := range g2 {
			el(&g2[i].X.A0)
			el(&g2[i].X.A1)
			el(&g2[i].Y.A0)
			el(&g2[i].Y.A1)
		}
	}
	section(ptauTauG1, c.G1.Tau, nil)
	section(ptauTauG2, nil, c.G2.Tau)
	section(ptauAlphaTauG1, c.G1.AlphaTau, nil)
	section(ptauBetaTauG1, c.G1.BetaTau, nil)
	section(ptauBetaG2, nil, []curve.G2Affine{c.G2.Beta})
	le32(7)
	le64(4)
	le32(0)
	return b.Bytes()
}

func importBytes(b []byte, n int) (*SRS, error) {
	return ImportPtau(bytes.NewReader(b), int64(len(b)), n)
}

func TestImportPtau(t *testing.T) {
	srs, err := ReadSRS(smallSRS(t)) // 16 powers
	if err != nil {
		t.Fatal(err)
	}
	file := writePtau(&srs.Commons, 4)
	got, err := importBytes(file, 8)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := truncate(&srs.Commons, 8)
	if !bytes.Equal(commonsBytes(&got.Commons), commonsBytes(want)) {
		t.Fatal("imported powers differ")
	}
	// Too small.
	if _, err := importBytes(file, 32); !errors.Is(err, ErrPtauTooSmall) || !strings.Contains(err.Error(), "power 4") {
		t.Fatalf("too small: %v", err)
	}
	// Corruptions, each refused with a reason.
	g1pos := 12 + 12 + 44 + 12 // first tauG1 point
	for name, c := range map[string]struct {
		alter func(b []byte) []byte
		want  string
	}{
		"magic":     {func(b []byte) []byte { b[0] = 'x'; return b }, "magic"},
		"truncated": {func(b []byte) []byte { return b[:len(b)/2] }, "past the end"},
		"curve":     {func(b []byte) []byte { b[12+12+4] ^= 1; return b }, "another curve"},
		"off curve": {func(b []byte) []byte { b[g1pos+64*3] ^= 1; return b }, "not on the curve"},
		"modulus":   {func(b []byte) []byte { copy(b[g1pos+64:], bytes.Repeat([]byte{0xff}, 32)); return b }, "modulus"},
		"swapped": {func(b []byte) []byte {
			p, q := b[g1pos+64*2:g1pos+64*3], b[g1pos+64*5:g1pos+64*6]
			t := append([]byte(nil), p...)
			copy(p, q)
			copy(q, t)
			return b
		}, "not consistent"},
		"infinity": {func(b []byte) []byte { copy(b[g1pos+64:g1pos+128], make([]byte, 64)); return b }, "infinity"},
	} {
		_, err := importBytes(c.alter(append([]byte(nil), file...)), 8)
		if !errors.Is(err, ErrPtau) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrPtau saying %q", name, err, c.want)
		}
	}
}

// TestSnarkJSPtau imports a .ptau file made by snarkjs itself (new,
// contribute, prepare phase2), runs the small circuit's ceremony on it and
// proves with the keys. It needs snarkjs (.ci/run installs it); set
// ZKCRED_REQUIRE_SNARKJS=1 to fail rather than skip when it is missing.
func TestSnarkJSPtau(t *testing.T) {
	bin := snarkjs(t)
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("snarkjs %v: %v\n%s", args, err, out)
		}
	}
	run("powersoftau", "new", "bn128", "5", "pot0.ptau")
	run("powersoftau", "contribute", "pot0.ptau", "pot1.ptau", "--name=first", "-e=some entropy")
	run("powersoftau", "prepare", "phase2", "pot1.ptau", "final.ptau")
	b, err := os.ReadFile(filepath.Join(dir, "final.ptau"))
	if err != nil {
		t.Fatal(err)
	}
	c := small(t)
	srs, err := importBytes(b, c.DomainSize())
	if err != nil {
		t.Fatalf("snarkjs .ptau refused: %v", err)
	}
	files := phase2(t, c, srs.Marshal(), 2)
	res, err := VerifyPhase2(c, srs.Marshal(), files)
	if err != nil {
		t.Fatal(err)
	}
	k, _, err := res.Seal(beaconAt(9))
	if err != nil {
		t.Fatal(err)
	}
	if err := proveSmall(t, c, k, 3, 35, 2); err != nil {
		t.Fatalf("proof with keys from a snarkjs phase 1: %v", err)
	}
	// The file before its contribution is valid too (τ = 1 is still
	// consistent); a snarkjs file too small for the circuit is refused.
	if _, err := importBytes(b, 64); !errors.Is(err, ErrPtauTooSmall) {
		t.Fatalf("power-5 file for 64 powers: %v", err)
	}
	// A corrupted snarkjs file: one byte of [τ²]₁ flipped.
	bad := append([]byte(nil), b...)
	bad[12+12+44+12+64*2+5] ^= 1
	if _, err := importBytes(bad, c.DomainSize()); !errors.Is(err, ErrPtau) {
		t.Fatalf("corrupted snarkjs file: %v", err)
	}
}

func snarkjs(t *testing.T) string {
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
	return bin
}
