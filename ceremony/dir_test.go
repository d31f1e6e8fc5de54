package ceremony

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDirFlow runs the directory steps on the small circuit: a native
// phase 1, its seal, phase 2 with two members, verify, finalize, verify
// again; then a phase-1 result swapped for another is refused.
func TestDirFlow(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cs := []*Circuit{small(t)}
	chain := fakeChain{}
	if err := InitPhase1(dir, 4, 5); err != nil {
		t.Fatal(err)
	}
	if err := CheckBeaconAhead(ctx, notYet{}, 5); err != nil {
		t.Fatal(err)
	}
	if w, err := ContributeDir(ctx, dir, cs, "p1", nil, nil); err != nil || len(w) != 1 || w[0].File != Phase1File(1) {
		t.Fatalf("phase-1 contribution: %v %+v", err, w)
	}
	if err := InitFromPhase1(ctx, dir, cs, chain, 9, nil); err == nil {
		t.Fatal("phase 1 sealed before its beacon block exists")
	}
	chain[5] = blockHash(5)
	if err := InitFromPhase1(ctx, dir, cs, chain, 9, nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"m1", "m2"} {
		w, err := ContributeDir(ctx, dir, cs, name, nil, nil)
		if err != nil || len(w) != 1 {
			t.Fatalf("%s: %v %+v", name, err, w)
		}
	}
	rep, _, err := VerifyDir(ctx, dir, cs, VerifyOptions{Beacons: chain})
	if err != nil || len(rep.Circuits) != 1 || len(rep.Circuits[0].Contributions) != 2 || rep.Circuits[0].Finalized {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	if _, err := FinalizeDir(ctx, dir, cs, chain, t.TempDir(), func(string, string, *Keys) error { return nil }, nil); !errors.Is(err, ErrBeaconNotYet) && err == nil {
		t.Fatal("finalized before the beacon block exists")
	}
	chain[9] = blockHash(9)
	var saved *Keys
	finals, err := FinalizeDir(ctx, dir, cs, chain, t.TempDir(), func(_, _ string, k *Keys) error { saved = k; return nil }, nil)
	if err != nil || len(finals) != 1 {
		t.Fatal(err)
	}
	if err := proveSmall(t, cs[0], saved, 3, 35, 1); err != nil {
		t.Fatal(err)
	}
	rep, keys, err := VerifyDir(ctx, dir, cs, VerifyOptions{Beacons: chain})
	if err != nil || !rep.Circuits[0].Finalized || !rep.Circuits[0].BeaconChecked || rep.Circuits[0].TranscriptHash != finals[0].TranscriptHash().String() {
		t.Fatalf("verify after finalize: %v %+v", err, rep)
	}
	if vkHash(keys[cs[0].ID].VK) != finals[0].VKHash {
		t.Fatal("verify gives other keys")
	}
	// A changed byte in the second contribution is named with its file.
	good, _ := os.ReadFile(filepath.Join(dir, Phase2File(cs[0], 2)))
	bad := append([]byte(nil), good...)
	bad[len(bad)-150] ^= 0x20
	os.WriteFile(filepath.Join(dir, Phase2File(cs[0], 2)), bad, 0o644)
	if _, _, err := VerifyDir(ctx, dir, cs, VerifyOptions{}); err == nil || !strings.Contains(err.Error(), "contribution 2 (test-small-0002.mpc)") {
		t.Fatalf("altered file: %v", err)
	}
	os.WriteFile(filepath.Join(dir, Phase2File(cs[0], 2)), good, 0o644)
	// Contributing after the beacon block exists is refused.
	if _, err := ContributeDir(ctx, dir, cs, "late", chain, nil); err == nil {
		t.Fatal("contribution after the beacon block accepted")
	}
	// Another phase-1 result in place of the sealed one.
	os.WriteFile(filepath.Join(dir, SRSFile), nativeSRS(t, 4), 0o644)
	if _, _, err := VerifyDir(ctx, dir, cs, VerifyOptions{Beacons: chain}); !errors.Is(err, ErrInvalidTranscript) {
		t.Fatalf("swapped phase-1 result: %v", err)
	}
	// A wrong registry: the beacon does not match the chain.
	other := fakeChain{5: blockHash(5), 9: blockHash(10)}
	os.Remove(filepath.Join(dir, SRSFile))
	os.WriteFile(filepath.Join(dir, SRSFile), mustSRS(t, dir, chain), 0o644)
	if _, _, err := VerifyDir(ctx, dir, cs, VerifyOptions{Beacons: other}); !errors.As(err, new(*BeaconError)) {
		t.Fatalf("beacon not the chain's: %v", err)
	}
}

// mustSRS re-seals dir's phase 1 (to restore srs.mpc).
func mustSRS(t *testing.T, dir string, chain fakeChain) []byte {
	files, err := readSeq(dir, "phase1", Phase1File)
	if err != nil {
		t.Fatal(err)
	}
	srs, err := SealPhase1(files, Beacon{Height: 5, Hash: chain[5]})
	if err != nil {
		t.Fatal(err)
	}
	return srs.Marshal()
}
