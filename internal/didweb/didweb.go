// Package didweb makes and resolves did:web identifiers (W3C CCG did:web
// method) for zkcred's issuers and verifiers: a party reachable at
// https://host[:port] is did:web:host[%3Aport], and publishes at
// https://host[:port]/.well-known/did.json a DID document holding its
// Ed25519 key as a Multikey verification method.
//
// Only origin DIDs are made and resolved (no path components): a party is
// known by its web origin, which is also the audience a wallet checks.
// did:web always means https. Plain http is accepted, by the resolver and
// by FromOrigin, only for loopback hosts (localhost, 127.0.0.0/8, ::1) and
// only when the caller asks for it explicitly (local development, tests).
package didweb

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zkcred/zkcred/internal/didkey"
)

// Path is where a did:web document of an origin DID is served.
const Path = "/.well-known/did.json"

// KeyFragment names the single verification method of the documents made
// here: did:web:host#key-1.
const KeyFragment = "key-1"

// MaxDocument bounds a fetched DID document.
const MaxDocument = 64 << 10

// Contexts of a document with Multikey verification methods.
var Contexts = []string{"https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"}

// ErrDID is wrapped by every error of this package about a DID or its
// document (malformed, unreachable, or not naming the key asked for).
var ErrDID = errors.New("did:web")

// Document is a DID document as far as zkcred reads and writes it.
type Document struct {
	Context            []string             `json:"@context"`
	ID                 string               `json:"id"`
	VerificationMethod []VerificationMethod `json:"verificationMethod"`
	Authentication     []string             `json:"authentication,omitempty"`
	AssertionMethod    []string             `json:"assertionMethod,omitempty"`
}

// VerificationMethod is a Multikey verification method.
type VerificationMethod struct {
	ID                 string `json:"id"`
	Type               string `json:"type"`
	Controller         string `json:"controller"`
	PublicKeyMultibase string `json:"publicKeyMultibase"`
}

// IsLoopback reports whether host (without port) is localhost or a
// loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// FromOrigin returns the did:web of a web origin (https://host[:port]; a
// path, query or fragment is refused). An http origin is accepted only
// for a loopback host and with allowLoopbackHTTP.
func FromOrigin(origin string, allowLoopbackHTTP bool) (string, error) {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w: %q is not a web origin such as https://verifier.example", ErrDID, origin)
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	switch {
	case scheme == "https":
	case scheme == "http" && allowLoopbackHTTP && IsLoopback(host):
	case scheme == "http":
		return "", fmt.Errorf("%w: %q is plain http: did:web needs https (http only for a loopback host in local development)", ErrDID, origin)
	default:
		return "", fmt.Errorf("%w: %q is not an https origin", ErrDID, origin)
	}
	if strings.Contains(host, ":") {
		return "", fmt.Errorf("%w: %q: did:web cannot name an IPv6 address", ErrDID, origin)
	}
	id := "did:web:" + host
	if p := u.Port(); p != "" {
		id += "%3A" + p
	}
	if scheme == "http" {
		// loopback http: port 443 is not the default there, so keep it
		p, err := Parse(id)
		if err != nil {
			return "", err
		}
		h, port, err := canonical(p)
		if err != nil {
			return "", err
		}
		if port != "" {
			h += "%3A" + port
		}
		return "did:web:" + h, nil
	}
	return Canonical(id)
}

// Canonical returns the canonical form of an origin did:web (without
// fragment): the host as Parse accepts it (lowercase) without a trailing
// dot, and a port other than https's default 443 in decimal without
// leading zeros after an uppercase %3A; nothing else percent-encoded. Every
// spelling of one origin (did:web:uni.example%3a443, ...%3A0443,
// did:web:uni.example.) has this one form, the only one CheckOrigin
// accepts.
func Canonical(did string) (string, error) {
	p, err := Parse(did)
	if err != nil {
		return "", err
	}
	if p.DID != did {
		return "", fmt.Errorf("%w: %q names a key (#fragment), not an origin", ErrDID, did)
	}
	host, port, err := canonical(p)
	if err != nil {
		return "", err
	}
	if port == "443" {
		port = ""
	}
	if port != "" {
		host += "%3A" + port
	}
	return "did:web:" + host, nil
}

// canonical returns p's host without a trailing dot and its port without
// leading zeros, refusing empty labels and ports outside 1-65535.
func canonical(p *Parsed) (host, port string, err error) {
	host = strings.TrimSuffix(p.Host, ".")
	if slices.Contains(strings.Split(host, "."), "") {
		return "", "", fmt.Errorf("%w: %q: bad host (empty label)", ErrDID, p.DID)
	}
	if p.Port != "" {
		n, err := strconv.ParseUint(p.Port, 10, 16)
		if err != nil || n == 0 {
			return "", "", fmt.Errorf("%w: %q: bad port", ErrDID, p.DID)
		}
		port = strconv.FormatUint(n, 10)
	}
	return host, port, nil
}

// CheckOrigin accepts an origin did:web in canonical form (Canonical) and
// nothing else: the one check of every did:web zkcred stores or compares
// (a registry binding, an issuer's configuration, a verifier policy). Its
// error names the canonical form when the DID has one.
func CheckOrigin(did string) error {
	c, err := Canonical(did)
	if err != nil {
		return err
	}
	if c != did {
		return fmt.Errorf("%w: %q is not in canonical form: write %q", ErrDID, did, c)
	}
	return nil
}

// FromDomain returns the origin did:web, in canonical form, of a domain as
// a person writes it: "uni.example", "uni.example:8443"
// (did:web:uni.example%3A8443), or the did:web itself.
func FromDomain(domain string) (string, error) {
	d := strings.TrimSpace(domain)
	if !strings.HasPrefix(d, "did:web:") {
		if strings.Contains(d, "://") || strings.ContainsAny(d, "/#?") {
			return "", fmt.Errorf("%w: %q is not a domain such as uni.example (or uni.example:8443)", ErrDID, domain)
		}
		d = "did:web:" + strings.Replace(d, ":", "%3A", 1)
	}
	p, err := Parse(d)
	if err != nil {
		return "", err
	}
	if p.DID != d {
		return "", fmt.Errorf("%w: %q names a key (#fragment), not a domain", ErrDID, domain)
	}
	return Canonical(p.DID)
}

// Parsed is a did:web split into its parts.
type Parsed struct {
	DID  string // did:web:host[%3Aport], without fragment
	Host string // lowercase host
	Port string // "" for the default
}

// Parse reads an origin did:web, with or without a "#fragment" (which is
// dropped).
func Parse(did string) (*Parsed, error) {
	d, _, _ := strings.Cut(did, "#")
	rest, ok := strings.CutPrefix(d, "did:web:")
	if !ok {
		return nil, fmt.Errorf("%w: %q does not start with did:web:", ErrDID, did)
	}
	if rest == "" || strings.Contains(rest, ":") {
		return nil, fmt.Errorf("%w: %q: only origin DIDs (did:web:host or did:web:host%%3Aport) are supported", ErrDID, did)
	}
	hp, err := url.PathUnescape(rest)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrDID, did, err)
	}
	host, port := hp, ""
	if h, p, err := net.SplitHostPort(hp); err == nil {
		host, port = h, p
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return nil, fmt.Errorf("%w: %q: bad port", ErrDID, did)
		}
	}
	if host == "" || strings.ContainsAny(host, "/?#@[]% ") || host != strings.ToLower(host) {
		return nil, fmt.Errorf("%w: %q: bad host (lowercase domain names only)", ErrDID, did)
	}
	return &Parsed{DID: d, Host: host, Port: port}, nil
}

// Origin returns the web origin the DID names: https://host[:port], or
// http://host[:port] for a loopback host when allowLoopbackHTTP is set.
func (p *Parsed) Origin(allowLoopbackHTTP bool) string {
	scheme := "https"
	if allowLoopbackHTTP && IsLoopback(p.Host) {
		scheme = "http"
	}
	hp := p.Host
	if p.Port != "" {
		hp = net.JoinHostPort(p.Host, p.Port)
	}
	return scheme + "://" + hp
}

// DocumentURL returns where the DID's document is fetched.
func (p *Parsed) DocumentURL(allowLoopbackHTTP bool) string {
	return p.Origin(allowLoopbackHTTP) + Path
}

// NewDocument returns the DID document of did holding pub as its one
// Multikey verification method (did#key-1), for authentication and
// assertion (signing credentials and request objects).
func NewDocument(did string, pub ed25519.PublicKey) *Document {
	kid := did + "#" + KeyFragment
	return &Document{
		Context: Contexts,
		ID:      did,
		VerificationMethod: []VerificationMethod{{
			ID: kid, Type: "Multikey", Controller: did, PublicKeyMultibase: didkey.Multikey(pub),
		}},
		Authentication:  []string{kid},
		AssertionMethod: []string{kid},
	}
}

// KeyID returns the verification method ID of the documents NewDocument
// makes.
func KeyID(did string) string { return did + "#" + KeyFragment }

// Key returns the Ed25519 key of the verification method kid (absolute,
// did#frag, or relative, #frag), which must be listed under
// assertionMethod (directly, by reference).
func (d *Document) Key(kid string) (ed25519.PublicKey, error) {
	abs := d.abs(kid)
	if !strings.HasPrefix(abs, d.ID+"#") {
		return nil, fmt.Errorf("%w: key %q is not a key of %s", ErrDID, kid, d.ID)
	}
	listed := false
	for _, a := range d.AssertionMethod {
		if d.abs(a) == abs {
			listed = true
		}
	}
	if !listed {
		return nil, fmt.Errorf("%w: key %q is not an assertion method of %s", ErrDID, kid, d.ID)
	}
	for _, vm := range d.VerificationMethod {
		if d.abs(vm.ID) != abs {
			continue
		}
		if vm.Type != "Multikey" {
			return nil, fmt.Errorf("%w: key %q is a %q, not a Multikey", ErrDID, kid, vm.Type)
		}
		if vm.Controller != d.ID {
			return nil, fmt.Errorf("%w: key %q is controlled by %q, not %s", ErrDID, kid, vm.Controller, d.ID)
		}
		pub, err := didkey.ParseMultikey(vm.PublicKeyMultibase)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %v", ErrDID, kid, err)
		}
		return pub, nil
	}
	return nil, fmt.Errorf("%w: %s lists no verification method %q", ErrDID, d.ID, kid)
}

func (d *Document) abs(id string) string {
	if strings.HasPrefix(id, "#") {
		return d.ID + id
	}
	return id
}

// Resolver fetches did:web documents.
type Resolver struct {
	// Client makes the requests; nil means a client with a 10 s timeout.
	// Redirects are never followed: the document must be at the DID's
	// own origin.
	Client *http.Client
	// AllowLoopbackHTTP resolves a DID of a loopback host over plain http
	// (local development and tests only).
	AllowLoopbackHTTP bool
}

// Resolve fetches and checks the DID document of did: it must be JSON,
// at most MaxDocument bytes, and name did as its id.
func (r *Resolver) Resolve(ctx context.Context, did string) (*Document, error) {
	p, err := Parse(did)
	if err != nil {
		return nil, err
	}
	u := p.DocumentURL(r.AllowLoopbackHTTP)
	c := http.Client{Timeout: 10 * time.Second}
	if r.Client != nil {
		c = *r.Client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDID, err)
	}
	req.Header.Set("Accept", "application/did+json, application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: resolving %s at %s: %v", ErrDID, did, u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: resolving %s: %s answered %s", ErrDID, did, u, resp.Status)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" && mt != "application/did+json" && mt != "application/did+ld+json" {
		return nil, fmt.Errorf("%w: resolving %s: %s is %q, not JSON", ErrDID, did, u, mt)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocument+1))
	if err != nil {
		return nil, fmt.Errorf("%w: resolving %s: %v", ErrDID, did, err)
	}
	if len(b) > MaxDocument {
		return nil, fmt.Errorf("%w: resolving %s: document over %d bytes", ErrDID, did, MaxDocument)
	}
	return ParseDocument(b, p.DID)
}

// ParseDocument reads a DID document and checks that its id is did.
// Unknown members are ignored (DID documents carry many).
func ParseDocument(b []byte, did string) (*Document, error) {
	var d Document
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%w: document of %s: %v", ErrDID, did, err)
	}
	if d.ID != did {
		return nil, fmt.Errorf("%w: the document served for %s names %q", ErrDID, did, d.ID)
	}
	return &d, nil
}

// Handler serves a document (mount it at Path) as application/json, which
// every did:web resolver accepts.
func Handler(doc *Document) http.Handler {
	b, _ := json.Marshal(doc)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_, _ = w.Write(b)
	})
}
