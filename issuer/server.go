package issuer

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/zkcred/zkcred/circuits"
)

// Server defaults.
const (
	DefaultBodyLimit    = 1 << 20
	DefaultReadTimeout  = 10 * time.Second
	DefaultWriteTimeout = 30 * time.Second
)

// HTTP errors of the API itself.
var (
	// ErrUnauthorized: missing or wrong admin bearer token (HTTP 401).
	ErrUnauthorized = errors.New("admin bearer token required")
	// ErrBadRequest: malformed request body or parameter (HTTP 400).
	ErrBadRequest = errors.New("bad request")
)

// ServerOptions configures the issuer HTTP API; AdminToken is required.
type ServerOptions struct {
	// AdminToken is the bearer token of the admin routes (offers, direct
	// issuance, revocation). At least 16 characters.
	AdminToken string
	// BodyLimit caps request bodies in bytes; 0 means DefaultBodyLimit.
	BodyLimit int64
	// Logger receives request errors; nil means slog.Default().
	Logger *slog.Logger
}

// NewServer returns the issuer HTTP API:
//
//	GET  /ns/credentials/v1          the zkcred JSON-LD context
//	GET  /v1/issuer                  the issuer's DID and issuer ID
//	POST /v1/offers                  admin: create a claim offer
//	POST /v1/credentials             admin: issue to a known holder commitment
//	POST /v1/revocations             admin: revoke by credential ID or leaf
//	GET  /v1/credentials/:id         admin: an issued credential's status
//	GET  /v1/offers/:id?token=…      holder: the offer's schema and data
//	POST /v1/offers/:id/claim        holder: claim with holder commitment + proof
//
// Every error is JSON {"error", "code"} with a 4xx status for bad input.
func NewServer(is *Issuer, opts ServerOptions) (*echo.Echo, error) {
	if len(opts.AdminToken) < 16 {
		return nil, errors.New("admin token must be at least 16 characters")
	}
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = DefaultBodyLimit
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &server{is: is, opts: opts}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.Recover())
	e.Use(middleware.BodyLimit(fmt.Sprint(opts.BodyLimit)))
	e.GET(wire.ContextPath, func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/ld+json", wire.ContextDocument())
	})
	e.GET("/v1/issuer", s.issuerInfo)
	e.GET("/v1/offers/:id", s.getOffer)
	e.POST("/v1/offers/:id/claim", s.claim)
	admin := e.Group("/v1", s.requireAdmin)
	admin.POST("/offers", s.createOffer)
	admin.POST("/credentials", s.issue)
	admin.POST("/revocations", s.revoke)
	admin.GET("/credentials/:id", s.credentialStatus)
	return e, nil
}

// HTTPServer wraps h in an http.Server with the default timeouts.
func HTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: DefaultReadTimeout,
		ReadTimeout:       DefaultReadTimeout,
		WriteTimeout:      DefaultWriteTimeout,
		IdleTimeout:       2 * time.Minute,
	}
}

type server struct {
	is   *Issuer
	opts ServerOptions
}

type apiError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

func (s *server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code := http.StatusInternalServerError, "internal"
	msg := err.Error()
	var he *echo.HTTPError
	var fe *circuits.FieldError
	switch {
	case errors.Is(err, ErrUnauthorized):
		status, code = http.StatusUnauthorized, "unauthorized"
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="zkcred-issuer"`)
	case errors.Is(err, ErrBadRequest):
		status, code = http.StatusBadRequest, "bad_request"
	case errors.Is(err, ErrNotFound):
		status, code = http.StatusNotFound, "not_found"
	case errors.Is(err, ErrOfferToken):
		status, code = http.StatusForbidden, "wrong_token"
	case errors.Is(err, ErrOfferClaimed):
		status, code = http.StatusConflict, "already_claimed"
	case errors.Is(err, ErrOfferExpired):
		status, code = http.StatusGone, "offer_expired"
	case errors.Is(err, ErrHolderProof):
		status, code = http.StatusUnprocessableEntity, "holder_proof"
	case errors.Is(err, ErrNoHolderProof):
		status, code = http.StatusServiceUnavailable, "claims_disabled"
	case errors.As(err, &fe):
		status, code = http.StatusUnprocessableEntity, "invalid_field"
	case errors.Is(err, ErrSubject), errors.Is(err, circuits.ErrSchema), errors.Is(err, circuits.ErrNonCanonical):
		status, code = http.StatusUnprocessableEntity, "invalid_subject"
	case errors.Is(err, ErrRevoke):
		status, code = http.StatusUnprocessableEntity, "cannot_revoke"
	case errors.Is(err, ErrChain):
		status, code = http.StatusBadGateway, "chain"
	case errors.As(err, &he):
		status = he.Code
		code = strings.ToLower(strings.ReplaceAll(http.StatusText(he.Code), " ", "_"))
		msg = fmt.Sprint(he.Message)
	}
	if status >= 500 {
		s.opts.Logger.Error("issuer API", "path", c.Path(), "err", err)
		if status == http.StatusInternalServerError {
			msg = "internal error"
		}
	}
	var body any = apiError{msg, code}
	if fe != nil {
		body = struct {
			apiError
			Field string `json:"field"`
		}{apiError{msg, code}, fe.Field}
	}
	if err := c.JSON(status, body); err != nil {
		s.opts.Logger.Error("writing error response", "err", err)
	}
}

func (s *server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		tok, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.AdminToken)) != 1 {
			return ErrUnauthorized
		}
		return next(c)
	}
}

// bind decodes the JSON body strictly: one value, no unknown fields, no
// trailing data, within the body limit.
func (s *server) bind(c echo.Context, v any) error {
	if ct := c.Request().Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("%w: Content-Type must be application/json", ErrBadRequest)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, s.opts.BodyLimit))
	if err != nil {
		return fmt.Errorf("%w: body: %v", ErrBadRequest, err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: JSON body: %v", ErrBadRequest, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: trailing data after JSON body", ErrBadRequest)
	}
	return nil
}

func (s *server) issuerInfo(c echo.Context) error {
	id := s.is.key.IssuerID()
	return c.JSON(http.StatusOK, map[string]string{"did": s.is.key.DID(), "issuerId": circuits.Dec(id)})
}

func (s *server) schema(id string) (*circuits.Schema, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: schemaId is required", ErrBadRequest)
	}
	if _, err := circuits.ParseElement(id); err != nil {
		return nil, fmt.Errorf("%w: schemaId: %v", ErrBadRequest, err)
	}
	return s.is.store.Schema(id)
}

// schemaAndExpiry resolves the schemaId and validUntil of an offer or
// issuance body.
func (s *server) schemaAndExpiry(schemaID, validUntil string) (*circuits.Schema, time.Time, error) {
	sc, err := s.schema(schemaID)
	if err != nil {
		return nil, time.Time{}, err
	}
	until, err := parseTime("validUntil", validUntil)
	return sc, until, err
}

func parseTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q is not RFC 3339", ErrBadRequest, name, v)
	}
	return t, nil
}

type offerBody struct {
	SchemaID   string         `json:"schemaId"`
	Subject    map[string]any `json:"subject"`
	ValidUntil string         `json:"validUntil,omitempty"`
}

func (s *server) createOffer(c echo.Context) error {
	var b offerBody
	if err := s.bind(c, &b); err != nil {
		return err
	}
	sc, until, err := s.schemaAndExpiry(b.SchemaID, b.ValidUntil)
	if err != nil {
		return err
	}
	link, err := s.is.CreateOffer(c.Request().Context(), OfferRequest{Schema: sc, Subject: b.Subject, ValidUntil: until})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, link)
}

type issueBody struct {
	SchemaID         string         `json:"schemaId"`
	Subject          map[string]any `json:"subject"`
	HolderCommitment circuits.Field `json:"holderCommitment"`
	ValidUntil       string         `json:"validUntil,omitempty"`
}

func (s *server) issue(c echo.Context) error {
	var b issueBody
	if err := s.bind(c, &b); err != nil {
		return err
	}
	sc, until, err := s.schemaAndExpiry(b.SchemaID, b.ValidUntil)
	if err != nil {
		return err
	}
	bundle, err := s.is.Issue(c.Request().Context(), Request{Schema: sc, Subject: b.Subject, HolderCommit: b.HolderCommitment.El(), ValidUntil: until})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, bundle)
}

type revokeBody struct {
	CredentialIDs []string `json:"credentialIds"`
	LeafIndices   []uint64 `json:"leafIndices"`
}

func (s *server) revoke(c echo.Context) error {
	var b revokeBody
	if err := s.bind(c, &b); err != nil {
		return err
	}
	leaves, err := s.is.Revoke(c.Request().Context(), b.CredentialIDs, b.LeafIndices)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string][]uint64{"revokedLeaves": leaves})
}

func (s *server) credentialStatus(c echo.Context) error {
	b, revoked, err := s.is.store.Credential(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"id": b.Private.CredentialID, "leafIndex": b.Private.LeafIndex,
		"blockHeight": b.Private.BlockHeight, "revoked": revoked,
	})
}

func (s *server) getOffer(c echo.Context) error {
	id, tok := c.Param("id"), c.QueryParam("token")
	if tok == "" {
		return fmt.Errorf("%w: the offer link's token is required", ErrOfferToken)
	}
	o, err := s.is.GetOffer(id, tok)
	if err != nil {
		return err
	}
	sid := o.Schema.ID()
	v := wire.OfferView{ID: o.ID, Issuer: s.is.key.DID(), Schema: o.Schema, SchemaID: circuits.Dec(sid), Expires: o.Expires.Format(time.RFC3339)}
	ch := wire.ClaimChallenge(id, tok)
	v.Challenge = circuits.Dec(ch)
	if !o.ValidUntil.IsZero() {
		v.ValidUntil = o.ValidUntil.Format(time.RFC3339)
	}
	for _, a := range o.Schema.Attributes {
		label := a.Display
		if label == "" {
			label = a.Name
		}
		v.Display = append(v.Display, wire.DisplayField{Name: a.Name, Label: label, Value: o.Subject[a.Name]})
	}
	return c.JSON(http.StatusOK, v)
}

func (s *server) claim(c echo.Context) error {
	var b wire.ClaimBody
	if err := s.bind(c, &b); err != nil {
		return err
	}
	if b.Token == "" {
		return fmt.Errorf("%w: token is required", ErrOfferToken)
	}
	proof, err := base64.StdEncoding.DecodeString(b.Proof)
	if err != nil {
		return fmt.Errorf("%w: proof is not base64", ErrBadRequest)
	}
	bundle, err := s.is.Claim(c.Request().Context(), c.Param("id"), b.Token, b.HolderCommitment.El(), proof)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, bundle)
}
