package oid4vp

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/zkcred/zkcred/wire"
)

// MaxResponse bounds the body of a direct_post response.
const MaxResponse = 64 << 10

// ResponseForm is the body of a direct_post authorization response
// (application/x-www-form-urlencoded): vp_token is a JSON object whose
// member CredentialQueryID holds an array of one zkcred presentation.
func ResponseForm(state string, p *wire.Presentation) (url.Values, error) {
	tok, err := marshal(map[string][]*wire.Presentation{CredentialQueryID: {p}})
	if err != nil {
		return nil, err
	}
	return url.Values{"vp_token": {string(tok)}, "state": {state}}, nil
}

// ErrorForm is the body of an authorization error response (the holder
// declined: access_denied).
func ErrorForm(state, code, description string) url.Values {
	v := url.Values{"error": {code}, "state": {state}}
	if description != "" {
		v.Set("error_description", description)
	}
	return v
}

// Response is a parsed direct_post body: a presentation, or an error the
// wallet reports.
type Response struct {
	State        string
	Presentation *wire.Presentation
	Error        string
	Description  string
}

// ParseResponse reads a direct_post body's form values strictly: state is
// required; then either error (with an optional error_description) or
// vp_token, a JSON object with exactly the member CredentialQueryID, an
// array of exactly one presentation. Parameters other than these are
// ignored, as OpenID4VP asks.
func ParseResponse(form url.Values) (*Response, error) {
	for _, k := range []string{"state", "vp_token", "error", "error_description"} {
		if len(form[k]) > 1 {
			return nil, fmt.Errorf("%w: parameter %s given %d times", wire.ErrMalformed, k, len(form[k]))
		}
	}
	r := &Response{State: form.Get("state"), Error: form.Get("error"), Description: form.Get("error_description")}
	if r.State == "" {
		return nil, fmt.Errorf("%w: no state", wire.ErrMalformed)
	}
	tok := form.Get("vp_token")
	if r.Error != "" {
		if tok != "" {
			return nil, fmt.Errorf("%w: both error and vp_token", wire.ErrMalformed)
		}
		return r, nil
	}
	if tok == "" {
		return nil, fmt.Errorf("%w: no vp_token", wire.ErrMalformed)
	}
	var m map[string][]json.RawMessage
	if err := json.Unmarshal([]byte(tok), &m); err != nil {
		return nil, fmt.Errorf("%w: vp_token is not a JSON object of arrays of presentations: %v", wire.ErrMalformed, err)
	}
	ps, ok := m[CredentialQueryID]
	if len(m) != 1 || !ok {
		return nil, fmt.Errorf("%w: vp_token must have exactly the member %q (the credential query's id)", wire.ErrMalformed, CredentialQueryID)
	}
	if len(ps) != 1 {
		return nil, fmt.Errorf("%w: vp_token.%s holds %d presentations, want 1", wire.ErrMalformed, CredentialQueryID, len(ps))
	}
	p, err := wire.ParsePresentation(ps[0])
	if err != nil {
		return nil, fmt.Errorf("vp_token.%s[0]: %w", CredentialQueryID, err)
	}
	r.Presentation = p
	return r, nil
}

// ErrorResponse is the JSON error answer of zkcred's OpenID4VP endpoints:
// an OAuth error code, its description and zkcred's own code (wire's
// Code… constants).
type ErrorResponse struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	ZkcredCode  string `json:"code"`
}

// OAuth and OpenID4VP error codes used by zkcred's endpoints.
const (
	ErrCodeInvalidRequest    = "invalid_request"
	ErrCodeInvalidRequestURI = "invalid_request_uri" // RFC 9101: the request_uri names no (live) request
	ErrCodeAccessDenied      = "access_denied"
	ErrCodeTemporarily       = "temporarily_unavailable"
	ErrCodeServerError       = "server_error"
)

// ErrorCode maps a zkcred verdict code (the wire.Code… of a rejection) to
// the OAuth / OpenID4VP error code a response endpoint answers with:
// a presentation that fails any check is an invalid_request (the zkcred
// code says which check), an unknown or expired request is an
// invalid_request too, rate limits and unavailable dependencies are
// temporarily_unavailable, anything else server_error.
func ErrorCode(zkcredCode string) string {
	switch zkcredCode {
	case wire.CodeRateLimited, wire.CodeQuotaExceeded, wire.CodeUnavailable, wire.CodeIssuersUnavailable, wire.CodeStoreFull:
		return ErrCodeTemporarily
	case wire.CodeInternal:
		return ErrCodeServerError
	}
	return ErrCodeInvalidRequest
}
