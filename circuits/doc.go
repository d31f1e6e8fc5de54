// Package circuits is zkcred's cryptographic core: Poseidon2 hashing with
// domain tags, attribute encodings and schemas, credential commitments,
// the depth-32 Merkle tree the registry stores, and the Groth16
// presentation circuit (gnark, BN254) with its native twin.
//
// Every in-circuit gadget has a native Go twin in this package, and the
// tests hold them together bit for bit. SPEC.md is the normative
// description of every format here.
//
// The main flow:
//
//	keys, _ := circuits.LoadOrSetup(dir, os.Stderr) // development keys
//	proof, pub, err := keys.Prove(witness)          // holder
//	err = keys.Verifier().Verify(proof, pub)        // verifier, pub rebuilt from its own state
//
// A holder presenting one credential again proves from a ProverState
// (incremental.go): keys.UpdateState(&st, resting) once per credential and
// root, then keys.ProveFrom(&st, witness) per request, about three times
// faster, with proofs distributed exactly as Prove's.
//
// A keys directory holds each circuit's <name>.pk and <name>.vk
// (KeyFileNames); LoadKeysDir and WriteKeysDir read and write it, and
// ReadVerifyingKeyFile(VerifyingKeyFile(dir, id), id) reads one verifying
// key. Schema IDs hash the schema's RFC 8785 canonical JSON.
package circuits
