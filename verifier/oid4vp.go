package verifier

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/labstack/echo/v4"

	"github.com/zkcred/zkcred/internal/dcql"
	"github.com/zkcred/zkcred/internal/didweb"
	"github.com/zkcred/zkcred/internal/oid4vp"
	"github.com/zkcred/zkcred/internal/qr"
	"github.com/zkcred/zkcred/wire"
)

// OpenID4VP routes (docs/openid.md).
const (
	OID4VPRequestPath  = "/v1/oid4vp/requests/"  // + id: the signed request object (request_uri)
	OID4VPResponsePath = "/v1/oid4vp/responses/" // + id: the response_uri (direct_post)
)

func (s *Server) base() string { return strings.TrimRight(s.opts.PublicURL, "/") }

// ClientID is the verifier's OpenID4VP client identifier:
// decentralized_identifier:<its did:web>, or, without a did:web,
// redirect_uri:<the response URI of request id> (unsigned, local use).
func (s *Server) ClientID(id string) string {
	if s.did != "" {
		return oid4vp.PrefixDID + s.did
	}
	return oid4vp.PrefixRedirectURI + s.responseURI(id)
}

func (s *Server) responseURI(id string) string { return s.base() + OID4VPResponsePath + id }

// RequestURI is the request_uri of request id (where the signed request
// object is fetched).
func (s *Server) RequestURI(id string) string { return s.base() + OID4VPRequestPath + id }

// AuthorizationRequest returns the OpenID4VP authorization request of
// request id: response_type vp_token, response_mode direct_post, the
// request's nonce (decimal) and its id as the state, the response_uri,
// and its policy as a DCQL query of the zkcred format.
func (s *Server) AuthorizationRequest(id string) (*oid4vp.AuthorizationRequest, error) {
	r, err := s.Request(id)
	if err != nil {
		return nil, err
	}
	cq, err := oid4vp.CredentialQuery(r)
	if err != nil {
		return nil, err
	}
	ar := &oid4vp.AuthorizationRequest{
		ClientID:       s.ClientID(id),
		ResponseType:   oid4vp.ResponseType,
		ResponseMode:   oid4vp.ResponseMode,
		ResponseURI:    s.responseURI(id),
		Nonce:          r.Nonce.String(),
		State:          r.ID,
		DCQLQuery:      &dcql.Query{Credentials: []dcql.CredentialQuery{*cq}},
		ClientMetadata: oid4vp.DefaultClientMetadata(),
		Expiry:         int64(r.Expires),
	}
	if s.did != "" {
		ar.Issuer, ar.Audience, ar.IssuedAt = ar.ClientID, oid4vp.StaticAudience, s.clock().Unix()
	}
	if s.opts.EncryptResponses {
		ar.ResponseMode = oid4vp.ResponseModeJWT
		ar.ClientMetadata.JWKS = &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{oid4vp.EncryptionJWK(s.encKey, "enc-1")}}
		ar.ClientMetadata.EncryptedResponseEncValues = []string{oid4vp.EncryptionEnc}
	}
	return ar, nil
}

// RequestObject returns the signed request object of request id (JWS
// compact, typ oauth-authz-req+jwt, signed with the did:web key).
func (s *Server) RequestObject(id string) (string, error) {
	if s.did == "" {
		return "", ErrNoDID
	}
	ar, err := s.AuthorizationRequest(id)
	if err != nil {
		return "", err
	}
	return oid4vp.SignRequest(ar, s.opts.SigningKey, didweb.KeyID(s.did))
}

// OpenID4VPLink returns the openid4vp:// link of request id, for a QR code
// or a button on the relying party's page: by reference (client_id and
// request_uri) when the verifier has a did:web, else by value with the
// redirect_uri: prefix.
func (s *Server) OpenID4VPLink(id string) (string, error) {
	if s.did != "" {
		if _, err := s.Request(id); err != nil {
			return "", err
		}
		return oid4vp.ReferenceLink(s.ClientID(id), s.RequestURI(id)), nil
	}
	ar, err := s.AuthorizationRequest(id)
	if err != nil {
		return "", err
	}
	return oid4vp.ValueLink(ar)
}

// oid4vpError answers an error of the OpenID4VP routes as OAuth does:
// {"error", "error_description", "code"}, with the status of the
// verifier's own mapping.
func (s *Server) oid4vpError(c echo.Context, err error, requestURI bool) error {
	status, code, ok := Code(err)
	msg := err.Error()
	if !ok {
		s.log.Error("verifier internal error", "path", c.Path(), "err", err)
		msg = "internal error"
	}
	var re *retryError
	if errors.As(err, &re) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(max(re.wait.Round(time.Second)/time.Second, 1))))
	}
	oc := oid4vp.ErrorCode(code)
	if requestURI && (status == http.StatusNotFound || status == http.StatusGone) {
		oc = oid4vp.ErrCodeInvalidRequestURI
	}
	return c.JSON(status, oid4vp.ErrorResponse{Error: oc, Description: msg, ZkcredCode: code})
}

// hRequestObject serves the request object at the request_uri.
func (s *Server) hRequestObject(c echo.Context) error {
	id := c.Param("id")
	if _, err := s.load(id); err != nil {
		return s.oid4vpError(c, err, true)
	}
	jwt, err := s.RequestObject(id)
	if err != nil {
		return s.oid4vpError(c, err, true)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, oid4vp.RequestObjectMedia, []byte(jwt))
}

// hRequestQR serves the openid4vp:// link of a request as a QR code PNG.
func (s *Server) hRequestQR(c echo.Context) error {
	link, err := s.OpenID4VPLink(c.Param("id"))
	if err != nil {
		return s.oid4vpError(c, err, true)
	}
	png, err := qr.PNG(link)
	if err != nil {
		return s.oid4vpError(c, err, true)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "image/png", png)
}

// hResponse is the response_uri: a direct_post of vp_token and state (or
// of an error), form-encoded. The state must be the request's id; the
// presentation is then checked as POST /v1/requests/{id}/presentations
// checks it, and the verdict is answered as JSON: the Result (200), or an
// OAuth error object whose code is the verdict code.
func (s *Server) hResponse(c echo.Context) error {
	id := c.Param("id")
	if mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); mt != echo.MIMEApplicationForm {
		return c.JSON(http.StatusUnsupportedMediaType, oid4vp.ErrorResponse{
			Error: oid4vp.ErrCodeInvalidRequest, ZkcredCode: wire.CodeMalformed,
			Description: "a direct_post response is sent as Content-Type: application/x-www-form-urlencoded",
		})
	}
	b, err := readBody(c, min(s.opts.MaxBody, oid4vp.MaxResponse)*2)
	if err != nil {
		return s.oid4vpError(c, err, false)
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return s.oid4vpError(c, fmt.Errorf("%w: the body is not form-encoded: %v", ErrMalformed, err), false)
	}
	switch _, encrypted := form["response"]; {
	case s.opts.EncryptResponses && !encrypted:
		return s.oid4vpError(c, fmt.Errorf("%w: this verifier takes encrypted responses only (response_mode %s: response=<JWE>)", ErrMalformed, oid4vp.ResponseModeJWT), false)
	case !s.opts.EncryptResponses && encrypted:
		return s.oid4vpError(c, fmt.Errorf("%w: response_mode is %s: send vp_token and state, not response", ErrMalformed, oid4vp.ResponseMode), false)
	case encrypted:
		if form, err = oid4vp.DecryptResponse(form, s.encKey); err != nil {
			return s.oid4vpError(c, fmt.Errorf("%w: %w", ErrBadInput, err), false)
		}
	}
	resp, err := oid4vp.ParseResponse(form)
	if err != nil {
		return s.oid4vpError(c, fmt.Errorf("%w: %w", ErrBadInput, err), false)
	}
	if resp.State != id {
		return s.oid4vpError(c, fmt.Errorf("%w: state %q is not this response URI's request", ErrWrongRequest, truncate(resp.State)), false)
	}
	if resp.Error != "" {
		if _, err := s.load(id); err != nil {
			return s.oid4vpError(c, err, false)
		}
		s.log.Info("wallet declined", "request", id, "error", truncate(resp.Error))
		return c.JSON(http.StatusOK, wire.Result{RequestID: id, Status: wire.StatusPending})
	}
	res, err := s.submitFrom(clientOf(c), id, resp.Presentation)
	if err != nil {
		return s.oid4vpError(c, err, false)
	}
	return c.JSON(http.StatusOK, res)
}
