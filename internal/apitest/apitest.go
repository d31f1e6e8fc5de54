// Package apitest holds a service to its OpenAPI 3.1 document in tests: the
// document is the contract, and a conformance test drives a real server
// through a Harness, which checks every request and every answer against
// the document and fails the test when the two drift apart.
//
// For each request the test sends, the harness finds the documented
// operation and validates the request (path and query parameters, security,
// body and its content type) with kin-openapi's openapi3filter; the
// request goes out to the server anyway, since tests send bad requests on
// purpose. It then checks the answer:
//
//   - its status is documented for the operation, and its content type and
//     body match the document's response for that status;
//   - a request the document refuses got a 4xx, never a success;
//   - every error answer (status 400 and above) is JSON {"error", "code"}
//     with both non-empty; status 500 always fails the test, and another
//     5xx only where the document names it (a real upstream failure);
//   - a request to a path or method the document lacks got a JSON 404 or
//     405.
//
// At the end of a test that has not failed otherwise, the harness fails it
// when a documented (operation, status) pair was never driven (unless Options.Unreachable names it with
// its reason), and, from the start, when the server serves a route the
// document lacks or the document names an operation the server does not
// serve (compared with echo's e.Routes()).
//
// A conformance test, in short:
//
//	h := apitest.New(t, openAPIDoc, handler, apitest.Options{}) // handler: the service's *echo.Echo
//	if a := h.Do("GET", "/v1/things/7", nil); a.Status != 200 {
//		t.Fatal(a)
//	}
//	h.Do("POST", "/v1/things", `{}`, "Content-Type", "text/plain") // drives the documented 415
//
// Probe is the harness's adversarial half: from the same document it
// generates bad input for every operation (nulls and wrong types in every
// body member, missing and unknown members, boundary numbers, bodies that
// are not objects, nested deep, over the limit, sent slowly, and bad path
// and query parameters) and fails the test on any 5xx, any dropped
// connection and any success for a request the document refuses. Each
// service's tests run it against a server of their own.
//
// The document must be OpenAPI 3.1. kin-openapi v0.153.0 validates 3.1
// documents with a JSON Schema 2020-12 validator (type arrays such as
// ["string", "null"], const, prefixItems, numeric exclusiveMinimum,
// keywords next to a $ref); this package's tests check that it refuses
// values those keywords exclude, so the documents may use full 3.1.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"
)

// TB is the part of testing.TB the harness uses.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
	Failed() bool
	Skipped() bool
}

// Options configure New. The zero value is the default.
type Options struct {
	// Routes are the routes the server serves. When nil and the handler is
	// an *echo.Echo, its Routes() are used; one or the other is required.
	Routes []*echo.Route
	// Unreachable names documented answers that no test can drive, as
	// "METHOD /path status" with the document's path ("GET /v1/x/{id} 504"),
	// each with the reason. They are left out of the coverage check and
	// logged; one that a test drives after all, or that the document does
	// not name, fails the test (the exemption is stale).
	Unreachable map[string]string
}

// WithoutPages returns routes without the web pages a service serves
// beside its API ("/" and "/ui/…", internal/webui): HTML for people in a
// browser, tested there, and not part of the API's contract.
func WithoutPages(routes []*echo.Route) []*echo.Route {
	var out []*echo.Route
	for _, r := range routes {
		if r.Path == "/" || r.Path == "/ui" || strings.HasPrefix(r.Path, "/ui/") {
			continue
		}
		out = append(out, r)
	}
	return out
}

// Harness is a running server under its document. Its methods may be
// called from several goroutines.
type Harness struct {
	// URL is the server's base URL (http://127.0.0.1:port).
	URL string

	t      TB
	doc    *openapi3.T
	router routers.Router
	opts   Options
	client *http.Client

	mu         sync.Mutex
	documented map[string]bool // "METHOD /path status"
	seen       map[string]int
}

// New loads and validates doc, checks it against the served routes,
// serves h on 127.0.0.1:0 until the test ends, and checks at the end that
// every documented answer was driven.
func New(t TB, doc []byte, h http.Handler, opts Options) *Harness {
	t.Helper()
	d, err := Load(doc)
	if err != nil {
		t.Fatalf("apitest: %v", err)
		return nil
	}
	if opts.Routes == nil {
		e, ok := h.(*echo.Echo)
		if !ok {
			t.Fatalf("apitest: Options.Routes is required for a handler that is not an *echo.Echo")
			return nil
		}
		opts.Routes = e.Routes()
	}
	router, err := gorillamux.NewRouter(d)
	if err != nil {
		t.Fatalf("apitest: routing the document: %v", err)
		return nil
	}
	hn := &Harness{t: t, doc: d, router: router, opts: opts, documented: map[string]bool{}, seen: map[string]int{}}
	for _, op := range operations(d) {
		for _, st := range op.statuses {
			hn.documented[op.key+" "+strconv.Itoa(st)] = true
		}
	}
	if err := hn.checkRoutes(); err != nil {
		t.Errorf("apitest: %v", err)
	}
	srv := httptest.NewServer(h) // listens on 127.0.0.1:0
	hn.URL = srv.URL
	hn.client = &http.Client{Transport: &transport{h: hn, next: srv.Client().Transport}}
	t.Cleanup(func() {
		srv.Close()
		hn.checkCoverage()
	})
	return hn
}

// Load parses an OpenAPI 3.1 document, resolves its (internal) references
// and validates it, adding zkcred's rules: every operation lists explicit
// statuses (no "default"), every error answer is documented as JSON, and
// every operation that takes a JSON body documents 415 for other types.
func Load(doc []byte) (*openapi3.T, error) {
	ld := openapi3.NewLoader()
	ld.IsExternalRefsAllowed = false
	d, err := ld.LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("loading the document: %w", err)
	}
	if !strings.HasPrefix(d.OpenAPI, "3.1.") {
		return nil, fmt.Errorf("the document is OpenAPI %q, want 3.1.x", d.OpenAPI)
	}
	if err := d.Validate(ld.Context); err != nil {
		return nil, fmt.Errorf("invalid document: %w", err)
	}
	var errs []error
	for _, op := range operations(d) {
		if op.op.Responses.Default() != nil {
			errs = append(errs, fmt.Errorf("%s: a default response hides which statuses the server gives; list them", op.key))
		}
		for _, st := range op.statuses {
			r := op.op.Responses.Status(st).Value
			if st >= 400 && (r.Content.Get(echo.MIMEApplicationJSON) == nil || r.Content.Get(echo.MIMEApplicationJSON).Schema == nil) {
				errs = append(errs, fmt.Errorf("%s %d: an error answer must be documented as application/json with a schema", op.key, st))
			}
		}
		if rb := op.op.RequestBody; rb != nil && rb.Value.Content.Get(echo.MIMEApplicationJSON) != nil && op.op.Responses.Status(http.StatusUnsupportedMediaType) == nil {
			errs = append(errs, fmt.Errorf("%s takes a JSON body but does not document 415 for other content types", op.key))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return d, nil
}

type operation struct {
	key      string // "METHOD /path"
	op       *openapi3.Operation
	statuses []int
}

func operations(d *openapi3.T) []operation {
	var ops []operation
	for path, item := range d.Paths.Map() {
		for method, op := range item.Operations() {
			o := operation{key: strings.ToUpper(method) + " " + path, op: op}
			for code := range op.Responses.Map() {
				if st, err := strconv.Atoi(code); err == nil {
					o.statuses = append(o.statuses, st)
				}
			}
			sort.Ints(o.statuses)
			ops = append(ops, o)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].key < ops[j].key })
	return ops
}

// echoPath turns echo's "/v1/x/:id" into the document's "/v1/x/{id}".
func echoPath(p string) (string, error) {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		switch {
		case strings.HasPrefix(s, ":"):
			parts[i] = "{" + s[1:] + "}"
		case strings.Contains(s, "*"):
			return "", fmt.Errorf("route %q: wildcard routes cannot be documented one to one", p)
		}
	}
	return strings.Join(parts, "/"), nil
}

func (h *Harness) checkRoutes() error {
	served := map[string]bool{}
	var errs []error
	for _, r := range h.opts.Routes {
		if r.Method == echo.RouteNotFound {
			continue // echo's own 404 handlers of groups with middleware
		}
		p, err := echoPath(r.Path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		served[r.Method+" "+p] = true
	}
	documented := map[string]bool{}
	for _, op := range operations(h.doc) {
		documented[op.key] = true
		if !served[op.key] {
			errs = append(errs, fmt.Errorf("documented but not served: %s", op.key))
		}
	}
	var undocumented []string
	for k := range served {
		if !documented[k] {
			undocumented = append(undocumented, k)
		}
	}
	sort.Strings(undocumented)
	for _, k := range undocumented {
		errs = append(errs, fmt.Errorf("served but not documented: %s", k))
	}
	return errors.Join(errs...)
}

func (h *Harness) checkCoverage() {
	if h.t.Skipped() || h.t.Failed() {
		return // a test that stopped early drove only part of the document
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var missing, stale []string
	for k := range h.documented {
		if h.seen[k] == 0 {
			if _, ok := h.opts.Unreachable[k]; !ok {
				missing = append(missing, k)
			}
		}
	}
	for k, why := range h.opts.Unreachable {
		switch {
		case !h.documented[k]:
			stale = append(stale, k+": not in the document")
		case h.seen[k] > 0:
			stale = append(stale, k+": driven after all")
		default:
			h.t.Logf("apitest: not driven: %s (%s)", k, why)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		h.t.Errorf("apitest: documented answers that no request drove:\n\t%s", strings.Join(missing, "\n\t"))
	}
	if len(stale) > 0 {
		h.t.Errorf("apitest: stale Unreachable entries:\n\t%s", strings.Join(stale, "\n\t"))
	}
}

// Client returns an HTTP client whose requests the harness checks; use it
// for requests that Do cannot express.
func (h *Harness) Client() *http.Client { return h.client }

// Answer is a response with its body read.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode unmarshals the body into v.
func (a *Answer) Decode(v any) error { return json.Unmarshal(a.Body, v) }

// Code returns the code of an error answer ("" for another answer).
func (a *Answer) Code() string {
	var e struct{ Code string }
	if a.Status < 400 || json.Unmarshal(a.Body, &e) != nil {
		return ""
	}
	return e.Code
}

// Message returns the error message of an error answer.
func (a *Answer) Message() string {
	var e struct{ Error string }
	if a.Status < 400 || json.Unmarshal(a.Body, &e) != nil {
		return ""
	}
	return e.Error
}

func (a *Answer) String() string {
	b := a.Body
	if len(b) > 300 {
		b = append(b[:300:300], "..."...)
	}
	return fmt.Sprintf("%d %s", a.Status, b)
}

// Do sends one request to path (with its query) and returns the answer.
// body is nil (no body), a string or []byte (sent as is) or a value sent
// as its JSON. A body goes out with Content-Type application/json unless
// header names another one; header holds name, value pairs. A transport
// error fails the test.
func (h *Harness) Do(method, path string, body any, header ...string) *Answer {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			h.t.Fatalf("apitest: encoding the body: %v", err)
			return nil
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, h.URL+path, rd)
	if err != nil {
		h.t.Fatalf("apitest: %v", err)
		return nil
	}
	if rd != nil {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	if len(header)%2 != 0 {
		h.t.Fatalf("apitest: header needs name, value pairs")
		return nil
	}
	for i := 0; i < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("apitest: %s %s: %v", method, path, err)
		return nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("apitest: %s %s: reading the answer: %v", method, path, err)
		return nil
	}
	return &Answer{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Seen returns how often an answer ("METHOD /path status") was driven.
func (h *Harness) Seen(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen[key]
}

// transport checks each request and answer on their way.
type transport struct {
	h    *Harness
	next http.RoundTripper
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	ctx := req.Context()
	out := req.Clone(ctx)
	out.Body = io.NopCloser(bytes.NewReader(body))
	if req.Body == nil {
		out.Body = nil
	}

	// The validator reads (and may rewrite) its own copy.
	vreq := req.Clone(ctx)
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	route, params, routeErr := tr.h.router.FindRoute(vreq)
	var in *openapi3filter.RequestValidationInput
	var reqErr error
	if routeErr == nil {
		// The router hands path parameters over still percent-encoded;
		// their values, which the schemas describe, are the decoded ones.
		for k, v := range params {
			if d, err := url.PathUnescape(v); err == nil {
				params[k] = d
			}
		}
		in = &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: authenticate, SkipSettingDefaults: true}}
		reqErr = openapi3filter.ValidateRequest(ctx, in)
	}

	resp, err := tr.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	rbody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(rbody))
	tr.h.check(req, route, in, reqErr, resp, rbody)
	return resp, nil
}

// authenticate accepts a request that carries the credential a security
// scheme asks for; whether it is the right one is the server's to say.
func authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	r := in.RequestValidationInput.Request
	switch {
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
		if tok, ok := strings.CutPrefix(r.Header.Get(echo.HeaderAuthorization), "Bearer "); ok && tok != "" {
			return nil
		}
		return errors.New("no bearer token")
	case s.Type == "apiKey" && s.In == "header":
		if r.Header.Get(s.Name) != "" {
			return nil
		}
		return fmt.Errorf("no %s header", s.Name)
	case s.Type == "apiKey" && s.In == "query":
		if r.URL.Query().Get(s.Name) != "" {
			return nil
		}
		return fmt.Errorf("no %s query parameter", s.Name)
	}
	return fmt.Errorf("security scheme %s/%s is not supported by apitest", s.Type, s.Scheme)
}

func (h *Harness) check(req *http.Request, route *routers.Route, in *openapi3filter.RequestValidationInput, reqErr error, resp *http.Response, body []byte) {
	name := req.Method + " " + req.URL.Path
	st := resp.StatusCode
	documented := false
	key := ""
	if route != nil {
		key = req.Method + " " + route.Path + " " + strconv.Itoa(st)
		h.mu.Lock()
		documented = h.documented[key]
		h.seen[key]++
		h.mu.Unlock()
	}
	if st >= 400 && req.Method != http.MethodHead {
		if err := errorBody(resp.Header.Get(echo.HeaderContentType), body); err != nil {
			h.t.Errorf("apitest: %s answered %d, not a JSON error: %v: %s", name, st, err, snippet(body))
		}
	}
	switch {
	case st == http.StatusInternalServerError:
		h.t.Errorf("apitest: %s answered 500: %s", name, snippet(body))
	case st >= 500 && !documented:
		h.t.Errorf("apitest: %s answered %d, which its operation does not document: %s", name, st, snippet(body))
	}
	if route == nil {
		if st != http.StatusNotFound && st != http.StatusMethodNotAllowed {
			h.t.Errorf("apitest: %s is not in the document, yet it answered %d: %s", name, st, snippet(body))
		}
		return
	}
	if reqErr != nil && st < 400 {
		h.t.Errorf("apitest: the document refuses %s (%v), yet the server answered %d", name, oneLine(reqErr), st)
	}
	rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: st, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(req.Context(), rin); err != nil {
		h.t.Errorf("apitest: %s → %d does not match the document: %v\n\tbody: %s", name, st, oneLine(err), snippet(body))
	}
}

// errorBody checks that an error answer is a JSON object with non-empty
// "error" and "code" strings.
func errorBody(ct string, b []byte) error {
	if err := contentJSON(ct); err != nil {
		return err
	}
	var e map[string]any
	if err := json.Unmarshal(b, &e); err != nil {
		return fmt.Errorf("body is not a JSON object: %v", err)
	}
	for _, k := range []string{"error", "code"} {
		if s, ok := e[k].(string); !ok || s == "" {
			return fmt.Errorf("%q is missing or not a non-empty string", k)
		}
	}
	return nil
}

func contentJSON(ct string) error {
	mt, _, _ := strings.Cut(ct, ";")
	if !strings.EqualFold(strings.TrimSpace(mt), echo.MIMEApplicationJSON) {
		return fmt.Errorf("content type %q, want application/json", ct)
	}
	return nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:297] + "..."
	}
	return s
}

func oneLine(err error) string {
	s := err.Error()
	if i := strings.Index(s, "\n"); i >= 0 {
		s = s[:i]
	}
	return s
}
