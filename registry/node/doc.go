// Package node produces blocks: it takes submitted transactions, applies
// them with the registry state machine, and commits a block when the batch
// is full or the batch interval has passed (and an empty block at the
// heartbeat interval, so verifiers always see a recent root). A submitter
// gets its receipt only after the block holding its transaction committed.
//
// Start runs a whole registry in-process: store, node and HTTP API on a
// listener, for `zkcred registry start`, `zkcred demo` and tests.
package node
