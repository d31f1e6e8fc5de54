package ceremony

import (
	"context"
	"errors"
	"strings"
	"testing"

	curve "github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark/frontend"
)

// wantContribution checks that err names contribution idx of phase 2 and
// mentions want.
func wantContribution(t *testing.T, err error, idx int, want string) {
	t.Helper()
	var ce *ContributionError
	if !errors.As(err, &ce) || ce.Index != idx || !errors.Is(err, ErrInvalidTranscript) {
		t.Fatalf("got %v, want contribution %d named", err, idx)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("got %q, want it to say %q", err, want)
	}
}

func clone(files [][]byte) [][]byte {
	out := make([][]byte, len(files))
	for i := range files {
		out[i] = append([]byte(nil), files[i]...)
	}
	return out
}

func TestVerifyRejects(t *testing.T) {
	c := small(t)
	srs := smallSRS(t)
	files := phase2(t, c, srs, 3)
	_, _, g1, _ := curve.Generators()

	t.Run("altered point", func(t *testing.T) {
		fs := clone(files)
		f, err := readPhase2File(c, fs[2])
		if err != nil {
			t.Fatal(err)
		}
		f.P.Parameters.G1.PKK[1].Add(&f.P.Parameters.G1.PKK[1], &g1) // still a valid point
		fs[2] = f.marshal()
		_, err = VerifyPhase2(c, srs, fs)
		wantContribution(t, err, 2, "δ")
	})
	t.Run("altered byte", func(t *testing.T) {
		fs := clone(files)
		fs[2][len(fs[2])-200] ^= 0x40 // inside the Z points
		_, err := VerifyPhase2(c, srs, fs)
		wantContribution(t, err, 2, "")
	})
	t.Run("not building on the previous", func(t *testing.T) {
		fs := clone(files[:2])
		// Member 2 ignores member 1 and builds on the start file.
		fork, _, err := Contribute(c, nil, fs[0], "member 2")
		if err != nil {
			t.Fatal(err)
		}
		f, _ := readPhase2File(c, fork)
		f.Index = 2 // and claims to come second
		fs = append(fs, f.marshal())
		_, err = VerifyPhase2(c, srs, fs)
		wantContribution(t, err, 2, "does not build on the previous contribution")
		// Even with the link rewritten, its proofs are for the start file's hash.
		f.Prev = HashFile(fs[1])
		fs[2] = f.marshal()
		_, err = VerifyPhase2(c, srs, fs)
		wantContribution(t, err, 2, "challenge does not match")
	})
	t.Run("replayed contribution", func(t *testing.T) {
		fs := clone(files[:3])
		fs = append(fs, fs[2]) // the same file again
		_, err := VerifyPhase2(c, srs, fs)
		wantContribution(t, err, 3, "says it is contribution 2")
		// Renumbered and relinked: the update proof was made for another
		// challenge.
		f, _ := readPhase2File(c, files[2])
		f.Index, f.Prev = 3, HashFile(files[2])
		fs[3] = f.marshal()
		_, err = VerifyPhase2(c, srs, fs)
		wantContribution(t, err, 3, "challenge")
		f.P.Challenge = nil // without the stale challenge, gnark checks the proof against the right one
		fs[3] = f.marshal()
		_, err = VerifyPhase2(c, srs, fs)
		wantContribution(t, err, 3, "proof of knowledge")
	})
	t.Run("another circuit", func(t *testing.T) {
		other, err := Compile("zkcred/test-other", &otherCircuit{})
		if err != nil {
			t.Fatal(err)
		}
		ofiles := phase2(t, other, srs, 1)
		_, err = VerifyPhase2(c, srs, ofiles)
		wantContribution(t, err, 0, "for circuit zkcred/test-other")
		if !errors.Is(err, ErrWrongCircuit) {
			t.Fatalf("%v does not wrap ErrWrongCircuit", err)
		}
		// Another circuit's file in the middle of the transcript.
		fs := clone(files)
		fs[2] = ofiles[1]
		_, err = VerifyPhase2(c, srs, fs)
		wantContribution(t, err, 2, "for circuit zkcred/test-other")
		// The same ID with other constraints.
		impostor := &Circuit{ID: c.ID, CS: other.CS, hash: other.hash}
		_, err = VerifyPhase2(impostor, srs, files)
		wantContribution(t, err, 0, "other constraints")
	})
	t.Run("another phase 1", func(t *testing.T) {
		srs2 := nativeSRS(t, 4)
		_, err := VerifyPhase2(c, srs2, files)
		wantContribution(t, err, 0, "another phase 1")
	})
	t.Run("contribute refuses a bad latest", func(t *testing.T) {
		f, _ := readPhase2File(c, files[2])
		f.P.Parameters.G1.Z[0].Add(&f.P.Parameters.G1.Z[0], &g1)
		_, _, err := Contribute(c, files[1], f.marshal(), "member 3")
		wantContribution(t, err, 2, "δ")
	})
}

func TestBeaconRejects(t *testing.T) {
	c := small(t)
	srs := smallSRS(t)
	files := phase2(t, c, srs, 2)
	ctx := context.Background()
	chain := fakeChain{9: blockHash(9)}
	verified := func() *Phase2Result {
		r, err := VerifyPhase2(c, srs, files)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	_, good, err := verified().Seal(beaconAt(9))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := verified().CheckFinal(ctx, good.Marshal(), chain); err != nil {
		t.Fatalf("good final refused: %v", err)
	}
	// Sealed at another height than announced.
	if _, _, err := verified().Seal(beaconAt(8)); !errors.As(err, new(*BeaconError)) {
		t.Fatalf("seal at another height: %v", err)
	}
	// A seal with a hash that is not the chain's block 9.
	_, wrong, err := verified().Seal(Beacon{Height: 9, Hash: blockHash(99)})
	if err != nil {
		t.Fatal(err)
	}
	var be *BeaconError
	_, _, err = verified().CheckFinal(ctx, wrong.Marshal(), chain)
	if !errors.As(err, &be) || be.Chain == nil || !strings.Contains(err.Error(), "wrong beacon") {
		t.Fatalf("wrong beacon: %v", err)
	}
	// Without the chain, the record is consistent with itself: only the
	// registry can tell its beacon is wrong.
	if _, _, err := verified().CheckFinal(ctx, wrong.Marshal(), nil); err != nil {
		t.Fatalf("self-consistent final without a chain: %v", err)
	}
	// The right beacon written into a record whose keys used another.
	forged := *wrong
	forged.Beacon = beaconAt(9)
	if _, _, err := verified().CheckFinal(ctx, forged.Marshal(), chain); !errors.As(err, &be) || be.Chain != nil {
		t.Fatalf("keys of another beacon: %v", err)
	}
	// A record naming another verifying key.
	forged = *good
	forged.VKHash[0] ^= 1
	if _, _, err := verified().CheckFinal(ctx, forged.Marshal(), chain); err == nil {
		t.Fatal("final naming another key accepted")
	}
	// A record sealing an earlier contribution.
	r1, err := VerifyPhase2(c, srs, files[:2])
	if err != nil {
		t.Fatal(err)
	}
	_, early, _ := r1.Seal(beaconAt(9))
	if _, _, err := verified().CheckFinal(ctx, early.Marshal(), chain); !errors.Is(err, ErrInvalidTranscript) {
		t.Fatalf("final of an earlier contribution: %v", err)
	}
	// Contributing once the beacon block exists is refused.
	if err := CheckBeaconAhead(ctx, chain, 9); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("beacon already known: %v", err)
	}
	if err := CheckBeaconAhead(ctx, notYet{}, 9); err != nil {
		t.Fatal(err)
	}
}

type notYet struct{}

func (notYet) BlockHash(context.Context, uint64) (Hash, error) { return Hash{}, ErrBeaconNotYet }

func TestPhase1Rejects(t *testing.T) {
	start, _ := NewPhase1(3, 5)
	one, _, err := ContributePhase1(nil, start, "a")
	if err != nil {
		t.Fatal(err)
	}
	two, _, err := ContributePhase1(start, one, "b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SealPhase1([][]byte{start, one, two}, beaconAt(5)); err != nil {
		t.Fatal(err)
	}
	if _, err := SealPhase1([][]byte{start, one, two}, beaconAt(6)); !errors.As(err, new(*BeaconError)) {
		t.Fatalf("phase 1 sealed at another height: %v", err)
	}
	// An altered point in contribution 2.
	// (gnark keeps Phase1's parameters private, so alter the bytes.)
	bad := append([]byte(nil), two...)
	bad[len(bad)-100] ^= 1
	var ce *ContributionError
	if _, err := SealPhase1([][]byte{start, one, bad}, beaconAt(5)); !errors.As(err, &ce) || ce.Index != 2 || ce.Phase != 1 {
		t.Fatalf("altered phase-1 contribution: %v", err)
	}
	// Contribution 2 built on the start, not on contribution 1.
	fork, _, _ := ContributePhase1(nil, start, "b")
	if _, err := SealPhase1([][]byte{start, one, fork}, beaconAt(5)); !errors.As(err, &ce) || ce.Index != 2 {
		t.Fatalf("phase-1 fork: %v", err)
	}
	// A start that is not fresh.
	if _, err := SealPhase1([][]byte{one, two}, beaconAt(5)); !errors.As(err, &ce) || ce.Index != 0 {
		t.Fatalf("phase 1 from a non-fresh start: %v", err)
	}
	// Too small for the circuit.
	srs, _ := SealPhase1([][]byte{start, one, two}, beaconAt(5))
	big, err := Compile("zkcred/test-big", &bigCircuit{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Init(big, srs.Marshal(), 9); err == nil || !strings.Contains(err.Error(), "needs") {
		t.Fatalf("init with too few powers: %v", err)
	}
}

func TestSRSRejects(t *testing.T) {
	srsFile := smallSRS(t)
	srs, err := ReadSRS(srsFile)
	if err != nil {
		t.Fatal(err)
	}
	_, _, g1, _ := curve.Generators()
	for name, alter := range map[string]func(s *SRS){
		"tau":   func(s *SRS) { s.Commons.G1.Tau[5].Add(&s.Commons.G1.Tau[5], &g1) },
		"alpha": func(s *SRS) { s.Commons.G1.AlphaTau[3].Add(&s.Commons.G1.AlphaTau[3], &g1) },
		"beta":  func(s *SRS) { s.Commons.G1.BetaTau[0].Add(&s.Commons.G1.BetaTau[0], &g1) },
		"g2":    func(s *SRS) { s.Commons.G2.Tau[2], s.Commons.G2.Tau[3] = s.Commons.G2.Tau[3], s.Commons.G2.Tau[2] },
	} {
		s, _ := ReadSRS(srsFile)
		alter(s)
		if _, err := ReadSRS(s.Marshal()); !errors.Is(err, ErrBadSRS) {
			t.Errorf("SRS with altered %s: %v", name, err)
		}
	}
	_ = srs
}

type bigCircuit struct {
	X [40]frontend.Variable
	Y frontend.Variable `gnark:",public"`
}

func (c *bigCircuit) Define(api frontend.API) error {
	acc := frontend.Variable(1)
	for _, x := range c.X {
		acc = api.Mul(acc, x)
	}
	api.AssertIsEqual(acc, c.Y)
	return nil
}

func FuzzReadFiles(f *testing.F) {
	c := small(f)
	files := phase2(f, c, smallSRS(f), 1)
	f.Add(files[0][:400])
	f.Add(files[1])
	f.Add(smallSRS(f)[:300])
	f.Fuzz(func(t *testing.T, b []byte) {
		Inspect(b)
		ReadFinal(b)
		readPhase1File(b)
		if p, err := readPhase2File(c, b); err == nil && p.Index != 0 {
			if string(p.marshal()) != string(b) {
				t.Fatal("phase-2 file does not round-trip")
			}
		}
		ReadSRS(b)
	})
}

func TestNames(t *testing.T) {
	c := small(t)
	files := phase2(t, c, smallSRS(t), 1)
	for _, bad := range []string{"evil\x1b[2J", "tab\there", string([]byte{0xff}), strings.Repeat("x", 201)} {
		if _, _, err := Contribute(c, nil, files[1], bad); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
	if _, _, err := Contribute(c, nil, files[1], "Université d'Exemple"); err != nil {
		t.Fatal(err)
	}
}

func TestPhase1SealCheck(t *testing.T) {
	start, _ := NewPhase1(3, 5)
	one, _, _ := ContributePhase1(nil, start, "a")
	srs, err := SealPhase1([][]byte{start, one}, beaconAt(5))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkSeal(one, srs); err != nil {
		t.Fatalf("honest seal refused: %v", err)
	}
	other, _ := SealPhase1([][]byte{start, one}, Beacon{Height: 5, Hash: blockHash(6)})
	other.Beacon = beaconAt(5) // claims the right beacon, sealed with another
	if err := checkSeal(one, other); err == nil {
		t.Fatal("seal with another beacon accepted")
	}
	two, _, _ := ContributePhase1(start, one, "b")
	if err := checkSeal(two, srs); err == nil {
		t.Fatal("seal of another contribution accepted")
	}
}
