package circuits

import (
	"io"
	"os"

	groth16 "github.com/consensys/gnark/backend/groth16/bn254"
	"github.com/zkcred/zkcred/internal/atomicfile"
)

// SaveKeys writes one circuit's proving and verifying keys into dir, named
// and framed as Save writes them (so Load reads them), for keys made
// elsewhere than Setup: the multi-party ceremony saves the keys it derives
// this way.
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
