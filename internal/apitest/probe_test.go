package apitest

import (
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/zkcred/zkcred/internal/strictjson"
)

// probed serves the items document strictly unless bad names a way to
// break it.
func probed(bad string) http.Handler {
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		code, msg := http.StatusInternalServerError, "internal"
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code, msg = he.Code, strings.ToLower(http.StatusText(he.Code))
		}
		if bad == "text errors" {
			c.String(code, msg)
			return
		}
		c.JSON(code, map[string]string{"error": err.Error(), "code": msg})
	}
	idPattern := regexp.MustCompile(`^[a-z]+$`)
	e.POST("/items", func(c echo.Context) error {
		if c.Request().Header.Get("Content-Type") != "application/json" {
			return echo.NewHTTPError(http.StatusUnsupportedMediaType, "want JSON")
		}
		b, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, 4096))
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "body too large")
		}
		var v struct {
			Name string `json:"name"`
		}
		unmarshal := strictjson.Unmarshal
		if bad == "lenient" {
			unmarshal = func(b []byte, v any) error { return nil }
		}
		if err := unmarshal(b, &v); err != nil {
			if bad == "panics on null" && errors.Is(err, strictjson.ErrNull) {
				panic("null")
			}
			return echo.NewHTTPError(http.StatusBadRequest, "bad JSON")
		}
		if v.Name == "" && bad != "lenient" {
			return echo.NewHTTPError(http.StatusBadRequest, "no name")
		}
		if bad == "drops slow clients" && c.Request().ContentLength < 0 {
			conn, _, _ := c.Response().Hijack()
			conn.Close()
			return nil
		}
		return c.JSON(http.StatusCreated, map[string]any{"name": v.Name, "kind": "item", "note": nil})
	})
	e.GET("/items/:id", func(c echo.Context) error {
		if !idPattern.MatchString(c.Param("id")) {
			if bad == "500 on odd IDs" {
				return errors.New("boom")
			}
			return echo.NewHTTPError(http.StatusNotFound, "no such item")
		}
		return c.JSON(http.StatusOK, map[string]any{"name": "pen", "kind": "item", "note": nil})
	})
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	return e
}

func probeRun(bad string) string {
	srv := httptest.NewUnstartedServer(probed(bad))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the panics are the point
	srv.Start()
	defer srv.Close()
	r := &recorder{}
	Probe(r, []byte(itemsDoc), srv.URL, ProbeOptions{BodyLimit: 4096, SlowFor: 50 * time.Millisecond,
		Bodies: map[string]func() string{"POST /items": func() string { return `{"name":"pen"}` }}})
	return r.finish()
}

func TestProbeHonestServicePasses(t *testing.T) {
	if errs := probeRun(""); errs != "" {
		t.Fatalf("an honest service failed the probe:\n%s", errs)
	}
}

// Each kind of damage the probe looks for fails it.
func TestProbeFinds(t *testing.T) {
	for bad, want := range map[string]string{
		"panics on null":     `(name = null): no answer`, // Go's server drops the connection of a handler that panics
		"500 on odd IDs":     `answered 500`,
		"lenient":            `the document refuses it`,
		"text errors":        `not a JSON error`,
		"drops slow clients": `(the documented body from a slow client): no answer`,
	} {
		errs := probeRun(bad)
		if !strings.Contains(errs, want) {
			t.Errorf("%s: the probe did not report %q:\n%.2000s", bad, want, errs)
		}
	}
}
