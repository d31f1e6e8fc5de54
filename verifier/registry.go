package verifier

import (
	"context"
	"fmt"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/light"
)

// LightRoots gives a verifier the roots a registry light client verified:
// RootInfo (latest block publishing a root, and its time) and RootAt (the
// root of any verified block).
type LightRoots struct{ *light.Client }

// RootAt implements RootsAt.
func (l LightRoots) RootAt(height uint64) (fr.Element, bool) {
	h, ok := l.Header(height)
	if !ok {
		return fr.Element{}, false
	}
	return h.CredRoot.El(), true
}

// RegistryIssuers lists the active issuers of a kind from a registry (the
// light client's Registry()), for policies that accept a whole kind. The
// list is the registry's answer and is not proven against a header: a
// verifier that does not trust its registry should name issuer IDs.
type RegistryIssuers struct {
	Client  *client.Client
	Timeout time.Duration // per call; 0 means 5 seconds
}

// Issuers implements IssuerLister.
func (r RegistryIssuers) Issuers(kind string) ([]fr.Element, error) {
	t := r.Timeout
	if t <= 0 {
		t = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), t)
	defer cancel()
	active := true
	is, err := r.Client.Issuers(ctx, client.IssuerFilter{Kind: kind, Active: &active})
	if err != nil {
		return nil, fmt.Errorf("list issuers of kind %q: %w", kind, err)
	}
	ids := make([]fr.Element, 0, len(is))
	for _, i := range is {
		if i.Active && i.Kind == kind {
			ids = append(ids, i.ID.El())
		}
	}
	return ids, nil
}
