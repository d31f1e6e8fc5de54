package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/zkcred/zkcred/circuits"
)

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

func newSetupCmd() *cobra.Command {
	var dir, export string
	var force bool
	c := leaf("setup", "make (or load) development proving and verifying keys",
		`  zkcred setup                      # keys in the default place; prints their hashes
  zkcred setup --keys keys/ --export out/   # also snarkjs and Solidity verifiers`,
		noArgs, func(c *cobra.Command, _ []string) error { return runSetup(dir, export, force) })
	c.Long = `Setup makes the Groth16 proving and verifying keys of zkcred's circuits in one
process, or loads them if the keys directory has them. Keys made this way are
for development only: whoever ran setup could forge proofs. Production keys
come from a multi-party ceremony; the registry publishes their hashes.`
	addKeysFlag(c, &dir)
	c.Flags().BoolVar(&force, "force", false, "make new keys even if cached ones exist")
	c.Flags().StringVar(&export, "export", "", "also write verification_key.json (snarkjs) and Verifier.sol into this directory")
	return c
}

func runSetup(dir, export string, force bool) error {
	asJSON := &jsonOutput
	if force {
		for _, name := range circuits.KeyFileNames() {
			os.Remove(filepath.Join(dir, name))
		}
	}
	fresh := false
	for _, name := range circuits.KeyFileNames() {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			fresh = true
		}
	}
	progress := progressWriter(*asJSON)
	keys, err := circuits.LoadOrSetup(dir, progress)
	if err != nil {
		return withHint(err, "make the keys again with 'zkcred setup --force --keys "+dir+"'")
	}
	if fresh && progress == io.Discard {
		// The loud warning goes to stderr even without a terminal or with
		// --json; on a terminal LoadOrSetup has printed it already.
		fmt.Fprintln(os.Stderr, circuits.UnsafeSetupWarning)
	}
	v := keys.Verifier()
	if export != "" {
		if err := exportVerifier(export, v); err != nil {
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(map[string]any{
			"keys": dir, "circuit": v.CircuitID(), "vk_sha256": v.Hash(),
			"holder_vk_sha256": keys.HolderVerifier().Hash(), "constraints": keys.Constraints(),
			"new": fresh, "unsafe_single_party": true,
		})
	}
	fmt.Printf("keys:      %s\ncircuit:   %s (%d constraints)\nvk sha256: %s\nholder vk: %s\n",
		dir, v.CircuitID(), keys.Constraints(), v.Hash(), keys.HolderVerifier().Hash())
	if export != "" {
		fmt.Printf("exported:  %s\n", export)
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
