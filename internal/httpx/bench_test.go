package httpx

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// BenchmarkMiddleware measures what RequireJSON and RequestLog (a JSON
// handler writing to io.Discard, so the formatting is counted but not the
// terminal) add to a POST that echo answers with a small JSON body.
func BenchmarkMiddleware(b *testing.B) {
	for _, bc := range []struct {
		name string
		mw   []echo.MiddlewareFunc
	}{
		{"bare", nil},
		{"require-json", []echo.MiddlewareFunc{RequireJSON()}},
		{"require-json+log", []echo.MiddlewareFunc{RequestLog(slog.New(slog.NewJSONHandler(io.Discard, nil))), RequireJSON()}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := echo.New()
			e.Use(bc.mw...)
			e.POST("/v1/verify", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "verified"}) })
			body := `{"requestId":"AAAAAAAAAAAAAAAAAAAAAA"}`
			for b.Loop() {
				req := httptest.NewRequest("POST", "/v1/verify", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json; charset=utf-8")
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code)
				}
			}
		})
	}
}
