package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/home"
)

func init() {
	register("setup", "make (or load) development proving and verifying keys", runSetup)
}

// isTerminal reports whether f is a terminal, so that progress goes only
// to people and never into pipes or logs.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressWriter returns where progress goes: stderr on a terminal unless
// quiet, else nowhere.
func progressWriter(quiet bool) io.Writer {
	if quiet || !isTerminal(os.Stderr) {
		return io.Discard
	}
	return os.Stderr
}

func runSetup(args []string) error {
	fs := newFlags("setup")
	dir := fs.String("keys", home.KeysDir(), "key directory (env ZKCRED_HOME sets its parent)")
	force := fs.Bool("force", false, "make new keys even if cached ones exist")
	export := fs.String("export", "", "also write verification_key.json (snarkjs) and Verifier.sol into this directory")
	asJSON := fs.Bool("json", false, "print a JSON summary and no progress")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("zkcred setup [--keys DIR] [--force] [--export DIR] [--json]", "unexpected argument %q", fs.Arg(0))
	}
	if *force {
		for _, name := range circuits.KeyFileNames() {
			os.Remove(filepath.Join(*dir, name))
		}
	}
	fresh := false
	for _, name := range circuits.KeyFileNames() {
		if _, err := os.Stat(filepath.Join(*dir, name)); err != nil {
			fresh = true
		}
	}
	progress := progressWriter(*asJSON)
	keys, err := circuits.LoadOrSetup(*dir, progress)
	if err != nil {
		return err
	}
	if fresh && progress == io.Discard {
		// The loud warning goes to stderr even without a terminal or with
		// --json; on a terminal LoadOrSetup has printed it already.
		fmt.Fprintln(os.Stderr, circuits.UnsafeSetupWarning)
	}
	v := keys.Verifier()
	if *export != "" {
		if err := exportVerifier(*export, v); err != nil {
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(map[string]any{
			"keys": *dir, "circuit": v.CircuitID(), "vk_sha256": v.Hash(),
			"holder_vk_sha256": keys.HolderVerifier().Hash(), "constraints": keys.Constraints(),
			"new": fresh, "unsafe_single_party": true,
		})
	}
	fmt.Printf("keys:      %s\ncircuit:   %s (%d constraints)\nvk sha256: %s\nholder vk: %s\n",
		*dir, v.CircuitID(), keys.Constraints(), v.Hash(), keys.HolderVerifier().Hash())
	if *export != "" {
		fmt.Printf("exported:  %s\n", *export)
	}
	return nil
}

// exportVerifier writes the snarkjs verifying key and the Solidity verifier.
func exportVerifier(dir string, v *circuits.Verifier) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeJSONFile(filepath.Join(dir, "verification_key.json"), v.SnarkJS()); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "Verifier.sol"))
	if err != nil {
		return err
	}
	if err := v.ExportSolidity(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
