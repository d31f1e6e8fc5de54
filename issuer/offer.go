package issuer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer/store"
	"github.com/zkcred/zkcred/wire"
)

// HolderProofVerifier checks a holder's proof that it knows the secret s
// with holderCommit = H(TagHolder, s), bound to challenge. The circuits
// package provides a Groth16 implementation.
type HolderProofVerifier func(holderCommit, challenge fr.Element, proof []byte) error

// Offer errors.
var (
	// ErrOfferToken: the offer's token is wrong (HTTP 403).
	ErrOfferToken = errors.New("wrong offer token")
	// ErrOfferClaimed: the offer was already claimed (HTTP 409).
	ErrOfferClaimed = errors.New("offer already claimed")
	// ErrOfferExpired: the offer is past its expiry (HTTP 410).
	ErrOfferExpired = errors.New("offer expired")
	// ErrHolderProof: the holder's proof of knowledge does not verify (HTTP 422).
	ErrHolderProof = errors.New("holder proof does not verify")
	// ErrNoHolderProof: the issuer has no holder proof verifier and cannot
	// accept claims (HTTP 503).
	ErrNoHolderProof = errors.New("claims are disabled: no holder proof verifier configured")
)

// OfferLink is what the admin receives: the offer and its secret token,
// shown once.
type OfferLink struct {
	ID      string    `json:"id"`
	Token   string    `json:"token"`
	URL     string    `json:"url"` // PublicURL/v1/offers/<id>?token=<token>
	Expires time.Time `json:"expires"`
}

// OfferRequest asks for an offer.
type OfferRequest struct {
	Schema     *circuits.Schema
	Subject    map[string]any
	ValidUntil time.Time // zero: never expires
}

func tokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// newOffer validates the request and returns the record and its link.
func (is *Issuer) newOffer(req OfferRequest) (*store.Offer, *OfferLink, error) {
	if err := CheckPublicURL(is.opts.PublicURL); err != nil {
		return nil, nil, err
	}
	if req.Schema == nil {
		return nil, nil, fmt.Errorf("%w: no schema", ErrSubject)
	}
	if _, err := req.Schema.Encode(req.Subject); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSubject, err)
	}
	subject, err := normalizeSubject(req.Subject)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrSubject, err)
	}
	now := is.opts.Now().UTC().Truncate(time.Second)
	if !req.ValidUntil.IsZero() && !req.ValidUntil.After(now) {
		return nil, nil, fmt.Errorf("%w: validUntil is in the past", ErrSubject)
	}
	if err := checkValidUntil(req.ValidUntil); err != nil {
		return nil, nil, err
	}
	var tb [32]byte
	if _, err := rand.Read(tb[:]); err != nil {
		return nil, nil, err
	}
	tok := base64.RawURLEncoding.EncodeToString(tb[:])
	id := strings.TrimPrefix(newUUID(), "urn:uuid:")
	rec := &store.Offer{
		ID: id, Schema: req.Schema, Subject: subject,
		ValidUntil: req.ValidUntil.UTC().Truncate(time.Second),
		Expires:    now.Add(is.opts.OfferTTL), Created: now,
		TokenHash: tokenHash(tok),
	}
	link := &OfferLink{ID: id, Token: tok, Expires: rec.Expires, URL: is.offerURL(id, tok)}
	return rec, link, nil
}

// offerURL is the claim link: PublicURL/v1/offers/<id>?token=<token>.
func (is *Issuer) offerURL(id, tok string) string {
	base := strings.TrimRight(is.opts.PublicURL, "/")
	return base + "/v1/offers/" + url.PathEscape(id) + "?token=" + url.QueryEscape(tok)
}

// CreateOffer records an offer and returns its link. The token is not
// stored, only its hash: the link is the only way to claim. It needs
// Options.PublicURL (ErrNoPublicURL).
func (is *Issuer) CreateOffer(ctx context.Context, req OfferRequest) (*OfferLink, error) {
	rec, link, err := is.newOffer(req)
	if err != nil {
		return nil, err
	}
	if err := is.store.Update(func(tx *store.Txn) error { return tx.PutOffer(rec) }); err != nil {
		return nil, err
	}
	return link, nil
}

// openOffer loads an offer and checks its token.
func openOffer(tx *store.Txn, id, token string) (*store.Offer, error) {
	rec, err := tx.Offer(id)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(tokenHash(token)), []byte(rec.TokenHash)) != 1 {
		return nil, ErrOfferToken
	}
	return rec, nil
}

// offer reads an offer the token opens.
func (is *Issuer) offer(id, token string) (*store.Offer, error) {
	var rec *store.Offer
	err := is.store.View(func(tx *store.Txn) error {
		var err error
		rec, err = openOffer(tx, id, token)
		return err
	})
	return rec, err
}

// OfferView returns what the holder with an offer's token sees of it
// before claiming: the schema, the values as people read them, and the
// challenge its proof of knowledge binds to. It answers for the offer's
// whole lifetime, claimed or not (Claimed says which), so that a holder
// whose claim answer was lost can read it again and claim again.
func (is *Issuer) OfferView(id, token string) (*wire.OfferView, error) {
	o, err := is.offer(id, token)
	if err != nil {
		return nil, err
	}
	if is.opts.Now().After(o.Expires) {
		return nil, ErrOfferExpired
	}
	sid := o.Schema.ID()
	ch := wire.ClaimChallenge(id, token)
	v := &wire.OfferView{
		ID: o.ID, Issuer: is.DID(), Schema: o.Schema, SchemaID: circuits.Dec(sid),
		Expires: o.Expires.UTC().Format(time.RFC3339), ExpiresAt: o.Expires, Challenge: circuits.Dec(ch),
		Claimed: o.HolderCommit != "",
	}
	if !o.ValidUntil.IsZero() {
		v.ValidUntil = o.ValidUntil.UTC().Format(time.RFC3339)
	}
	for _, a := range o.Schema.Attributes {
		label := a.Display
		if label == "" {
			label = a.Name
		}
		v.Display = append(v.Display, wire.DisplayField{Name: a.Name, Label: label, Value: o.Subject[a.Name]})
	}
	return v, nil
}

// Claim issues an offer's credential to the holder whose holder commitment
// and proof of knowledge are given. An offer yields exactly one credential,
// bound to the first holder whose proof verifies; another holder's claim
// fails with ErrOfferClaimed. That holder can fetch the same credential
// again for the offer's lifetime (again is then true): an answer lost on
// the way, or a wallet that could not finish its own checks, loses
// nothing. A retry never anchors twice; if a claim was interrupted after
// its commitment was journaled, the retry finishes it first.
func (is *Issuer) Claim(ctx context.Context, id, token string, holderCommit fr.Element, proof []byte) (b *wire.Bundle, again bool, err error) {
	return is.ClaimBound(ctx, id, token, holderCommit, wire.ClaimChallenge(id, token), proof)
}

// ClaimBound is Claim with the holder's proof bound to another challenge
// than the offer link's: the OpenID4VCI credential endpoint binds it to a
// c_nonce the issuer handed out (wire.CredentialNonceChallenge), which the
// caller has checked and used up.
func (is *Issuer) ClaimBound(ctx context.Context, id, token string, holderCommit, challenge fr.Element, proof []byte) (b *wire.Bundle, again bool, err error) {
	if is.opts.HolderProof == nil {
		return nil, false, ErrNoHolderProof
	}
	is.claimMu.Lock()
	defer is.claimMu.Unlock()
	rec, err := is.offer(id, token)
	if err != nil {
		return nil, false, err
	}
	hc := circuits.Dec(holderCommit)
	if rec.HolderCommit != "" && rec.HolderCommit != hc {
		return nil, false, ErrOfferClaimed
	}
	if is.opts.Now().After(rec.Expires) {
		return nil, false, ErrOfferExpired
	}
	if holderCommit.IsZero() {
		return nil, false, fmt.Errorf("%w: holder commitment is zero", ErrHolderProof)
	}
	if err := is.opts.HolderProof(holderCommit, challenge, proof); err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrHolderProof, err)
	}
	if rec.HolderCommit == "" {
		d, err := newDraft(Request{Schema: rec.Schema, Subject: rec.Subject, HolderCommit: holderCommit, ValidUntil: rec.ValidUntil}, rec.Schema.ID(), is.opts.Now())
		if err != nil {
			return nil, false, err
		}
		since, err := is.chain.Size(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("%w: size: %w", ErrChain, err)
		}
		e := &store.Pending{ID: newUUID(), Drafts: []*draft{d}, Offer: id, Since: since}
		// Bind the offer to this holder and journal the draft in one
		// transaction, before the chain sees the commitment.
		err = is.store.Update(func(tx *store.Txn) error {
			rec.HolderCommit = hc
			rec.CredentialID = d.CredentialID
			if err := tx.PutOffer(rec); err != nil {
				return err
			}
			return tx.PutPending(e)
		})
		if err != nil {
			return nil, false, err
		}
		if _, err := is.resume(ctx, e, claimFinalizer(id)); err != nil {
			return nil, false, err
		}
	}
	var out []byte
	deliver := func() error {
		return is.store.Update(func(tx *store.Txn) error {
			c, err := tx.Credential(rec.CredentialID)
			if err != nil {
				return err
			}
			r, err := tx.Offer(id)
			if err != nil {
				return err
			}
			out, again = c.Bundle, r.Delivered
			if !r.Delivered {
				r.Delivered = true
				return tx.PutOffer(r)
			}
			return nil
		})
	}
	err = deliver()
	if errors.Is(err, store.ErrNotFound) {
		// Interrupted claim by the same holder: finish its journal entry.
		if err := is.Recover(ctx); err != nil {
			return nil, false, err
		}
		err = deliver()
	}
	if err != nil {
		return nil, false, fmt.Errorf("delivering the claimed credential: %w", err)
	}
	b, err = wire.ParseBundle(out)
	return b, again, err
}

// claimFinalizer says where a claimed credential came from: its offer (and
// the batch row the offer was made for).
func claimFinalizer(id string) finalizer {
	return func(tx *store.Txn, bundles []*wire.Bundle) ([]store.Origin, error) {
		r, err := tx.Offer(id)
		if err != nil {
			return nil, err
		}
		return []store.Origin{{Job: r.Job, Row: r.Row, Offer: id}}, nil
	}
}
