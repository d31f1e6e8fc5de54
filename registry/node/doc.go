// Package node runs a registry validator: a CometBFT node (consensus,
// mempool, block store) embedded in the process with the registry's ABCI
// application (registry/abci) as a local client, over the registry's
// badger store, and the registry's HTTP API.
//
// A submitter's transaction goes through CheckTx into CometBFT's mempool;
// Submit returns its receipt only after the block holding it has
// committed on this node, or ErrNotCommitted when the caller's deadline
// passes first (the chain lacks a quorum). CometBFT's handshake replays
// whatever blocks the store lacks after a crash.
//
// InitDir makes the directory of a one-validator chain (the default of
// `zkcred demo`, `zkcred up` and tests); InitConsortium makes one directory
// per validator of a consortium, sharing one genesis. StartDir runs one.
package node
