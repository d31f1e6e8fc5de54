package api

import (
	"context"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/httpx"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/api/web"
	"github.com/zkcred/zkcred/registry/internal/layout"
	"github.com/zkcred/zkcred/registry/store"
)

// Limits and timeouts.
const (
	MaxBodyBytes      = registry.MaxTxBytes + 4096
	MaxRange          = 1000
	DefaultTxTimeout  = 30 * time.Second
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = DefaultTxTimeout + 10*time.Second
	IdleTimeout       = 120 * time.Second
)

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the API's OpenAPI 3.1 document, the one served at
// /openapi.json.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

// ErrBadRequest is returned for a malformed path or query parameter (400).
var ErrBadRequest = errors.New("bad request")

// ErrUnavailable is returned when the node does not take transactions (503).
var ErrUnavailable = errors.New("unavailable")

// Submitter takes a decoded, signature-checked transaction and returns its
// receipt once committed (node.Node).
type Submitter interface {
	SubmitSigned(ctx context.Context, tx *registry.SignedTx) (*registry.Receipt, error)
}

// Options configure the API. The zero value is the default.
type Options struct {
	// Logger logs one line per request (level Info) and internal errors;
	// nil discards.
	Logger *slog.Logger
	// TxTimeout bounds how long POST /v1/tx waits for its block (DefaultTxTimeout).
	TxTimeout time.Duration
	// Unavailable maps errors of the submitter to 503 (e.g. node.ErrStopped).
	Unavailable []error
	// Commits, if set, serves CometBFT's light blocks at /v1/commits.
	Commits Commits
}

// Commits gives CometBFT's light blocks (signed header and validator set,
// in CometBFT's JSON) by CometBFT height, and its latest height.
type Commits interface {
	LightBlockJSON(ctx context.Context, height int64) ([]byte, error)
	Height() int64
}

// MaxCommitRange is the most light blocks one /v1/commits answer holds.
const MaxCommitRange = 100

// Error is the JSON body of every error answer.
type Error struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

type server struct {
	st   *store.Store
	sub  Submitter
	opts Options

	requests *prometheus.HistogramVec
	txs      *prometheus.CounterVec
}

// New returns the HTTP handler for a store and a submitter (nil makes the
// API read-only).
func New(st *store.Store, sub Submitter, opts Options) *echo.Echo {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.TxTimeout <= 0 {
		opts.TxTimeout = DefaultTxTimeout
	}
	s := &server{st: st, sub: sub, opts: opts}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "zkcred_registry_http_request_seconds", Help: "HTTP request latency by route and status.",
		Buckets: []float64{.0005, .001, .002, .005, .01, .05, .1, .5, 1, 5},
	}, []string{"route", "status"})
	s.txs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "zkcred_registry_txs_total", Help: "Submitted transactions by type and outcome.",
	}, []string{"outcome"})
	reg.MustRegister(s.requests, s.txs,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "zkcred_registry_height", Help: "Latest block height."},
			func() float64 { h := st.Latest(); return float64(h.Height) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "zkcred_registry_leaves", Help: "Credential leaves anchored."},
			func() float64 { h := st.Latest(); return float64(h.CredSize) }))

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(httpx.RequestLog(opts.Logger), s.recover, s.observe, httpx.RequireJSON(), httpx.DecodePathParams())
	e.GET("/healthz", func(c echo.Context) error {
		h := st.Latest()
		return c.JSON(http.StatusOK, map[string]any{"status": "ok", "height": h.Height})
	})
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	e.GET("/openapi.json", func(c echo.Context) error { return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPI) })
	v := e.Group("/v1")
	v.POST("/tx", s.postTx)
	v.GET("/genesis", func(c echo.Context) error { return c.JSON(http.StatusOK, st.Genesis()) })
	v.GET("/headers/latest", func(c echo.Context) error { h := st.Latest(); return c.JSON(http.StatusOK, h) })
	v.GET("/headers/:height", s.getHeader)
	v.GET("/headers", s.getHeaders)
	v.GET("/blocks/latest", func(c echo.Context) error { return s.block(c, st.Latest().Height) })
	v.GET("/blocks/:height", func(c echo.Context) error {
		h, err := uintParam(c.Param("height"), "height")
		if err != nil {
			return err
		}
		return s.block(c, h)
	})
	v.GET("/issuers", s.getIssuers)
	v.GET("/issuers/:id", s.getIssuer)
	v.GET("/schemas/:id", s.getSchema)
	v.GET("/circuits", func(c echo.Context) error {
		cs, err := st.Circuits()
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, orEmpty(cs))
	})
	v.GET("/circuits/:id", s.getCircuit)
	v.GET("/kinds/:kind", s.getKind)
	v.GET("/accreditors/:pubkey", s.getAccreditor)
	v.GET("/governance", func(c echo.Context) error {
		a, err := st.ProvenGovernance()
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, a)
	})
	v.GET("/accounts/:pubkey", s.getAccount)
	v.GET("/witness/:bucket", s.getWitness)
	v.GET("/leaves/:index", s.getLeaf)
	v.GET("/roots/:root", s.getRoot)
	v.GET("/commits", s.getCommits)
	v.GET("/commits/:height", s.getCommit)

	// The explorer: HTML pages for people beside the API, read-only,
	// outside the OpenAPI document (apitest.WithoutPages).
	var commits web.Commits
	if s.opts.Commits != nil {
		commits = s.opts.Commits
	}
	ex, err := web.Handler(st, commits)
	if err != nil {
		panic(fmt.Sprintf("registry explorer: %v", err)) // its templates are embedded: a build defect
	}
	e.GET("/", echo.WrapHandler(ex))
	e.GET("/ui/*", echo.WrapHandler(ex))
	return e
}

// NewServer wraps a handler in an http.Server with zkcred's timeouts.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout,
		WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout, MaxHeaderBytes: 64 << 10}
}

func badRequest(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, a...))
}

func uintParam(s, name string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || (len(s) > 1 && s[0] == '0') {
		return 0, badRequest("%s %q is not a decimal integer", name, truncate(s))
	}
	return v, nil
}

func fieldParam(s, name string) (circuits.Field, error) {
	e, err := circuits.ParseElement(s)
	if err != nil {
		return circuits.Field{}, badRequest("%s: %v", name, err)
	}
	return circuits.F(e), nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

func (s *server) postTx(c echo.Context) error {
	if s.sub == nil {
		return fmt.Errorf("%w: this registry is read-only", ErrUnavailable)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, MaxBodyBytes))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return fmt.Errorf("%w: body over %d bytes", registry.ErrTxTooLarge, MaxBodyBytes)
		}
		return badRequest("reading body: %v", err)
	}
	st, err := registry.DecodeTx(s.st.Genesis().ChainID, body)
	if err != nil {
		s.txs.WithLabelValues("rejected").Inc()
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.opts.TxTimeout)
	defer cancel()
	rc, err := s.sub.SubmitSigned(ctx, st)
	if err != nil {
		s.txs.WithLabelValues("rejected").Inc()
		return err
	}
	s.txs.WithLabelValues("committed").Inc()
	return c.JSON(http.StatusOK, rc)
}

func (s *server) getHeader(c echo.Context) error {
	h, err := uintParam(c.Param("height"), "height")
	if err != nil {
		return err
	}
	hd, err := s.st.Header(h)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, hd)
}

func (s *server) getHeaders(c echo.Context) error {
	q, err := httpx.Query(c.Request(), []string{"from", "to"})
	if err != nil {
		return badRequest("%v", err)
	}
	from, err := uintParam(q.Get("from"), "from")
	if err != nil {
		return err
	}
	to := s.st.Latest().Height
	if q.Has("to") {
		if to, err = uintParam(q.Get("to"), "to"); err != nil {
			return err
		}
	}
	if to < from {
		return badRequest("to %d is below from %d", to, from)
	}
	hs, err := s.st.Headers(from, to, MaxRange)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, orEmpty(hs))
}

// getCommit answers CometBFT's light block whose app hash commits to the
// state after registry block :height (CometBFT height :height+1).
func (s *server) getCommit(c echo.Context) error {
	h, err := uintParam(c.Param("height"), "height")
	if err != nil {
		return err
	}
	if s.opts.Commits == nil {
		return fmt.Errorf("%w: this registry serves no commits", registry.ErrNotFound)
	}
	if h >= uint64(s.opts.Commits.Height()) {
		return fmt.Errorf("%w: no commit yet for the state after block %d", registry.ErrNotFound, h)
	}
	b, err := s.opts.Commits.LightBlockJSON(c.Request().Context(), int64(h)+1)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, b)
}

// getCommits answers the light blocks for the states after registry blocks
// from..to (at most MaxCommitRange, up to the latest that has one), as a
// JSON array.
func (s *server) getCommits(c echo.Context) error {
	q, err := httpx.Query(c.Request(), []string{"from", "to"})
	if err != nil {
		return badRequest("%v", err)
	}
	from, err := uintParam(q.Get("from"), "from")
	if err != nil {
		return err
	}
	to := uint64(1<<64 - 1)
	if q.Has("to") {
		if to, err = uintParam(q.Get("to"), "to"); err != nil {
			return err
		}
		if to < from {
			return badRequest("to %d is below from %d", to, from)
		}
	}
	if s.opts.Commits == nil {
		return c.JSONBlob(http.StatusOK, []byte("[]"))
	}
	top := s.opts.Commits.Height() - 1 // registry heights that have a commit
	if top < 0 || uint64(top) < from {
		return c.JSONBlob(http.StatusOK, []byte("[]"))
	}
	to = min(to, uint64(top), from+MaxCommitRange-1)
	out := []byte{'['}
	for h := from; h <= to; h++ {
		b, err := s.opts.Commits.LightBlockJSON(c.Request().Context(), int64(h)+1)
		if err != nil {
			return err
		}
		if h > from {
			out = append(out, ',')
		}
		out = append(out, b...)
	}
	out = append(out, ']')
	return c.JSONBlob(http.StatusOK, out)
}

func (s *server) block(c echo.Context, h uint64) error {
	b, err := s.st.Block(h)
	if err != nil {
		return err
	}
	b.Txs = orEmpty(b.Txs)
	return c.JSON(http.StatusOK, b)
}

func (s *server) getIssuers(c echo.Context) error {
	q, err := httpx.Query(c.Request(), []string{"kind", "active"})
	if err != nil {
		return badRequest("%v", err)
	}
	var active *bool
	if q.Has("active") {
		var b bool
		switch q.Get("active") {
		case "true":
			b = true
		case "false":
		default:
			return badRequest("active must be true or false")
		}
		active = &b
	}
	is, err := s.st.Issuers(q.Get("kind"), active)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, orEmpty(is))
}

func (s *server) getIssuer(c echo.Context) error {
	id, err := fieldParam(c.Param("id"), "issuer id")
	if err != nil {
		return err
	}
	is, err := s.st.ProvenIssuer(id.El())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, is)
}

// getCircuit answers a circuit's published verifying-key hash, or its
// absence, with the proof.
func (s *server) getCircuit(c echo.Context) error {
	id := c.Param("id")
	if !registry.ValidCircuitID(id) {
		return badRequest("circuit id must be 1 to %d printable bytes", registry.MaxCircuitIDLen)
	}
	a, err := s.st.ProvenCircuit(id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

// getKind answers the list of the issuers of a kind with the proof.
func (s *server) getKind(c echo.Context) error {
	kind := c.Param("kind")
	if !registry.ValidKind(kind) {
		return badRequest("kind %q must be 1 to %d lowercase letters, digits or '-'", truncate(kind), registry.MaxKindLen)
	}
	a, err := s.st.ProvenKind(kind)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (s *server) getSchema(c echo.Context) error {
	id, err := fieldParam(c.Param("id"), "schema id")
	if err != nil {
		return err
	}
	r, err := s.st.ProvenSchema(id.El())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// getAccreditor answers a key's accreditation record, or its absence, with
// the proof.
func (s *server) getAccreditor(c echo.Context) error {
	pub, err := registry.ParsePubKey(c.Param("pubkey"))
	if err != nil {
		return badRequest("pubkey: %v", err)
	}
	a := &registry.AccreditorAnswer{PubKey: c.Param("pubkey")}
	var rec registry.Accreditor
	p, ok, err := s.st.Prove(layout.AccreditorKey(pub), &rec)
	if err != nil {
		return err
	}
	if ok {
		a.Record = &rec
	}
	a.Proof = *p
	return c.JSON(http.StatusOK, a)
}

func (s *server) getAccount(c echo.Context) error {
	pub, err := registry.ParsePubKey(c.Param("pubkey"))
	if err != nil {
		return badRequest("pubkey: %v", err)
	}
	v, ok, err := s.st.Get(layout.NonceKey(pub))
	if err != nil {
		return err
	}
	a := registry.Account{PubKey: hex.EncodeToString(pub)}
	if ok && len(v) == 8 {
		a.LastNonce = uint64(v[0])<<56 | uint64(v[1])<<48 | uint64(v[2])<<40 | uint64(v[3])<<32 | uint64(v[4])<<24 | uint64(v[5])<<16 | uint64(v[6])<<8 | uint64(v[7])
	}
	return c.JSON(http.StatusOK, a)
}

func (s *server) getWitness(c echo.Context) error {
	b, err := uintParam(c.Param("bucket"), "bucket")
	if err != nil {
		return err
	}
	bk, err := s.st.Bucket(b)
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, bk.AppendJSON(make([]byte, 0, 24<<10)))
}

// getLeaf answers a credential leaf's status at the latest block, with
// its path (registry.LeafStatus): what credentialStatus.id names. It reads
// the leaf's witness bucket, so it costs what a witness does.
func (s *server) getLeaf(c echo.Context) error {
	idx, err := uintParam(c.Param("index"), "leaf index")
	if err != nil {
		return err
	}
	bk, err := s.st.Bucket(registry.BucketOf(idx))
	if err != nil {
		return err
	}
	hd, err := s.st.Header(bk.Height)
	if err != nil {
		return err
	}
	if idx >= hd.CredSize {
		return fmt.Errorf("%w: leaf %d: the tree holds %d leaves at block %d", registry.ErrNotFound, idx, hd.CredSize, hd.Height)
	}
	leaf, path, err := bk.Path(idx)
	if err != nil {
		return err
	}
	ls := registry.LeafStatus{Index: idx, Status: registry.LeafActive, Leaf: circuits.F(leaf), Height: bk.Height, Root: bk.Root,
		Siblings: make([]circuits.Field, len(path)), CredSize: bk.CredSize, StateRoot: bk.StateRoot}
	if leaf.IsZero() {
		ls.Status = registry.LeafRevoked
	}
	for i, p := range path {
		ls.Siblings[i] = circuits.F(p)
	}
	return c.JSON(http.StatusOK, ls)
}

// orEmpty makes a nil list an empty one, so that lists are JSON arrays,
// never null.
func orEmpty[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

func (s *server) getRoot(c echo.Context) error {
	r, err := fieldParam(c.Param("root"), "root")
	if err != nil {
		return err
	}
	h, err := s.st.RootInfo(r.El())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, registry.RootInfo{Root: r, Height: h.Height, Time: h.Time, Header: *h})
}

func (s *server) recover(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.opts.Logger.Error("panic in handler", "path", c.Path(), "panic", r)
				err = fmt.Errorf("internal error")
			}
		}()
		return next(c)
	}
}

func (s *server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		s.requests.WithLabelValues(route, strconv.Itoa(c.Response().Status)).Observe(time.Since(start).Seconds())
		return nil
	}
}

// status maps an error to its HTTP status and code.
func (s *server) status(err error) (int, string) {
	for _, u := range s.opts.Unavailable {
		if errors.Is(err, u) {
			return http.StatusServiceUnavailable, "unavailable"
		}
	}
	switch {
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest, "bad_request"
	case errors.Is(err, registry.ErrInvalidTx):
		return http.StatusBadRequest, "invalid_tx"
	case errors.Is(err, registry.ErrBelowThreshold):
		return http.StatusForbidden, "below_threshold"
	case errors.Is(err, registry.ErrForbidden):
		return http.StatusForbidden, "forbidden"
	case errors.Is(err, registry.ErrConflict):
		return http.StatusConflict, "conflict"
	case errors.Is(err, registry.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, registry.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable, "unavailable"
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, "timeout"
	case errors.Is(err, context.Canceled):
		return 499, "canceled"
	}
	return http.StatusInternalServerError, "internal"
}

func (s *server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, name := s.status(err)
	msg := err.Error()
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		msg = fmt.Sprint(he.Message)
		name = strings.ToLower(strings.ReplaceAll(http.StatusText(code), " ", "_"))
		switch code {
		case http.StatusNotFound:
			name, msg = "not_found", "no such endpoint: "+c.Request().URL.Path
		case http.StatusMethodNotAllowed:
			name, msg = "method_not_allowed", c.Request().Method+" is not allowed on "+c.Request().URL.Path
		case http.StatusUnsupportedMediaType:
			name = httpx.CodeUnsupportedMediaType
		}
	}
	if code >= 500 {
		s.opts.Logger.Error("request failed", "path", c.Request().URL.Path, "err", err)
		if code == http.StatusInternalServerError {
			msg = "internal error"
		}
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(code)
		return
	}
	c.JSON(code, Error{Error: msg, Code: name})
}
