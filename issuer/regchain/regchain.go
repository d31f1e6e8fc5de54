package regchain

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
)

// Chain is an issuer.Chain on a registry.
type Chain struct {
	c        *client.Client
	key      *issuer.Key
	chainID  string
	issuerID fr.Element

	mu     sync.Mutex // transactions go out one at a time, in nonce order
	signer *client.Signer
}

var _ issuer.Chain = (*Chain)(nil)

// New returns the chain of the registry c for an issuer key. It reads the
// chain ID from the registry's genesis.
func New(ctx context.Context, c *client.Client, key *issuer.Key) (*Chain, error) {
	g, err := c.Genesis(ctx)
	if err != nil {
		return nil, fmt.Errorf("registry genesis: %w", err)
	}
	return &Chain{c: c, key: key, chainID: g.ChainID, issuerID: key.IssuerID()}, nil
}

// Dial connects to the registry at url as the issuer with key k: the
// issuer.Dialer that issuer.OpenDir takes (OpenOptions.Registry).
func Dial(ctx context.Context, url string, k *issuer.Key) (issuer.Chain, error) {
	c, err := client.New(url, client.Options{})
	if err != nil {
		return nil, err
	}
	return New(ctx, c, k)
}

var _ issuer.Dialer = Dial

// do signs and submits one transaction. After any failure the signer is
// dropped, so that the next transaction starts from the registry's record
// of the last nonce.
func (ch *Chain) do(ctx context.Context, body registry.Body) (*registry.Receipt, error) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.signer == nil {
		s, err := ch.c.NewSigner(ctx, ch.chainID, ch.key.Signer())
		if err != nil {
			return nil, err
		}
		ch.signer = s
	}
	rc, err := ch.signer.Do(ctx, body)
	if err != nil {
		ch.signer = nil
		return nil, err
	}
	return rc, nil
}

// RegisterSchema implements issuer.Chain; a schema already published is
// not an error.
func (ch *Chain) RegisterSchema(ctx context.Context, s *circuits.Schema) error {
	if err := s.Validate(); err != nil {
		return err
	}
	_, err := ch.do(ctx, registry.PublishSchema{Schema: s.Canonical()})
	if errors.Is(err, registry.ErrConflict) {
		if _, gerr := ch.c.Schema(ctx, s.ID()); gerr == nil {
			return nil
		}
	}
	return err
}

// Size implements issuer.Chain.
func (ch *Chain) Size(ctx context.Context) (uint64, error) {
	h, err := ch.c.Latest(ctx)
	if err != nil {
		return 0, err
	}
	return h.CredSize, nil
}

// Anchor implements issuer.Chain, in transactions of at most
// registry.MaxAnchor commitments.
func (ch *Chain) Anchor(ctx context.Context, coms []fr.Element) ([]issuer.Anchored, error) {
	out := make([]issuer.Anchored, 0, len(coms))
	for start := 0; start < len(coms); start += registry.MaxAnchor {
		part := coms[start:min(start+registry.MaxAnchor, len(coms))]
		body := registry.Anchor{Commitments: make([]circuits.Field, len(part))}
		for i, c := range part {
			body.Commitments[i] = circuits.F(c)
		}
		rc, err := ch.do(ctx, body)
		if err != nil {
			return nil, err
		}
		if rc.Count != len(part) {
			return nil, fmt.Errorf("registry anchored %d of %d commitments", rc.Count, len(part))
		}
		for i := range part {
			out = append(out, issuer.Anchored{LeafIndex: rc.FirstLeaf + uint64(i), Height: rc.Height})
		}
	}
	return out, nil
}

// Revoke implements issuer.Chain. Leaves already revoked (0) are skipped;
// the registry checks that each other leaf holds H(issuerID, commitment).
func (ch *Chain) Revoke(ctx context.Context, leaves []issuer.LeafRef) error {
	body := registry.Revoke{}
	latest, err := ch.c.Latest(ctx)
	if err != nil {
		return err
	}
	for _, l := range leaves {
		if l.Index >= latest.CredSize {
			return fmt.Errorf("%w: leaf %d was never anchored (tree size %d)", registry.ErrNotFound, l.Index, latest.CredSize)
		}
		b, err := ch.c.Witness(ctx, l.Index)
		if err != nil {
			return err
		}
		leaf, _, err := b.Path(l.Index)
		if err != nil {
			return err
		}
		if leaf.IsZero() {
			continue
		}
		body.Leaves = append(body.Leaves, registry.RevokeLeaf{Index: l.Index, Commitment: circuits.F(l.Commitment)})
	}
	for start := 0; start < len(body.Leaves); start += registry.MaxRevoke {
		part := registry.Revoke{Leaves: body.Leaves[start:min(start+registry.MaxRevoke, len(body.Leaves))]}
		if _, err := ch.do(ctx, part); err != nil {
			return err
		}
	}
	return nil
}

// Lookup implements issuer.Chain by scanning witness buckets from since.
func (ch *Chain) Lookup(ctx context.Context, coms []fr.Element, since uint64) ([]issuer.Anchored, []bool, error) {
	out := make([]issuer.Anchored, len(coms))
	ok := make([]bool, len(coms))
	want := make(map[fr.Element][]int, len(coms))
	for i, c := range coms {
		l := circuits.LeafHash(ch.issuerID, c)
		want[l] = append(want[l], i)
	}
	latest, err := ch.c.Latest(ctx)
	if err != nil {
		return nil, nil, err
	}
	remaining := len(coms)
	var found []uint64
	at := map[uint64][]int{}
	for b := registry.BucketOf(since); remaining > 0 && b*registry.BucketSize < latest.CredSize; b++ {
		bucket, err := ch.c.Witness(ctx, b*registry.BucketSize)
		if err != nil {
			return nil, nil, err
		}
		for j, lf := range bucket.Leaves {
			idx := b*registry.BucketSize + uint64(j)
			if idx < since || idx >= latest.CredSize {
				continue
			}
			for _, i := range want[lf.El()] {
				if !ok[i] {
					ok[i] = true
					out[i].LeafIndex = idx
					found = append(found, idx)
					at[idx] = append(at[idx], i)
					remaining--
				}
			}
		}
	}
	// Heights: the anchoring block is the first whose credential tree holds
	// more than idx leaves.
	sort.Slice(found, func(a, b int) bool { return found[a] < found[b] })
	lo := uint64(0)
	var cur *registry.Header
	for _, idx := range found {
		if cur == nil || cur.CredSize <= idx {
			h, hdr, err := ch.firstHolding(ctx, idx, lo, latest.Height)
			if err != nil {
				return nil, nil, err
			}
			lo, cur = h, hdr
		}
		for _, i := range at[idx] {
			out[i].Height = cur.Height
		}
	}
	return out, ok, nil
}

// firstHolding finds the lowest height in [lo, hi] whose header has
// CredSize > idx.
func (ch *Chain) firstHolding(ctx context.Context, idx, lo, hi uint64) (uint64, *registry.Header, error) {
	var best *registry.Header
	for lo < hi {
		mid := lo + (hi-lo)/2
		h, err := ch.c.Header(ctx, mid)
		if err != nil {
			return 0, nil, err
		}
		if h.CredSize > idx {
			hi, best = mid, h
		} else {
			lo = mid + 1
		}
	}
	if best == nil || best.Height != lo {
		h, err := ch.c.Header(ctx, lo)
		if err != nil {
			return 0, nil, err
		}
		best = h
	}
	if best.CredSize <= idx {
		return 0, nil, fmt.Errorf("no block holds leaf %d", idx)
	}
	return lo, best, nil
}
