package registry

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/zkcred/zkcred/internal/strictjson"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/didweb"
)

// Transaction types.
const (
	TypeRegisterIssuer   = "register_issuer"        // governance, or an accreditor for its kinds
	TypeUpdateIssuer     = "update_issuer"          // governance, or an accreditor for its kinds
	TypeDeactivateIssuer = "deactivate_issuer"      // governance, or an accreditor for its kinds
	TypePublishCircuit   = "publish_circuit"        // governance
	TypePublishSchema    = "publish_schema"         // issuer
	TypeAnchor           = "anchor"                 // issuer
	TypeRevoke           = "revoke"                 // issuer that anchored
	TypeGovernanceRevoke = "governance_revoke"      // governance, leaves of a deactivated issuer
	TypeUpdateValidators = "update_validators"      // governance
	TypeAccredit         = "accredit"               // governance
	TypeWithdrawAccredit = "withdraw_accreditation" // governance
)

// IsGovernance reports whether transactions of type t need the
// governance threshold.
func IsGovernance(t string) bool {
	switch t {
	case TypeRegisterIssuer, TypeUpdateIssuer, TypeDeactivateIssuer, TypePublishCircuit, TypeGovernanceRevoke, TypeUpdateValidators,
		TypeAccredit, TypeWithdrawAccredit:
		return true
	}
	return false
}

// Limits on transactions.
const (
	MaxTxBytes       = 1 << 20 // encoded transaction
	MaxAnchor        = 10000   // commitments per anchor transaction
	MaxRevoke        = 256     // leaves per revoke transaction (each rewrites up to 33 nodes)
	MaxNameLen       = 200     // issuer display name, bytes
	MaxKindLen       = 64      // issuer kind, bytes
	MaxCircuitIDLen  = 128
	MaxApprovals     = 64  // approvals on one governance transaction
	MaxValidators    = 100 // validators in the set
	MaxAccreditKinds = 16  // issuer kinds of one accreditation
	// MaxValidatorPower bounds a validator's voting power (CometBFT needs
	// the total below 2^60).
	MaxValidatorPower = 1 << 50
	// MaxNonce is the highest nonce a transaction may carry. 2^64−1 is
	// refused: after it no nonce is above the signer's last, so the signer
	// (governance included) could never transact again, and a client's
	// counter would wrap to 0.
	MaxNonce = 1<<64 - 2
)

// signingPrefix starts the bytes every transaction signature covers.
const signingPrefix = "zkcred-registry-tx/v1\x00"

// Tx is a signed transaction as it travels and as blocks store it. Payload
// is compact JSON (see txPayload); the signature covers SigningBytes.
// A governance transaction may carry approvals: signatures of further
// governance keys over the same signing bytes, so that it reaches the
// governance threshold.
type Tx struct {
	Payload   json.RawMessage `json:"payload"`
	Signature string          `json:"signature"` // hex, 64 bytes
	Approvals []Approval      `json:"approvals,omitempty"`
}

// Approval is one more governance key's signature over a transaction's
// signing bytes.
type Approval struct {
	Signer    string `json:"signer"`    // hex ed25519 public key
	Signature string `json:"signature"` // hex, 64 bytes
}

// Approve adds key's approval to a transaction of chainID. Like the
// signer's, it covers the payload in compact JSON (SigningBytes).
func (tx *Tx) Approve(chainID string, key ed25519.PrivateKey) {
	var buf bytes.Buffer
	if json.Compact(&buf, tx.Payload) == nil {
		tx.Payload = buf.Bytes()
	}
	sig := ed25519.Sign(key, SigningBytes(chainID, tx.Payload))
	tx.Approvals = append(tx.Approvals, Approval{Signer: hex.EncodeToString(key.Public().(ed25519.PublicKey)), Signature: hex.EncodeToString(sig)})
}

// txPayload is the signed content of a transaction.
type txPayload struct {
	Type   string          `json:"type"`
	Signer string          `json:"signer"` // hex ed25519 public key
	Nonce  uint64          `json:"nonce"`  // above the signer's last accepted nonce
	Body   json.RawMessage `json:"body"`
}

// Body is one transaction type's content.
type Body interface{ TxType() string }

// RegisterIssuer adds an issuer (governance).
type RegisterIssuer struct {
	PubKey string `json:"pubkey"` // hex ed25519 public key
	Name   string `json:"name"`
	Kind   string `json:"kind"`              // e.g. "university", "hospital"
	DIDWeb string `json:"did_web,omitempty"` // did:web to bind (Issuer.DIDWeb)
}

// UpdateIssuer changes an issuer's name and kind and may reactivate it
// (governance). Its key, and so its ID and leaves, never change.
type UpdateIssuer struct {
	PubKey string `json:"pubkey"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Active bool   `json:"active"`
	DIDWeb string `json:"did_web,omitempty"` // the did:web bound after the update; empty unbinds
}

// DeactivateIssuer stops an issuer from anchoring, revoking and publishing
// (governance). Its leaves stay in the tree.
type DeactivateIssuer struct {
	PubKey string `json:"pubkey"`
}

// PublishCircuit records a circuit's verifying-key hash (governance) and,
// for keys from a multi-party ceremony, the hash of its transcript's final
// record (docs/ceremony.md), so that anyone can fetch the transcript and
// check that the published key is the one it gives.
type PublishCircuit struct {
	Circuit        string `json:"circuit"`
	VKHash         string `json:"vk_hash"`                   // hex, 32 bytes
	TranscriptHash string `json:"transcript_hash,omitempty"` // hex, 32 bytes; empty for development keys
}

// PublishSchema records a credential schema under its ID (issuer).
type PublishSchema struct {
	Schema json.RawMessage `json:"schema"`
}

// Anchor appends leaves H(issuerID, C) for each commitment (issuer).
type Anchor struct {
	Commitments []circuits.Field `json:"commitments"`
}

// RevokeLeaf names a leaf and the commitment it was anchored with; the
// registry checks that the leaf equals LeafHash(signer's issuer ID, C), which
// only the anchoring issuer's transaction can satisfy.
type RevokeLeaf struct {
	Index      uint64         `json:"index"`
	Commitment circuits.Field `json:"commitment"`
}

// Revoke overwrites leaves with 0 (the issuer that anchored them).
type Revoke struct {
	Leaves []RevokeLeaf `json:"leaves"`
}

// GovernanceRevoke overwrites leaves of a deactivated issuer with 0
// (governance), so that a leaked or abandoned issuer key does not leave
// its credentials valid forever. Each leaf must equal
// LeafHash(IssuerID(Issuer), C). An active issuer revokes its own leaves.
type GovernanceRevoke struct {
	Issuer string       `json:"issuer"` // hex ed25519 public key
	Leaves []RevokeLeaf `json:"leaves"`
}

// UpdateValidators sets validators' voting power (governance); power 0
// removes a validator. The set may not become empty.
type UpdateValidators struct {
	Validators []Validator `json:"validators"`
}

// Accredit makes the holder of PubKey an accreditor for the issuer kinds
// Kinds (governance): it may then register, update and deactivate issuers
// of those kinds itself, with no governance signatures. The key may be an
// issuer's or one of its own. For a key already accredited it replaces
// the name and kinds and restores a withdrawn accreditation.
type Accredit struct {
	PubKey string   `json:"pubkey"`
	Name   string   `json:"name"`
	Kinds  []string `json:"kinds"`
}

// WithdrawAccreditation ends an accreditation (governance). The issuers the
// accreditor registered stay as they are; governance deactivates them if
// it must.
type WithdrawAccreditation struct {
	PubKey string `json:"pubkey"`
}

func (Accredit) TxType() string              { return TypeAccredit }
func (WithdrawAccreditation) TxType() string { return TypeWithdrawAccredit }
func (RegisterIssuer) TxType() string        { return TypeRegisterIssuer }
func (UpdateIssuer) TxType() string          { return TypeUpdateIssuer }
func (DeactivateIssuer) TxType() string      { return TypeDeactivateIssuer }
func (PublishCircuit) TxType() string        { return TypePublishCircuit }
func (PublishSchema) TxType() string         { return TypePublishSchema }
func (Anchor) TxType() string                { return TypeAnchor }
func (Revoke) TxType() string                { return TypeRevoke }
func (GovernanceRevoke) TxType() string      { return TypeGovernanceRevoke }
func (UpdateValidators) TxType() string      { return TypeUpdateValidators }

// SigningBytes returns the bytes a transaction's signature covers: the
// prefix "zkcred-registry-tx/v1\0", the chain ID, a zero byte, and the
// compact payload JSON.
func SigningBytes(chainID string, payload []byte) []byte {
	b := make([]byte, 0, len(signingPrefix)+len(chainID)+1+len(payload))
	b = append(b, signingPrefix...)
	b = append(b, chainID...)
	b = append(b, 0)
	return append(b, payload...)
}

// NewTx builds and signs a transaction.
func NewTx(chainID string, key ed25519.PrivateKey, nonce uint64, body Body) (*Tx, error) {
	bb, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	p := txPayload{Type: body.TxType(), Signer: hex.EncodeToString(key.Public().(ed25519.PublicKey)), Nonce: nonce, Body: bb}
	pb, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	sig := ed25519.Sign(key, SigningBytes(chainID, pb))
	return &Tx{Payload: pb, Signature: hex.EncodeToString(sig)}, nil
}

// Hash returns the transaction hash: SHA-256 of the compact payload followed
// by the 64 signature bytes and, for each approval in order, its 32 key
// bytes and 64 signature bytes.
func (tx *Tx) Hash() [32]byte {
	sig, _ := hex.DecodeString(tx.Signature)
	h := sha256.New()
	h.Write(tx.Payload)
	h.Write(sig)
	for _, a := range tx.Approvals {
		k, _ := hex.DecodeString(a.Signer)
		s, _ := hex.DecodeString(a.Signature)
		h.Write(k)
		h.Write(s)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// SignedTx is a decoded transaction whose signature has been checked.
type SignedTx struct {
	Tx       *Tx
	Hash     [32]byte
	Type     string
	Signer   ed25519.PublicKey
	SignerID fr.Element // circuits.IssuerID(Signer)
	Nonce    uint64
	Body     Body
	// Leaves holds, for an anchor, LeafHash(SignerID, C) of each commitment
	// once PrepareLeaves ran, so that the block builder does not have to.
	Leaves []fr.Element
	// Approvers are the distinct keys whose signatures the transaction
	// carries, the signer first: a key that signed twice is there once.
	Approvers []ed25519.PublicKey
}

// PrepareLeaves computes an anchor's leaves. The node calls it on the
// submitter's goroutine, after checking that the signer is an active
// issuer, so that hashing runs in parallel and no unknown key can make the
// registry hash.
func (st *SignedTx) PrepareLeaves() {
	a, ok := st.Body.(Anchor)
	if !ok || len(st.Leaves) == len(a.Commitments) {
		return
	}
	leaves := make([]fr.Element, len(a.Commitments))
	for i, c := range a.Commitments {
		leaves[i] = circuits.LeafHash(st.SignerID, c.El())
	}
	st.Leaves = leaves
}

// EncodeTx returns tx's JSON as it is gossiped and kept in blocks, with the
// payload byte for byte as its signature covers it. encoding/json's
// Marshal would escape '<', '>', '&', U+2028 and U+2029 inside the payload,
// and every other node would then refuse the signature over bytes that a
// client following the specification never escaped.
func EncodeTx(tx *Tx) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tx); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// DecodeTx parses a transaction's JSON strictly and checks its signature
// for chainID. It needs no state, so callers can run it concurrently.
func DecodeTx(chainID string, b []byte) (*SignedTx, error) {
	if len(b) > MaxTxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTxTooLarge, len(b), MaxTxBytes)
	}
	if tx, p, an, ok := fastAnchorTx(b); ok {
		return verifyTx(chainID, tx, p, an)
	}
	var tx Tx
	if err := strictjson.Unmarshal(b, &tx); err != nil {
		return nil, malformed("%v", err)
	}
	return VerifyTx(chainID, &tx)
}

// VerifyTx checks and decodes an already parsed transaction.
func VerifyTx(chainID string, tx *Tx) (*SignedTx, error) {
	if len(tx.Payload) == 0 {
		return nil, malformed("missing payload")
	}
	if p, an, ok := fastAnchorPayload(tx.Payload); ok {
		return verifyTx(chainID, &Tx{Payload: tx.Payload, Signature: tx.Signature, Approvals: tx.Approvals}, p, an)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, tx.Payload); err != nil {
		return nil, malformed("payload: %v", err)
	}
	tx = &Tx{Payload: buf.Bytes(), Signature: tx.Signature, Approvals: tx.Approvals}
	if err := checkKeys(tx.Payload); err != nil {
		return nil, malformed("payload: %v", err)
	}
	var p txPayload
	if err := strictjson.Unmarshal(tx.Payload, &p); err != nil {
		return nil, malformed("payload: %v", err)
	}
	return verifyTx(chainID, tx, &p, nil)
}

// verifyTx checks the signatures and decodes the body of a transaction
// whose compact payload p is. An anchor's body comes decoded already from
// the fast path (fastdecode.go) when anchor is set.
func verifyTx(chainID string, tx *Tx, pp *txPayload, anchor *Anchor) (*SignedTx, error) {
	p := *pp
	pub, err := ParsePubKey(p.Signer)
	if err != nil {
		return nil, malformed("signer: %v", err)
	}
	sig, err := hex.DecodeString(tx.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize || tx.Signature != strings.ToLower(tx.Signature) {
		return nil, malformed("signature must be %d bytes in lowercase hex", ed25519.SignatureSize)
	}
	if !ed25519.Verify(pub, SigningBytes(chainID, tx.Payload), sig) {
		return nil, fmt.Errorf("%w: does not verify for signer %s on chain %q", ErrBadSignature, p.Signer, chainID)
	}
	st := &SignedTx{Tx: tx, Hash: tx.Hash(), Type: p.Type, Signer: pub, SignerID: circuits.IssuerID(pub), Nonce: p.Nonce,
		Approvers: []ed25519.PublicKey{pub}}
	if len(tx.Approvals) > 0 && !IsGovernance(p.Type) {
		return nil, malformed("only governance transactions carry approvals")
	}
	if len(tx.Approvals) > MaxApprovals {
		return nil, fmt.Errorf("%w: %d approvals, limit %d", ErrTxTooLarge, len(tx.Approvals), MaxApprovals)
	}
	for i, a := range tx.Approvals {
		apub, err := ParsePubKey(a.Signer)
		if err != nil {
			return nil, malformed("approval %d signer: %v", i, err)
		}
		asig, err := hex.DecodeString(a.Signature)
		if err != nil || len(asig) != ed25519.SignatureSize || a.Signature != strings.ToLower(a.Signature) {
			return nil, malformed("approval %d signature must be %d bytes in lowercase hex", i, ed25519.SignatureSize)
		}
		if !ed25519.Verify(apub, SigningBytes(chainID, tx.Payload), asig) {
			return nil, fmt.Errorf("%w: approval %d does not verify for %s on chain %q", ErrBadSignature, i, a.Signer, chainID)
		}
		if !slices.ContainsFunc(st.Approvers, func(k ed25519.PublicKey) bool { return k.Equal(apub) }) {
			st.Approvers = append(st.Approvers, apub)
		}
	}
	if p.Nonce == 0 || p.Nonce > MaxNonce {
		return nil, malformed("nonce %d is outside 1 to %d", p.Nonce, uint64(MaxNonce))
	}
	if len(p.Body) == 0 {
		return nil, malformed("missing body")
	}
	switch p.Type {
	case TypeRegisterIssuer:
		var b RegisterIssuer
		if err := decodeBody(p.Body, &b); err != nil {
			return nil, err
		}
		if err := checkIssuerFields(b.PubKey, b.Name, b.Kind); err != nil {
			return nil, err
		}
		if err := checkDIDWeb(b.DIDWeb); err != nil {
			return nil, err
		}
		st.Body = b
	case TypeUpdateIssuer:
		var b UpdateIssuer
		if err := decodeBody(p.Body, &b); err != nil {
			return nil, err
		}
		if err := checkIssuerFields(b.PubKey, b.Name, b.Kind); err != nil {
			return nil, err
		}
		if err := checkDIDWeb(b.DIDWeb); err != nil {
			return nil, err
		}
		st.Body = b
	case TypeDeactivateIssuer:
		var b DeactivateIssuer
		if err := decodeBody(p.Body, &b); err != nil {
			return nil, err
		}
		if _, err := ParsePubKey(b.PubKey); err != nil {
			return nil, malformed("pubkey: %v", err)
		}
		st.Body = b
	case TypePublishCircuit:
		var b PublishCircuit
		if err := decodeBody(p.Body, &b); err != nil {
			return nil, err
		}
		if !ValidCircuitID(b.Circuit) {
			return nil, malformed("circuit id must be 1 to %d printable bytes", MaxCircuitIDLen)
		}
		if h, err := hex.DecodeString(b.VKHash); err != nil || len(h) != 32 || b.VKHash != strings.ToLower(b.VKHash) {
			return nil, malformed("vk_hash must be 32 bytes in lowercase hex")
		}
		if t := b.TranscriptHash; t != "" {
			if h, err := hex.DecodeString(t); err != nil || len(h) != 32 || t != strings.ToLower(t) {
				return nil, malformed("transcript_hash must be 32 bytes in lowercase hex")
			}
		}
		st.Body = b
	case TypePublishSchema:
		var b PublishSchema
		if err := decodeBody(p.Body, &b); err != nil {
			return nil, err
		}
		if _, err := circuits.ParseSchema(b.Schema); err != nil {
			return nil, malformed("schema: %v", err)
		}
		st.Body = b
	case TypeAnchor:
		var b Anchor
		if anchor != nil {
			b = *anchor
		} else if err := decodeBody(p.Body, &b); err != nil {
			return nil, err
		}
		if len(b.Commitments) == 0 {
			return nil, malformed("anchor holds no commitments")
		}
		if len(b.Commitments) > MaxAnchor {
			return nil, fmt.Errorf("%w: %d commitments, limit %d", ErrTxTooLarge, len(b.Commitments), MaxAnchor)
		}
		st.Body = b
	case TypeRevoke:
		var b Revoke
		if err := decodeBody(p.Body, &b); err != nil {
			return nil, err
		}
		if err := checkRevokeLeaves(b.Leaves); err != nil {
			return nil, err
		}
		st.Body = b
	case TypeGovernanceRevoke:
		var b GovernanceRevoke
		if err := decodeBody(p.Body, &b); err != nil {
			return nil, err
		}
		if _, err := ParsePubKey(b.Issuer); err != nil {
			return nil, malformed("issuer: %v", err)
		}
		if err := checkRevokeLeaves(b.Leaves); err != nil {
			return nil, err
		}
		st.Body = b
	case TypeAccredit:
		var b Accredit
		if err := decodeBody(p.Body, &b); err != nil {
			return nil, err
		}
		if err := checkAccredit(b); err != nil {
			return nil, err
		}
		st.Body = b
	case TypeWithdrawAccredit:
		var b WithdrawAccreditation
		if err := decodeBody(p.Body, &b); err != nil {
			return nil, err
		}
		if _, err := ParsePubKey(b.PubKey); err != nil {
			return nil, malformed("pubkey: %v", err)
		}
		st.Body = b
	case TypeUpdateValidators:
		var b UpdateValidators
		if err := decodeBody(p.Body, &b); err != nil {
			return nil, err
		}
		if len(b.Validators) == 0 || len(b.Validators) > MaxValidators {
			return nil, malformed("update_validators names 1 to %d validators", MaxValidators)
		}
		seen := map[string]bool{}
		for _, v := range b.Validators {
			if _, err := ParsePubKey(v.PubKey); err != nil {
				return nil, malformed("validator pubkey: %v", err)
			}
			if v.Power < 0 || v.Power > MaxValidatorPower {
				return nil, malformed("validator power %d must be 0 (remove) to 2^50", v.Power)
			}
			if seen[v.PubKey] {
				return nil, malformed("validator %s named twice", v.PubKey)
			}
			seen[v.PubKey] = true
		}
		st.Body = b
	default:
		return nil, malformed("unknown type %q", truncate(p.Type))
	}
	return st, nil
}

func checkAccredit(b Accredit) error {
	if err := checkIssuerFields(b.PubKey, b.Name, "x"); err != nil {
		return err
	}
	if len(b.Kinds) == 0 || len(b.Kinds) > MaxAccreditKinds {
		return malformed("an accreditation names 1 to %d kinds", MaxAccreditKinds)
	}
	for i, k := range b.Kinds {
		if !validKind(k) {
			return malformed("kind %q must be 1 to %d lowercase letters, digits or '-'", truncate(k), MaxKindLen)
		}
		if slices.Contains(b.Kinds[:i], k) {
			return malformed("kind %q named twice", k)
		}
	}
	return nil
}

// VerifySignatures checks again, for chainID, the signatures a
// transaction decoded by DecodeTx or VerifyTx carries: the signer's and
// each approval's over its compact payload. It costs a few signature
// checks, far less than decoding again, and lets a holder of a SignedTx
// confirm the chain it was checked for.
func VerifySignatures(chainID string, st *SignedTx) error {
	if st == nil || st.Tx == nil {
		return malformed("missing transaction")
	}
	msg := SigningBytes(chainID, st.Tx.Payload)
	sig, err := hex.DecodeString(st.Tx.Signature)
	if err != nil || len(st.Signer) != ed25519.PublicKeySize || !ed25519.Verify(st.Signer, msg, sig) {
		return fmt.Errorf("%w: does not verify for signer %s on chain %q", ErrBadSignature, hex.EncodeToString(st.Signer), chainID)
	}
	for i, a := range st.Tx.Approvals {
		apub, err := ParsePubKey(a.Signer)
		asig, serr := hex.DecodeString(a.Signature)
		if err != nil || serr != nil || !ed25519.Verify(apub, msg, asig) {
			return fmt.Errorf("%w: approval %d does not verify for %s on chain %q", ErrBadSignature, i, a.Signer, chainID)
		}
	}
	return nil
}

func checkRevokeLeaves(ls []RevokeLeaf) error {
	if len(ls) == 0 {
		return malformed("revoke names no leaves")
	}
	if len(ls) > MaxRevoke {
		return fmt.Errorf("%w: %d leaves, limit %d", ErrTxTooLarge, len(ls), MaxRevoke)
	}
	seen := make(map[uint64]bool, len(ls))
	for _, l := range ls {
		if seen[l.Index] {
			return malformed("leaf %d named twice", l.Index)
		}
		seen[l.Index] = true
	}
	return nil
}

// Weight estimates the tree nodes a transaction writes, which bounds the
// size of a block's one badger transaction: one per anchored leaf (appends
// share their ancestors), Depth+1 per revoked leaf, one for anything else.
func (st *SignedTx) Weight() int {
	switch b := st.Body.(type) {
	case Revoke:
		return len(b.Leaves) * (circuits.Depth + 1)
	case GovernanceRevoke:
		return len(b.Leaves) * (circuits.Depth + 1)
	case Anchor:
		return len(b.Commitments)
	}
	return 1
}

func decodeBody(b []byte, v any) error {
	if err := strictjson.Unmarshal(b, v); err != nil {
		return malformed("body: %v", err)
	}
	return nil
}

func checkIssuerFields(pub, name, kind string) error {
	if _, err := ParsePubKey(pub); err != nil {
		return malformed("pubkey: %v", err)
	}
	if strings.TrimSpace(name) == "" || len(name) > MaxNameLen || !printable(name) {
		return malformed("name must be 1 to %d printable bytes", MaxNameLen)
	}
	if !validKind(kind) {
		return malformed("kind %q must be 1 to %d lowercase letters, digits or '-'", truncate(kind), MaxKindLen)
	}
	return nil
}

// MaxDIDWebLen bounds an issuer's did:web.
const MaxDIDWebLen = 256

// checkDIDWeb accepts "" or an origin did:web in canonical form
// (didweb.CheckOrigin: did:web:host[%3Aport], lowercase host, no path),
// so that no two spellings of one origin bind two issuers.
func checkDIDWeb(did string) error {
	if did == "" {
		return nil
	}
	if len(did) > MaxDIDWebLen {
		return malformed("did_web is longer than %d bytes", MaxDIDWebLen)
	}
	if err := didweb.CheckOrigin(did); err != nil {
		return malformed("did_web must be an origin did:web such as did:web:uni.example (no path, no fragment), in canonical form: %v", err)
	}
	return nil
}

// ValidKind reports whether k is a well-formed issuer kind.
func ValidKind(k string) bool { return validKind(k) }

// ValidCircuitID reports whether id is a well-formed circuit ID.
func ValidCircuitID(id string) bool {
	return id != "" && len(id) <= MaxCircuitIDLen && printable(id)
}

func validKind(k string) bool {
	if k == "" || len(k) > MaxKindLen {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}

// ParsePubKey parses a lowercase hex ed25519 public key.
func ParsePubKey(s string) (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize || s != strings.ToLower(s) {
		return nil, fmt.Errorf("want %d bytes in lowercase hex", ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// checkKeys rejects JSON whose objects repeat a key or use a key that is not
// lowercase snake_case. encoding/json would take the last duplicate and
// match keys case-insensitively; refusing both keeps one meaning per signed
// payload for every JSON reader.
func checkKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type frame struct {
		obj     bool
		keys    map[string]bool
		wantKey bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		top := len(stack) - 1
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				if top >= 0 && stack[top].obj {
					stack[top].wantKey = true
				}
				stack = append(stack, frame{obj: true, keys: map[string]bool{}, wantKey: true})
			case '[':
				if top >= 0 && stack[top].obj {
					stack[top].wantKey = true
				}
				stack = append(stack, frame{})
			default:
				stack = stack[:top]
			}
			continue
		case string:
			if top >= 0 && stack[top].obj && stack[top].wantKey {
				if stack[top].keys[t] {
					return fmt.Errorf("key %q repeated", truncate(t))
				}
				if !snakeKey(t) {
					return fmt.Errorf("key %q is not lowercase snake_case", truncate(t))
				}
				stack[top].keys[t] = true
				stack[top].wantKey = false
				continue
			}
		}
		if top >= 0 && stack[top].obj {
			stack[top].wantKey = true
		}
	}
}

func snakeKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c == '_' || (i > 0 && c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}
