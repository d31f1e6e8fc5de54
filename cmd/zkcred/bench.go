package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/bench"
)

func newBenchCmd() *cobra.Command {
	var o benchOptions
	c := leaf("circuit", "measure the presentation circuit: constraints, prove and verify times, sizes",
		`  zkcred bench circuit
  zkcred bench circuit --json --export out/   # with a snarkjs proof set and Solidity calldata`,
		noArgs, func(c *cobra.Command, _ []string) error { return benchCircuit(o) })
	addKeysFlag(c, &o.dir)
	c.Flags().StringVar(&o.export, "export", "", "write verification_key.json, proof.json, public.json (snarkjs), Verifier.sol and calldata.json (its verifyProof arguments) here")
	c.Flags().IntVar(&o.proofs, "proofs", 10, "proofs to time (median reported; at least 10)")
	c.Flags().IntVar(&o.verifies, "verifies", 100, "verifications to time (median reported; at least 100)")
	return group("bench", "measure zkcred on this machine", "", "  zkcred bench circuit --json", c)
}

type benchOptions struct {
	dir, export      string
	proofs, verifies int
}

func benchCircuit(o benchOptions) error {
	dir, export, nProve, nVerify, asJSON := &o.dir, &o.export, &o.proofs, &o.verifies, &jsonOutput
	if *nProve < 10 || *nVerify < 100 {
		return usagef("use --proofs ≥ 10 and --verifies ≥ 100", "too few runs for a median")
	}
	progress := progressWriter(*asJSON)
	keys, err := circuits.LoadOrSetup(*dir, progress)
	if err != nil {
		return err
	}
	w, err := circuits.SampleWitness()
	if err != nil {
		return err
	}
	var proofs [][]byte
	var pubs []*circuits.Public
	var proveTimes []time.Duration
	for i := range *nProve {
		w.Nonce = circuits.RandomBytes31()
		start := time.Now()
		p, pub, err := keys.Prove(w)
		if err != nil {
			return err
		}
		proveTimes = append(proveTimes, time.Since(start))
		proofs, pubs = append(proofs, p), append(pubs, pub)
		fmt.Fprintf(progress, "\rproving %d/%d", i+1, *nProve)
	}
	fmt.Fprintln(progress)
	warm, err := circuits.MedianWarmProve(keys, *nProve)
	if err != nil {
		return err
	}
	v := keys.Verifier()
	var verifyTimes []time.Duration
	for i := range *nVerify {
		start := time.Now()
		if err := v.Verify(proofs[i%len(proofs)], pubs[i%len(pubs)]); err != nil {
			return err
		}
		verifyTimes = append(verifyTimes, time.Since(start))
	}
	// Batch of 64 (proofs repeat; each gets its own random coefficient).
	bp, bpub := make([][]byte, 64), make([]*circuits.Public, 64)
	for i := range bp {
		bp[i], bpub[i] = proofs[i%len(proofs)], pubs[i%len(pubs)]
	}
	var batchTimes []time.Duration
	for range 5 {
		start := time.Now()
		for _, err := range v.VerifyBatch(bp, bpub) {
			if err != nil {
				return err
			}
		}
		batchTimes = append(batchTimes, time.Since(start)/64)
	}
	res := bench.CircuitResult{
		Constraints: keys.Constraints(), PublicInputs: v.NbPublic(),
		ProveMS: ms(median(proveTimes)), ProveWarmMS: ms(warm), VerifyMS: ms(median(verifyTimes)),
		BatchVerifyMS: ms(median(batchTimes)),
		PKBytes:       keys.ProvingKeyBytes(), ProofBytes: len(proofs[0]),
		Proofs: *nProve, Verifies: *nVerify, CPUs: numCPU(),
	}
	if *export != "" {
		if err := exportVerifier(*export, v); err != nil {
			return err
		}
		sp, err := circuits.SnarkJSProofOf(circuits.PresentationID, proofs[0])
		if err != nil {
			return err
		}
		if err := writeJSONFile(filepath.Join(*export, "proof.json"), sp); err != nil {
			return err
		}
		if err := writeJSONFile(filepath.Join(*export, "public.json"), circuits.SnarkJSPublic(pubs[0].Vector())); err != nil {
			return err
		}
		cd, err := circuits.SolidityCalldataOf(circuits.PresentationID, proofs[0], pubs[0].Vector())
		if err != nil {
			return err
		}
		if err := writeJSONFile(filepath.Join(*export, "calldata.json"), cd); err != nil {
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(res)
	}
	fmt.Printf("constraints     %d\npublic inputs   %d\nprove (median)  %.1f ms over %d\nwarm (median)   %.1f ms\nverify (median) %.3f ms over %d\nbatch of 64     %.3f ms per proof\nproving key     %.2f MB\nproof           %d bytes\n",
		res.Constraints, res.PublicInputs, res.ProveMS, res.Proofs, res.ProveWarmMS, res.VerifyMS, res.Verifies, res.BatchVerifyMS, float64(res.PKBytes)/1e6, res.ProofBytes)
	return nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
