package circuits

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	groth16 "github.com/consensys/gnark/backend/groth16/bn254"
	"github.com/consensys/gnark/frontend"
	"github.com/zkcred/zkcred/internal/atomicfile"
)

// A keys directory holds, for each circuit, its proving key in
// <name>.pk and its verifying key in <name>.vk, where <name> is the last
// element of the circuit id (2-s16-d32-t8-p4-v8, holder-2). Every party reads
// and writes it through the functions below, and serves or fetches it by
// KeyFileNames.

// keyCircuits are the circuits of a keys directory, in file order.
var keyCircuits = []string{PresentationID, HolderID}

func keyFile(dir, id, ext string) string {
	return filepath.Join(dir, filepath.Base(id)+ext)
}

// KeyFileNames returns the names of the files of a keys directory: each
// circuit's proving key, then its verifying key.
func KeyFileNames() []string {
	var out []string
	for _, id := range keyCircuits {
		out = append(out, filepath.Base(id)+".pk", filepath.Base(id)+".vk")
	}
	return out
}

// VerifyingKeyFile returns the path of circuit's verifying key in dir.
func VerifyingKeyFile(dir, circuit string) string { return keyFile(dir, circuit, ".vk") }

// ReadVerifyingKeyFile reads the verifying key at path and refuses one of
// another circuit than circuit (ErrWrongCircuit).
func ReadVerifyingKeyFile(path, circuit string) (*Verifier, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v, err := ReadVerifyingKey(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if v.id != circuit {
		return nil, fmt.Errorf("%s: %w: it is the key of %s, not %s", path, ErrWrongCircuit, v.id, circuit)
	}
	return v, nil
}

// WriteKeysDir writes the keys to dir atomically (proving keys as raw
// dumps for fast loading, verifying keys compressed).
func WriteKeysDir(dir string, k *Keys) error {
	for _, c := range []circuitKeys{k.pres, k.holder} {
		if err := SaveKeys(dir, c.id, c.pk, c.vk); err != nil {
			return err
		}
	}
	return nil
}

// SaveKeys writes one circuit's proving and verifying keys into dir, named
// and framed as WriteKeysDir writes them (so LoadKeysDir reads them), for
// keys made elsewhere than Setup: the multi-party ceremony saves the keys
// it derives this way.
func SaveKeys(dir, id string, pk *groth16.ProvingKey, vk *groth16.VerifyingKey) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := atomicfile.Write(keyFile(dir, id, ".pk"), 0o600, func(w io.Writer) error {
		if err := writeHeader(w, kindProvingKey, id); err != nil {
			return err
		}
		return pk.WriteDump(w)
	}); err != nil {
		return err
	}
	return atomicfile.Write(keyFile(dir, id, ".vk"), 0o644, func(w io.Writer) error {
		return newVerifier(id, vk).Write(w)
	})
}

// LoadKeysDir reads the keys that WriteKeysDir wrote; a missing file is
// reported with os.ErrNotExist. Each key must be of its circuit and match
// the circuit's constraint system.
func LoadKeysDir(dir string) (*Keys, error) {
	var k Keys
	for _, c := range []struct {
		dst *circuitKeys
		id  string
		cir frontend.Circuit
	}{{&k.pres, PresentationID, &PresentationCircuit{}}, {&k.holder, HolderID, &HolderCircuit{}}} {
		if _, err := os.Stat(keyFile(dir, c.id, ".pk")); err != nil {
			return nil, err
		}
		pk, pkSum, err := readProvingKeyFile(keyFile(dir, c.id, ".pk"), c.id)
		if err != nil {
			return nil, err
		}
		ccs, err := constraintSystem(dir, c.id, c.cir, pkSum)
		if err != nil {
			return nil, err
		}
		v, err := ReadVerifyingKeyFile(keyFile(dir, c.id, ".vk"), c.id)
		if err != nil {
			return nil, err
		}
		if len(v.vk.G1.K) != ccs.GetNbPublicVariables() || len(pk.G1.A) == 0 ||
			len(pk.G1.K) != ccs.GetNbInternalVariables()+ccs.GetNbSecretVariables() ||
			pk.Domain.Cardinality < uint64(ccs.GetNbConstraints()) {
			return nil, fmt.Errorf("%s: keys do not match the circuit", c.id)
		}
		*c.dst = circuitKeys{id: c.id, ccs: ccs, pk: pk, vk: v.vk, v: v}
	}
	return &k, nil
}
