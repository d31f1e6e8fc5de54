package verifier

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/registry/light"
	"github.com/zkcred/zkcred/registry/proof"
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

// LatestHeight implements LatestRoots.
func (l LightRoots) LatestHeight() (uint64, bool) {
	h, ok := l.Latest()
	if !ok {
		return 0, false
	}
	return h.Height, true
}

// RegistryIssuers lists the active issuers of a kind from a registry, for
// policies that accept a whole kind. The list is read with its state
// proof and checked against a header the light client verified
// (proof.Reader), so a registry node can neither add an issuer nor show
// a deactivated one as active.
type RegistryIssuers struct {
	Registry proof.Reader
	Timeout  time.Duration // per call; 0 means 5 seconds
}

// NewRegistryIssuers returns RegistryIssuers over a light client.
func NewRegistryIssuers(lc *light.Client) RegistryIssuers {
	return RegistryIssuers{Registry: proof.New(lc.Registry(), lc)}
}

// call bounds one registry read by the Timeout.
func (r RegistryIssuers) call() (context.Context, context.CancelFunc) {
	t := r.Timeout
	if t <= 0 {
		t = 5 * time.Second
	}
	return context.WithTimeout(context.Background(), t)
}

// Issuers implements IssuerLister.
func (r RegistryIssuers) Issuers(kind string) ([]fr.Element, error) {
	ctx, cancel := r.call()
	defer cancel()
	l, err := r.Registry.Kind(ctx, kind)
	if err != nil {
		return nil, fmt.Errorf("list issuers of kind %q: %w", kind, err)
	}
	act := l.Active()
	ids := make([]fr.Element, len(act))
	for i, id := range act {
		ids[i] = id.El()
	}
	return ids, nil
}

// IssuerByDIDWeb implements DIDWebIssuers: the ID of the issuer whose
// proven record binds did, which must be active (ErrUnboundDIDWeb
// otherwise).
func (r RegistryIssuers) IssuerByDIDWeb(did string) (fr.Element, error) {
	ctx, cancel := r.call()
	defer cancel()
	is, err := r.Registry.IssuerByDIDWeb(ctx, did)
	if errors.Is(err, proof.ErrNoDIDWeb) {
		return fr.Element{}, ErrUnboundDIDWeb
	}
	if err != nil {
		return fr.Element{}, fmt.Errorf("issuer by %s: %w", did, err)
	}
	if !is.Active {
		return fr.Element{}, fmt.Errorf("%w (%s, %q, is deactivated)", ErrUnboundDIDWeb, did, is.Name)
	}
	return is.ID.El(), nil
}

// SyncingRoots is LightRoots that syncs the light client when asked about
// a root or a height it does not know yet, so that a presentation made
// against a block produced a moment ago is not refused while the
// background sync catches up. Such syncs happen at most once per
// minSyncGap, so a flood of unknown roots cannot become a flood of
// requests to the registry.
type SyncingRoots struct {
	LightRoots
	mu   *sync.Mutex
	last *time.Time
}

const minSyncGap = 200 * time.Millisecond

// NewSyncingRoots returns SyncingRoots over a light client.
func NewSyncingRoots(lc *light.Client) SyncingRoots {
	return SyncingRoots{LightRoots{Client: lc}, new(sync.Mutex), new(time.Time)}
}

// syncOnMiss syncs unless a sync on a miss happened in the last minSyncGap.
func (r SyncingRoots) syncOnMiss() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(*r.last) < minSyncGap {
		return
	}
	*r.last = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r.Sync(ctx)
}

// RootInfo implements Roots.
func (r SyncingRoots) RootInfo(root fr.Element) (uint64, time.Time, bool) {
	if h, t, ok := r.LightRoots.RootInfo(root); ok {
		return h, t, ok
	}
	r.syncOnMiss()
	return r.LightRoots.RootInfo(root)
}

// RootAt implements RootsAt.
func (r SyncingRoots) RootAt(height uint64) (fr.Element, bool) {
	if root, ok := r.LightRoots.RootAt(height); ok {
		return root, ok
	}
	r.syncOnMiss()
	return r.LightRoots.RootAt(height)
}
