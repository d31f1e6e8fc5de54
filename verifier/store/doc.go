// Package store keeps the verifier's state in badger: issued requests,
// single-use nonces with expiry, nullifiers per scope, and results.
//
// Keys:
//
//	r/<request id>            request document (expires after its retention)
//	s/<request id>            result of the verified presentation (same retention)
//	n/<nonce, 32 bytes>       digest of the presentation that used the nonce
//	u/<scope 32 B><nf 32 B>   request id that used the nullifier (kept forever)
//
// Values are opaque bytes; the verifier package owns their format. Accept
// is the one operation that changes anti-replay state, and it does so in a
// single serializable badger transaction, so two presentations racing for
// one nonce or one nullifier cannot both succeed.
package store
