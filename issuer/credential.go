package issuer

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/mr-tron/base58"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer/store"
	"github.com/zkcred/zkcred/wire"
)

// newUUID returns a random (version 4) UUID URN.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// draft is a credential computed but not yet anchored (store.Draft): it
// is journaled before the chain sees its commitment.
type draft = store.Draft

// expiry is the commitment's expiry of a draft.
func expiry(d *draft) uint64 {
	if d.ValidUntil.IsZero() {
		return circuits.NoExpiry
	}
	return uint64(d.ValidUntil.Unix())
}

// Request asks for one credential.
type Request struct {
	Schema       *circuits.Schema
	Subject      map[string]any // attribute name → JSON value
	HolderCommit fr.Element
	ValidFrom    time.Time // zero: now
	ValidUntil   time.Time // zero: never expires
}

// MaxValidUntil is the latest expiry a credential or offer can have:
// 9999-12-31T23:59:59Z, the last second that every format carrying it can
// write (RFC 3339 and JSON times have four-digit years).
var MaxValidUntil = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// checkValidUntil refuses an expiry past MaxValidUntil.
func checkValidUntil(t time.Time) error {
	if t.After(MaxValidUntil) {
		return fmt.Errorf("%w: validUntil %s is after %s, the latest expiry", ErrSubject, t.UTC().Format("2006-01-02T15:04:05"), MaxValidUntil.Format(time.RFC3339))
	}
	return nil
}

// ErrSubject is wrapped by errors in subject data (HTTP 422). The wrapped
// *circuits.FieldError names the field.
var ErrSubject = errors.New("invalid subject data")

// newDraft validates a request and fixes its salt and commitment. sid is
// req.Schema.ID(), which callers compute once per batch (it hashes the
// schema's JSON); req.Schema must have been validated.
func newDraft(req Request, sid fr.Element, now time.Time) (*draft, error) {
	if req.Schema == nil {
		return nil, fmt.Errorf("%w: no schema", ErrSubject)
	}
	slots, err := req.Schema.Encode(req.Subject)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSubject, err)
	}
	if req.HolderCommit.IsZero() {
		return nil, fmt.Errorf("%w: holder commitment is zero", ErrSubject)
	}
	from := req.ValidFrom
	if from.IsZero() {
		from = now
	}
	from = from.UTC().Truncate(time.Second)
	until := req.ValidUntil.UTC().Truncate(time.Second)
	if err := checkValidUntil(until); err != nil {
		return nil, err
	}
	if !until.IsZero() && (!until.After(from) || until.Unix() < 0) {
		return nil, fmt.Errorf("%w: validUntil %s is not after validFrom %s", ErrSubject, until.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	subject, err := normalizeSubject(req.Subject)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSubject, err)
	}
	d := &draft{
		CredentialID: newUUID(),
		Schema:       req.Schema,
		Subject:      subject,
		HolderCommit: circuits.F(req.HolderCommit),
		Salt:         circuits.F(circuits.RandomElement()),
		ValidFrom:    from,
		ValidUntil:   until,
	}
	cc := circuits.Credential{SchemaID: sid, HolderCommit: req.HolderCommit, Expiry: expiry(d), Salt: d.Salt.El(), Attrs: slots}
	d.Commitment = circuits.F(cc.Commitment())
	d.SchemaID = circuits.F(sid)
	d.Slots = make([]circuits.Field, len(slots))
	for i, e := range slots {
		d.Slots[i] = circuits.F(e)
	}
	return d, nil
}

// sign builds and signs the credential of an anchored draft; its second
// @context is zkContext.
func (is *Issuer) sign(d *draft, a Anchored) (*wire.Bundle, error) {
	k, statusBase, zkContext := is.key, is.opts.StatusBase, is.ContextURL()
	if len(d.Slots) != circuits.Slots {
		return nil, fmt.Errorf("journaled draft %s has %d slots", d.CredentialID, len(d.Slots))
	}
	idx := strconv.FormatUint(a.LeafIndex, 10)
	statusID := "urn:zkcred:leaf:" + idx
	if statusBase != "" {
		statusID = strings.TrimRight(statusBase, "/") + "/leaves/" + idx
	}
	c := wire.Credential{
		Context:          []string{wire.ContextV2, zkContext},
		ID:               d.CredentialID,
		Type:             []string{"VerifiableCredential", wire.CredentialType},
		Name:             d.Schema.Name,
		Issuer:           is.DID(),
		ValidFrom:        d.ValidFrom.Format(time.RFC3339),
		CredentialSchema: wire.SchemaRef{ID: wire.SchemaURNPrefix + d.SchemaID.String(), Type: wire.SchemaType},
		CredentialSubject: wire.Subject{
			HolderCommitment: d.HolderCommit.String(),
			Claims:           d.Subject,
		},
		CredentialStatus: wire.CredentialStatus{
			ID:          statusID,
			Type:        wire.StatusType,
			Commitment:  d.Commitment.String(),
			LeafIndex:   a.LeafIndex,
			BlockHeight: a.Height,
		},
	}
	if !d.ValidUntil.IsZero() {
		c.ValidUntil = d.ValidUntil.Format(time.RFC3339)
	}
	signed, err := signCredential(&c, k, is.VerificationMethod(), d.ValidFrom)
	if err != nil {
		return nil, err
	}
	p := wire.Private{
		CredentialID: d.CredentialID,
		Schema:       d.Schema,
		SchemaID:     d.SchemaID,
		HolderCommit: d.HolderCommit,
		Expiry:       expiry(d),
		Salt:         d.Salt,
		Commitment:   d.Commitment,
		IssuerID:     circuits.F(k.IssuerID()),
		LeafIndex:    a.LeafIndex,
		BlockHeight:  a.Height,
	}
	if is.opts.DIDWeb != "" {
		p.IssuerKey = hex.EncodeToString(k.Public()) // a did:web does not hold it
	}
	copy(p.Slots[:], d.Slots)
	return wire.NewBundle(signed, p)
}

// signCredential adds the eddsa-jcs-2022 proof of k to a credential the
// issuer built itself (wire.Sign without re-parsing the document) and
// returns the secured credential.
func signCredential(c *wire.Credential, k *Key, vm string, created time.Time) ([]byte, error) {
	c.Proof = nil
	doc, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	p := &wire.Proof{
		Type:               wire.ProofType,
		Cryptosuite:        wire.Cryptosuite,
		Created:            created.UTC().Truncate(time.Second).Format(time.RFC3339),
		VerificationMethod: vm,
		ProofPurpose:       wire.AssertionMethod,
		Context:            c.Context,
	}
	cfg, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	h, err := wire.SigningInput(cfg, doc)
	if err != nil {
		return nil, err
	}
	p.ProofValue = "z" + base58.Encode(k.Sign(h))
	c.Proof = p
	out, err := json.Marshal(c)
	c.Proof = nil
	return out, err
}

// normalizeSubject returns subject as it decodes from its own JSON with
// exact numbers, the form it has after a trip through the journal, so that a
// credential signed after a restart is byte for byte the one signed before.
func normalizeSubject(subject map[string]any) (map[string]any, error) {
	b, err := json.Marshal(subject)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := decodeExact(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// decodeExact decodes JSON keeping numbers as json.Number.
func decodeExact(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}
