package wire

import (
	"crypto/ed25519"

	"github.com/zkcred/zkcred/internal/didkey"
)

// ErrDID is wrapped by every did:key parsing error.
var ErrDID = didkey.ErrDID

// DIDKey returns the did:key identifier of an ed25519 public key:
// "did:key:z" + base58btc(0xed01 || key). A credential's issuer is one.
func DIDKey(pub ed25519.PublicKey) string { return didkey.Encode(pub) }

// VerificationMethod returns the verification method of a did:key: the DID
// with its key as the fragment.
func VerificationMethod(pub ed25519.PublicKey) string { return didkey.VerificationMethod(pub) }

// ParseDIDKey returns the ed25519 public key named by a did:key, with or
// without a "#fragment"; a fragment must repeat the key.
func ParseDIDKey(did string) (ed25519.PublicKey, error) { return didkey.Parse(did) }
