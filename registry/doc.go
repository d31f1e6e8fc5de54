// Package registry is zkcred's chain: the deterministic state machine that
// applies signed transactions (issuer governance, schemas, credential
// anchoring and revocation, circuit verifying-key hashes) to a key-value
// state, and the block format that publishes the resulting roots.
//
// The package holds no storage and no network code. A [Builder] reads the
// state through a [Reader], applies transactions in order, and returns the
// block header together with every key it changed; whoever drives it (the
// badger-backed node in registry/node, a replay in an audit, or a BFT engine)
// commits those changes atomically with the block. Applying the same
// transactions to the same state always yields the same header.
//
// The credential tree is circuits' Poseidon2 tree of depth [circuits.Depth]:
// leaf = circuits.LeafHash(issuerID, C), revocation writes 0. The issuer
// registry is a second tree of depth [IssuerDepth] whose leaf i is the hash
// of the canonical JSON record of the i-th registered issuer. The wire
// formats (transaction JSON, signing bytes, block hash, witness buckets) are
// specified in docs/registry.md.
package registry
