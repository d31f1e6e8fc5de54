package registry

import (
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry/internal/layout"
)

// Answers of the registry HTTP API that are neither chain data nor
// transactions. They live here, not in package api, so that clients decode
// them without linking the server.

// Account is a signer's replay-protection state
// (GET /v1/accounts/{pubkey}).
type Account struct {
	PubKey    string `json:"pubkey"`
	LastNonce uint64 `json:"last_nonce"`
}

// RootInfo answers a root lookup (GET /v1/roots/{root}): the latest block
// that published the credential root.
type RootInfo struct {
	Root   circuits.Field `json:"root"`
	Height uint64         `json:"height"`
	Time   int64          `json:"time"`
	Header Header         `json:"header"`
}

// Leaf statuses (LeafStatus.Status).
const (
	LeafActive  = "active"  // the leaf holds a credential's H(issuerID, C)
	LeafRevoked = "revoked" // the leaf was overwritten with 0
)

// LeafStatus answers GET /v1/leaves/{index}, the route a credential's
// credentialStatus.id names: one credential leaf at the latest block, with
// the sibling path that leads from it to that block's credential root, so
// that a reader who verified the block's header needs to trust nothing
// else (Check). A leaf is "revoked" when it is 0: revocation overwrites
// the leaf, and every appended leaf is otherwise non-zero. The registry has
// no index from leaf to issuer: a reader holding the credential checks that
// Leaf is H(issuerID, C) itself.
type LeafStatus struct {
	Index    uint64           `json:"index"`
	Status   string           `json:"status"` // LeafActive or LeafRevoked
	Leaf     circuits.Field   `json:"leaf"`
	Height   uint64           `json:"height"`
	Root     circuits.Field   `json:"root"`     // the credential root of block Height
	Siblings []circuits.Field `json:"siblings"` // circuits.Depth nodes, bottom-up
	// CredSize and StateRoot complete the block's app hash (AppHash).
	CredSize  uint64 `json:"cred_size"`
	StateRoot Hash   `json:"state_root"`
}

// Check verifies the answer against a header the reader trusts: the same
// block, whose credential root the leaf's path leads to, holding the leaf,
// and a status that says what the leaf is.
func (s *LeafStatus) Check(h *Header) error {
	if h.Height != s.Height || h.CredRoot != s.Root {
		return fmt.Errorf("leaf status is for block %d, not the trusted header's block %d", s.Height, h.Height)
	}
	return s.check(h.CredSize)
}

func (s *LeafStatus) check(size uint64) error {
	if s.Index >= size {
		return fmt.Errorf("leaf %d is beyond the tree's %d leaves", s.Index, size)
	}
	if len(s.Siblings) != circuits.Depth {
		return fmt.Errorf("leaf path has %d siblings, want %d", len(s.Siblings), circuits.Depth)
	}
	path := make([]fr.Element, len(s.Siblings))
	for i, f := range s.Siblings {
		path[i] = f.El()
	}
	if root := circuits.RootFromPath(s.Leaf.El(), s.Index, path); root != s.Root.El() {
		return fmt.Errorf("leaf %d's path does not lead to the root of block %d", s.Index, s.Height)
	}
	want := LeafActive
	if s.Leaf.IsZero() {
		want = LeafRevoked
	}
	if s.Status != want {
		return fmt.Errorf("leaf %d is %q, but the leaf says %q", s.Index, s.Status, want)
	}
	return nil
}

// Answers that carry a state proof (StateProof) against the app hash of
// block Proof.Height. Each Verify checks the answer against the app hash
// of that block from a header the reader verified; nothing in the answer
// is to be used before Verify returns nil.

// IssuerAnswer answers GET /v1/issuers/{id}: the record and its proof.
type IssuerAnswer struct {
	Issuer
	Proof StateProof `json:"proof"`
}

// Verify checks the record against appHash, and that it is the record of
// the issuer ID asked for.
func (a *IssuerAnswer) Verify(appHash Hash, id circuits.Field) error {
	if a.ID != id {
		return proofError("the answer is the record of issuer %s, not %s", a.ID, id)
	}
	return a.Proof.Verify(appHash, layout.IssuerKey(id.El()), &a.Issuer)
}

// SchemaAnswer answers GET /v1/schemas/{id}.
type SchemaAnswer struct {
	SchemaRecord
	Proof StateProof `json:"proof"`
}

// Verify checks the record against appHash, and that it is schema id.
func (a *SchemaAnswer) Verify(appHash Hash, id circuits.Field) error {
	if a.ID != id {
		return proofError("the answer is the record of schema %s, not %s", a.ID, id)
	}
	return a.Proof.Verify(appHash, layout.SchemaKey(id.El()), &a.SchemaRecord)
}

// CircuitAnswer answers GET /v1/circuits/{id}: the circuit's published
// verifying-key hash, or none (Record omitted), with the proof of either.
type CircuitAnswer struct {
	Circuit string         `json:"circuit"`
	Record  *CircuitRecord `json:"record,omitempty"`
	Proof   StateProof     `json:"proof"`
}

// Verify checks the answer against appHash for circuit id.
func (a *CircuitAnswer) Verify(appHash Hash, id string) error {
	if a.Circuit != id || (a.Record != nil && a.Record.Circuit != id) {
		return proofError("the answer is for circuit %q, not %q", a.Circuit, id)
	}
	if a.Record == nil {
		return a.Proof.Verify(appHash, layout.CircuitKey(id), nil)
	}
	return a.Proof.Verify(appHash, layout.CircuitKey(id), a.Record)
}

// KindAnswer answers GET /v1/kinds/{kind}: every issuer of the kind with
// its active flag. A kind no issuer ever had is proven absent; both that
// and a present empty list mean no issuer.
type KindAnswer struct {
	KindList
	Proof StateProof `json:"proof"`
}

// Verify checks the list against appHash for kind.
func (a *KindAnswer) Verify(appHash Hash, kind string) error {
	if a.Kind != kind {
		return proofError("the answer lists kind %q, not %q", a.Kind, kind)
	}
	key := layout.KindKey(kind)
	if len(a.Issuers) == 0 {
		if err := a.Proof.Verify(appHash, key, nil); err == nil {
			return nil
		}
		empty := KindList{Kind: kind, Issuers: []KindMember{}}
		return a.Proof.Verify(appHash, key, &empty)
	}
	return a.Proof.Verify(appHash, key, &a.KindList)
}

// AccreditorAnswer answers GET /v1/accreditors/{pubkey}: the accreditation
// record of a key, or none (Record omitted), with the proof of either.
type AccreditorAnswer struct {
	PubKey string      `json:"pubkey"`
	Record *Accreditor `json:"record,omitempty"`
	Proof  StateProof  `json:"proof"`
}

// Verify checks the answer against appHash for the hex key pubkey.
func (a *AccreditorAnswer) Verify(appHash Hash, pubkey string) error {
	pub, err := ParsePubKey(pubkey)
	if err != nil {
		return proofError("accreditor key: %v", err)
	}
	if a.PubKey != pubkey || (a.Record != nil && a.Record.PubKey != pubkey) {
		return proofError("the answer is for accreditor %s, not %s", a.PubKey, pubkey)
	}
	if a.Record == nil {
		return a.Proof.Verify(appHash, layout.AccreditorKey(pub), nil)
	}
	return a.Proof.Verify(appHash, layout.AccreditorKey(pub), a.Record)
}

// GovernanceAnswer answers GET /v1/governance: the governance keys and
// threshold and the validator set, each with its proof.
type GovernanceAnswer struct {
	Governance      Governance   `json:"governance"`
	GovernanceProof StateProof   `json:"governance_proof"`
	Validators      ValidatorSet `json:"validators"`
	ValidatorsProof StateProof   `json:"validators_proof"`
}

// Verify checks both records against appHash.
func (a *GovernanceAnswer) Verify(appHash Hash) error {
	if err := a.GovernanceProof.Verify(appHash, layout.GovernanceKey(), &a.Governance); err != nil {
		return err
	}
	return a.ValidatorsProof.Verify(appHash, layout.ValidatorsKey(), &a.Validators)
}

// VerifyAppHash checks that the bucket's roots are those of the block
// whose app hash is appHash. Path then checks the leaves against Root.
func (b *Bucket) VerifyAppHash(appHash Hash) error {
	if AppHash(b.Root, b.CredSize, b.StateRoot) != appHash {
		return proofError("witness bucket %d: roots of block %d do not hash to its app hash", b.Index, b.Height)
	}
	return nil
}

// Verify checks the leaf status against the app hash of its block.
func (s *LeafStatus) Verify(appHash Hash) error {
	if AppHash(s.Root, s.CredSize, s.StateRoot) != appHash {
		return proofError("leaf %d: roots of block %d do not hash to its app hash", s.Index, s.Height)
	}
	return s.check(s.CredSize)
}
