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
	"strings"
	"time"

	"github.com/zkcred/zkcred/internal/httpx"
	"github.com/zkcred/zkcred/wire"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"
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

	if s.opts.RateLimit >= 0 {
		r, b := s.opts.RateLimit, s.opts.RateBurst
		if r == 0 {
			r = DefaultRate
		}
		if b <= 0 {
			b = DefaultBurst
		}
		// On every path under /v1/, known or not. Not as a group's
		// middleware: echo then answers 404 instead of 405 for a known path
		// with another method.
		e.Use(middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
			Skipper: func(c echo.Context) bool { return !strings.HasPrefix(c.Request().URL.Path, "/v1/") },
			Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
				Rate: rate.Limit(r), Burst: b, ExpiresIn: 3 * time.Minute,
			}),
			IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
			DenyHandler: func(c echo.Context, id string, _ error) error {
				return fmt.Errorf("%w: client %s, slow down", ErrRateLimited, id)
			},
		}))
	}
	e.Use(httpx.RequireJSON(), httpx.DecodePathParams())
	v1 := e.Group("/v1")
	v1.POST("/requests", s.hCreate)
	v1.GET("/requests/:id", s.hGetRequest)
	v1.POST("/requests/:id/presentations", s.hSubmit)
	v1.GET("/requests/:id/result", s.hResult)
	v1.POST("/verify", s.hVerify)
	v1.POST("/verify/batch", s.hBatch)
	return e
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

func (s *Server) hCreate(c echo.Context) error {
	if s.opts.CreateToken != "" {
		got, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.CreateToken)) != 1 {
			return fmt.Errorf("%w: creating requests needs the verifier's bearer token", ErrUnauthorized)
		}
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
	r, err := s.CreateRequest(body.Policy)
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

func (s *Server) hResult(c echo.Context) error {
	r, err := s.Result(c.Param("id"))
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
	res, err := s.Submit(c.Param("id"), p)
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
	res, err := s.Verify(p)
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
	if n := len(body.Presentations); n == 0 || n > s.opts.MaxBatch {
		return fmt.Errorf("%w: %d presentations, want 1 to %d", ErrMalformed, n, s.opts.MaxBatch)
	}
	ps := make([]*wire.Presentation, len(body.Presentations))
	parseErrs := make([]error, len(ps))
	for i, raw := range body.Presentations {
		ps[i], parseErrs[i] = wire.ParsePresentation(raw)
	}
	res := s.VerifyBatch(ps)
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
// gracefully (in-flight requests get up to 10 seconds).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := s.HTTPServer(ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
