package verifier

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/zkcred/zkcred/internal/didweb"
	"github.com/zkcred/zkcred/internal/httpx"
	"github.com/zkcred/zkcred/wire"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server timeouts used by HTTPServer.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 120 * time.Second
)

//go:embed openapi.json
var openAPI []byte

// Handler returns the HTTP API (routes under /v1/, /healthz, /metrics,
// /openapi.json), as openapi.json documents it. JSON bodies must say
// Content-Type application/json (else 415), and every request is logged in
// one line on Options.Logger. It is built once per call; build it once and
// reuse it.
func (s *Server) Handler() http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ipExtractor(s.opts.TrustedProxies)
	e.Use(httpx.RequestLog(s.log), middleware.Recover())

	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})))
	e.GET("/openapi.json", func(c echo.Context) error { return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPI) })
	e.GET(didweb.Path, s.hDIDDocument)

	if s.limit != nil {
		// On every path under /v1/, known or not (one token per call; a
		// batch call takes one more per item in hBatch). Not as a group's
		// middleware: echo then answers 404 instead of 405 for a known path
		// with another method.
		e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				if !strings.HasPrefix(c.Request().URL.Path, "/v1/") {
					return next(c)
				}
				if err := s.take(c, 1); err != nil {
					return err
				}
				return next(c)
			}
		})
	}
	// JSON bodies everywhere but at the OpenID4VP response URI, which
	// takes a form (direct_post) and checks its type itself.
	requireJSON := httpx.RequireJSON()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		withJSON := requireJSON(next)
		return func(c echo.Context) error {
			if strings.HasPrefix(c.Request().URL.Path, OID4VPResponsePath) {
				return next(c)
			}
			return withJSON(c)
		}
	}, httpx.DecodePathParams())
	v1 := e.Group("/v1")
	v1.POST("/requests", s.hCreate)
	v1.GET("/requests/:id", s.hGetRequest)
	v1.POST("/requests/:id/presentations", s.hSubmit)
	v1.GET("/requests/:id/result", s.hResult)
	v1.POST("/verify", s.hVerify)
	v1.POST("/verify/batch", s.hBatch)
	v1.GET("/oid4vp/requests/:id", s.hRequestObject)
	v1.GET("/oid4vp/requests/:id/qr.png", s.hRequestQR)
	v1.POST("/oid4vp/responses/:id", s.hResponse)
	return e
}

// clientOf is the key of the calling client: its address as the IP
// extractor sees it, an IPv6 address cut to its /64 (clientKey).
func clientOf(c echo.Context) string { return clientKey(c.RealIP()) }

// take takes n tokens of the calling client's rate limit, or answers 429
// with the time until they are there.
func (s *Server) take(c echo.Context, n int) error {
	if s.limit == nil || n <= 0 {
		return nil
	}
	id := clientOf(c)
	ok, wait := s.limit.allow(id, n, time.Now())
	if ok {
		return nil
	}
	what := "call"
	if n > 1 {
		what = fmt.Sprintf("batch of %d more presentations", n)
	}
	return &retryError{fmt.Errorf("%w: client %s, %g per second (burst %d), this %s is over it: slow down", ErrRateLimited, id, s.opts.RateLimit, s.opts.RateBurst, what), max(wait, time.Second)}
}

// ipExtractor keys clients on the peer address, or on X-Forwarded-For
// when the peer is one of the trusted proxies. Echo's defaults trust
// loopback and private ranges; here only the configured ranges count.
func ipExtractor(proxies []string) echo.IPExtractor {
	if len(proxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range proxies {
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			continue // rejected by ParseConfig / CheckProxies
		}
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// CheckProxies validates trusted proxy CIDRs.
func CheckProxies(proxies []string) error {
	for _, p := range proxies {
		if _, _, err := net.ParseCIDR(p); err != nil {
			return fmt.Errorf("trusted proxy %q is not a CIDR such as 10.0.0.0/8", p)
		}
	}
	return nil
}

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code, ok := Code(err)
	msg := err.Error()
	var re *retryError
	if errors.As(err, &re) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(max(re.wait.Round(time.Second)/time.Second, 1))))
	} else if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", "5") // a dependency that did not answer
	}
	var he *echo.HTTPError
	if !ok && errors.As(err, &he) {
		status = he.Code
		code = strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
		msg = fmt.Sprint(he.Message)
		switch status {
		case http.StatusNotFound:
			msg = "no such endpoint: " + c.Request().URL.Path
		case http.StatusMethodNotAllowed:
			msg = c.Request().Method + " is not allowed on " + c.Request().URL.Path
		}
	} else if !ok {
		s.log.Error("verifier internal error", "path", c.Path(), "err", err)
		msg = "internal error"
	}
	if c.Request().Method == http.MethodHead {
		err = c.NoContent(status)
	} else {
		err = c.JSON(status, wire.Error{Error: msg, Code: code})
	}
	if err != nil {
		s.log.Warn("write error answer", "err", err)
	}
}

// readBody reads at most limit bytes of the request body.
func readBody(c echo.Context, limit int64) ([]byte, error) {
	r := http.MaxBytesReader(c.Response(), c.Request().Body, limit)
	b, err := io.ReadAll(r)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading body: %v", ErrMalformed, err)
	}
	return b, nil
}

// bearer returns the request's bearer token, and whether it sent an
// Authorization header at all.
func bearer(c echo.Context) (tok string, sent bool) {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	if h == "" {
		return "", false
	}
	tok, _ = strings.CutPrefix(h, "Bearer ")
	if tok == h {
		return "", true // another scheme, or no "Bearer " prefix
	}
	return tok, true
}

func (s *Server) hCreate(c echo.Context) error {
	// A wrong token is refused even for a public policy, so that a
	// misconfigured backend hears of it.
	authorized := false
	if tok, sent := bearer(c); sent {
		if s.opts.CreateToken == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.CreateToken)) != 1 {
			return fmt.Errorf("%w: wrong create token (send the verifier's createToken as Authorization: Bearer <token>, or none for a public policy)", ErrUnauthorized)
		}
		authorized = true
	}
	b, err := readBody(c, s.opts.MaxBody)
	if err != nil {
		return err
	}
	var body wire.CreateRequestBody
	if len(strings.TrimSpace(string(b))) > 0 {
		if err := strictDecode(b, &body); err != nil {
			return err
		}
	}
	r, err := s.create(body.Policy, clientOf(c), authorized)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/requests/"+r.ID)
	return c.JSON(http.StatusCreated, r)
}

func (s *Server) hGetRequest(c echo.Context) error {
	r, err := s.Request(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// hResult answers the result to the holder of the request's result token,
// sent as a bearer token or in the query parameter token (the request log
// never records query strings).
func (s *Server) hResult(c echo.Context) error {
	tok, _ := bearer(c)
	if q := c.QueryParams()["token"]; len(q) > 0 {
		if len(q) > 1 || (tok != "" && tok != q[0]) {
			return fmt.Errorf("%w: give the result token once (a bearer token or ?token=)", ErrMalformed)
		}
		tok = q[0]
	}
	r, err := s.Result(c.Param("id"), tok)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (s *Server) readPresentation(c echo.Context) (*wire.Presentation, error) {
	b, err := readBody(c, s.opts.MaxBody)
	if err != nil {
		return nil, err
	}
	return wire.ParsePresentation(b)
}

func (s *Server) hSubmit(c echo.Context) error {
	p, err := s.readPresentation(c)
	if err != nil {
		return err
	}
	res, err := s.submitFrom(clientOf(c), c.Param("id"), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (s *Server) hVerify(c echo.Context) error {
	p, err := s.readPresentation(c)
	if err != nil {
		return err
	}
	res, err := s.verifyFrom(clientOf(c), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

func (s *Server) hBatch(c echo.Context) error {
	b, err := readBody(c, s.opts.MaxBody*int64(min(s.opts.MaxBatch, 64)))
	if err != nil {
		return err
	}
	var body wire.BatchRequest
	if err := strictDecode(b, &body); err != nil {
		return err
	}
	limit := s.opts.MaxBatch
	if s.limit != nil && s.opts.RateBurst < limit {
		limit = s.opts.RateBurst // a batch takes a token per item: more can never pass
	}
	n := len(body.Presentations)
	if n == 0 || n > limit {
		return fmt.Errorf("%w: %d presentations, want 1 to %d", ErrMalformed, n, limit)
	}
	// The call took one token; each further item takes one more, before
	// anything is checked.
	if err := s.take(c, n-1); err != nil {
		return err
	}
	ps := make([]*wire.Presentation, len(body.Presentations))
	parseErrs := make([]error, len(ps))
	for i, raw := range body.Presentations {
		ps[i], parseErrs[i] = wire.ParsePresentation(raw)
	}
	res := s.verifyBatchFrom(clientOf(c), ps)
	for i, err := range parseErrs {
		if err != nil {
			res[i] = rejection("", err)
			s.metrics.count("batch", res[i].Code, err)
		}
	}
	return c.JSON(http.StatusOK, wire.BatchResponse{Results: res})
}

// HTTPServer returns an http.Server for Handler with the package's
// timeouts.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    16 << 10,
	}
}

// Serve serves the API on ln until ctx is done, then shuts down
// gracefully (httpx.ServeUntil).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return httpx.ServeUntil(ctx, s.HTTPServer(ln.Addr().String()), ln)
}
