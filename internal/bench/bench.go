// Package bench holds what zkcred's benchmark commands and the benchmark
// runner (benchmarks/perf) share.
package bench

// CircuitResult is the JSON object that `zkcred bench circuit --json`
// prints and benchmarks/perf reads.
type CircuitResult struct {
	Constraints   int     `json:"constraints"`
	PublicInputs  int     `json:"public_inputs"`
	ProveMS       float64 `json:"prove_ms"`      // median, full proof
	ProveWarmMS   float64 `json:"prove_warm_ms"` // median, from a prover state, new request
	VerifyMS      float64 `json:"verify_ms"`     // median
	BatchVerifyMS float64 `json:"batch64_verify_ms_per_proof"`
	PKBytes       int64   `json:"pk_bytes"`
	ProofBytes    int     `json:"proof_bytes"`
	Proofs        int     `json:"proofs"`
	Verifies      int     `json:"verifies"`
	CPUs          int     `json:"cpus"`
}
