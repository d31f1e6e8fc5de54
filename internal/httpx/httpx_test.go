package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// newEcho serves POST/GET /x behind the middleware, with an error handler
// that answers JSON like the services do.
func newEcho(log *slog.Logger) *echo.Echo {
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		code, name := http.StatusInternalServerError, "internal"
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code, name = he.Code, strings.ToLower(strings.ReplaceAll(http.StatusText(he.Code), " ", "_"))
		}
		c.JSON(code, map[string]string{"error": fmt.Sprint(err), "code": name})
	}
	if log != nil {
		e.Use(RequestLog(log))
	}
	e.Use(RequireJSON())
	ok := func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"ok": "yes"}) }
	e.POST("/x", ok)
	e.PUT("/x", ok)
	e.GET("/x", ok)
	e.POST("/fail", func(c echo.Context) error { return errors.New("boom") })
	return e
}

func TestRequireJSON(t *testing.T) {
	e := newEcho(nil)
	cases := []struct {
		method, ct, body string
		want             int
		msg              string
	}{
		{"POST", "application/json", `{}`, 200, ""},
		{"POST", "application/json; charset=utf-8", `{}`, 200, ""},
		{"POST", "application/json;charset=UTF-8", `{}`, 200, ""},
		{"POST", "Application/JSON", `{}`, 200, ""},
		{"PUT", "application/json", `{}`, 200, ""},
		{"POST", "", ``, 200, ""},                                                                             // no body, nothing to type
		{"POST", "text/plain", ``, 200, ""},                                                                   // no body
		{"GET", "text/plain", `ignored`, 200, ""},                                                             // not a body method
		{"POST", "", `{}`, 415, "no Content-Type"},                                                            // body without a type
		{"POST", "application/x-www-form-urlencoded", `{}`, 415, "curl: -H 'Content-Type: application/json'"}, // curl -d
		{"POST", "text/plain", `{}`, 415, `not "text/plain"`},
		{"POST", "application/jsonx", `{}`, 415, "must be application/json"},
		{"POST", "application/json-patch+json", `{}`, 415, "must be application/json"},
		{"POST", "application/json; charset=latin1", `{}`, 415, `charset "latin1"`},
		{"POST", "application/json; boundary=x", `{}`, 415, `parameter "boundary"`},
		{"POST", "application/json; charset", `{}`, 415, "does not parse"},
		{"PUT", "text/csv", `a,b`, 415, "must be application/json"},
	}
	for _, tc := range cases {
		req := httptest.NewRequest(tc.method, "/x", strings.NewReader(tc.body))
		if tc.ct != "" {
			req.Header.Set("Content-Type", tc.ct)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s %q %q: %d %s, want %d", tc.method, tc.ct, tc.body, rec.Code, rec.Body, tc.want)
			continue
		}
		if tc.want == 415 {
			var b struct{ Error, Code string }
			if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil || b.Code != CodeUnsupportedMediaType || !strings.Contains(b.Error, tc.msg) {
				t.Errorf("%s %q: body %s, want code %s and %q", tc.method, tc.ct, rec.Body, CodeUnsupportedMediaType, tc.msg)
			}
		}
	}
}

// A chunked body (unknown length) is a body too.
func TestRequireJSONChunked(t *testing.T) {
	srv := httptest.NewServer(newEcho(nil))
	defer srv.Close()
	for ct, want := range map[string]int{"text/plain": 415, "application/json": 200} {
		pr := &chunkedReader{data: []byte(`{}`)}
		req, _ := http.NewRequest("POST", srv.URL+"/x", pr)
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("chunked %s: %d, want %d", ct, resp.StatusCode, want)
		}
	}
}

// chunkedReader hides its length so that the client sends it chunked.
type chunkedReader struct{ data []byte }

func (r *chunkedReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestRequestLog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	e := newEcho(log)
	for _, r := range []struct{ method, target, ct, body string }{
		{"POST", "/x?token=secret-claim-token", "application/json", `{"a":1}`},
		{"POST", "/x", "text/plain", `{}`},
		{"POST", "/fail", "application/json", `{}`},
		{"GET", "/nowhere", "", ``},
	} {
		req := httptest.NewRequest(r.method, r.target, strings.NewReader(r.body))
		if r.ct != "" {
			req.Header.Set("Content-Type", r.ct)
		}
		req.Header.Set("Authorization", "Bearer secret-admin-token")
		e.ServeHTTP(httptest.NewRecorder(), req)
	}
	if strings.Contains(buf.String(), "secret") {
		t.Fatalf("the log holds a query string or a header:\n%s", buf.String())
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want one line per request, got %d:\n%s", len(lines), buf.String())
	}
	type line struct {
		Level, Msg, Method, Path, Route string
		Status                          int
		BytesIn                         int64 `json:"bytes_in"`
		BytesOut                        int64 `json:"bytes_out"`
		Remote                          string
	}
	want := []line{
		{Level: "INFO", Method: "POST", Path: "/x", Route: "/x", Status: 200, BytesIn: 7},
		{Level: "INFO", Method: "POST", Path: "/x", Route: "/x", Status: 415, BytesIn: 2},
		{Level: "ERROR", Method: "POST", Path: "/fail", Route: "/fail", Status: 500, BytesIn: 2},
		{Level: "INFO", Method: "GET", Path: "/nowhere", Status: 404},
	}
	for i, l := range lines {
		var got line
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatal(err)
		}
		if got.Msg != "http request" || got.BytesOut <= 0 || got.Remote == "" {
			t.Errorf("line %d: %s", i, l)
		}
		got.Msg, got.BytesOut, got.Remote = "", 0, ""
		if got != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, got, want[i])
		}
	}
}

// TestDecodePathParams: an escaped path parameter reaches the handler
// decoded, the same as its raw form; one that does not decode is a 400.
func TestDecodePathParams(t *testing.T) {
	e := echo.New()
	e.Use(DecodePathParams())
	e.GET("/c/:id/x/:n", func(c echo.Context) error { return c.String(http.StatusOK, c.Param("id")+"|"+c.Param("n")) })
	for path, want := range map[string]string{
		"/c/urn:uuid:ab-cd/x/7":         "urn:uuid:ab-cd|7",
		"/c/urn%3Auuid%3Aab-cd/x/%37":   "urn:uuid:ab-cd|7",
		"/c/urn%3auuid%3aab-cd/x/7":     "urn:uuid:ab-cd|7",
		"/c/a%2Fb/x/7":                  "a/b|7",
		"/c/sp%20ace+plus/x/7":          "sp ace+plus|7",
		"/c/%E2%9C%93/x/%31%32":         "✓|12",
		"/c/urn%3Auuid%3Aab-cd/x/%2525": "urn:uuid:ab-cd|%25",
	} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 || rec.Body.String() != want {
			t.Errorf("%s: %d %q, want %q", path, rec.Code, rec.Body, want)
		}
	}
	for _, path := range []string{"/c/%zz/x/1", "/c/ok/x/%", "/c/ok/x/%4"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.RawPath = path // http.Server hands such a path over as is
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", path, rec.Code, rec.Body)
		}
	}
}

// TestQuery: a parameter that does not decode, one given twice and an
// unknown one are refused, not dropped or merged.
func TestQuery(t *testing.T) {
	known := []string{"kind", "to", "tag"}
	q, err := Query(httptest.NewRequest("GET", "/x?kind=uni%20versity&tag=a&tag=b", nil), known, "tag")
	if err != nil || q.Get("kind") != "uni versity" || len(q["tag"]) != 2 {
		t.Fatalf("%v %v", q, err)
	}
	get := func(query string) *http.Request {
		req := httptest.NewRequest("GET", "/x", nil)
		req.URL.RawQuery = query
		return req
	}
	for query, msg := range map[string]string{
		"kind=%zz":         "does not decode",
		"to=%zz":           "does not decode",
		"kind=a;to=1":      "does not decode",
		"kind=a&kind=b":    `"kind" given 2 times`,
		"to=1&to=1":        `"to" given 2 times`,
		"shoe=1":           `unknown query parameter "shoe"`,
		"kind=a&%zz=1":     "does not decode",
		"kind=a&to=1&to=2": `"to" given 2 times`,
	} {
		_, err := Query(get(query), known, "tag")
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("?%s: %v, want an error saying %s", query, err, msg)
		}
	}
	if _, err := Query(httptest.NewRequest("GET", "/x?anything=1", nil), nil); err != nil {
		t.Errorf("no known list: %v", err)
	}
}
