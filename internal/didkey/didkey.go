// Package didkey encodes and parses did:key identifiers of ed25519 keys
// (multicodec 0xed01, base58btc multibase), shared by the registry, which
// records each issuer's DID, and package wire, whose credentials name their
// issuer by it.
package didkey

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"

	"github.com/mr-tron/base58"
)

// ed25519PubCodec is the multicodec prefix ed25519-pub (0xed, varint-encoded).
var ed25519PubCodec = []byte{0xed, 0x01}

// ErrDID is wrapped by every did:key parsing error.
var ErrDID = errors.New("invalid did:key")

// Encode returns the did:key identifier of an ed25519 public key:
// "did:key:z" + base58btc(0xed01 || key).
func Encode(pub ed25519.PublicKey) string {
	return "did:key:" + multikey(pub)
}

// multikey is the base58btc multibase form of the multicodec-prefixed key.
func multikey(pub ed25519.PublicKey) string {
	b := make([]byte, 0, 2+len(pub))
	b = append(append(b, ed25519PubCodec...), pub...)
	return "z" + base58.Encode(b)
}

// VerificationMethod returns the verification method of a did:key: the DID
// with its key as the fragment.
func VerificationMethod(pub ed25519.PublicKey) string {
	mk := multikey(pub)
	return "did:key:" + mk + "#" + mk
}

// Parse returns the ed25519 public key named by a did:key, with or
// without a "#fragment"; a fragment must repeat the key.
func Parse(did string) (ed25519.PublicKey, error) {
	rest, ok := strings.CutPrefix(did, "did:key:")
	if !ok {
		return nil, fmt.Errorf("%w: %q does not start with did:key:", ErrDID, did)
	}
	mk, frag, hasFrag := strings.Cut(rest, "#")
	if hasFrag && frag != mk {
		return nil, fmt.Errorf("%w: fragment %q is not the key %q", ErrDID, frag, mk)
	}
	return parseMultikey(mk)
}

func parseMultikey(mk string) (ed25519.PublicKey, error) {
	enc, ok := strings.CutPrefix(mk, "z")
	if !ok {
		return nil, fmt.Errorf("%w: multibase %q is not base58btc ('z')", ErrDID, mk)
	}
	b, err := base58.Decode(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDID, err)
	}
	if len(b) != 2+ed25519.PublicKeySize || b[0] != ed25519PubCodec[0] || b[1] != ed25519PubCodec[1] {
		return nil, fmt.Errorf("%w: not an ed25519-pub multikey (0xed01 + 32 bytes)", ErrDID)
	}
	return ed25519.PublicKey(b[2:]), nil
}

// Multikey returns the Multikey publicKeyMultibase of an ed25519 public
// key: "z" + base58btc(0xed01 || key), as did:key and DID documents'
// Multikey verification methods write it.
func Multikey(pub ed25519.PublicKey) string { return multikey(pub) }

// ParseMultikey reads an ed25519 Multikey publicKeyMultibase.
func ParseMultikey(mk string) (ed25519.PublicKey, error) { return parseMultikey(mk) }
