package issuer

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/dgraph-io/badger/v4"

	"github.com/zkcred/zkcred/circuits"
)

// DefaultAnchorBatch is the number of commitments anchored per transaction.
const DefaultAnchorBatch = 1000

// DefaultOfferTTL is how long a claim offer stays open.
const DefaultOfferTTL = 30 * 24 * time.Hour

// Options configures an Issuer; the zero value is the default.
type Options struct {
	// StatusBase is the registry's public URL; credentialStatus ids are
	// StatusBase + "/leaves/<index>". Empty: "urn:zkcred:leaf:<index>".
	StatusBase string
	// AnchorBatch is the number of commitments per anchoring transaction;
	// 0 means DefaultAnchorBatch.
	AnchorBatch int
	// PublicURL is the issuer API's public base URL, used in claim links.
	PublicURL string
	// OfferTTL is the lifetime of claim offers; 0 means DefaultOfferTTL.
	OfferTTL time.Duration
	// HolderProof checks a holder's proof that it knows the secret behind
	// its holder commitment when it claims an offer. Nil refuses every claim
	// (ErrNoHolderProof): there is no insecure default.
	HolderProof HolderProofVerifier
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Issuer issues, anchors and revokes credentials.
type Issuer struct {
	key   *Key
	chain Chain
	store *Store
	opts  Options

	claimMu sync.Mutex // serialises claims so that an offer is claimed once
}

// New returns an issuer. Call Recover once before issuing, to finish work a
// crash interrupted.
func New(key *Key, chain Chain, store *Store, opts Options) *Issuer {
	if opts.AnchorBatch <= 0 {
		opts.AnchorBatch = DefaultAnchorBatch
	}
	if opts.OfferTTL <= 0 {
		opts.OfferTTL = DefaultOfferTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Issuer{key: key, chain: chain, store: store, opts: opts}
}

// Key returns the issuer's key.
func (is *Issuer) Key() *Key { return is.key }

// Store returns the issuer's store.
func (is *Issuer) Store() *Store { return is.store }

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
	return is.anchorAndSign(ctx, &pendingEntry{ID: newUUID(), Drafts: drafts}, nil)
}

// finalizer adds to the transaction that records issued credentials.
type finalizer func(txn *badger.Txn, bundles []*wire.Bundle) error

// anchorAndSign is the write-ahead path every issued credential takes:
//  1. the drafts (salts, commitments, IDs) are journaled, synced;
//  2. commitments go to the chain (after a crash, those the chain already
//     holds are looked up instead of anchored again);
//  3. credentials are signed and, with fin's writes, recorded in one synced
//     transaction that also deletes the journal entry.
func (is *Issuer) anchorAndSign(ctx context.Context, e *pendingEntry, fin finalizer) ([]*wire.Bundle, error) {
	if len(e.Drafts) == 0 {
		return nil, is.store.db.Update(func(txn *badger.Txn) error {
			if fin != nil {
				return fin(txn, nil)
			}
			return nil
		})
	}
	since, err := is.chain.Size(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: size: %w", ErrChain, err)
	}
	e.Since = since
	if err := is.store.db.Update(func(txn *badger.Txn) error {
		return setJSON(txn, []byte(pPending+e.ID), e)
	}); err != nil {
		return nil, fmt.Errorf("journaling drafts: %w", err)
	}
	return is.resume(ctx, e, fin)
}

// resume anchors what the chain lacks of a journaled entry, signs and
// records it.
func (is *Issuer) resume(ctx context.Context, e *pendingEntry, fin finalizer) ([]*wire.Bundle, error) {
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
		bundles[i], errs[i] = e.Drafts[i].sign(is.key, anchored[i], is.opts.StatusBase)
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	err := is.store.db.Update(func(txn *badger.Txn) error {
		for _, b := range bundles {
			if err := is.store.putCredential(txn, b); err != nil {
				return err
			}
		}
		if fin != nil {
			if err := fin(txn, bundles); err != nil {
				return err
			}
		}
		return txn.Delete([]byte(pPending + e.ID))
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
	entries, err := is.store.pending()
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Job != "" {
			continue
		}
		var fin finalizer
		if e.Offer != "" {
			fin = is.claimFinalizer(e.Offer)
		}
		if _, err := is.resume(ctx, e, fin); err != nil {
			return fmt.Errorf("recovering %s: %w", e.ID, err)
		}
	}
	return nil
}

// ErrRevoke is wrapped by revocation errors about the request (HTTP 422).
var ErrRevoke = errors.New("cannot revoke")

// Revoke revokes credentials by ID and by leaf index: their leaves are
// overwritten with 0 on the chain, then marked revoked here. Every ID and
// leaf must be one this issuer issued; revoking twice is not an error.
func (is *Issuer) Revoke(ctx context.Context, credentialIDs []string, leafIndices []uint64) ([]uint64, error) {
	ids := append([]string(nil), credentialIDs...)
	for _, l := range leafIndices {
		id, err := is.store.CredentialAtLeaf(l)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRevoke, err)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: no credential named", ErrRevoke)
	}
	seen := map[uint64]bool{}
	var leaves []uint64
	var refs []LeafRef
	for _, id := range ids {
		b, _, err := is.store.Credential(id)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRevoke, err)
		}
		if !seen[b.Private.LeafIndex] {
			seen[b.Private.LeafIndex] = true
			leaves = append(leaves, b.Private.LeafIndex)
			refs = append(refs, LeafRef{b.Private.LeafIndex, b.Private.Commitment.El()})
		}
	}
	if err := is.chain.Revoke(ctx, refs); err != nil {
		return nil, fmt.Errorf("%w: revoke: %w", ErrChain, err)
	}
	err := is.store.db.Update(func(txn *badger.Txn) error {
		for _, id := range ids {
			if err := txn.Set([]byte(pRevoked+id), nil); err != nil {
				return err
			}
		}
		return nil
	})
	return leaves, err
}

// PublishSchema validates a schema, records it locally and publishes it on
// the chain.
func (is *Issuer) PublishSchema(ctx context.Context, s *circuits.Schema) error {
	if err := is.store.PutSchema(s); err != nil {
		return err
	}
	if err := is.chain.RegisterSchema(ctx, s); err != nil {
		return fmt.Errorf("%w: publish schema: %w", ErrChain, err)
	}
	return nil
}

// PutSchema validates and records a schema locally (no chain).
func (s *Store) PutSchema(sc *circuits.Schema) error {
	if err := sc.Validate(); err != nil {
		return err
	}
	id := sc.ID()
	return s.db.Update(func(txn *badger.Txn) error {
		return txn.Set([]byte(pSchema+circuits.Dec(id)), sc.Canonical())
	})
}

// Schema returns a locally recorded schema by ID (decimal).
func (s *Store) Schema(id string) (*circuits.Schema, error) {
	var raw []byte
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get([]byte(pSchema + id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("schema %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		raw, err = it.ValueCopy(nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return circuits.ParseSchema(raw)
}

// Schemas returns every locally recorded schema.
func (s *Store) Schemas() ([]*circuits.Schema, error) {
	var out []*circuits.Schema
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = []byte(pSchema)
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			b, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			sc, err := circuits.ParseSchema(b)
			if err != nil {
				return err
			}
			out = append(out, sc)
		}
		return nil
	})
	return out, err
}

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
