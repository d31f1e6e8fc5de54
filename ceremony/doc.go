// Package ceremony makes zkcred's production Groth16 keys in a
// multi-party ceremony on gnark's mpcsetup (BN254), so that nobody knows
// the setup's secrets as long as one contributor was honest.
//
// Phase 1 (powers of τ, α, β) is imported from a snarkjs / Powers of Tau
// .ptau file with ImportPtau, or contributed natively (NewPhase1,
// ContributePhase1, SealPhase1). Phase 2 is per circuit: Init (the
// coordinator, from the phase-1 result and the compiled circuit),
// Contribute (each member: fresh crypto/rand randomness that never leaves
// memory), VerifyPhase2 (anyone: every file in order, naming the first bad
// one in a *ContributionError), and Phase2Result.Seal with a Beacon, the
// hash of a registry block at the height the start file announced, which
// gives the proving and verifying keys and the Final record whose file hash
// is the transcript hash published on chain. Every contribution is
// verified against the previous one before anything builds on it.
//
// The *Dir functions run the same steps on a ceremony directory, as
// `zkcred ceremony init|contribute|verify|finalize` does. docs/ceremony.md
// describes the roles, the order, what members keep secret, the
// guarantee, and the file formats.
package ceremony
