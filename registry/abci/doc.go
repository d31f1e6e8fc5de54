// Package abci is the registry as an ABCI 2.0 application, the thin
// translation between CometBFT and the registry's state machine
// ([registry.Builder]) over its badger store ([store.Store]).
//
//   - Info reports the store's latest height and app hash, which CometBFT's
//     handshake compares with its block store to replay what the app lacks.
//   - InitChain checks that CometBFT's genesis names the registry genesis of
//     the store (chain ID, app state) and returns the app hash of block 0.
//   - CheckTx decodes a transaction and dry-runs it with a Builder on the
//     committed state (signature, nonce, shape, who may do what); an anchor's
//     leaves are hashed once there and kept for FinalizeBlock.
//   - PrepareProposal and ProcessProposal enforce the block limits (count,
//     bytes, weight) and refuse transactions that do not decode.
//   - FinalizeBlock applies the block's transactions with a Builder at the
//     block's BFT time and returns the app hash; nothing is written yet.
//   - Commit writes the registry block and its state changes to badger in one
//     synced transaction together with the new height, then reports the
//     outcome of every transaction (Options.OnCommit).
//
// The app hash after registry block h ([AppHash]) commits to the state that
// block h's header names (its roots and sizes), so a CometBFT header at
// height h+1, signed by +2/3 of the validators, commits to every root of
// registry block h. It does not change with an empty block.
//
// A crash between FinalizeBlock and Commit loses only memory: the store
// still reports the previous height, and CometBFT's handshake replays the
// block. Heights agree: registry block h is CometBFT block h, block 0 is the
// registry genesis block, which precedes CometBFT's first block.
package abci
