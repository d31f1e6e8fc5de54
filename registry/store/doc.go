// Package store keeps a registry chain in badger: the blocks, their headers,
// an index from credential root to height, and the state (tree nodes,
// issuers, schemas, circuits, nonces) after the latest block.
//
// Commit writes a block and every state change it makes in one badger
// transaction with synced writes, so after a crash the database holds
// exactly the blocks whose Commit returned. Tree nodes are stored, so
// witness buckets at the latest height are read, not recomputed, and Open
// reads only the latest header: no replay at startup. Audit replays the
// whole chain from genesis in memory and compares every header, signature
// and stored state key with the replay.
//
// Key layout: 's'+state key (registry's layout), 'h'+height → header JSON,
// 'b'+height → transactions JSON, 'r'+credential root → latest height with
// that root, 'm'+name → metadata (genesis, latest height).
package store
