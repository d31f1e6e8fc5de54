// Package store keeps an issuer's state in one badger database: issued
// credentials (their bundles, where they came from, whether they were
// revoked), the leaf index of each, locally defined schemas, claim offers,
// the rows of batch jobs, and the write-ahead entries of anchoring in
// progress.
//
// Every write is synced. Update runs a function in one serializable badger
// transaction, so that the issuer records a chunk of credentials together
// with the rows or offer they answer and the deletion of their write-ahead
// entry, or none of it.
//
// Key layout:
//
//	c/<credential id>           bundle JSON, as issued
//	x/<credential id>           Origin JSON: batch job and row, offer
//	r/<credential id>           "" once revoked
//	l/<leaf index, 8 bytes BE>  credential id
//	s/<schema id, decimal>      schema, canonical JSON
//	o/<offer id>                Offer JSON
//	p/<entry id>                Pending JSON (write-ahead)
//	j/<job id>/<row, 8 bytes BE> Row JSON
//
// Bundles are opaque bytes here; package issuer owns their format.
//
// ChainDB is the other database an issuer may have: the tree of a local
// chain (issuer.LocalChain), for offline trials and tests. With both, every
// badger call of the issuer is in this package.
package store
