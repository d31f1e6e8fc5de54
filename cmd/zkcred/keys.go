package main

import (
	"bufio"
	"os"
	"path/filepath"

	"github.com/zkcred/zkcred/circuits"
)

// circuitIDs are the circuits whose keys a keys directory holds.
var circuitIDs = []string{circuits.PresentationID, circuits.HolderID}

// vkFile is the verifying-key file of a circuit in a keys directory.
func vkFile(dir, id string) string { return filepath.Join(dir, filepath.Base(id)+".vk") }

// readVerifyingKey reads the verifying key of circuit id from a keys
// directory or, when file is set, from that file.
func readVerifyingKey(dir, file, id string) (*circuits.Verifier, error) {
	path := file
	if path == "" {
		path = vkFile(dir, id)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, localf("no_keys", "run 'zkcred setup --keys "+dir+"' first (or pass --keys DIR)", "verifying key of %s: %v", id, err)
	}
	defer f.Close()
	v, err := circuits.ReadVerifyingKey(bufio.NewReader(f))
	if err != nil {
		return nil, localf("bad_keys", "make the keys again with 'zkcred setup --force'", "%s: %w", path, err)
	}
	if v.CircuitID() != id {
		return nil, localf("bad_keys", "pass the key of circuit "+id, "%s is the key of %s, not %s", path, v.CircuitID(), id)
	}
	return v, nil
}

// loadKeys loads the proving and verifying keys of a keys directory,
// saying how to make them when it has none.
func loadKeys(dir string) (*circuits.Keys, error) {
	k, err := circuits.Load(dir)
	if err != nil {
		return nil, localf("no_keys", "run 'zkcred setup --keys "+dir+"' first", "keys: %v", err)
	}
	return k, nil
}
