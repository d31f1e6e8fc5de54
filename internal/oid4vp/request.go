package oid4vp

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/zkcred/zkcred/internal/dcql"
)

// Protocol constants of OpenID4VP 1.0.
const (
	Scheme             = "openid4vp"           // the wallet invocation scheme: openid4vp://?…
	RequestObjectType  = "oauth-authz-req+jwt" // typ of a request object (RFC 9101)
	RequestObjectMedia = "application/oauth-authz-req+jwt"
	PrefixDID          = "decentralized_identifier:"
	PrefixRedirectURI  = "redirect_uri:"
	ResponseType       = "vp_token"
	ResponseMode       = "direct_post"
	// StaticAudience is the aud of a request object for a wallet found by
	// static discovery (the openid4vp:// scheme).
	StaticAudience = "https://self-issued.me/v2"
	// MaxRequestObject bounds a request object a wallet reads.
	MaxRequestObject = 128 << 10
)

// Errors.
var (
	// ErrRequest is wrapped by every error about an authorization request
	// that a wallet must refuse.
	ErrRequest = errors.New("invalid OpenID4VP authorization request")
	// ErrSignature is a request object whose signature does not verify
	// with the client's key.
	ErrSignature = fmt.Errorf("%w: request object signature", ErrRequest)
	// ErrClientKey is a request object whose kid names no key of its
	// client (another DID's key, or a DID document that cannot be read).
	ErrClientKey = fmt.Errorf("%w: client key", ErrRequest)
)

// AuthorizationRequest is an OpenID4VP authorization request: the claims
// of a request object, or the parameters of a link passed by value.
type AuthorizationRequest struct {
	ClientID     string `json:"client_id"`
	ResponseType string `json:"response_type"`
	ResponseMode string `json:"response_mode"`
	ResponseURI  string `json:"response_uri"`
	// RedirectURI must be absent with direct_post (OpenID4VP 1.0, 8.2).
	RedirectURI string `json:"redirect_uri,omitempty"`
	Nonce       string `json:"nonce"`
	State       string `json:"state"`
	// DCQLQuery is the dcql_query.
	DCQLQuery      *dcql.Query     `json:"dcql_query"`
	ClientMetadata *ClientMetadata `json:"client_metadata,omitempty"`
	// JWT claims of a request object.
	Issuer   string `json:"iss,omitempty"`
	Audience string `json:"aud,omitempty"`
	IssuedAt int64  `json:"iat,omitempty"`
	Expiry   int64  `json:"exp,omitempty"`
}

// ClientMetadata is the verifier's client_metadata: the formats it takes.
type ClientMetadata struct {
	VPFormatsSupported map[string]map[string]any `json:"vp_formats_supported"`
	// JWKS holds the key a direct_post.jwt response is encrypted to.
	JWKS *jose.JSONWebKeySet `json:"jwks,omitempty"`
	// EncryptedResponseEncValues lists the content encryptions it takes.
	EncryptedResponseEncValues []string `json:"encrypted_response_enc_values_supported,omitempty"`
}

// DefaultClientMetadata says that the verifier takes zkcred presentations.
func DefaultClientMetadata() *ClientMetadata {
	return &ClientMetadata{VPFormatsSupported: map[string]map[string]any{Format: {"alg_values": []string{"groth16-bn254"}}}}
}

// SignRequest signs the request object with the client's Ed25519 key:
// JWS compact, alg EdDSA, typ oauth-authz-req+jwt, kid the key's ID (a DID
// URL for decentralized_identifier: clients).
func SignRequest(ar *AuthorizationRequest, key ed25519.PrivateKey, kid string) (string, error) {
	payload, err := marshal(ar)
	if err != nil {
		return "", err
	}
	opts := (&jose.SignerOptions{}).WithType(RequestObjectType).WithHeader("kid", kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, opts)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// KeyResolver returns the Ed25519 key of a client for the kid of its
// request object, or an error when the key is not the client's.
type KeyResolver func(clientID, kid string) (ed25519.PublicKey, error)

// VerifyRequest checks a request object: a compact JWS with alg EdDSA and
// typ oauth-authz-req+jwt, signed by the key that resolve returns for its
// client_id and kid, then parses and checks the claims (ParseRequest) and
// its expiry against now. Unknown claims are ignored.
func VerifyRequest(token string, now time.Time, resolve KeyResolver) (*AuthorizationRequest, error) {
	if len(token) > MaxRequestObject {
		return nil, fmt.Errorf("%w: request object of %d bytes, at most %d", ErrRequest, len(token), MaxRequestObject)
	}
	jws, err := jose.ParseSigned(strings.TrimSpace(token), []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return nil, fmt.Errorf("%w: not a compact JWS signed with EdDSA: %v", ErrRequest, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: %d signatures, want 1", ErrRequest, len(jws.Signatures))
	}
	h := jws.Signatures[0].Header
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != RequestObjectType {
		return nil, fmt.Errorf("%w: typ %q, want %q", ErrRequest, typ, RequestObjectType)
	}
	// The claims are read before the signature is checked only to learn
	// whose key to check it with; nothing else is used until it verifies.
	ar, err := ParseRequest(jws.UnsafePayloadWithoutVerification())
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(ar.ClientID, PrefixDID) {
		return nil, fmt.Errorf("%w: a signed request object needs a client_id with prefix %s (got %q)", ErrRequest, PrefixDID, ar.ClientID)
	}
	if h.KeyID == "" {
		return nil, fmt.Errorf("%w: the request object names no key (kid)", ErrRequest)
	}
	pub, err := resolve(ar.ClientID, h.KeyID)
	if err != nil {
		return nil, fmt.Errorf("%w: key %q of %s: %w", ErrClientKey, h.KeyID, ar.ClientID, err)
	}
	if _, err := jws.Verify(pub); err != nil {
		return nil, fmt.Errorf("%w: does not verify with key %s of %s", ErrSignature, h.KeyID, ar.ClientID)
	}
	if ar.Expiry != 0 && now.Unix() > ar.Expiry {
		return nil, fmt.Errorf("%w: the request object expired at %s", ErrRequest, time.Unix(ar.Expiry, 0).UTC().Format(time.RFC3339))
	}
	if ar.Audience != "" && ar.Audience != StaticAudience {
		return nil, fmt.Errorf("%w: aud %q is not %s", ErrRequest, ar.Audience, StaticAudience)
	}
	return ar, nil
}

// ParseRequest reads the claims of a request object and checks what every
// zkcred wallet needs: response_type vp_token, response_mode direct_post,
// an absolute https (or http) response_uri, a nonce and a state, a client
// identifier, and a valid dcql_query. Unknown claims are ignored, as
// OpenID4VP asks.
func ParseRequest(b []byte) (*AuthorizationRequest, error) {
	var raw struct {
		AuthorizationRequest
		DCQL json.RawMessage `json:"dcql_query"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRequest, err)
	}
	ar := raw.AuthorizationRequest
	if len(raw.DCQL) == 0 || string(raw.DCQL) == "null" {
		return nil, fmt.Errorf("%w: no dcql_query", ErrRequest)
	}
	q, err := dcql.Parse(raw.DCQL)
	if err != nil {
		return nil, fmt.Errorf("%w: dcql_query: %w", ErrRequest, err)
	}
	ar.DCQLQuery = q
	if err := ar.check(); err != nil {
		return nil, err
	}
	return &ar, nil
}

func (ar *AuthorizationRequest) check() error {
	switch {
	case ar.ClientID == "":
		return fmt.Errorf("%w: no client_id", ErrRequest)
	case ar.ResponseType != ResponseType:
		return fmt.Errorf("%w: response_type %q, want %q", ErrRequest, ar.ResponseType, ResponseType)
	case ar.ResponseMode != ResponseMode && ar.ResponseMode != ResponseModeJWT:
		return fmt.Errorf("%w: response_mode %q: this wallet answers by %q or %q", ErrRequest, ar.ResponseMode, ResponseMode, ResponseModeJWT)
	case ar.Nonce == "":
		return fmt.Errorf("%w: no nonce (it binds the presentation to this request)", ErrRequest)
	case ar.State == "":
		return fmt.Errorf("%w: no state", ErrRequest)
	case ar.ResponseURI == "":
		return fmt.Errorf("%w: no response_uri", ErrRequest)
	case ar.RedirectURI != "":
		return fmt.Errorf("%w: redirect_uri with response_mode %s (the specification forbids it)", ErrRequest, ar.ResponseMode)
	}
	if ar.ResponseMode == ResponseModeJWT {
		if _, err := ar.encryptionKey(); err != nil {
			return err
		}
	}
	u, err := url.Parse(ar.ResponseURI)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%w: response_uri %q is not an absolute http(s) URL", ErrRequest, ar.ResponseURI)
	}
	return nil
}

// Link is an openid4vp:// link that invokes a wallet.
//
// By reference it carries client_id and request_uri; by value (redirect_uri:
// clients) the request's parameters.
func Link(params url.Values) string {
	return Scheme + "://?" + params.Encode()
}

// ReferenceLink is the link of a request object at requestURI.
func ReferenceLink(clientID, requestURI string) string {
	return Link(url.Values{"client_id": {clientID}, "request_uri": {requestURI}})
}

// ValueLink is the link carrying an unsigned request's parameters.
func ValueLink(ar *AuthorizationRequest) (string, error) {
	q, err := marshal(ar.DCQLQuery)
	if err != nil {
		return "", err
	}
	v := url.Values{
		"client_id": {ar.ClientID}, "response_type": {ar.ResponseType}, "response_mode": {ar.ResponseMode},
		"response_uri": {ar.ResponseURI}, "nonce": {ar.Nonce}, "state": {ar.State}, "dcql_query": {string(q)},
	}
	if ar.ClientMetadata != nil {
		m, err := marshal(ar.ClientMetadata)
		if err != nil {
			return "", err
		}
		v.Set("client_metadata", string(m))
	}
	return Link(v), nil
}

// Invocation is a parsed wallet invocation: by reference (RequestURI set)
// or by value (Request set).
type Invocation struct {
	ClientID   string
	RequestURI string
	Request    *AuthorizationRequest
}

// ParseLink reads an openid4vp:// link (or any URL whose query carries
// the parameters of an authorization request). request_uri_method other
// than get is refused; request (a request object by value) is refused:
// zkcred verifiers pass signed requests by reference.
func ParseLink(s string) (*Invocation, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRequest, err)
	}
	q := u.Query()
	for k, vs := range q {
		if len(vs) > 1 {
			return nil, fmt.Errorf("%w: parameter %s given %d times", ErrRequest, k, len(vs))
		}
	}
	inv := &Invocation{ClientID: q.Get("client_id"), RequestURI: q.Get("request_uri")}
	// OpenID4VP 1.0, section 5.1: get or post, case-sensitive; a wallet
	// that does not support post (this one) fetches with GET.
	switch m := q.Get("request_uri_method"); {
	case m != "" && m != "get" && m != "post":
		return nil, fmt.Errorf("%w: request_uri_method %q is neither get nor post (invalid_request_uri_method)", ErrRequest, m[:min(len(m), 32)])
	case m != "" && inv.RequestURI == "":
		return nil, fmt.Errorf("%w: request_uri_method without request_uri", ErrRequest)
	}
	if q.Get("request") != "" {
		return nil, fmt.Errorf("%w: a request object by value (request=) is not supported; pass it by reference (request_uri)", ErrRequest)
	}
	if inv.RequestURI != "" {
		ru, err := url.Parse(inv.RequestURI)
		if err != nil || (ru.Scheme != "https" && ru.Scheme != "http") || ru.Host == "" {
			return nil, fmt.Errorf("%w: request_uri %q is not an absolute http(s) URL", ErrRequest, inv.RequestURI)
		}
		if inv.ClientID == "" {
			return nil, fmt.Errorf("%w: a link with request_uri needs client_id", ErrRequest)
		}
		return inv, nil
	}
	// By value: the parameters themselves (unknown ones ignored).
	m := map[string]any{}
	for k := range q {
		v := q.Get(k)
		switch k {
		case "dcql_query", "client_metadata":
			m[k] = json.RawMessage(v)
		default:
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%w: dcql_query or client_metadata is not JSON", ErrRequest)
	}
	ar, err := ParseRequest(b)
	if err != nil {
		return nil, err
	}
	inv.Request = ar
	return inv, nil
}
