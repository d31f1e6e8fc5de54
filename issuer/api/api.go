package api

import (
	"bytes"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/didweb"
	"github.com/zkcred/zkcred/internal/httpx"
	"github.com/zkcred/zkcred/internal/strictjson"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/wire"
)

// Defaults.
const (
	DefaultBodyLimit  = 1 << 20
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	WriteTimeout      = 60 * time.Second // an issuance waits for its block
	IdleTimeout       = 2 * time.Minute
)

// Errors of the API itself.
var (
	// ErrUnauthorized: missing or wrong admin bearer token (HTTP 401).
	ErrUnauthorized = errors.New("admin bearer token required")
	// ErrBadRequest: malformed request body or parameter (HTTP 400).
	ErrBadRequest = errors.New("bad request")
)

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the API's OpenAPI 3.1 document.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

// Options configures the API; AdminToken is required.
type Options struct {
	// AdminToken is the bearer token of the admin routes, at least
	// issuer.MinAdminToken characters (issuer.AdminTokenFile makes one).
	AdminToken string
	// BodyLimit caps request bodies in bytes; 0 means DefaultBodyLimit.
	BodyLimit int64
	// Logger receives one line per request and the internal errors; nil
	// means slog.Default().
	Logger *slog.Logger
}

type server struct {
	is      *issuer.Issuer
	opts    Options
	metrics *metrics
	vci     *vciState
}

// jsonExceptTokenEndpoint requires JSON bodies except at the OpenID4VCI
// token endpoint, which takes a form (OAuth 2.0) and checks it itself.
func jsonExceptTokenEndpoint() echo.MiddlewareFunc {
	requireJSON := httpx.RequireJSON()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		withJSON := requireJSON(next)
		return func(c echo.Context) error {
			if c.Request().URL.Path == "/v1/oid4vci/token" {
				return next(c)
			}
			return withJSON(c)
		}
	}
}

// New returns the issuer's HTTP API. The issuer needs a public URL
// (issuer.Options.PublicURL) for the claim links it hands out.
func New(is *issuer.Issuer, opts Options) (*echo.Echo, error) {
	if len(opts.AdminToken) < issuer.MinAdminToken {
		return nil, fmt.Errorf("admin token must be at least %d characters", issuer.MinAdminToken)
	}
	if err := issuer.CheckPublicURL(is.PublicURL()); err != nil {
		return nil, err
	}
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = DefaultBodyLimit
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &server{is: is, opts: opts, metrics: newMetrics(is), vci: newVCIState(is.Store())}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(httpx.RequestLog(opts.Logger), s.metrics.observe, middleware.Recover(),
		middleware.BodyLimit(strconv.FormatInt(opts.BodyLimit, 10)), jsonExceptTokenEndpoint(), httpx.DecodePathParams())

	e.GET("/healthz", s.health)
	e.GET("/metrics", echo.WrapHandler(s.metrics.handler()))
	e.GET("/openapi.json", func(c echo.Context) error { return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPI) })
	e.GET(wire.ContextPath, func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/ld+json", wire.ContextDocument())
	})
	e.GET(didweb.Path, s.didDocument)
	e.GET("/.well-known/openid-credential-issuer", s.issuerMetadata)
	e.GET("/.well-known/oauth-authorization-server", s.authServerMetadata)
	e.GET(issuer.OfferPath+":code", s.offerByReference)
	e.POST("/v1/oid4vci/token", s.token)
	e.POST("/v1/oid4vci/nonce", s.nonce)
	e.POST("/v1/oid4vci/credential", s.credential)
	e.GET("/v1/issuer", s.issuerInfo)
	e.GET("/v1/schemas", s.listSchemas)
	e.GET("/v1/schemas/:id", s.getSchema)
	e.GET("/v1/offers/:id", s.getOffer)
	e.POST("/v1/offers/:id/claim", s.claim)
	// Admin routes carry their middleware one by one (not as a group's), so
	// that an unknown path answers 404 rather than 401.
	e.POST("/v1/offers", s.createOffer, s.requireAdmin)
	e.POST("/v1/credentials", s.issue, s.requireAdmin)
	e.GET("/v1/credentials", s.listCredentials, s.requireAdmin)
	e.GET("/v1/credentials/:id", s.credentialStatus, s.requireAdmin)
	e.POST("/v1/revocations", s.revoke, s.requireAdmin)
	return e, nil
}

// NewServer wraps h in an http.Server with the API's timeouts.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr: addr, Handler: h,
		ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout,
		WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout, MaxHeaderBytes: 64 << 10,
	}
}

// status maps an error to its HTTP status and code.
func status(err error) (int, string) {
	var fe *circuits.FieldError
	switch {
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized, wire.CodeUnauthorized
	case errors.Is(err, ErrBadRequest), errors.Is(err, issuer.ErrQuery):
		return http.StatusBadRequest, wire.CodeBadRequest
	case errors.Is(err, issuer.ErrNotFound):
		return http.StatusNotFound, wire.CodeNotFound
	case errors.Is(err, issuer.ErrOfferToken):
		return http.StatusForbidden, wire.CodeWrongToken
	case errors.Is(err, issuer.ErrOfferClaimed):
		return http.StatusConflict, wire.CodeAlreadyClaimed
	case errors.Is(err, issuer.ErrOfferExpired):
		return http.StatusGone, wire.CodeOfferExpired
	case errors.Is(err, issuer.ErrHolderProof):
		return http.StatusUnprocessableEntity, wire.CodeHolderProof
	case errors.Is(err, issuer.ErrNoHolderProof):
		return http.StatusServiceUnavailable, wire.CodeClaimsDisabled
	case errors.As(err, &fe):
		return http.StatusUnprocessableEntity, wire.CodeInvalidField
	case errors.Is(err, issuer.ErrSubject), errors.Is(err, circuits.ErrSchema), errors.Is(err, circuits.ErrNonCanonical):
		return http.StatusUnprocessableEntity, wire.CodeInvalidSubject
	case errors.Is(err, issuer.ErrRevoke):
		return http.StatusUnprocessableEntity, wire.CodeCannotRevoke
	case errors.Is(err, issuer.ErrChain):
		return http.StatusBadGateway, wire.CodeChain
	}
	return http.StatusInternalServerError, wire.CodeInternal
}

func (s *server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, name := status(err)
	msg := err.Error()
	var he *echo.HTTPError
	if code == http.StatusInternalServerError && errors.As(err, &he) {
		code = he.Code
		switch code {
		case http.StatusRequestEntityTooLarge:
			name = wire.CodeBodyTooLarge
		case http.StatusUnsupportedMediaType:
			name = httpx.CodeUnsupportedMediaType
		default:
			name = strings.ToLower(strings.ReplaceAll(http.StatusText(code), " ", "_"))
		}
		msg = fmt.Sprint(he.Message)
	}
	if code >= 500 {
		s.opts.Logger.Error("issuer API", "route", c.Path(), "status", code, "err", err)
		if code == http.StatusInternalServerError {
			msg = "internal error"
		}
	}
	body := wire.Error{Error: msg, Code: name}
	var fe *circuits.FieldError
	if name == wire.CodeInvalidField && errors.As(err, &fe) {
		body.Field = fe.Field
	}
	if code == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="zkcred-issuer"`)
	}
	if err := c.JSON(code, body); err != nil {
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

// bind decodes the JSON body strictly (internal/strictjson: one value, no
// unknown or repeated members, no null where a value is required, no
// trailing data), within the body limit. Numbers stay exact.
func (s *server) bind(c echo.Context, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, s.opts.BodyLimit))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", s.opts.BodyLimit))
		}
		return fmt.Errorf("%w: body: %v", ErrBadRequest, err)
	}
	if err := strictjson.UnmarshalNumbers(body, v); err != nil {
		if errors.Is(err, strictjson.ErrTrailing) {
			return fmt.Errorf("%w: trailing data after the JSON body", ErrBadRequest)
		}
		return fmt.Errorf("%w: JSON body: %s", ErrBadRequest, strictjson.Describe(err))
	}
	return nil
}

func (s *server) health(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"status": "ok", "did": s.is.Key().DID()})
}

// DIDWeb returns the did:web an issuer is known by: its configured one
// (Options.DIDWeb, which its credentials name), else that of its public
// URL's origin (https, or http on a loopback host for local use), whose
// /.well-known/did.json the API serves with the issuer's signing key.
func DIDWeb(is *issuer.Issuer) (string, error) {
	if d := is.DIDWeb(); d != "" {
		return d, nil
	}
	o, err := wire.Origin(is.PublicURL())
	if err != nil {
		return "", err
	}
	return didweb.FromOrigin(o, true)
}

// didDocument serves the issuer's did:web document: its Ed25519 signing
// key (the key of its did:key) as a Multikey.
func (s *server) didDocument(c echo.Context) error {
	did, err := DIDWeb(s.is)
	if err != nil {
		return fmt.Errorf("%w: this issuer has no did:web (its public URL is not an https origin): %v", issuer.ErrNotFound, err)
	}
	return c.JSON(http.StatusOK, didweb.NewDocument(did, s.is.Key().Public()))
}

func (s *server) issuerInfo(c echo.Context) error {
	id := s.is.Key().IssuerID()
	info := map[string]string{"did": s.is.Key().DID(), "issuerId": circuits.Dec(id)}
	if d := s.is.DIDWeb(); d != "" {
		info["didWeb"] = d
	}
	return c.JSON(http.StatusOK, info)
}

func (s *server) listSchemas(c echo.Context) error {
	ss, err := s.is.Schemas()
	if err != nil {
		return err
	}
	out := make([]*issuer.SchemaInfo, 0, len(ss))
	for _, sc := range ss {
		info, err := issuer.DescribeSchema(sc, "")
		if err != nil {
			return err
		}
		out = append(out, info)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *server) getSchema(c echo.Context) error {
	sc, err := s.schema(c.Param("id"))
	if err != nil {
		return err
	}
	info, err := issuer.DescribeSchema(sc, "")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, info)
}

func (s *server) schema(id string) (*circuits.Schema, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: schemaId is required", ErrBadRequest)
	}
	if _, err := circuits.ParseElement(id); err != nil {
		return nil, fmt.Errorf("%w: schema ID: %v", ErrBadRequest, err)
	}
	return s.is.Schema(id)
}

// schemaAndExpiry resolves the schemaId and validUntil of an offer or
// issuance body.
func (s *server) schemaAndExpiry(schemaID string, until optString) (*circuits.Schema, time.Time, error) {
	sc, err := s.schema(schemaID)
	if err != nil {
		return nil, time.Time{}, err
	}
	if !until.set {
		return sc, time.Time{}, nil
	}
	validUntil := until.s
	t, err := time.Parse(time.RFC3339, validUntil)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: validUntil %q is not RFC 3339", ErrBadRequest, validUntil)
	}
	if t.After(issuer.MaxValidUntil) {
		return nil, time.Time{}, fmt.Errorf("%w: validUntil %q is after %s in UTC, the latest expiry", ErrBadRequest, validUntil, issuer.MaxValidUntil.Format(time.RFC3339))
	}
	return sc, t, nil
}

type offerBody struct {
	SchemaID   string         `json:"schemaId"`
	Subject    map[string]any `json:"subject"`
	ValidUntil optString      `json:"validUntil"` // absent: never expires
	// TxCode asks for an OpenID4VCI offer that needs a PIN (tx_code),
	// answered once here, for the issuer to send by another channel.
	TxCode bool `json:"txCode,omitempty"`
}

// offerAnswer is the answer to POST /v1/offers: the claim link and the
// same offer as OpenID4VCI credential offers.
type offerAnswer struct {
	*issuer.OfferLink
	OpenID4VCIURI    string `json:"openid4vciUri"`
	OpenID4VCIRefURI string `json:"openid4vciOfferUri"`
	TxCode           string `json:"txCode,omitempty"`
}

// optString is a string member that may be left out but, when given, is a
// string: null and other types are refused (400), like any wrong value.
type optString struct {
	set bool
	s   string
}

func (o *optString) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &o.s); err != nil || bytes.Equal(b, []byte("null")) {
		return fmt.Errorf("want a string, got %.40s", b)
	}
	o.set = true
	return nil
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
	link, err := s.is.CreateOffer(c.Request().Context(), issuer.OfferRequest{Schema: sc, Subject: b.Subject, ValidUntil: until})
	if err != nil {
		return err
	}
	s.metrics.offers.Inc()
	code := s.is.PreAuthorizedCode(link, b.TxCode)
	ans := offerAnswer{OfferLink: link}
	if ans.OpenID4VCIURI, ans.OpenID4VCIRefURI, err = s.is.OfferURIs(s.is.NewCredentialOffer(code, issuer.ConfigurationID(sc.Name))); err != nil {
		return err
	}
	if b.TxCode {
		ans.TxCode = s.is.TxCode(link.ID)
	}
	return c.JSON(http.StatusCreated, ans)
}

type issueBody struct {
	SchemaID         string         `json:"schemaId"`
	Subject          map[string]any `json:"subject"`
	HolderCommitment circuits.Field `json:"holderCommitment"`
	ValidUntil       optString      `json:"validUntil"` // absent: never expires
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
	bundle, err := s.is.Issue(c.Request().Context(), issuer.Request{Schema: sc, Subject: b.Subject, HolderCommit: b.HolderCommitment.El(), ValidUntil: until})
	if err != nil {
		return err
	}
	s.metrics.issued.WithLabelValues("direct").Inc()
	return blob(c, http.StatusCreated, bundle)
}

// blob answers with a bundle's own JSON encoding.
func blob(c echo.Context, code int, b *wire.Bundle) error {
	raw, err := b.Encode()
	if err != nil {
		return err
	}
	return c.Blob(code, echo.MIMEApplicationJSON, raw)
}

// RevocationRequest is the body of POST /v1/revocations: the credentials
// to revoke, by ID, by leaf index, or both.
type RevocationRequest struct {
	CredentialIDs []string `json:"credentialIds,omitempty"`
	LeafIndices   []uint64 `json:"leafIndices,omitempty"`
}

// RevocationResult answers POST /v1/revocations.
type RevocationResult struct {
	Revoked       []string `json:"revoked"`       // credential IDs, revoked before or now
	RevokedLeaves []uint64 `json:"revokedLeaves"` // their leaves, 0 on the chain
}

func (s *server) revoke(c echo.Context) error {
	var b RevocationRequest
	if err := s.bind(c, &b); err != nil {
		return err
	}
	r, err := s.is.Revoke(c.Request().Context(), b.CredentialIDs, b.LeafIndices)
	if err != nil {
		return err
	}
	s.metrics.revoked.Add(float64(r.Newly))
	return c.JSON(http.StatusOK, RevocationResult{Revoked: r.IDs, RevokedLeaves: r.Leaves})
}

// CredentialStatus answers GET /v1/credentials/:id.
type CredentialStatus struct {
	ID          string `json:"id"`
	LeafIndex   uint64 `json:"leafIndex"`
	BlockHeight uint64 `json:"blockHeight"`
	Revoked     bool   `json:"revoked"`
}

func (s *server) credentialStatus(c echo.Context) error {
	b, revoked, err := s.is.Credential(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, CredentialStatus{b.Private.CredentialID, b.Private.LeafIndex, b.Private.BlockHeight, revoked})
}

// EncodeQuery is the query string of GET /v1/credentials for q, the
// inverse of ParseQuery (for clients such as the CLI).
func EncodeQuery(q issuer.Query) url.Values {
	v := url.Values{}
	set := func(name, val string) {
		if val != "" {
			v.Set(name, val)
		}
	}
	set("job", q.Job)
	set("offer", q.Offer)
	set("after", q.After)
	if q.Row != 0 {
		v.Set("row", strconv.Itoa(q.Row))
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	attrs := make([]string, 0, len(q.Subject))
	for a := range q.Subject {
		attrs = append(attrs, a)
	}
	sort.Strings(attrs)
	for _, a := range attrs {
		v.Add("subject", a+":"+q.Subject[a])
	}
	return v
}

// ParseQuery reads the query of GET /v1/credentials: job, row, offer,
// subject (attribute:value, repeatable), limit and after.
func ParseQuery(v map[string][]string) (issuer.Query, error) {
	var q issuer.Query
	one := func(name string) (string, error) {
		switch len(v[name]) {
		case 0:
			return "", nil
		case 1:
			if v[name][0] == "" {
				return "", fmt.Errorf("%w: %s is empty (leave it out to match every %s)", ErrBadRequest, name, name)
			}
			return v[name][0], nil
		}
		return "", fmt.Errorf("%w: %s given %d times", ErrBadRequest, name, len(v[name]))
	}
	num := func(name string) (int, error) {
		s, err := one(name)
		if err != nil || s == "" {
			return 0, err
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, fmt.Errorf("%w: %s %q is not a number", ErrBadRequest, name, s)
		}
		return n, nil
	}
	var err error
	for name := range v {
		switch name {
		case "job", "row", "offer", "subject", "limit", "after":
		default:
			return q, fmt.Errorf("%w: unknown query parameter %q (job, row, offer, subject, limit, after)", ErrBadRequest, name)
		}
	}
	if q.Job, err = one("job"); err != nil {
		return q, err
	}
	if q.Offer, err = one("offer"); err != nil {
		return q, err
	}
	if q.After, err = one("after"); err != nil {
		return q, err
	}
	if q.Row, err = num("row"); err != nil {
		return q, err
	}
	if v["row"] != nil && q.Row < 2 {
		return q, fmt.Errorf("%w: row %d is not a data row (the header is row 1)", ErrBadRequest, q.Row)
	}
	if q.Limit, err = num("limit"); err != nil {
		return q, err
	}
	if v["limit"] != nil && q.Limit == 0 {
		return q, fmt.Errorf("%w: limit 0 is not between 1 and %d", ErrBadRequest, issuer.MaxListLimit)
	}
	for _, f := range v["subject"] {
		attr, val, err := issuer.ParseSubjectFilter(f)
		if err != nil {
			return q, err
		}
		if q.Subject == nil {
			q.Subject = map[string]string{}
		}
		if _, dup := q.Subject[attr]; dup {
			return q, fmt.Errorf("%w: subject filter on %q given twice", ErrBadRequest, attr)
		}
		q.Subject[attr] = val
	}
	return q, nil
}

func (s *server) listCredentials(c echo.Context) error {
	v, err := httpx.Query(c.Request(), nil, "subject")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	q, err := ParseQuery(v)
	if err != nil {
		return err
	}
	list, err := s.is.Credentials(q)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list)
}

func (s *server) getOffer(c echo.Context) error {
	q, err := httpx.Query(c.Request(), []string{"token"})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	id, tok := c.Param("id"), q.Get("token")
	if tok == "" {
		return fmt.Errorf("%w: the offer link's token is required", issuer.ErrOfferToken)
	}
	v, err := s.is.OfferView(id, tok)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *server) claim(c echo.Context) error {
	var b wire.ClaimBody
	if err := s.bind(c, &b); err != nil {
		return err
	}
	if b.Token == "" {
		return fmt.Errorf("%w: token is required", issuer.ErrOfferToken)
	}
	proof, err := base64.StdEncoding.DecodeString(b.Proof)
	if err != nil {
		return fmt.Errorf("%w: proof is not base64", ErrBadRequest)
	}
	bundle, again, err := s.is.Claim(c.Request().Context(), c.Param("id"), b.Token, b.HolderCommitment.El(), proof)
	s.metrics.claim(again, err)
	if err != nil {
		return err
	}
	if !again {
		s.metrics.issued.WithLabelValues("claim").Inc()
	}
	return blob(c, http.StatusOK, bundle)
}
