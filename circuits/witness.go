package circuits

import (
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// Witness is everything the holder needs to prove a presentation: the
// credential opening and paths (secret), and the statement the verifier's
// request fixes (Root, Height, TrustRoot, Now, Nonce, Audience, Scope,
// Query).
type Witness struct {
	Credential   Credential
	HolderSecret fr.Element
	IssuerID     fr.Element
	LeafIndex    uint64
	Path         []fr.Element // Depth siblings, bottom up
	TrustIndex   uint64
	TrustPath    []fr.Element // TrustDepth siblings

	Root      fr.Element
	Height    uint64
	TrustRoot fr.Element
	Now       uint64
	Nonce     fr.Element
	Audience  fr.Element
	Scope     fr.Element
	Query     Query
}

// Reasons a witness cannot prove. The wallet checks them before proving, so
// that it reports the reason instead of submitting a doomed proof.
var (
	ErrUnprovable     = errors.New("presentation cannot be proved")
	ErrWrongSecret    = fmt.Errorf("holder secret does not open the credential's holder commitment: %w", ErrUnprovable)
	ErrNotInTree      = fmt.Errorf("credential is not in the tree under this root (revoked, or not anchored yet): %w", ErrUnprovable)
	ErrUntrusted      = fmt.Errorf("issuer is not in the verifier's trust list: %w", ErrUnprovable)
	ErrExpired        = fmt.Errorf("credential has expired: %w", ErrUnprovable)
	ErrSchemaMismatch = fmt.Errorf("credential has another schema: %w", ErrUnprovable)
	ErrPredicateFalse = fmt.Errorf("a predicate does not hold: %w", ErrUnprovable)
	ErrBadQuery       = fmt.Errorf("query is malformed: %w", ErrUnprovable)
)

// Public returns the public statement this witness proves, with the
// disclosed values and the nullifier computed from the credential.
func (w *Witness) Public() *Public {
	p := &Public{
		Root: w.Root, Height: w.Height, TrustRoot: w.TrustRoot,
		SchemaID: w.Credential.SchemaID, Now: w.Now, Nonce: w.Nonce,
		Audience: w.Audience, Scope: w.Scope, Query: w.Query,
	}
	for i, a := range w.Credential.Attrs {
		if w.Query.Disclose&(1<<i) != 0 {
			p.Disclosed[i] = a
		}
	}
	p.Nullifier = Nullifier(w.HolderSecret, w.Credential.Commitment(), w.Audience, w.Scope)
	return p
}

// Check evaluates the statement natively and names the first requirement
// that fails, wrapping one of the errors above.
func (w *Witness) Check() error {
	if err := w.Query.Validate(); err != nil {
		return err
	}
	if len(w.Path) != Depth || len(w.TrustPath) != TrustDepth {
		return fmt.Errorf("%w: paths must have %d and %d siblings", ErrBadQuery, Depth, TrustDepth)
	}
	hc := HolderCommit(w.HolderSecret)
	if !hc.Equal(&w.Credential.HolderCommit) {
		return ErrWrongSecret
	}
	c := w.Credential.Commitment()
	leaf := LeafHash(w.IssuerID, c)
	if r := RootFromPath(leaf, w.LeafIndex, w.Path); !r.Equal(&w.Root) || w.LeafIndex >= 1<<Depth {
		return ErrNotInTree
	}
	if r := RootFromPath(w.IssuerID, w.TrustIndex, w.TrustPath); w.IssuerID.IsZero() || !r.Equal(&w.TrustRoot) || w.TrustIndex >= 1<<TrustDepth {
		return ErrUntrusted
	}
	if w.Credential.Expiry < w.Now {
		return ErrExpired
	}
	for i, p := range w.Query.Predicates {
		if !p.Holds(w.Credential.Attrs[p.Slot]) {
			return fmt.Errorf("predicate %d on slot %d: %w", i, p.Slot, ErrPredicateFalse)
		}
	}
	return nil
}

// Validate checks that a query is within the circuit's shape.
func (q *Query) Validate() error {
	for i, p := range q.Predicates {
		if p.Slot < 0 || p.Slot >= Slots || p.Kind > PredNotIn {
			return fmt.Errorf("%w: predicate %d has slot %d kind %d", ErrBadQuery, i, p.Slot, p.Kind)
		}
		if p.Kind == PredRange && (!p.Values[0].IsUint64() || !p.Values[1].IsUint64()) {
			return fmt.Errorf("%w: predicate %d has a range bound above 2^64", ErrBadQuery, i)
		}
	}
	return nil
}

// assignment builds the circuit assignment.
func (w *Witness) assignment() *PresentationCircuit { return w.assignmentFor(w.Public()) }

// assignmentFor builds the assignment for a statement already computed by
// w.Public.
func (w *Witness) assignmentFor(pub *Public) *PresentationCircuit {
	a := &PresentationCircuit{
		HolderSecret: w.HolderSecret,
		Salt:         w.Credential.Salt,
		Expiry:       w.Credential.Expiry,
		IssuerID:     w.IssuerID,
		LeafIndex:    w.LeafIndex,
		TrustIndex:   w.TrustIndex,
	}
	for i := range a.Attrs {
		a.Attrs[i] = w.Credential.Attrs[i]
	}
	for i := range a.Path {
		a.Path[i] = w.Path[i]
	}
	for i := range a.TrustPath {
		a.TrustPath[i] = w.TrustPath[i]
	}
	pub.assign(a)
	return a
}

// assign writes the public statement into a circuit assignment.
func (p *Public) assign(a *PresentationCircuit) {
	a.Root, a.Height, a.TrustRoot, a.SchemaID = p.Root, p.Height, p.TrustRoot, p.SchemaID
	a.Now, a.Nonce, a.Audience, a.Scope, a.Nullifier = p.Now, p.Nonce, p.Audience, p.Scope, p.Nullifier
	a.Disclose = uint64(p.Query.Disclose)
	for i := range a.Disclosed {
		a.Disclosed[i] = p.Disclosed[i]
	}
	for i, pr := range p.Query.Predicates {
		a.Predicates[i].Slot = pr.Slot
		a.Predicates[i].Kind = uint64(pr.Kind)
		for j := range pr.Values {
			a.Predicates[i].Values[j] = pr.Values[j]
		}
	}
}
