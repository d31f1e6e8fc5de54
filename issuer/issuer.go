package issuer

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/didweb"
	"github.com/zkcred/zkcred/issuer/store"
	"github.com/zkcred/zkcred/wire"
)

// DefaultAnchorBatch is the number of commitments anchored per transaction.
const DefaultAnchorBatch = 1000

// DefaultOfferTTL is how long a claim offer stays open.
const DefaultOfferTTL = 30 * 24 * time.Hour

// ErrNotFound is returned for an unknown credential, leaf, offer or schema
// (HTTP 404).
var ErrNotFound = store.ErrNotFound

// ErrNoPublicURL is returned when a claim link is to be made but the issuer
// has no public URL (Options.PublicURL) to make it absolute.
var ErrNoPublicURL = errors.New("claim links need the issuer API's public URL (--public-url https://issuer.example)")

// Options configures an Issuer; the zero value is the default.
type Options struct {
	// StatusBase is the registry's public URL; credentialStatus ids are
	// StatusBase + "/leaves/<index>". Empty: "urn:zkcred:leaf:<index>".
	StatusBase string
	// AnchorBatch is the number of commitments per anchoring transaction;
	// 0 means DefaultAnchorBatch.
	AnchorBatch int
	// PublicURL is the issuer API's public base URL (http or https), which
	// claim links start with. Without it no offer can be made
	// (ErrNoPublicURL): a relative link is useless to the holder who
	// receives it. Credentials name the zkcred JSON-LD context there
	// (ContextURL).
	PublicURL string
	// OfferTTL is the lifetime of claim offers; 0 means DefaultOfferTTL.
	OfferTTL time.Duration
	// HolderProof checks a holder's proof that it knows the secret behind
	// its holder commitment when it claims an offer. Nil refuses every claim
	// (ErrNoHolderProof): there is no insecure default.
	HolderProof HolderProofVerifier
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// DIDWeb is the did:web (did:web:host[%3Aport]) the issuer is known
	// by: its credentials name it as their issuer, signed by its key
	// DIDWeb#key-1, and the API serves its DID document. Governance must
	// bind it to the issuer's key in the registry (register-issuer or
	// update-issuer --did-web), or wallets refuse the credentials. Empty:
	// credentials name the issuer's did:key.
	DIDWeb string
}

// CheckPublicURL returns nil for an absolute http or https URL with a host
// and no query, and ErrNoPublicURL (wrapped, saying what is wrong)
// otherwise.
func CheckPublicURL(s string) error {
	if s == "" {
		return ErrNoPublicURL
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%w: %q is not an http(s) URL such as https://issuer.example", ErrNoPublicURL, s)
	}
	return nil
}

// Issuer issues, anchors and revokes credentials.
type Issuer struct {
	key   *Key
	chain Chain
	store *store.Store
	opts  Options

	claimMu  sync.Mutex // serialises claims so that an offer is claimed once
	revokeMu sync.Mutex // serialises revocations so that each reaches the chain once
}

// New returns an issuer. Call Recover once before issuing, to finish work a
// crash interrupted (OpenDir does both).
func New(key *Key, chain Chain, st *store.Store, opts Options) *Issuer {
	if opts.AnchorBatch <= 0 {
		opts.AnchorBatch = DefaultAnchorBatch
	}
	if opts.OfferTTL <= 0 {
		opts.OfferTTL = DefaultOfferTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Issuer{key: key, chain: chain, store: st, opts: opts}
}

// DID returns the identifier the issuer's credentials name as their
// issuer: Options.DIDWeb, or the did:key of its key.
func (is *Issuer) DID() string {
	if is.opts.DIDWeb != "" {
		return is.opts.DIDWeb
	}
	return is.key.DID()
}

// Now returns the issuer's clock (Options.Now).
func (is *Issuer) Now() time.Time { return is.opts.Now() }

// DIDWeb returns Options.DIDWeb.
func (is *Issuer) DIDWeb() string { return is.opts.DIDWeb }

// VerificationMethod returns the DID URL of the key that signs the
// issuer's credentials.
func (is *Issuer) VerificationMethod() string {
	if is.opts.DIDWeb != "" {
		return didweb.KeyID(is.opts.DIDWeb)
	}
	return is.key.VerificationMethod()
}

// Key returns the issuer's key.
func (is *Issuer) Key() *Key { return is.key }

// Store returns the issuer's store.
func (is *Issuer) Store() *store.Store { return is.store }

// PublicURL returns the issuer API's public base URL (Options.PublicURL).
func (is *Issuer) PublicURL() string { return is.opts.PublicURL }

// ContextURL is the second @context of the credentials the issuer signs:
// the zkcred context where its API serves it, PublicURL + wire.ContextPath,
// so that a JSON-LD processor can fetch it; without a public URL, W3C's
// wire.ContextUndefinedTerms, which resolves too.
func (is *Issuer) ContextURL() string {
	if CheckPublicURL(is.opts.PublicURL) == nil {
		return wire.ContextURL(is.opts.PublicURL)
	}
	return wire.ContextUndefinedTerms
}

// Issue validates req, anchors its commitment and returns the signed
// credential with its private values. It is IssueBatch of one.
func (is *Issuer) Issue(ctx context.Context, req Request) (*wire.Bundle, error) {
	bs, err := is.IssueBatch(ctx, []Request{req})
	if err != nil {
		return nil, err
	}
	return bs[0], nil
}

// RequestError says which request of a batch is invalid.
type RequestError struct {
	Index int
	Err   error
}

func (e *RequestError) Error() string { return fmt.Sprintf("request %d: %v", e.Index, e.Err) }
func (e *RequestError) Unwrap() error { return e.Err }

// IssueBatch issues several credentials, anchoring their commitments in
// transactions of Options.AnchorBatch. Every request must be valid; the first
// invalid one is reported as a *RequestError and nothing is issued.
func (is *Issuer) IssueBatch(ctx context.Context, reqs []Request) ([]*wire.Bundle, error) {
	now := is.opts.Now()
	drafts := make([]*draft, len(reqs))
	errs := make([]error, len(reqs))
	ids := map[*circuits.Schema]fr.Element{}
	for i, r := range reqs {
		if r.Schema == nil {
			return nil, &RequestError{i, fmt.Errorf("%w: no schema", ErrSubject)}
		}
		if _, ok := ids[r.Schema]; !ok {
			if err := r.Schema.Validate(); err != nil {
				return nil, &RequestError{i, err}
			}
			ids[r.Schema] = r.Schema.ID()
		}
	}
	parallel(len(reqs), func(i int) {
		drafts[i], errs[i] = newDraft(reqs[i], ids[reqs[i].Schema], now)
	})
	for i, err := range errs {
		if err != nil {
			return nil, &RequestError{i, err}
		}
	}
	return is.anchorAndSign(ctx, &store.Pending{ID: newUUID(), Drafts: drafts}, nil)
}

// finalizer adds to the transaction that records issued credentials, and
// says where each came from.
type finalizer func(tx *store.Txn, bundles []*wire.Bundle) ([]store.Origin, error)

// anchorAndSign is the write-ahead path every issued credential takes:
//  1. the drafts (salts, commitments, IDs) are journaled, synced;
//  2. commitments go to the chain (after a crash, those the chain already
//     holds are looked up instead of anchored again);
//  3. credentials are signed and, with fin's writes, recorded in one synced
//     transaction that also deletes the journal entry.
func (is *Issuer) anchorAndSign(ctx context.Context, e *store.Pending, fin finalizer) ([]*wire.Bundle, error) {
	if len(e.Drafts) == 0 {
		return nil, is.store.Update(func(tx *store.Txn) error {
			if fin != nil {
				_, err := fin(tx, nil)
				return err
			}
			return nil
		})
	}
	since, err := is.chain.Size(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: size: %w", ErrChain, err)
	}
	e.Since = since
	if err := is.store.Update(func(tx *store.Txn) error { return tx.PutPending(e) }); err != nil {
		return nil, fmt.Errorf("journaling drafts: %w", err)
	}
	return is.resume(ctx, e, fin)
}

// resume anchors what the chain lacks of a journaled entry, signs and
// records it.
func (is *Issuer) resume(ctx context.Context, e *store.Pending, fin finalizer) ([]*wire.Bundle, error) {
	coms := make([]fr.Element, len(e.Drafts))
	for i, d := range e.Drafts {
		coms[i] = d.Commitment.El()
	}
	anchored := make([]Anchored, len(coms))
	for start := 0; start < len(coms); start += is.opts.AnchorBatch {
		end := min(start+is.opts.AnchorBatch, len(coms))
		part := coms[start:end]
		found, ok, err := is.chain.Lookup(ctx, part, e.Since)
		if err != nil {
			return nil, fmt.Errorf("%w: lookup: %w", ErrChain, err)
		}
		var missing []fr.Element
		var missingAt []int
		for i := range part {
			if ok[i] {
				anchored[start+i] = found[i]
			} else {
				missing = append(missing, part[i])
				missingAt = append(missingAt, start+i)
			}
		}
		if len(missing) == 0 {
			continue
		}
		got, err := is.chain.Anchor(ctx, missing)
		if err != nil {
			return nil, fmt.Errorf("%w: anchor: %w", ErrChain, err)
		}
		if len(got) != len(missing) {
			return nil, fmt.Errorf("%w: anchored %d of %d commitments", ErrChain, len(got), len(missing))
		}
		for i, at := range missingAt {
			anchored[at] = got[i]
		}
	}
	bundles := make([]*wire.Bundle, len(e.Drafts))
	errs := make([]error, len(e.Drafts))
	parallel(len(e.Drafts), func(i int) {
		bundles[i], errs[i] = is.sign(e.Drafts[i], anchored[i])
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	err := is.store.Update(func(tx *store.Txn) error {
		var origins []store.Origin
		if fin != nil {
			var err error
			if origins, err = fin(tx, bundles); err != nil {
				return err
			}
		}
		for i, b := range bundles {
			raw, err := b.Encode()
			if err != nil {
				return err
			}
			c := store.Credential{ID: b.Private.CredentialID, LeafIndex: b.Private.LeafIndex, Bundle: raw}
			if origins != nil {
				c.Origin = origins[i]
			}
			if err := tx.PutCredential(c); err != nil {
				return err
			}
		}
		return tx.DeletePending(e.ID)
	})
	if err != nil {
		return nil, fmt.Errorf("recording credentials: %w", err)
	}
	return bundles, nil
}

// Recover finishes anchoring that a crash interrupted: journaled direct
// issues and offer claims. Batch-job entries are left to RunBatch, which
// also rewrites their files.
func (is *Issuer) Recover(ctx context.Context) error {
	entries, err := is.store.Pendings()
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Job != "" {
			continue
		}
		var fin finalizer
		if e.Offer != "" {
			fin = claimFinalizer(e.Offer)
		}
		if _, err := is.resume(ctx, e, fin); err != nil {
			return fmt.Errorf("recovering %s: %w", e.ID, err)
		}
	}
	return nil
}

// ErrRevoke is wrapped by revocation errors about the request (HTTP 422;
// 404 when it also wraps ErrNotFound).
var ErrRevoke = errors.New("cannot revoke")

// Revocation says what a Revoke call left revoked.
type Revocation struct {
	IDs    []string // every credential named, revoked now or before
	Leaves []uint64 // their leaves, now 0 on the chain
	Newly  int      // how many of them were not revoked before
}

// Revoke revokes credentials by ID and by leaf index: their leaves are
// overwritten with 0 on the chain, then marked revoked here. Every ID and
// leaf must be one this issuer issued. Revoking a revoked credential is
// not an error, and concurrent calls for the same credential all succeed:
// they are serialised, and a credential already marked revoked does not go
// to the chain again.
func (is *Issuer) Revoke(ctx context.Context, credentialIDs []string, leafIndices []uint64) (*Revocation, error) {
	is.revokeMu.Lock()
	defer is.revokeMu.Unlock()
	var ids []string
	var recs []*store.Credential
	err := is.store.View(func(tx *store.Txn) error {
		named := append([]string(nil), credentialIDs...)
		for _, l := range leafIndices {
			id, err := tx.CredentialAtLeaf(l)
			if err != nil {
				return err
			}
			named = append(named, id)
		}
		seen := map[string]bool{}
		for _, id := range named {
			if seen[id] {
				continue
			}
			seen[id] = true
			c, err := tx.Credential(id)
			if err != nil {
				return err
			}
			ids = append(ids, id)
			recs = append(recs, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRevoke, err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: no credential named", ErrRevoke)
	}
	r := &Revocation{IDs: ids}
	var refs []LeafRef
	var fresh []string
	for _, c := range recs {
		b, err := wire.ParseBundle(c.Bundle)
		if err != nil {
			return nil, fmt.Errorf("credential %s: stored bundle: %w", c.ID, err)
		}
		r.Leaves = append(r.Leaves, b.Private.LeafIndex)
		if !c.Revoked {
			refs = append(refs, LeafRef{b.Private.LeafIndex, b.Private.Commitment.El()})
			fresh = append(fresh, c.ID)
		}
	}
	if len(refs) == 0 {
		return r, nil
	}
	if err := is.chain.Revoke(ctx, refs); err != nil {
		return nil, fmt.Errorf("%w: revoke: %w", ErrChain, err)
	}
	err = is.store.Update(func(tx *store.Txn) error {
		for _, id := range fresh {
			if err := tx.MarkRevoked(id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.Newly = len(fresh)
	return r, nil
}

// Credential returns an issued credential and whether it was revoked.
func (is *Issuer) Credential(id string) (*wire.Bundle, bool, error) {
	c, err := is.store.Credential(id)
	if err != nil {
		return nil, false, err
	}
	b, err := wire.ParseBundle(c.Bundle)
	if err != nil {
		return nil, false, fmt.Errorf("credential %s: stored bundle: %w", id, err)
	}
	return b, c.Revoked, nil
}

// CountCredentials returns the number of issued credentials.
func (is *Issuer) CountCredentials() (int, error) { return is.store.CountCredentials() }

// PublishSchema validates a schema, records it locally and publishes it on
// the chain.
func (is *Issuer) PublishSchema(ctx context.Context, s *circuits.Schema) error {
	if err := is.DefineSchema(s); err != nil {
		return err
	}
	if err := is.chain.RegisterSchema(ctx, s); err != nil {
		return fmt.Errorf("%w: publish schema: %w", ErrChain, err)
	}
	return nil
}

// DefineSchema validates and records a schema locally (no chain).
func (is *Issuer) DefineSchema(s *circuits.Schema) error {
	if err := s.Validate(); err != nil {
		return err
	}
	return is.store.Update(func(tx *store.Txn) error { return tx.PutSchema(s) })
}

// Schema returns a locally recorded schema by ID (decimal).
func (is *Issuer) Schema(id string) (*circuits.Schema, error) { return is.store.Schema(id) }

// Schemas returns every locally recorded schema.
func (is *Issuer) Schemas() ([]*circuits.Schema, error) { return is.store.Schemas() }

// parallel runs f(0..n-1) on GOMAXPROCS goroutines.
func parallel(n int, f func(i int)) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range w {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}
