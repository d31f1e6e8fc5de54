package ceremony

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"

	curve "github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
	"github.com/zkcred/zkcred/circuits"
)

func TestSmallCeremony(t *testing.T) {
	c := small(t)
	srs := smallSRS(t)
	files := phase2(t, c, srs, 3)
	res, err := VerifyPhase2(c, srs, files)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Contributions) != 3 || res.Contributions[2].Name != "member 3" {
		t.Fatalf("contributions %+v", res.Contributions)
	}
	k, final, err := res.Seal(beaconAt(9))
	if err != nil {
		t.Fatal(err)
	}
	if err := proveSmall(t, c, k, 3, 35, 7); err != nil {
		t.Fatalf("proof with ceremony keys: %v", err)
	}
	if err := proveSmall(t, c, k, 3, 36, 7); err == nil {
		t.Fatal("false statement proved")
	}
	res2, err := VerifyPhase2(c, srs, files)
	if err != nil {
		t.Fatal(err)
	}
	k2, _, err := res2.CheckFinal(context.Background(), final.Marshal(), fakeChain{9: blockHash(9)})
	if err != nil {
		t.Fatal(err)
	}
	if vkHash(k2.VK) != final.VKHash || pkHash(k2.PK) != final.PKHash {
		t.Fatal("re-sealed keys differ")
	}
}

// TestStartMatchesGnark: the start file's evaluations are gnark's own, and
// checkStart refuses each vector altered in one point.
func TestStartCheck(t *testing.T) {
	c := small(t)
	srsFile := smallSRS(t)
	start, err := Init(c, srsFile, 9)
	if err != nil {
		t.Fatal(err)
	}
	srs, _ := ReadSRS(srsFile)
	commons, _ := truncate(&srs.Commons, c.DomainSize())
	f, err := readPhase2File(c, start)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkStart(c, commons, f.P, f.Evals); err != nil {
		t.Fatalf("honest start refused: %v", err)
	}
	var ref mpcsetup.Phase2
	ev := ref.Initialize(c.CS, commons)
	var a, b bytes.Buffer
	ref.WriteTo(&a)
	f.P.WriteTo(&b)
	if !bytes.Equal(a.Bytes(), b.Bytes()) || len(ev.G1.A) != len(f.Evals.G1.A) {
		t.Fatal("decoded start differs from gnark's Initialize")
	}
	_, _, g1, g2 := curve.Generators()
	for name, alter := range map[string]func(f *phase2File){
		"A":     func(f *phase2File) { f.Evals.G1.A[1].Add(&f.Evals.G1.A[1], &g1) },
		"B":     func(f *phase2File) { f.Evals.G1.B[2].Add(&f.Evals.G1.B[2], &g1) },
		"B2":    func(f *phase2File) { f.Evals.G2.B[1].Add(&f.Evals.G2.B[1], &g2) },
		"VKK":   func(f *phase2File) { f.Evals.G1.VKK[0].Add(&f.Evals.G1.VKK[0], &g1) },
		"PKK":   func(f *phase2File) { f.P.Parameters.G1.PKK[0].Add(&f.P.Parameters.G1.PKK[0], &g1) },
		"Z":     func(f *phase2File) { f.P.Parameters.G1.Z[3].Add(&f.P.Parameters.G1.Z[3], &g1) },
		"delta": func(f *phase2File) { f.P.Parameters.G1.Delta.Add(&f.P.Parameters.G1.Delta, &g1) },
	} {
		f, _ := readPhase2File(c, start)
		alter(f)
		if err := checkStart(c, commons, f.P, f.Evals); err == nil {
			t.Errorf("start with altered %s accepted", name)
		}
		// And through the file: VerifyPhase2 names the start file.
		bad := f.marshal()
		_, err := VerifyPhase2(c, srsFile, [][]byte{bad})
		var ce *ContributionError
		if !errors.As(err, &ce) || ce.Index != 0 {
			t.Errorf("altered %s: %v, want contribution 0 named", name, err)
		}
	}
}

// TestInitializeMatchesGnark: zkcred's initialize gives exactly gnark's
// Phase2.Initialize, on the small circuit and on the holder circuit
// (Poseidon2: many distinct coefficients).
func TestInitializeMatchesGnark(t *testing.T) {
	holder, err := Compile(circuits.HolderID, &circuits.HolderCircuit{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c     *Circuit
		power int
	}{{small(t), 4}, {holder, 8}} {
		srsFile := smallSRS(t)
		if tc.power != 4 {
			srsFile = nativeSRS(t, tc.power)
		}
		srs, _ := ReadSRS(srsFile)
		commons, err := truncate(&srs.Commons, tc.c.DomainSize())
		if err != nil {
			t.Fatal(err)
		}
		var ref mpcsetup.Phase2
		refEv := ref.Initialize(tc.c.CS, commons)
		got, gotEv := initialize(tc.c, commons)
		a := (&phase2File{Circuit: tc.c.ID, P: &ref, Evals: &refEv}).marshal()
		b := (&phase2File{Circuit: tc.c.ID, P: &got, Evals: &gotEv}).marshal()
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: initialize differs from gnark's Initialize", tc.c.ID)
		}
		if !reflect.DeepEqual(refEv.PublicAndCommitmentCommitted, gotEv.PublicAndCommitmentCommitted) {
			t.Fatalf("%s: public-and-commitment lists differ", tc.c.ID)
		}
	}
}
