package circuits

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"

	gnark "github.com/consensys/gnark"
	groth16 "github.com/consensys/gnark/backend/groth16/bn254"
	cs "github.com/consensys/gnark/constraint/bn254"
	"github.com/consensys/gnark/frontend"

	"github.com/zkcred/zkcred/internal/atomicfile"
)

// Compiling the presentation circuit takes about 120 ms on the 2-core
// reference machine, more than half of a warm presentation's proof; reading
// its compiled form takes about 5 ms. So a keys directory keeps each
// circuit's constraint system, as compiled when its keys were first loaded,
// in <name>.ccs:
//
//	header (kind 4, circuit id, gnark version) ‖ SHA-256 of the .pk file ‖
//	SHA-256 of the encoding ‖ gnark's R1CS encoding
//
// The file is a cache, never served nor fetched: it is used only when it
// names the circuit, was written by this gnark version beside the very
// proving-key file now loaded (its SHA-256), is intact (the encoding's
// SHA-256), and its counts agree with the keys; anything else (a missing,
// stale, truncated, damaged or foreign file) is ignored, the circuit
// compiled and the file rewritten. Keys and their
// constraint system then always come from one setup.
const kindConstraints byte = 4

// constraintSystem returns circuit id's constraint system for the proving
// key whose file has SHA-256 pkSum: from dir's cache when it is valid, else
// compiled (and cached, if dir is writable).
func constraintSystem(dir, id string, c frontend.Circuit, pkSum [32]byte) (*cs.R1CS, error) {
	path := keyFile(dir, id, ".ccs")
	if ccs := readConstraints(path, id, pkSum); ccs != nil {
		return ccs, nil
	}
	ccs, err := compile(c)
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	if _, err := ccs.WriteTo(&body); err != nil {
		return nil, err
	}
	bodySum := sha256.Sum256(body.Bytes())
	// A read-only keys directory only costs the compilation next time.
	_ = atomicfile.Write(path, 0o644, func(w io.Writer) error {
		if err := writeHeader(w, kindConstraints, id); err != nil {
			return err
		}
		for _, b := range [][]byte{pkSum[:], bodySum[:], body.Bytes()} {
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	})
	return ccs, nil
}

// readConstraints returns the cached constraint system at path, or nil when
// the file is missing or not valid for (id, pkSum).
func readConstraints(path, id string, pkSum [32]byte) (ccs *cs.R1CS) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	r := bytes.NewReader(b)
	if got, version, err := readHeaderVersion(r, kindConstraints); err != nil || got != id || version != gnark.Version.String() {
		return nil
	}
	var sum, bodySum [32]byte
	if _, err := io.ReadFull(r, sum[:]); err != nil || sum != pkSum {
		return nil
	}
	if _, err := io.ReadFull(r, bodySum[:]); err != nil || sha256.Sum256(b[len(b)-r.Len():]) != bodySum {
		return nil
	}
	// gnark's decoder trusts its input; a damaged cache must only cost a
	// compilation.
	defer func() {
		if recover() != nil {
			ccs = nil
		}
	}()
	var out cs.R1CS
	if _, err := out.ReadFrom(r); err != nil || r.Len() != 0 {
		return nil
	}
	return &out
}

// readProvingKeyFile reads a proving key as readProvingKey does and returns
// the SHA-256 of the file with it.
func readProvingKeyFile(path, id string) (pk *groth16.ProvingKey, sum [32]byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, sum, err
	}
	defer f.Close()
	h := sha256.New()
	if pk, err = decodeProvingKey(bufio.NewReaderSize(io.TeeReader(f, h), 1<<20), path, id); err != nil {
		return nil, sum, err
	}
	// The decoder may stop short of the end: hash what it left.
	if _, err := io.Copy(h, f); err != nil {
		return nil, sum, fmt.Errorf("%s: %w", path, err)
	}
	h.Sum(sum[:0])
	return pk, sum, nil
}
