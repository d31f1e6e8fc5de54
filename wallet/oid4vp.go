package wallet

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/didweb"
	"github.com/zkcred/zkcred/internal/oid4vp"
	"github.com/zkcred/zkcred/wire"
)

// ErrNotOpenID4VP is returned by ReadAuthorizationRequest for an http(s)
// URL that answers something else than a request object (a zkcred
// request: read it with ReadRequest).
var ErrNotOpenID4VP = errors.New("not an OpenID4VP request")

// ErrClient is an OpenID4VP request whose client could not be
// authenticated: a request object not signed by the key of its client_id's
// DID, a response_uri outside the client's origin, or an unsigned request
// the wallet was not told to accept.
var ErrClient = fmt.Errorf("%w: the verifier could not be authenticated", ErrCannotPresent)

// OpenID4VPOptions say what ReadAuthorizationRequest accepts beyond
// signed requests of https did:web verifiers.
type OpenID4VPOptions struct {
	// AllowLoopbackHTTP resolves the did:web of a loopback host (localhost,
	// 127.0.0.0/8, ::1) over plain http: local development and tests only.
	AllowLoopbackHTTP bool
	// AllowUnsigned accepts requests of redirect_uri: clients, which are
	// unsigned: local use only (nothing authenticates the verifier beyond
	// its response URI).
	AllowUnsigned bool
	// Now is the clock for request object expiry; nil means time.Now.
	Now func() time.Time
}

// AuthorizedRequest is an OpenID4VP request the wallet has checked, with
// the zkcred request it asks for.
type AuthorizedRequest struct {
	// Auth is the authorization request (request object claims).
	Auth *oid4vp.AuthorizationRequest
	// Request is the zkcred request compiled from its DCQL query against
	// the schema the wallet holds credentials of.
	Request *wire.Request
	// Verifier says who asks, as authenticated: "did:web:… (request
	// signed with key …, resolved at …)" or the unsigned response URI.
	Verifier string
	// Signed says that the request object's signature was checked against
	// the key the client's DID document names.
	Signed bool
}

// IsOpenID4VPLink reports whether s is an openid4vp:// link.
func IsOpenID4VPLink(s string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), oid4vp.Scheme+":")
}

// ReadAuthorizationRequest reads an OpenID4VP 1.0 authorization request
// from an openid4vp:// link or a request_uri (http or https), and checks
// it: a request object must be signed (EdDSA, typ oauth-authz-req+jwt) by
// a key of the did:web its client_id names (decentralized_identifier:),
// the DID document resolved at the DID's own origin; the client_id of the
// link must be the request object's; the response_uri must have the DID's
// origin; and its DCQL query must ask, in the zkcred format, for a schema
// the wallet holds credentials of, and only for attributes of it. A
// redirect_uri: request (unsigned, by value) is accepted only with
// AllowUnsigned, and its response_uri must be the client identifier's.
func (w *Wallet) ReadAuthorizationRequest(ctx context.Context, src string, o OpenID4VPOptions) (*AuthorizedRequest, error) {
	inv := &oid4vp.Invocation{}
	var err error
	if IsOpenID4VPLink(src) {
		if inv, err = oid4vp.ParseLink(src); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
	} else if isURL(src) {
		inv.RequestURI = src
	} else {
		return nil, ErrNotOpenID4VP
	}
	if inv.RequestURI != "" {
		b, isJWT, err := w.fetchRequest(ctx, inv.RequestURI)
		if err != nil {
			return nil, err
		}
		if !isJWT {
			return nil, ErrNotOpenID4VP
		}
		return w.checkRequestObject(ctx, inv, string(b), o)
	}
	return w.checkUnsigned(inv.Request, o)
}

// ReadPresentationRequest reads any request the wallet answers, with one
// GET for a URL: an openid4vp:// link, an http(s) URL answering a request
// object (checked as by ReadAuthorizationRequest) or a zkcred request
// (checked as by ReadRequest), or a zkcred request file. ar is nil for a
// zkcred request; req is the request to present either way.
func (w *Wallet) ReadPresentationRequest(ctx context.Context, src string, o OpenID4VPOptions) (req *wire.Request, ar *AuthorizedRequest, err error) {
	if IsOpenID4VPLink(src) {
		if ar, err = w.ReadAuthorizationRequest(ctx, src, o); err != nil {
			return nil, nil, err
		}
		return ar.Request, ar, nil
	}
	if !isURL(src) {
		req, err = w.ReadRequest(ctx, src)
		return req, nil, err
	}
	b, isJWT, err := w.fetchRequest(ctx, src)
	if err != nil {
		return nil, nil, err
	}
	if isJWT {
		if ar, err = w.checkRequestObject(ctx, &oid4vp.Invocation{RequestURI: src}, string(b), o); err != nil {
			return nil, nil, err
		}
		return ar.Request, ar, nil
	}
	if len(b) > MaxBody {
		return nil, nil, fmt.Errorf("reading the request: answer from %s is larger than %d bytes", src, MaxBody)
	}
	req, err = w.parseRequest(b, src, true)
	return req, nil, err
}

func isURL(s string) bool { return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") }

// checkRequestObject checks a request object fetched from inv.RequestURI
// (see ReadAuthorizationRequest).
func (w *Wallet) checkRequestObject(ctx context.Context, inv *oid4vp.Invocation, jwt string, o OpenID4VPOptions) (*AuthorizedRequest, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	out := &AuthorizedRequest{}
	resolver := &didweb.Resolver{Client: w.hc, AllowLoopbackHTTP: o.AllowLoopbackHTTP}
	var client *didweb.Parsed // the client's did:web, once its key is asked for
	ar, err := oid4vp.VerifyRequest(jwt, now(), func(clientID, kid string) (ed25519.PublicKey, error) {
		did := strings.TrimPrefix(clientID, oid4vp.PrefixDID)
		p, err := didweb.Parse(did)
		if err != nil {
			return nil, err
		}
		if kid != did && !strings.HasPrefix(kid, did+"#") {
			return nil, fmt.Errorf("kid %q is not a key of %s", kid, did)
		}
		doc, err := resolver.Resolve(ctx, did)
		if err != nil {
			return nil, err
		}
		client = p
		return doc.Key(kid)
	})
	if err != nil {
		if errors.Is(err, oid4vp.ErrSignature) || errors.Is(err, oid4vp.ErrClientKey) {
			return nil, fmt.Errorf("%w: %w", ErrClient, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if inv.ClientID != "" && inv.ClientID != ar.ClientID {
		return nil, fmt.Errorf("%w: the link names client %q but the request object is of %q", ErrClient, inv.ClientID, ar.ClientID)
	}
	did := strings.TrimPrefix(ar.ClientID, oid4vp.PrefixDID)
	if err := sameOrigin(ar.ResponseURI, client.Origin(o.AllowLoopbackHTTP)); err != nil {
		return nil, fmt.Errorf("%w: response_uri %s does not belong to %s: %v", ErrClient, ar.ResponseURI, did, err)
	}
	out.Auth, out.Signed = ar, true
	out.Verifier = fmt.Sprintf("%s (request signed by its key, DID document at %s)", did, client.DocumentURL(o.AllowLoopbackHTTP))
	return w.finish(out)
}

// checkUnsigned checks a request passed by value in a link.
func (w *Wallet) checkUnsigned(ar *oid4vp.AuthorizationRequest, o OpenID4VPOptions) (*AuthorizedRequest, error) {
	out := &AuthorizedRequest{}
	switch {
	case strings.HasPrefix(ar.ClientID, oid4vp.PrefixRedirectURI):
		if !o.AllowUnsigned {
			return nil, fmt.Errorf("%w: the request of %s is unsigned (redirect_uri: client); accept unsigned requests only for local use (--allow-unsigned)", ErrClient, ar.ClientID)
		}
		if strings.TrimPrefix(ar.ClientID, oid4vp.PrefixRedirectURI) != ar.ResponseURI {
			return nil, fmt.Errorf("%w: client %s answers to response_uri %s, not its own URI", ErrClient, ar.ClientID, ar.ResponseURI)
		}
		out.Verifier = fmt.Sprintf("%s (UNSIGNED request: nothing authenticates this verifier)", ar.ResponseURI)
	case strings.HasPrefix(ar.ClientID, oid4vp.PrefixDID):
		return nil, fmt.Errorf("%w: a request of %s must be a signed request object (request_uri), not parameters in the link", ErrClient, ar.ClientID)
	default:
		return nil, fmt.Errorf("%w: client identifier %q: this wallet knows the prefixes %s and %s", ErrClient, ar.ClientID, oid4vp.PrefixDID, oid4vp.PrefixRedirectURI)
	}
	out.Auth = ar
	return w.finish(out)
}

// finish compiles the checked request's DCQL query.
func (w *Wallet) finish(out *AuthorizedRequest) (*AuthorizedRequest, error) {
	req, err := w.zkcredRequest(out.Auth)
	if err != nil {
		return nil, err
	}
	out.Request = req
	return out, nil
}

// sameOrigin checks that u has the origin want.
func sameOrigin(u, want string) error {
	got, err := wire.Origin(u)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("its origin is %s, the client's is %s", got, want)
	}
	return nil
}

// zkcredRequest compiles the authorization request's DCQL query against
// the schema it names, which must be that of a stored credential.
func (w *Wallet) zkcredRequest(ar *oid4vp.AuthorizationRequest) (*wire.Request, error) {
	q := ar.DCQLQuery
	if len(q.CredentialSets) > 0 {
		return nil, fmt.Errorf("%w: dcql_query: credential_sets are not supported (one zkcred credential query answers)", ErrBadRequest)
	}
	if len(q.Credentials) != 1 {
		return nil, fmt.Errorf("%w: dcql_query asks for %d credentials; this wallet answers one %s credential query", ErrBadRequest, len(q.Credentials), oid4vp.Format)
	}
	cq := &q.Credentials[0]
	if cq.Format != oid4vp.Format {
		return nil, fmt.Errorf("%w: dcql_query asks for format %q; this wallet presents %q", ErrBadRequest, cq.Format, oid4vp.Format)
	}
	m, err := oid4vp.ParseMeta(cq.Meta)
	if err != nil {
		return nil, fmt.Errorf("%w: dcql_query: %w", ErrBadRequest, err)
	}
	var schema *circuits.Schema
	for _, e := range w.f.Credentials {
		if e.Private().SchemaID == m.SchemaID {
			schema = e.Schema()
			break
		}
	}
	if schema == nil {
		return nil, &NoMatchError{Reasons: mismatchAll(w.f.Credentials, m.SchemaID)}
	}
	st, err := oid4vp.Compile(cq, schema.Attributes)
	if err != nil {
		return nil, fmt.Errorf("%w: dcql_query (schema %q): %w", ErrBadRequest, schema.Name, err)
	}
	var nonce circuits.Field
	if err := json.Unmarshal([]byte(`"`+ar.Nonce+`"`), &nonce); err != nil {
		return nil, fmt.Errorf("%w: nonce %q is not a zkcred nonce (a decimal field element): %v", ErrBadRequest, truncate(ar.Nonce), err)
	}
	if ar.Expiry != 0 && uint64(ar.Expiry) != m.Expires {
		return nil, fmt.Errorf("%w: the request object expires at %d but its query at %d", ErrBadRequest, ar.Expiry, m.Expires)
	}
	r := &wire.Request{
		ID: ar.State, Policy: m.Policy, Nonce: nonce,
		Audience: m.Audience, AudienceID: circuits.F(circuits.AudienceID(m.Audience)),
		Now: m.Now, Expires: m.Expires, SchemaID: m.SchemaID, Attributes: schema.Attributes,
		TrustList: st.TrustList, Disclose: st.Disclose, Predicates: st.Predicates,
		Query: wire.NewQuery(st.Query), Scope: m.Scope, ScopeID: circuits.F(circuits.ScopeID(m.Scope)),
		MaxRootAge: m.MaxRootAge, MinHeight: m.MinHeight, SubmitURL: ar.ResponseURI,
	}
	// The audience the proof binds must be the origin the response goes
	// to (which ReadAuthorizationRequest holds to the client).
	if err := checkAudience(r, "", false); err != nil {
		return nil, err
	}
	return r, nil
}

func mismatchAll(es []*Entry, schemaID circuits.Field) []Mismatch {
	var out []Mismatch
	for _, e := range es {
		out = append(out, Mismatch{ID: e.ID, Name: e.cred.Name,
			Reason: fmt.Sprintf("it is a %q credential; the verifier asks for another schema (%s)", e.Schema().Name, short(schemaID.String()))})
	}
	return out
}

// fetchRequest GETs a request_uri or a zkcred request URL, once: isJWT
// says the answer is a request object (by its media type), else b is the
// body to read as a zkcred request.
func (w *Wallet) fetchRequest(ctx context.Context, u string) (b []byte, isJWT bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, false, fmt.Errorf("%w: request URL: %v", ErrBadRequest, err)
	}
	req.Header.Set("Accept", oid4vp.RequestObjectMedia+", application/json;q=0.9")
	resp, err := w.hc.Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("reading the request: %w", err)
	}
	defer resp.Body.Close()
	b, err = io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return nil, false, fmt.Errorf("reading the request: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, false, remoteError(resp.StatusCode, b)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != oid4vp.RequestObjectMedia {
		return b, false, nil
	}
	if len(b) > oid4vp.MaxRequestObject {
		return nil, false, fmt.Errorf("%w: request object larger than %d bytes", ErrBadRequest, oid4vp.MaxRequestObject)
	}
	return b, true, nil
}

// remoteError reads an error answer: OAuth's (error, error_description,
// code) or zkcred's (error, code).
func remoteError(status int, b []byte) error {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Code        string `json:"code"`
	}
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		msg = e.Error
		if e.Description != "" {
			msg = e.Description + " (" + e.Error + ")"
		}
	}
	if len(msg) > 300 {
		msg = msg[:300]
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &RemoteError{Status: status, Code: e.Code, Message: msg}
}

// PresentOpenID4VP answers a checked OpenID4VP request as Present answers
// a zkcred request (Confirm sees the plan, with Plan.Verifier naming the
// authenticated verifier), then sends the presentation by direct_post:
// vp_token {"zkcred": [presentation]} and state, form-encoded, to the
// response_uri. The verifier's verdict is the Result.
func (w *Wallet) PresentOpenID4VP(ctx context.Context, ar *AuthorizedRequest, o PresentOptions) (*Presented, error) {
	confirm := o.Confirm
	o.Confirm = func(p *Plan) error {
		p.Verifier = ar.Verifier
		if confirm != nil {
			return confirm(p)
		}
		return nil
	}
	submit := !o.ProveOnly
	o.ProveOnly = true
	out, err := w.Present(ctx, ar.Request, o)
	if err != nil || !submit {
		return out, err
	}
	var form url.Values
	if ar.Auth.ResponseMode == oid4vp.ResponseModeJWT {
		// Encrypted to the verifier's key, named in the (signed) request.
		form, err = oid4vp.EncryptedResponseForm(ar.Auth, out.Presentation)
	} else {
		form, err = oid4vp.ResponseForm(ar.Auth.State, out.Presentation)
	}
	if err != nil {
		return out, err
	}
	out.Result, err = w.postForm(ctx, ar.Auth.ResponseURI, form)
	return out, err
}

// DeclineOpenID4VP tells the verifier that the holder declined
// (error access_denied), so its page need not wait for the expiry.
func (w *Wallet) DeclineOpenID4VP(ctx context.Context, ar *AuthorizedRequest) error {
	_, err := w.postForm(ctx, ar.Auth.ResponseURI, oid4vp.ErrorForm(ar.Auth.State, oid4vp.ErrCodeAccessDenied, "the holder declined"))
	return err
}

func (w *Wallet) postForm(ctx context.Context, u string, form url.Values) (*wire.Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := w.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, remoteError(resp.StatusCode, b)
	}
	var res wire.Result
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("verifier's answer: %w", err)
	}
	return &res, nil
}
