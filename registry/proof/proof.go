// Package proof is the client side of the registry's state proofs. A
// wallet or verifier reads every registry answer it relies on through a
// Reader, which fetches the answer and checks it against the app hash of a
// header the light client verified (registry.StateProof, docs/registry.md
// "App hash and proofs"), and refuses answers older than the newest block
// the client had verified when it asked. Nothing from a plain HTTP answer
// is used unproven.
package proof

import (
	"context"
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
)

// ErrProof is wrapped by every refusal of an answer whose proof does not
// match the verified app hash (registry.ErrProof).
var ErrProof = registry.ErrProof

// ErrStale marks an answer from a block older than the newest one the
// client had verified when it asked: a registry node that serves an old
// but once true record (an issuer before its deactivation) is refused.
var ErrStale = errors.New("registry answer is older than the newest verified block")

// Headers is the light client's side: verified app hashes by height.
// light.Client implements it.
type Headers interface {
	// LatestHeight returns the height of the newest verified header.
	LatestHeight() (uint64, bool)
	// VerifiedAppHash returns the app hash of a verified block, syncing
	// first when that block is not verified yet.
	VerifiedAppHash(ctx context.Context, height uint64) (registry.Hash, error)
}

// Reader reads proven answers from a registry.
type Reader struct {
	API     *client.Client
	Headers Headers
}

// New returns a Reader.
func New(api *client.Client, h Headers) Reader { return Reader{API: api, Headers: h} }

// tries is how often a stale answer (from a node behind the others) is
// asked for again.
const tries = 3

// read fetches with get until the answer's block is at least the newest
// verified one, then checks it with verify against that block's app hash.
func (r Reader) read(ctx context.Context, what string, get func() (uint64, error), verify func(registry.Hash) error) error {
	min, _ := r.Headers.LatestHeight()
	var height uint64
	for try := 0; ; try++ {
		var err error
		if height, err = get(); err != nil {
			return err
		}
		if height >= min {
			break
		}
		if try == tries-1 {
			return fmt.Errorf("%w: %s is for block %d, the newest verified is %d", ErrStale, what, height, min)
		}
	}
	app, err := r.Headers.VerifiedAppHash(ctx, height)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := verify(app); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// Issuer returns an issuer's record, proven.
func (r Reader) Issuer(ctx context.Context, id fr.Element) (*registry.Issuer, error) {
	var a *registry.IssuerAnswer
	err := r.read(ctx, "issuer record", func() (uint64, error) {
		var err error
		a, err = r.API.IssuerAnswer(ctx, id)
		if err != nil {
			return 0, err
		}
		return a.Proof.Height, nil
	}, func(app registry.Hash) error { return a.Verify(app, circuits.F(id)) })
	if err != nil {
		return nil, err
	}
	return &a.Issuer, nil
}

// ErrNoDIDWeb: no registered issuer's proven record binds the did:web.
var ErrNoDIDWeb = fmt.Errorf("no registered issuer binds this did:web: %w", registry.ErrNotFound)

// IssuerByDIDWeb returns the record of the issuer that binds did (a
// did:web, Issuer.DIDWeb), proven. The registry's list of issuers only
// names candidates: each is read with its proof, and only a proven record
// binding did is returned. The chain lets one issuer at a time bind a
// did:web, so a registry node can hide the binding (ErrNoDIDWeb) but not
// forge one.
func (r Reader) IssuerByDIDWeb(ctx context.Context, did string) (*registry.Issuer, error) {
	list, err := r.API.Issuers(ctx, client.IssuerFilter{})
	if err != nil {
		return nil, fmt.Errorf("listing issuers: %w", err)
	}
	for _, c := range list {
		if c.DIDWeb != did {
			continue
		}
		is, err := r.Issuer(ctx, c.ID.El())
		if err != nil {
			return nil, err
		}
		if is.DIDWeb == did {
			return is, nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrNoDIDWeb, did)
}

// Schema returns a published schema, proven.
func (r Reader) Schema(ctx context.Context, id fr.Element) (*registry.SchemaRecord, error) {
	var a *registry.SchemaAnswer
	err := r.read(ctx, "schema record", func() (uint64, error) {
		var err error
		a, err = r.API.SchemaAnswer(ctx, id)
		if err != nil {
			return 0, err
		}
		return a.Proof.Height, nil
	}, func(app registry.Hash) error { return a.Verify(app, circuits.F(id)) })
	if err != nil {
		return nil, err
	}
	return &a.SchemaRecord, nil
}

// Circuit returns a circuit's published verifying-key hash, or nil when
// the chain publishes none (that absence proven too).
func (r Reader) Circuit(ctx context.Context, id string) (*registry.CircuitRecord, error) {
	var a *registry.CircuitAnswer
	err := r.read(ctx, "verifying-key hash of "+id, func() (uint64, error) {
		var err error
		a, err = r.API.CircuitAnswer(ctx, id)
		if err != nil {
			return 0, err
		}
		return a.Proof.Height, nil
	}, func(app registry.Hash) error { return a.Verify(app, id) })
	if err != nil {
		return nil, err
	}
	return a.Record, nil
}

// Kind returns the issuers of a kind with their active flags, proven.
func (r Reader) Kind(ctx context.Context, kind string) (*registry.KindList, error) {
	var a *registry.KindAnswer
	err := r.read(ctx, "issuers of kind "+kind, func() (uint64, error) {
		var err error
		a, err = r.API.KindAnswer(ctx, kind)
		if err != nil {
			return 0, err
		}
		return a.Proof.Height, nil
	}, func(app registry.Hash) error { return a.Verify(app, kind) })
	if err != nil {
		return nil, err
	}
	return &a.KindList, nil
}

// Accreditor returns the accreditation record of a hex ed25519 key, or nil
// when the key was never accredited (that absence proven too). A withdrawn
// accreditation is a record with Active false.
func (r Reader) Accreditor(ctx context.Context, pubkey string) (*registry.Accreditor, error) {
	var a *registry.AccreditorAnswer
	err := r.read(ctx, "accreditor record", func() (uint64, error) {
		var err error
		a, err = r.API.AccreditorAnswer(ctx, pubkey)
		if err != nil {
			return 0, err
		}
		return a.Proof.Height, nil
	}, func(app registry.Hash) error { return a.Verify(app, pubkey) })
	if err != nil {
		return nil, err
	}
	return a.Record, nil
}

// Governance returns the governance record and the validator set, proven.
func (r Reader) Governance(ctx context.Context) (*registry.Governance, *registry.ValidatorSet, error) {
	var a *registry.GovernanceAnswer
	err := r.read(ctx, "governance record", func() (uint64, error) {
		var err error
		a, err = r.API.GovernanceAnswer(ctx)
		if err != nil {
			return 0, err
		}
		if a.GovernanceProof.Height != a.ValidatorsProof.Height {
			return 0, fmt.Errorf("%w: governance and validator proofs are for blocks %d and %d", ErrProof, a.GovernanceProof.Height, a.ValidatorsProof.Height)
		}
		return a.GovernanceProof.Height, nil
	}, func(app registry.Hash) error { return a.Verify(app) })
	if err != nil {
		return nil, nil, err
	}
	return &a.Governance, &a.Validators, nil
}

// Bucket checks a witness bucket against the app hash of its block and
// returns the leaf at index with its full path. The caller decides which
// block it must be (a wallet wants its newest verified one).
func Bucket(ctx context.Context, h Headers, b *registry.Bucket, index uint64) (fr.Element, []fr.Element, error) {
	app, err := h.VerifiedAppHash(ctx, b.Height)
	if err != nil {
		return fr.Element{}, nil, fmt.Errorf("witness bucket: %w", err)
	}
	if err := b.VerifyAppHash(app); err != nil {
		return fr.Element{}, nil, err
	}
	leaf, path, err := b.Path(index)
	if err != nil {
		return fr.Element{}, nil, fmt.Errorf("%w: %v", ErrProof, err)
	}
	return leaf, path, nil
}
