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

	"github.com/zkcred/zkcred/wire"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/dgraph-io/badger/v4"

	"github.com/zkcred/zkcred/circuits"
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

// Offer is a credential waiting for its holder: subject data without a
// holder commitment yet.
type Offer struct {
	ID         string           `json:"id"`
	Schema     *circuits.Schema `json:"schema"`
	Subject    map[string]any   `json:"subject"`
	ValidUntil time.Time        `json:"validUntil,omitzero"`
	Expires    time.Time        `json:"expires"`
	Created    time.Time        `json:"created"`
}

// offerRecord is an Offer as stored: the token only as a hash.
type offerRecord struct {
	Offer
	TokenHash    string       `json:"tokenHash"`
	HolderCommit string       `json:"holderCommit,omitempty"` // set when claimed
	CredentialID string       `json:"credentialId,omitempty"`
	Delivered    bool         `json:"delivered,omitempty"`
	Bundle       *wire.Bundle `json:"bundle,omitempty"`
}

// OfferLink is what the admin receives: the offer and its secret token,
// shown once.
type OfferLink struct {
	ID      string    `json:"id"`
	Token   string    `json:"token"`
	URL     string    `json:"url"`
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
func (is *Issuer) newOffer(req OfferRequest) (*offerRecord, *OfferLink, error) {
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
	var tb [32]byte
	if _, err := rand.Read(tb[:]); err != nil {
		return nil, nil, err
	}
	tok := base64.RawURLEncoding.EncodeToString(tb[:])
	id := strings.TrimPrefix(newUUID(), "urn:uuid:")
	rec := &offerRecord{
		Offer: Offer{
			ID: id, Schema: req.Schema, Subject: subject,
			ValidUntil: req.ValidUntil.UTC().Truncate(time.Second),
			Expires:    now.Add(is.opts.OfferTTL), Created: now,
		},
		TokenHash: tokenHash(tok),
	}
	link := &OfferLink{ID: id, Token: tok, Expires: rec.Expires, URL: is.offerURL(id, tok)}
	return rec, link, nil
}

// offerURL is the claim link: PublicURL/v1/offers/<id>?token=<token>.
func (is *Issuer) offerURL(id, tok string) string {
	base := strings.TrimRight(is.opts.PublicURL, "/")
	return base + "/v1/offers/" + id + "?token=" + url.QueryEscape(tok)
}

// CreateOffer records an offer and returns its link. The token is not
// stored, only its hash: the link is the only way to claim.
func (is *Issuer) CreateOffer(ctx context.Context, req OfferRequest) (*OfferLink, error) {
	rec, link, err := is.newOffer(req)
	if err != nil {
		return nil, err
	}
	err = is.store.db.Update(func(txn *badger.Txn) error { return setJSON(txn, []byte(pOffer+rec.ID), rec) })
	if err != nil {
		return nil, err
	}
	return link, nil
}

// openOffer loads an offer and checks its token and expiry.
func (is *Issuer) openOffer(txn *badger.Txn, id, token string) (*offerRecord, error) {
	var rec offerRecord
	if err := getJSON(txn, []byte(pOffer+id), &rec); err != nil {
		return nil, fmt.Errorf("offer %q: %w", id, err)
	}
	if subtle.ConstantTimeCompare([]byte(tokenHash(token)), []byte(rec.TokenHash)) != 1 {
		return nil, ErrOfferToken
	}
	return &rec, nil
}

// undeliveredOffer reads an offer the token opens and that was not
// delivered yet.
func (is *Issuer) undeliveredOffer(id, token string) (*offerRecord, error) {
	var rec *offerRecord
	err := is.store.db.View(func(txn *badger.Txn) error {
		var err error
		rec, err = is.openOffer(txn, id, token)
		return err
	})
	if err != nil {
		return nil, err
	}
	if rec.Delivered {
		return nil, ErrOfferClaimed
	}
	return rec, nil
}

// GetOffer returns an offer to the holder that has its token.
func (is *Issuer) GetOffer(id, token string) (*Offer, error) {
	rec, err := is.undeliveredOffer(id, token)
	if err != nil {
		return nil, err
	}
	if is.opts.Now().After(rec.Expires) {
		return nil, ErrOfferExpired
	}
	return &rec.Offer, nil
}

// Claim issues an offer's credential to the holder whose holder commitment
// and proof of knowledge are given. An offer yields exactly one credential,
// delivered once: a second claim fails with ErrOfferClaimed. If a claim was
// interrupted after its commitment was journaled, a retry by the same holder
// finishes it (without anchoring twice) and delivers it.
func (is *Issuer) Claim(ctx context.Context, id, token string, holderCommit fr.Element, proof []byte) (*wire.Bundle, error) {
	if is.opts.HolderProof == nil {
		return nil, ErrNoHolderProof
	}
	is.claimMu.Lock()
	defer is.claimMu.Unlock()
	rec, err := is.undeliveredOffer(id, token)
	if err != nil {
		return nil, err
	}
	if rec.HolderCommit != "" && rec.HolderCommit != circuits.Dec(holderCommit) {
		return nil, ErrOfferClaimed
	}
	if is.opts.Now().After(rec.Expires) {
		return nil, ErrOfferExpired
	}
	if holderCommit.IsZero() {
		return nil, fmt.Errorf("%w: holder commitment is zero", ErrHolderProof)
	}
	if err := is.opts.HolderProof(holderCommit, wire.ClaimChallenge(id, token), proof); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrHolderProof, err)
	}
	if rec.HolderCommit == "" {
		d, err := newDraft(Request{Schema: rec.Schema, Subject: rec.Subject, HolderCommit: holderCommit, ValidUntil: rec.ValidUntil}, rec.Schema.ID(), is.opts.Now())
		if err != nil {
			return nil, err
		}
		since, err := is.chain.Size(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w: size: %w", ErrChain, err)
		}
		e := &pendingEntry{ID: newUUID(), Drafts: []*draft{d}, Offer: id, Since: since}
		// Bind the offer to this holder and journal the draft in one
		// transaction, before the chain sees the commitment.
		err = is.store.db.Update(func(txn *badger.Txn) error {
			rec.HolderCommit = circuits.Dec(holderCommit)
			rec.CredentialID = d.CredentialID
			if err := setJSON(txn, []byte(pOffer+id), rec); err != nil {
				return err
			}
			return setJSON(txn, []byte(pPending+e.ID), e)
		})
		if err != nil {
			return nil, err
		}
		if _, err := is.resume(ctx, e, is.claimFinalizer(id)); err != nil {
			return nil, err
		}
	} else if rec.Bundle == nil {
		// Interrupted claim by the same holder: finish its journal entry.
		if err := is.Recover(ctx); err != nil {
			return nil, err
		}
	}
	var out *wire.Bundle
	err = is.store.db.Update(func(txn *badger.Txn) error {
		var r offerRecord
		if err := getJSON(txn, []byte(pOffer+id), &r); err != nil {
			return err
		}
		if r.Delivered || r.Bundle == nil {
			return ErrOfferClaimed
		}
		out = r.Bundle
		r.Delivered = true
		r.Bundle = nil // the issuer keeps its copy under the credential ID
		return setJSON(txn, []byte(pOffer+id), r)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// claimFinalizer attaches the issued bundle to its offer.
func (is *Issuer) claimFinalizer(id string) finalizer {
	return func(txn *badger.Txn, bundles []*wire.Bundle) error {
		var r offerRecord
		if err := getJSON(txn, []byte(pOffer+id), &r); err != nil {
			return err
		}
		r.Bundle = bundles[0]
		return setJSON(txn, []byte(pOffer+id), r)
	}
}
