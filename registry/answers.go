package registry

import (
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
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
}

// Check verifies the answer against a header the reader trusts: the same
// block, whose credential root the leaf's path leads to, holding the leaf,
// and a status that says what the leaf is.
func (s *LeafStatus) Check(h *Header) error {
	if h.Height != s.Height || h.CredRoot != s.Root {
		return fmt.Errorf("leaf status is for block %d, not the trusted header's block %d", s.Height, h.Height)
	}
	if s.Index >= h.CredSize {
		return fmt.Errorf("leaf %d is beyond the tree's %d leaves", s.Index, h.CredSize)
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
