package issuer

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/zkcred/zkcred/internal/strictjson"
	"strconv"
	"strings"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
)

// Context URLs. The zkcred context defines every term and type that zkcred
// credentials use beyond the VC 2.0 context; it ships in the binary
// (ContextDocument) and the issuer HTTP API serves it at ContextPath.
const (
	ContextV2     = "https://www.w3.org/ns/credentials/v2"
	ContextZkcred = "https://zkcred.org/ns/credentials/v1"
	ContextPath   = "/ns/credentials/v1"

	CredentialType = "ZkcredCredential"
	SchemaType     = "ZkcredSchema"
	StatusType     = "ZkcredLeafStatus"
	BundleFormat   = "zkcred-credential/2" // 2: schema IDs over RFC 8785 canonical JSON
)

//go:embed contexts/credentials-v1.jsonld
var contextDocument []byte

// ContextDocument returns the JSON-LD document of ContextZkcred.
func ContextDocument() []byte { return bytes.Clone(contextDocument) }

// ErrCredential is wrapped by every reason a credential is malformed or does
// not verify (HTTP 422).
var ErrCredential = errors.New("invalid credential")

// Credential is a zkcred credential in the W3C Verifiable Credentials Data
// Model 2.0. Subject attributes travel as one JSON literal ("claims", typed
// @json in the zkcred context) so that no schema's attribute names need
// JSON-LD definitions.
type Credential struct {
	Context           []string  `json:"@context"`
	ID                string    `json:"id"`
	Type              []string  `json:"type"`
	Name              string    `json:"name,omitempty"`
	Issuer            string    `json:"issuer"`
	ValidFrom         string    `json:"validFrom"`
	ValidUntil        string    `json:"validUntil,omitempty"`
	CredentialSchema  SchemaRef `json:"credentialSchema"`
	CredentialSubject Subject   `json:"credentialSubject"`
	CredentialStatus  Status    `json:"credentialStatus"`
	Proof             *Proof    `json:"proof,omitempty"`
}

// SchemaRef names the zkcred schema of a credential.
type SchemaRef struct {
	ID   string `json:"id"` // SchemaURN
	Type string `json:"type"`
}

// Subject is the credential subject: the holder, known only by its holder
// commitment, and the attribute values.
type Subject struct {
	HolderCommitment string         `json:"holderCommitment"`
	Claims           map[string]any `json:"claims"`
}

// Status points at the registry leaf that anchors the credential; the leaf
// is overwritten with 0 when the credential is revoked.
type Status struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Commitment  string `json:"commitment"`
	LeafIndex   uint64 `json:"leafIndex"`
	BlockHeight uint64 `json:"blockHeight"`
}

// Private holds what the wallet needs beside the signed credential to prove
// facts about it. It is not signed: the wallet checks it against the
// commitment in the signed credentialStatus (Bundle.Check).
type Private struct {
	CredentialID string                         `json:"credentialId"`
	Schema       *circuits.Schema               `json:"schema"`
	SchemaID     circuits.Field                 `json:"schemaId"`
	HolderCommit circuits.Field                 `json:"holderCommit"`
	Expiry       uint64                         `json:"expiry,string"`
	Salt         circuits.Field                 `json:"salt"`
	Slots        [circuits.Slots]circuits.Field `json:"slots"`
	Commitment   circuits.Field                 `json:"commitment"`
	IssuerID     circuits.Field                 `json:"issuerId"`
	LeafIndex    uint64                         `json:"leafIndex"`
	BlockHeight  uint64                         `json:"blockHeight"`
}

// Bundle is what an issuer hands to a wallet: the signed credential and
// its private values, side by side.
type Bundle struct {
	Format     string          `json:"format"`
	Credential json.RawMessage `json:"credential"`
	Private    Private         `json:"private"`

	raw []byte // the bundle's JSON, kept by the issuer that made it
}

func (b *Bundle) marshal() ([]byte, error) {
	if b.raw != nil {
		return b.raw, nil
	}
	return json.Marshal(b)
}

// CircuitCredential returns the commitment opening for the circuit.
func (p *Private) CircuitCredential() circuits.Credential {
	c := circuits.Credential{
		SchemaID:     p.SchemaID.El(),
		HolderCommit: p.HolderCommit.El(),
		Expiry:       p.Expiry,
		Salt:         p.Salt.El(),
	}
	for i, s := range p.Slots {
		c.Attrs[i] = s.El()
	}
	return c
}

// ParseBundle decodes a bundle strictly.
func ParseBundle(b []byte) (*Bundle, error) {
	var out Bundle
	if err := strictjson.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%w: bundle: %v", ErrCredential, err)
	}
	if out.Format != BundleFormat {
		return nil, fmt.Errorf("%w: bundle format %q, want %q", ErrCredential, out.Format, BundleFormat)
	}
	return &out, nil
}

// Check verifies the bundle's credential (VerifyCredential) and that the
// private values open its commitment: the slots encode the claims under the
// schema, and schema ID, holder commitment, expiry, issuer and leaf agree
// with the signed credential.
func (b *Bundle) Check() (*Credential, error) {
	c, err := VerifyCredential(b.Credential)
	if err != nil {
		return nil, err
	}
	p := &b.Private
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: private values: %s", ErrCredential, fmt.Sprintf(format, a...))
	}
	if p.Schema == nil {
		return nil, bad("schema missing")
	}
	if err := p.Schema.Validate(); err != nil {
		return nil, bad("%v", err)
	}
	if sid := p.Schema.ID(); sid != p.SchemaID.El() || SchemaURN(p.Schema) != c.CredentialSchema.ID {
		return nil, bad("schema does not match credentialSchema")
	}
	slots, err := p.Schema.Encode(c.CredentialSubject.Claims)
	if err != nil {
		return nil, bad("claims: %v", err)
	}
	for i := range slots {
		if slots[i] != p.Slots[i].El() {
			return nil, bad("slot %d does not encode the claims", i)
		}
	}
	cc := p.CircuitCredential()
	com := cc.Commitment()
	if com != p.Commitment.El() || p.Commitment.String() != c.CredentialStatus.Commitment {
		return nil, bad("commitment does not open")
	}
	if p.HolderCommit.String() != c.CredentialSubject.HolderCommitment {
		return nil, bad("holder commitment differs from credentialSubject")
	}
	pub, _ := ParseDIDKey(c.Issuer)
	if circuits.IssuerID(pub) != p.IssuerID.El() {
		return nil, bad("issuer ID is not the issuer's")
	}
	if p.LeafIndex != c.CredentialStatus.LeafIndex || p.BlockHeight != c.CredentialStatus.BlockHeight || p.CredentialID != c.ID {
		return nil, bad("leaf, height or id differ from the credential")
	}
	if want := expiryOf(c.ValidUntil); want != p.Expiry {
		return nil, bad("expiry %d differs from validUntil", p.Expiry)
	}
	return c, nil
}

func expiryOf(validUntil string) uint64 {
	if validUntil == "" {
		return circuits.NoExpiry
	}
	t, err := time.Parse(time.RFC3339, validUntil)
	if err != nil || t.Unix() < 0 {
		return 0
	}
	return uint64(t.Unix())
}

// VerifyCredential verifies a zkcred credential: its Data Integrity proof
// (Verify), that the proof's verification method belongs to the issuer's
// did:key, and the credential's shape (contexts, types, fields). It returns
// the decoded credential.
func VerifyCredential(secured []byte) (*Credential, error) {
	v, err := Verify(secured)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCredential, err)
	}
	var c Credential
	if err := strictjson.Unmarshal(secured, &c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCredential, err)
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrCredential, fmt.Sprintf(format, a...))
	}
	if c.Issuer != DIDKey(v.PublicKey) || !strings.HasPrefix(v.VerificationMethod, c.Issuer+"#") {
		return nil, bad("issuer %q is not the controller of verification method %q", c.Issuer, v.VerificationMethod)
	}
	if len(c.Context) != 2 || c.Context[0] != ContextV2 || c.Context[1] != ContextZkcred {
		return nil, bad("@context must be [%q, %q]", ContextV2, ContextZkcred)
	}
	if len(c.Type) != 2 || c.Type[0] != "VerifiableCredential" || c.Type[1] != CredentialType {
		return nil, bad("type must be [VerifiableCredential, %s]", CredentialType)
	}
	if !strings.HasPrefix(c.ID, "urn:uuid:") {
		return nil, bad("id %q is not a urn:uuid", c.ID)
	}
	if _, err := time.Parse(time.RFC3339, c.ValidFrom); err != nil {
		return nil, bad("validFrom %q is not a dateTime", c.ValidFrom)
	}
	if c.ValidUntil != "" && expiryOf(c.ValidUntil) == 0 {
		return nil, bad("validUntil %q is not a dateTime after 1970", c.ValidUntil)
	}
	if c.CredentialSchema.Type != SchemaType || !strings.HasPrefix(c.CredentialSchema.ID, schemaURNPrefix) {
		return nil, bad("credentialSchema must be a %s %s…", SchemaType, schemaURNPrefix)
	}
	if c.CredentialStatus.Type != StatusType {
		return nil, bad("credentialStatus type must be %s", StatusType)
	}
	for name, s := range map[string]string{"holderCommitment": c.CredentialSubject.HolderCommitment, "commitment": c.CredentialStatus.Commitment, "schema": strings.TrimPrefix(c.CredentialSchema.ID, schemaURNPrefix)} {
		if _, err := circuits.ParseElement(s); err != nil {
			return nil, bad("%s: %v", name, err)
		}
	}
	if c.CredentialSubject.Claims == nil {
		return nil, bad("credentialSubject has no claims")
	}
	return &c, nil
}

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

// draft is a credential computed but not yet anchored: everything that goes
// into the commitment, fixed before the chain sees it so that a retry after a
// crash anchors and signs exactly the same credential.
type draft struct {
	CredentialID string           `json:"id"`
	Schema       *circuits.Schema `json:"schema"`
	Subject      map[string]any   `json:"subject"`
	HolderCommit circuits.Field   `json:"holderCommit"`
	Salt         circuits.Field   `json:"salt"`
	ValidFrom    time.Time        `json:"validFrom"`
	ValidUntil   time.Time        `json:"validUntil"` // zero: none
	Commitment   circuits.Field   `json:"commitment"`
	SchemaID     circuits.Field   `json:"schemaId"`
	Slots        []circuits.Field `json:"slots"`
}

func (d *draft) expiry() uint64 {
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
	cc := circuits.Credential{SchemaID: sid, HolderCommit: req.HolderCommit, Expiry: d.expiry(), Salt: d.Salt.El(), Attrs: slots}
	d.Commitment = circuits.F(cc.Commitment())
	d.SchemaID = circuits.F(sid)
	d.Slots = make([]circuits.Field, len(slots))
	for i, e := range slots {
		d.Slots[i] = circuits.F(e)
	}
	return d, nil
}

// sign builds and signs the credential of an anchored draft.
func (d *draft) sign(k *Key, a Anchored, statusBase string) (*Bundle, error) {
	if len(d.Slots) != circuits.Slots {
		return nil, fmt.Errorf("journaled draft %s has %d slots", d.CredentialID, len(d.Slots))
	}
	idx := strconv.FormatUint(a.LeafIndex, 10)
	statusID := "urn:zkcred:leaf:" + idx
	if statusBase != "" {
		statusID = strings.TrimRight(statusBase, "/") + "/leaves/" + idx
	}
	c := Credential{
		Context:          []string{ContextV2, ContextZkcred},
		ID:               d.CredentialID,
		Type:             []string{"VerifiableCredential", CredentialType},
		Name:             d.Schema.Name,
		Issuer:           k.DID(),
		ValidFrom:        d.ValidFrom.Format(time.RFC3339),
		CredentialSchema: SchemaRef{ID: schemaURNPrefix + d.SchemaID.String(), Type: SchemaType},
		CredentialSubject: Subject{
			HolderCommitment: d.HolderCommit.String(),
			Claims:           d.Subject,
		},
		CredentialStatus: Status{
			ID:          statusID,
			Type:        StatusType,
			Commitment:  d.Commitment.String(),
			LeafIndex:   a.LeafIndex,
			BlockHeight: a.Height,
		},
	}
	if !d.ValidUntil.IsZero() {
		c.ValidUntil = d.ValidUntil.Format(time.RFC3339)
	}
	signed, err := signCredential(&c, k, d.ValidFrom)
	if err != nil {
		return nil, err
	}
	p := Private{
		CredentialID: d.CredentialID,
		Schema:       d.Schema,
		SchemaID:     d.SchemaID,
		HolderCommit: d.HolderCommit,
		Expiry:       d.expiry(),
		Salt:         d.Salt,
		Commitment:   d.Commitment,
		IssuerID:     circuits.F(k.IssuerID()),
		LeafIndex:    a.LeafIndex,
		BlockHeight:  a.Height,
	}
	copy(p.Slots[:], d.Slots)
	b := &Bundle{Format: BundleFormat, Credential: signed, Private: p}
	if b.raw, err = json.Marshal(b); err != nil {
		return nil, err
	}
	return b, nil
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
