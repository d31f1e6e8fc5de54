package verifier

import (
	"errors"
	"fmt"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
)

// Pinned is a fixed set of roots and issuer lists, read from a checkpoint
// file: Roots and IssuerLister for a verifier that runs without a registry
// connection (offline checks, load tests). With it, freshness is only as
// good as the file: the maximum root age still applies to each root's time.
type Pinned struct {
	Roots []PinnedRoot `json:"roots"`
	// Kinds lists the active issuer IDs per kind.
	Kinds map[string][]circuits.Field `json:"issuers,omitempty"`
	// DIDs maps a did:web to the active issuer binding it.
	DIDs map[string]circuits.Field `json:"dids,omitempty"`

	byRoot map[circuits.Field]PinnedRoot
}

// PinnedRoot is one block's credential-tree root.
type PinnedRoot struct {
	Root   circuits.Field `json:"root"`
	Height uint64         `json:"height"`
	Time   time.Time      `json:"time"`
}

// ParsePinned decodes a checkpoint file strictly.
func ParsePinned(b []byte) (*Pinned, error) {
	var p Pinned
	if err := strictDecode(b, &p); err != nil {
		return nil, fmt.Errorf("roots file: %w", err)
	}
	if err := p.index(); err != nil {
		return nil, fmt.Errorf("roots file: %w", err)
	}
	return &p, nil
}

// NewPinned returns a Pinned over roots and issuer lists.
func NewPinned(roots []PinnedRoot, issuers map[string][]circuits.Field) (*Pinned, error) {
	p := &Pinned{Roots: roots, Kinds: issuers}
	return p, p.index()
}

func (p *Pinned) index() error {
	p.byRoot = make(map[circuits.Field]PinnedRoot, len(p.Roots))
	heights := map[uint64]bool{}
	for _, r := range p.Roots {
		if heights[r.Height] {
			return fmt.Errorf("%w: height %d listed twice", ErrMalformed, r.Height)
		}
		heights[r.Height] = true
		if prev, ok := p.byRoot[r.Root]; !ok || r.Height > prev.Height {
			p.byRoot[r.Root] = r // RootInfo names the latest block with the root
		}
	}
	return nil
}

// RootInfo implements Roots.
func (p *Pinned) RootInfo(root fr.Element) (uint64, time.Time, bool) {
	r, ok := p.byRoot[circuits.F(root)]
	return r.Height, r.Time, ok
}

// RootAt implements RootsAt.
func (p *Pinned) RootAt(height uint64) (fr.Element, bool) {
	for _, r := range p.Roots {
		if r.Height == height {
			return r.Root.El(), true
		}
	}
	return fr.Element{}, false
}

// IssuerByDIDWeb implements DIDWebIssuers.
func (p *Pinned) IssuerByDIDWeb(did string) (fr.Element, error) {
	id, ok := p.DIDs[did]
	if !ok {
		return fr.Element{}, fmt.Errorf("%w: %s is not in the roots file", ErrUnboundDIDWeb, did)
	}
	return id.El(), nil
}

// Issuers implements IssuerLister.
func (p *Pinned) Issuers(kind string) ([]fr.Element, error) {
	ids, ok := p.Kinds[kind]
	if !ok {
		return nil, errors.New("no issuers of kind " + kind + " in the roots file")
	}
	out := make([]fr.Element, len(ids))
	for i, id := range ids {
		out[i] = id.El()
	}
	return out, nil
}
