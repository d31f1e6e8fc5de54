package apitest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
)

// recorder is a TB that keeps the failures, so that a test can check that
// the harness fails a test it should fail.
type recorder struct {
	mu       sync.Mutex
	errs     []string
	logs     []string
	cleanups []func()
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(f string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(f, a...))
}
func (r *recorder) Fatalf(f string, a ...any) { r.Errorf(f, a...) }
func (r *recorder) Logf(f string, a ...any)   { r.logs = append(r.logs, fmt.Sprintf(f, a...)) }
func (r *recorder) Cleanup(f func())          { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Skipped() bool             { return false }
func (r *recorder) Failed() bool              { r.mu.Lock(); defer r.mu.Unlock(); return len(r.errs) > 0 }

// finish runs the cleanups, as the end of a test does, and returns the
// failures.
func (r *recorder) finish() string {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	return strings.Join(r.errs, "\n")
}

const itemsDoc = `{
  "openapi": "3.1.0",
  "info": {"title": "items", "version": "1"},
  "paths": {
    "/items": {"post": {
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewItem"}}}},
      "responses": {
        "201": {"description": "made", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
        "400": {"$ref": "#/components/responses/Error"},
        "415": {"$ref": "#/components/responses/Error"}
      }
    }},
    "/items/{id}": {"get": {
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[a-z]+$"}}],
      "responses": {
        "200": {"description": "the item", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
        "404": {"$ref": "#/components/responses/Error"}
      }
    }},
    "/healthz": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}}}
  },
  "components": {
    "responses": {"Error": {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
    "schemas": {
      "Error": {"type": "object", "required": ["error", "code"], "properties": {"error": {"type": "string"}, "code": {"type": "string"}}},
      "NewItem": {"type": "object", "additionalProperties": false, "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1}}},
      "Short": {"type": "string", "minLength": 1},
      "Item": {"type": "object", "additionalProperties": false, "required": ["name", "kind", "note"], "properties": {
        "name": {"$ref": "#/components/schemas/Short", "maxLength": 8},
        "count": {"type": "integer", "exclusiveMinimum": 0},
        "kind": {"const": "item"},
        "note": {"type": ["string", "null"]},
        "tags": {"type": "array", "prefixItems": [{"type": "string"}], "items": false}
      }}
    }
  }
}`

// service answers the items document honestly unless bad names a way to
// break it.
func service(bad string) *echo.Echo {
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		code := http.StatusInternalServerError
		if he, ok := err.(*echo.HTTPError); ok {
			code = he.Code
		}
		if bad == "text error" {
			c.String(code, "oops")
			return
		}
		c.JSON(code, map[string]string{"error": fmt.Sprint(err), "code": strings.ToLower(http.StatusText(code))})
	}
	item := func(name string) map[string]any {
		m := map[string]any{"name": name, "kind": "item", "note": nil, "tags": []string{"a"}, "count": 1}
		switch bad {
		case "long name":
			m["name"] = "ninechars"
		case "zero count":
			m["count"] = 0
		case "wrong type":
			m["note"] = 5
		case "wrong const":
			m["kind"] = "thing"
		case "extra item":
			m["tags"] = []string{"a", "b"}
		case "missing field":
			delete(m, "note")
		}
		return m
	}
	e.POST("/items", func(c echo.Context) error {
		if ct := c.Request().Header.Get("Content-Type"); ct != "application/json" {
			return echo.NewHTTPError(http.StatusUnsupportedMediaType, "want JSON")
		}
		var b struct{ Name string }
		if err := c.Bind(&b); err != nil || b.Name == "" {
			return echo.NewHTTPError(http.StatusBadRequest, "bad item")
		}
		if bad == "undocumented status" {
			return echo.NewHTTPError(http.StatusConflict, "exists")
		}
		return c.JSON(http.StatusCreated, item(b.Name))
	})
	e.GET("/items/:id", func(c echo.Context) error {
		id := c.Param("id")
		switch {
		case id == "none":
			return echo.NewHTTPError(http.StatusNotFound, "no such item")
		case id == "crash":
			return fmt.Errorf("boom")
		case strings.ToLower(id) != id && bad != "lenient":
			return echo.NewHTTPError(http.StatusNotFound, "no such item")
		case bad == "wrong content type":
			return c.String(http.StatusOK, `{"name":"x"}`)
		case bad == "503":
			return echo.NewHTTPError(http.StatusServiceUnavailable, "down")
		}
		return c.JSON(http.StatusOK, item(id))
	})
	if bad != "unserved" {
		e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	}
	if bad == "undocumented route" {
		e.GET("/debug", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{}) })
	}
	if bad == "unknown path ok" {
		e.RouteNotFound("/*", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{}) })
	}
	return e
}

// driveAll sends one request for every documented answer.
func driveAll(h *Harness) {
	h.Do("POST", "/items", `{"name":"pen"}`)
	h.Do("POST", "/items", `{"name":""}`)
	h.Do("POST", "/items", `{"name":"pen"}`, "Content-Type", "text/plain")
	h.Do("GET", "/items/pen", nil)
	h.Do("GET", "/items/none", nil)
	h.Do("GET", "/healthz", nil)
	h.Do("GET", "/nowhere", nil)     // not in the document: 404 JSON
	h.Do("DELETE", "/healthz", nil)  // method not in the document: 405 JSON
	h.Do("GET", "/items/UPPER", nil) // refused by the document's pattern, and by the server
}

func run(bad string, opts Options, drive func(*Harness)) string {
	r := &recorder{}
	h := New(r, []byte(itemsDoc), service(bad), opts)
	if h != nil {
		drive(h)
	}
	return r.finish()
}

func TestHonestServicePasses(t *testing.T) {
	if errs := run("", Options{}, driveAll); errs != "" {
		t.Fatalf("an honest service failed:\n%s", errs)
	}
}

// Each way a service can drift from its document fails the test.
func TestDriftFails(t *testing.T) {
	for _, tc := range []struct {
		bad, want string
		drive     func(*Harness)
	}{
		{"wrong type", `got number, want null or string`, nil},
		{"wrong const", `value must be 'item'`, nil},
		{"extra item", `false schema`, nil},
		{"missing field", `missing property 'note'`, nil},
		{"long name", `maxLength: got 9, want 8`, nil},         // a keyword next to a $ref applies
		{"zero count", `exclusiveMinimum: got 0, want 0`, nil}, // numeric exclusiveMinimum
		{"undocumented status", "POST /items → 409 does not match the document: status is not supported", nil},
		{"wrong content type", `GET /items/pen → 200 does not match the document: response header Content-Type has unexpected value`, nil},
		{"text error", "answered 404, not a JSON error", nil},
		{"undocumented route", "served but not documented: GET /debug", nil},
		{"unserved", "documented but not served: GET /healthz", nil},
		{"unknown path ok", "GET /nowhere is not in the document, yet it answered 200", nil},
		{"lenient", `the document refuses GET /items/UPPER`, nil},
		{"503", "GET /items/pen answered 503, which its operation does not document", nil},
		{"", "GET /items/crash answered 500", func(h *Harness) { driveAll(h); h.Do("GET", "/items/crash", nil) }},
		{"", "documented answers that no request drove:\n\tGET /items/{id} 404\n\tPOST /items 415", func(h *Harness) {
			h.Do("POST", "/items", `{"name":"pen"}`)
			h.Do("POST", "/items", `{"name":""}`)
			h.Do("GET", "/items/pen", nil)
			h.Do("GET", "/healthz", nil)
		}},
	} {
		drive := tc.drive
		if drive == nil {
			drive = driveAll
		}
		errs := run(tc.bad, Options{}, drive)
		if !strings.Contains(errs, tc.want) {
			t.Errorf("%q: want a failure with %q, got:\n%s", tc.bad, tc.want, errs)
		}
	}
}

func TestUnreachable(t *testing.T) {
	skip404 := func(h *Harness) {
		h.Do("POST", "/items", `{"name":"pen"}`)
		h.Do("POST", "/items", `{"name":""}`)
		h.Do("POST", "/items", `{}`, "Content-Type", "text/plain")
		h.Do("GET", "/items/pen", nil)
		h.Do("GET", "/healthz", nil)
	}
	if errs := run("", Options{Unreachable: map[string]string{"GET /items/{id} 404": "reason"}}, skip404); errs != "" {
		t.Fatalf("a named exemption failed the test:\n%s", errs)
	}
	errs := run("", Options{Unreachable: map[string]string{"GET /items/{id} 404": "reason", "GET /items/{id} 503": "not documented"}}, driveAll)
	for _, want := range []string{"GET /items/{id} 404: driven after all", "GET /items/{id} 503: not in the document"} {
		if !strings.Contains(errs, want) {
			t.Errorf("want %q in:\n%s", want, errs)
		}
	}
}

func TestLoadRefuses(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"3.0 document", `"openapi": "3.1.0"`, `"openapi": "3.0.3"`, `want 3.1.x`},
		{"default response", `"404": {"$ref"`, `"default": {"$ref"`, "a default response hides"},
		{"no 415", `"415": {"$ref": "#/components/responses/Error"}`, `"401": {"$ref": "#/components/responses/Error"}`, "does not document 415"},
		{"error without JSON", `"400": {"$ref": "#/components/responses/Error"}`, `"400": {"description": "bad"}`, "must be documented as application/json"},
		{"broken schema", `"minLength": 1`, `"minLength": "one"`, "loading the document"},
	} {
		doc := strings.Replace(itemsDoc, tc.from, tc.to, 1)
		if doc == itemsDoc {
			t.Fatalf("%s: the replacement did not apply", tc.name)
		}
		_, err := Load([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestEchoPath(t *testing.T) {
	for in, want := range map[string]string{"/v1/x/:id": "/v1/x/{id}", "/a/:b/c/:d": "/a/{b}/c/{d}", "/healthz": "/healthz"} {
		if got, err := echoPath(in); err != nil || got != want {
			t.Errorf("%s: %s %v", in, got, err)
		}
	}
	if _, err := echoPath("/static/*"); err == nil {
		t.Error("a wildcard route was accepted")
	}
}

const secretDoc = `{
  "openapi": "3.1.0",
  "info": {"title": "secret", "version": "1"},
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}, "token": {"type": "apiKey", "in": "query", "name": "token"}},
    "responses": {"Error": {"description": "error", "content": {"application/json": {"schema": {"type": "object", "required": ["error", "code"]}}}}}
  },
  "paths": {
    "/secret": {"get": {"security": [{"bearer": []}], "responses": {
      "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}},
      "401": {"$ref": "#/components/responses/Error"}}}},
    "/claim": {"get": {"security": [{"token": []}], "responses": {
      "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}},
      "403": {"$ref": "#/components/responses/Error"}}}}
  }
}`

// A server that stops checking the credential its document requires fails
// the test: the harness refuses the request the server answered.
func TestSecurity(t *testing.T) {
	serve := func(open bool) *echo.Echo {
		e := echo.New()
		e.GET("/secret", func(c echo.Context) error {
			if !open && c.Request().Header.Get("Authorization") != "Bearer t" {
				return c.JSON(http.StatusUnauthorized, map[string]string{"error": "token", "code": "unauthorized"})
			}
			return c.JSON(http.StatusOK, map[string]string{})
		})
		e.GET("/claim", func(c echo.Context) error {
			if !open && c.QueryParam("token") != "t" {
				return c.JSON(http.StatusForbidden, map[string]string{"error": "token", "code": "wrong_token"})
			}
			return c.JSON(http.StatusOK, map[string]string{})
		})
		return e
	}
	drive := func(h *Harness) {
		h.Do("GET", "/secret", nil)
		h.Do("GET", "/secret", nil, "Authorization", "Bearer wrong")
		h.Do("GET", "/secret", nil, "Authorization", "Bearer t")
		h.Do("GET", "/claim", nil)
		h.Do("GET", "/claim?token=wrong", nil)
		h.Do("GET", "/claim?token=t", nil)
	}
	r := &recorder{}
	drive(New(r, []byte(secretDoc), serve(false), Options{}))
	if errs := r.finish(); errs != "" {
		t.Fatalf("a server that checks its credentials failed:\n%s", errs)
	}
	r = &recorder{}
	drive(New(r, []byte(secretDoc), serve(true), Options{}))
	errs := r.finish()
	for _, want := range []string{"the document refuses GET /secret (security requirements failed: no bearer token), yet the server answered 200",
		"the document refuses GET /claim (security requirements failed: no token query parameter), yet the server answered 200"} {
		if !strings.Contains(errs, want) {
			t.Errorf("want %q in:\n%s", want, errs)
		}
	}
}
