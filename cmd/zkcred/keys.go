package main

import (
	"errors"
	"os"

	"github.com/zkcred/zkcred/circuits"
)

// circuitIDs are the circuits whose keys a keys directory holds.
var circuitIDs = []string{circuits.PresentationID, circuits.HolderID}

// vkFile is the verifying-key file of a circuit in a keys directory.
func vkFile(dir, id string) string { return circuits.VerifyingKeyFile(dir, id) }

// readVerifyingKey reads the verifying key of circuit id from a keys
// directory or, when file is set, from that file.
func readVerifyingKey(dir, file, id string) (*circuits.Verifier, error) {
	path := file
	if path == "" {
		path = vkFile(dir, id)
	}
	v, err := circuits.ReadVerifyingKeyFile(path, id)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, localf("no_keys", "run 'zkcred setup --keys "+dir+"' first (or pass --keys DIR)", "verifying key of %s: %v", id, err)
	case errors.Is(err, circuits.ErrWrongCircuit):
		return nil, localf("bad_keys", "pass the key of circuit "+id, "%v", err)
	case err != nil:
		return nil, localf("bad_keys", "make the keys again with 'zkcred setup --force'", "%w", err)
	}
	return v, nil
}

// loadKeys loads the proving and verifying keys of a keys directory,
// saying how to make them when it has none.
func loadKeys(dir string) (*circuits.Keys, error) {
	k, err := circuits.LoadKeysDir(dir)
	if err != nil {
		return nil, localf("no_keys", "run 'zkcred setup --keys "+dir+"' first", "keys: %v", err)
	}
	return k, nil
}
