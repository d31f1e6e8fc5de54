// Package layout is the registry state's key layout: one prefix byte per
// kind of record, then the record's own key. The state machine (registry)
// writes these keys and the badger store (registry/store) reads them; no
// one else needs to know them.
package layout

import (
	"crypto/ed25519"
	"encoding/binary"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// Prefixes of the state keys.
const (
	CredNode   byte = 'n' // 'n' level(1) index(8): 32-byte credential tree node
	IssuerNode byte = 'i' // 'i' level(1) index(8): 32-byte issuer tree node
	Issuer     byte = 'I' // 'I' issuerID(32): Issuer JSON
	Schema     byte = 'S' // 'S' schemaID(32): SchemaRecord JSON
	Circuit    byte = 'C' // 'C' circuit id: CircuitRecord JSON
	Nonce      byte = 'q' // 'q' pubkey(32): last nonce (8 bytes big-endian)
	IssuerIdx  byte = 'x' // 'x' index(8): issuerID(32)
	Kind       byte = 'K' // 'K' kind: KindList JSON
	Governance byte = 'G' // 'G': Governance JSON
	Validators byte = 'V' // 'V': ValidatorSet JSON
	Accreditor byte = 'A' // 'A' pubkey(32): Accreditor JSON
	StateNode  byte = 'm' // 'm' height(2) position(32): 32-byte state-map node
	DIDWeb     byte = 'w' // 'w' did:web: issuerID(32) of the issuer binding it
)

// StateNodeKey returns the state key of a state-map node at height h
// (0 for leaves) and position pos (the key hash with its low h bits
// cleared).
func StateNodeKey(h int, pos [32]byte) []byte {
	k := make([]byte, 0, 35)
	k = append(k, StateNode)
	k = binary.BigEndian.AppendUint16(k, uint16(h))
	return append(k, pos[:]...)
}

// KindKey returns the state key of the list of issuers of a kind.
func KindKey(kind string) []byte { return append([]byte{Kind}, kind...) }

// GovernanceKey returns the state key of the governance record.
func GovernanceKey() []byte { return []byte{Governance} }

// ValidatorsKey returns the state key of the validator set.
func ValidatorsKey() []byte { return []byte{Validators} }

// NodeKey returns the state key of a tree node (prefix CredNode or
// IssuerNode).
func NodeKey(prefix byte, level int, index uint64) []byte {
	k := make([]byte, 10)
	k[0] = prefix
	k[1] = byte(level)
	binary.BigEndian.PutUint64(k[2:], index)
	return k
}

// IssuerKey returns the state key of an issuer record.
func IssuerKey(id fr.Element) []byte { b := id.Bytes(); return append([]byte{Issuer}, b[:]...) }

// IssuerIndexKey returns the state key that maps an issuer-tree index to
// the issuer's ID.
func IssuerIndexKey(index uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{IssuerIdx}, index)
}

// DIDWebKey returns the state key that maps a bound did:web to its
// issuer's ID (an index of the issuer records, outside the state map).
func DIDWebKey(did string) []byte { return append([]byte{DIDWeb}, did...) }

// SchemaKey returns the state key of a schema record.
func SchemaKey(id fr.Element) []byte { b := id.Bytes(); return append([]byte{Schema}, b[:]...) }

// CircuitKey returns the state key of a circuit record.
func CircuitKey(id string) []byte { return append([]byte{Circuit}, id...) }

// AccreditorKey returns the state key of an accreditor record.
func AccreditorKey(pub ed25519.PublicKey) []byte { return append([]byte{Accreditor}, pub...) }

// NonceKey returns the state key of a signer's last nonce.
func NonceKey(pub ed25519.PublicKey) []byte { return append([]byte{Nonce}, pub...) }
