package wire

import (
	"bytes"
	"crypto/ed25519"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/didkey"
	"github.com/zkcred/zkcred/internal/didweb"
	"github.com/zkcred/zkcred/internal/strictjson"
)

// Context URLs. A credential's @context is [ContextV2, its zkcred context]:
// the zkcred context defines every term and type that zkcred credentials
// use beyond the VC 2.0 context; it ships in the binary (ContextDocument),
// the issuer HTTP API serves it at ContextPath, and a credential names it
// at its issuer's public URL (ContextURL), where a JSON-LD processor finds
// it. An issuer without a public URL names ContextUndefinedTerms instead,
// W3C's published context that maps every other term under its @vocab.
const (
	ContextV2             = "https://www.w3.org/ns/credentials/v2"
	ContextUndefinedTerms = "https://www.w3.org/ns/credentials/undefined-terms/v2"
	ContextPath           = "/ns/credentials/v1"
	// ContextZkcred is the zkcred context's first name, a URL nothing
	// serves: credentials that name it still verify, none is issued so.
	ContextZkcred = "https://zkcred.org/ns/credentials/v1"

	CredentialType = "ZkcredCredential"
	SchemaType     = "ZkcredSchema"
	StatusType     = "ZkcredLeafStatus"
	BundleFormat   = "zkcred-credential/2" // 2: schema IDs over RFC 8785 canonical JSON

	// SchemaURNPrefix starts every credentialSchema ID (SchemaURN).
	SchemaURNPrefix = "urn:zkcred:schema:"
)

//go:embed contexts/credentials-v1.jsonld
var contextDocument []byte

// ContextDocument returns the JSON-LD document of the zkcred context.
func ContextDocument() []byte { return bytes.Clone(contextDocument) }

// ContextURL is the zkcred context's URL at an issuer's public base URL:
// base (without trailing slashes) + ContextPath.
func ContextURL(base string) string { return strings.TrimRight(base, "/") + ContextPath }

// IsZkcredContext reports whether s may stand second in a credential's
// @context: an http(s) URL without query or fragment whose path ends in
// ContextPath (ContextURL of some issuer), ContextUndefinedTerms, or the
// older ContextZkcred.
func IsZkcredContext(s string) bool {
	if s == ContextZkcred || s == ContextUndefinedTerms {
		return true
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil &&
		u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery && strings.HasSuffix(u.Path, ContextPath) && u.String() == s
}

// SchemaURN is the identifier of a schema in credentials:
// SchemaURNPrefix + its ID in decimal.
func SchemaURN(s *circuits.Schema) string {
	id := s.ID()
	return SchemaURNPrefix + circuits.Dec(id)
}

// ErrCredential is wrapped by every reason a credential is malformed or does
// not verify (HTTP 422).
var ErrCredential = errors.New("invalid credential")

// Credential is a zkcred credential in the W3C Verifiable Credentials Data
// Model 2.0. Subject attributes travel as one JSON literal ("claims", typed
// @json in the zkcred context) so that no schema's attribute names need
// JSON-LD definitions.
type Credential struct {
	Context           []string         `json:"@context"`
	ID                string           `json:"id"`
	Type              []string         `json:"type"`
	Name              string           `json:"name,omitempty"`
	Issuer            string           `json:"issuer"`
	ValidFrom         string           `json:"validFrom"`
	ValidUntil        string           `json:"validUntil,omitempty"`
	CredentialSchema  SchemaRef        `json:"credentialSchema"`
	CredentialSubject Subject          `json:"credentialSubject"`
	CredentialStatus  CredentialStatus `json:"credentialStatus"`
	Proof             *Proof           `json:"proof,omitempty"`
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

// CredentialStatus points at the registry leaf that anchors the credential;
// the leaf is overwritten with 0 when the credential is revoked.
type CredentialStatus struct {
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

	// IssuerKey is the issuer's Ed25519 key (hex) when the credential's
	// issuer is a did:web, whose identifier does not hold the key; the
	// wallet holds it to the key the registry binds to that did:web.
	// Absent for a did:key issuer.
	IssuerKey string `json:"issuerKey,omitempty"`
}

// Bundle is what an issuer hands to a wallet: the signed credential and
// its private values, side by side.
type Bundle struct {
	Format     string          `json:"format"`
	Credential json.RawMessage `json:"credential"`
	Private    Private         `json:"private"`

	raw []byte // the bundle's JSON, kept by NewBundle
}

// NewBundle returns the bundle of a signed credential and its private
// values, with its JSON encoding computed once (Encode). The bundle must not
// be changed afterwards.
func NewBundle(credential json.RawMessage, p Private) (*Bundle, error) {
	b := &Bundle{Format: BundleFormat, Credential: credential, Private: p}
	raw, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	b.raw = raw
	return b, nil
}

// Encode returns the bundle's JSON: the encoding NewBundle computed, or a
// fresh one.
func (b *Bundle) Encode() ([]byte, error) {
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
	p := &b.Private
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: private values: %s", ErrCredential, fmt.Sprintf(format, a...))
	}
	var c *Credential
	var pub ed25519.PublicKey
	var err error
	if p.IssuerKey != "" {
		k, herr := hex.DecodeString(p.IssuerKey)
		if herr != nil || len(k) != ed25519.PublicKeySize || p.IssuerKey != strings.ToLower(p.IssuerKey) {
			return nil, bad("issuerKey must be a 32-byte Ed25519 key in lowercase hex")
		}
		pub = k
		c, err = VerifyCredentialWithKey(b.Credential, pub)
	} else {
		if c, err = VerifyCredential(b.Credential); err == nil {
			pub, _ = didkey.Parse(c.Issuer) // the proof verified with it
		}
	}
	if err != nil {
		return nil, err
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
// (VerifyProof), that the proof's verification method belongs to the
// issuer's did:key, and the credential's shape (contexts, types, fields).
// It returns the decoded credential.
func VerifyCredential(secured []byte) (*Credential, error) {
	return verifyCredential(secured, nil)
}

// VerifyCredentialWithKey verifies, as VerifyCredential, a credential
// whose issuer is a did:web (did:web:host[%3Aport]): its proof's
// verification method must be a key of that DID (did:web:…#fragment) and
// the proof must verify with pub. Which key a did:web signs with is not
// in the credential: the caller holds pub to the key the registry binds
// to the did:web (wallet), and may compare it with the DID document.
func VerifyCredentialWithKey(secured []byte, pub ed25519.PublicKey) (*Credential, error) {
	return verifyCredential(secured, pub)
}

func verifyCredential(secured []byte, key ed25519.PublicKey) (*Credential, error) {
	var v *VerifiedProof
	var err error
	if key != nil {
		v, err = VerifyProofWithKey(secured, key)
	} else {
		v, err = VerifyProof(secured)
	}
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
	if key != nil {
		p, err := didweb.Parse(c.Issuer)
		if err != nil || p.DID != c.Issuer {
			return nil, bad("issuer %q is not a did:web (a credential checked with a key the registry binds must name the did:web)", c.Issuer)
		}
		if frag, ok := strings.CutPrefix(v.VerificationMethod, c.Issuer+"#"); !ok || frag == "" {
			return nil, bad("issuer %q is not the controller of verification method %q", c.Issuer, v.VerificationMethod)
		}
	} else if c.Issuer != DIDKey(v.PublicKey) || !strings.HasPrefix(v.VerificationMethod, c.Issuer+"#") {
		return nil, bad("issuer %q is not the controller of verification method %q", c.Issuer, v.VerificationMethod)
	}
	if len(c.Context) != 2 || c.Context[0] != ContextV2 || !IsZkcredContext(c.Context[1]) {
		return nil, bad("@context must be [%q, the zkcred context at the issuer's URL (…%s) or %q]", ContextV2, ContextPath, ContextUndefinedTerms)
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
	if c.CredentialSchema.Type != SchemaType || !strings.HasPrefix(c.CredentialSchema.ID, SchemaURNPrefix) {
		return nil, bad("credentialSchema must be a %s %s…", SchemaType, SchemaURNPrefix)
	}
	if c.CredentialStatus.Type != StatusType {
		return nil, bad("credentialStatus type must be %s", StatusType)
	}
	for name, s := range map[string]string{"holderCommitment": c.CredentialSubject.HolderCommitment, "commitment": c.CredentialStatus.Commitment, "schema": strings.TrimPrefix(c.CredentialSchema.ID, SchemaURNPrefix)} {
		if _, err := circuits.ParseElement(s); err != nil {
			return nil, bad("%s: %v", name, err)
		}
	}
	if c.CredentialSubject.Claims == nil {
		return nil, bad("credentialSubject has no claims")
	}
	return &c, nil
}
