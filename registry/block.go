package registry

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/zkcred/zkcred/circuits"
)

// Hash is a SHA-256 digest, hex in JSON.
type Hash [32]byte

// String returns lowercase hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText writes lowercase hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText accepts exactly 64 lowercase hex digits.
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) != 64 || string(b) != strings.ToLower(string(b)) {
		return fmt.Errorf("hash must be 64 lowercase hex digits")
	}
	_, err := hex.Decode(h[:], b)
	return err
}

// Header is a block header. Its hash (see Hash) links the chain; the block
// producer signs it.
type Header struct {
	ChainID     string         `json:"chain_id"`
	Height      uint64         `json:"height"`
	PrevHash    Hash           `json:"prev_hash"` // genesis hash for height 0
	Time        int64          `json:"time"`      // Unix milliseconds
	TxRoot      Hash           `json:"tx_root"`
	TxCount     uint32         `json:"tx_count"`
	CredRoot    circuits.Field `json:"cred_root"`
	CredSize    uint64         `json:"cred_size"` // leaves appended so far
	IssuerRoot  circuits.Field `json:"issuer_root"`
	IssuerCount uint64         `json:"issuer_count"`
	StateRoot   Hash           `json:"state_root"` // root of the state map (statemap.go)
	// AppHash commits to the whole state a wallet or verifier relies on:
	// AppHash(CredRoot, CredSize, StateRoot). Answers' proofs are checked
	// against it.
	AppHash   Hash   `json:"app_hash"`
	Signature string `json:"signature"` // hex ed25519 by the producer over SignedBytes
}

// Block is a header with its transactions.
type Block struct {
	Header Header `json:"header"`
	Txs    []*Tx  `json:"txs"`
}

const (
	headerPrefix   = "zkcred-registry-header/v2\x00"
	blockSigPrefix = "zkcred-registry-block/v1\x00"
)

// Bytes returns the header's canonical binary encoding, which the block hash
// covers (the signature excluded): prefix, chain ID length (u16) and bytes,
// height, prev hash, time, tx root, tx count, credential root, credential
// size, issuer root, issuer count, state root, app hash; integers
// big-endian, roots 32-byte big-endian field elements.
func (h *Header) Bytes() []byte {
	b := make([]byte, 0, 256)
	b = append(b, headerPrefix...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(h.ChainID)))
	b = append(b, h.ChainID...)
	b = binary.BigEndian.AppendUint64(b, h.Height)
	b = append(b, h.PrevHash[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Time))
	b = append(b, h.TxRoot[:]...)
	b = binary.BigEndian.AppendUint32(b, h.TxCount)
	cr := h.CredRoot.El()
	crb := cr.Bytes()
	b = append(b, crb[:]...)
	b = binary.BigEndian.AppendUint64(b, h.CredSize)
	ir := h.IssuerRoot.El()
	irb := ir.Bytes()
	b = append(b, irb[:]...)
	b = binary.BigEndian.AppendUint64(b, h.IssuerCount)
	b = append(b, h.StateRoot[:]...)
	b = append(b, h.AppHash[:]...)
	return b
}

// CheckAppHash checks that the header's app hash is the hash of its roots.
func (h *Header) CheckAppHash() error {
	if AppHash(h.CredRoot, h.CredSize, h.StateRoot) != h.AppHash {
		return fmt.Errorf("block %d: app_hash is not the hash of its roots", h.Height)
	}
	return nil
}

// Hash returns the block hash, SHA-256 of Bytes.
func (h *Header) Hash() Hash { return sha256.Sum256(h.Bytes()) }

// T returns the block time.
func (h *Header) T() time.Time { return time.UnixMilli(h.Time).UTC() }

// SignedBytes returns what the producer signs: "zkcred-registry-block/v1\0"
// followed by the block hash.
func (h *Header) SignedBytes() []byte {
	hh := h.Hash()
	return append([]byte(blockSigPrefix), hh[:]...)
}

// Sign sets the producer signature.
func (h *Header) Sign(key ed25519.PrivateKey) {
	h.Signature = hex.EncodeToString(ed25519.Sign(key, h.SignedBytes()))
}

// VerifySignature checks the producer signature.
func (h *Header) VerifySignature(producer ed25519.PublicKey) error {
	sig, err := hex.DecodeString(h.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("block %d: malformed signature", h.Height)
	}
	if !ed25519.Verify(producer, h.SignedBytes(), sig) {
		return fmt.Errorf("block %d: producer signature does not verify", h.Height)
	}
	return nil
}

// VerifyLink checks that h follows prev on the same chain.
func (h *Header) VerifyLink(prev *Header) error {
	if h.ChainID != prev.ChainID {
		return fmt.Errorf("block %d: chain %q, want %q", h.Height, h.ChainID, prev.ChainID)
	}
	if h.Height != prev.Height+1 {
		return fmt.Errorf("block %d does not follow block %d", h.Height, prev.Height)
	}
	if h.PrevHash != prev.Hash() {
		return fmt.Errorf("block %d: prev_hash %s is not the hash of block %d", h.Height, h.PrevHash, prev.Height)
	}
	if h.Time < prev.Time {
		return fmt.Errorf("block %d: time goes backwards", h.Height)
	}
	if h.CredSize < prev.CredSize || h.IssuerCount < prev.IssuerCount {
		return fmt.Errorf("block %d: tree size shrinks", h.Height)
	}
	return nil
}

// txRoot returns the Merkle root of transaction hashes in the RFC 6962
// shape: leaf SHA-256(0x00 || hash), node SHA-256(0x01 || left || right),
// the empty list hashing to SHA-256 of nothing.
func txRoot(hashes [][32]byte) Hash {
	if len(hashes) == 0 {
		return sha256.Sum256(nil)
	}
	return mth(hashes)
}

func mth(hs [][32]byte) Hash {
	if len(hs) == 1 {
		return sha256.Sum256(append([]byte{0}, hs[0][:]...))
	}
	k := 1
	for k*2 < len(hs) {
		k *= 2
	}
	l, r := mth(hs[:k]), mth(hs[k:])
	b := make([]byte, 0, 65)
	b = append(b, 1)
	b = append(b, l[:]...)
	b = append(b, r[:]...)
	return sha256.Sum256(b)
}
