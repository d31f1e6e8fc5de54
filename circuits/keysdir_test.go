package circuits

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestKeysDir: WriteKeysDir writes exactly KeyFileNames, LoadKeysDir reads
// them back, and a verifying key of the wrong circuit is refused wherever
// it is read.
func TestKeysDir(t *testing.T) {
	k := keysT(t)
	dir := t.TempDir()
	if _, err := LoadKeysDir(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty directory: %v, want os.ErrNotExist", err)
	}
	if err := WriteKeysDir(dir, k); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	want := KeyFileNames()
	if !slices.Equal(got, slices.Sorted(slices.Values(want))) || len(want) != 4 {
		t.Fatalf("files %v, KeyFileNames %v", got, want)
	}
	v, err := ReadVerifyingKeyFile(VerifyingKeyFile(dir, HolderID), HolderID)
	if err != nil || v.Hash() != k.HolderVerifier().Hash() {
		t.Fatalf("holder key: %v", err)
	}
	if _, err := ReadVerifyingKeyFile(VerifyingKeyFile(dir, HolderID), PresentationID); !errors.Is(err, ErrWrongCircuit) {
		t.Fatalf("holder key read as the presentation key: %v", err)
	}
	if _, err := ReadVerifyingKeyFile(filepath.Join(dir, "none.vk"), HolderID); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing key: %v", err)
	}
	// The holder's verifying key in the presentation's place is refused.
	hv, _ := os.ReadFile(VerifyingKeyFile(dir, HolderID))
	if err := os.WriteFile(VerifyingKeyFile(dir, PresentationID), hv, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeysDir(dir); !errors.Is(err, ErrWrongCircuit) {
		t.Fatalf("swapped verifying key: %v, want ErrWrongCircuit", err)
	}
}
