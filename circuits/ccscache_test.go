package circuits

import (
	"bytes"
	"os"
	"testing"

	gnark "github.com/consensys/gnark"
)

// loadCounting loads dir's keys and returns how many circuits were
// compiled to do it.
func loadCounting(t *testing.T, dir string) (*Keys, int64) {
	t.Helper()
	before := compiles.Load()
	k, err := LoadKeysDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return k, compiles.Load() - before
}

// proves checks that keys loaded from a directory make proofs that verify.
func proves(t *testing.T, k *Keys) {
	t.Helper()
	proof, pub, err := k.Prove(newFixture(t).w)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Verifier().Verify(proof, pub); err != nil {
		t.Fatalf("proof from loaded keys: %v", err)
	}
}

// TestConstraintCache: the first load compiles both circuits and caches
// their constraint systems; the next compiles nothing and proves as well.
func TestConstraintCache(t *testing.T) {
	dir := t.TempDir()
	if err := WriteKeysDir(dir, keysT(t)); err != nil {
		t.Fatal(err)
	}
	if _, n := loadCounting(t, dir); n != 2 {
		t.Fatalf("first load compiled %d circuits, want 2", n)
	}
	for _, id := range keyCircuits {
		if _, err := os.Stat(keyFile(dir, id, ".ccs")); err != nil {
			t.Fatalf("no cache for %s: %v", id, err)
		}
	}
	k, n := loadCounting(t, dir)
	if n != 0 {
		t.Fatalf("second load compiled %d circuits, want 0", n)
	}
	proves(t, k)
}

// TestConstraintCacheRefused: a cache file that is damaged, of another
// circuit or gnark version, or made beside another proving key is ignored:
// the circuit is compiled again, the file rewritten, and the keys prove.
func TestConstraintCacheRefused(t *testing.T) {
	other := otherKeysT(t).pres
	dir := t.TempDir()
	if err := WriteKeysDir(dir, keysT(t)); err != nil {
		t.Fatal(err)
	}
	loadCounting(t, dir)
	path := keyFile(dir, PresentationID, ".ccs")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	holder, err := os.ReadFile(keyFile(dir, HolderID, ".ccs"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 1
		return b
	}
	head := bytes.Index(good, []byte(gnark.Version.String())) + len(gnark.Version.String())
	for _, c := range []struct {
		name  string
		file  []byte
		setup func()
	}{
		{name: "truncated", file: good[:len(good)/2]},
		{name: "trailing bytes", file: append(bytes.Clone(good), 0)},
		{name: "body bit flipped", file: flip(len(good) - 100)},
		{name: "proving-key digest bit flipped", file: flip(head + 3)},
		{name: "holder circuit's file", file: holder},
		{name: "other gnark version", file: bytes.Replace(good, []byte(gnark.Version.String()), []byte("v0.0.0-other"[:len(gnark.Version.String())]), 1)},
		{name: "made beside other keys", file: good, setup: func() {
			if err := SaveKeys(dir, other.id, other.pk, other.vk); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.setup != nil {
				c.setup()
			}
			if err := os.WriteFile(path, c.file, 0o644); err != nil {
				t.Fatal(err)
			}
			k, n := loadCounting(t, dir)
			if n != 1 {
				t.Fatalf("compiled %d circuits, want 1 (the presentation circuit)", n)
			}
			proves(t, k)
			if _, n := loadCounting(t, dir); n != 0 {
				t.Fatalf("cache not rewritten: the next load compiled %d circuits", n)
			}
		})
	}
}
