package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"
)

// ProbeOptions configure Probe. The zero value probes every operation of
// the document with inputs generated from its schemas.
type ProbeOptions struct {
	// Header holds name, value pairs sent with every request (a bearer
	// token, say), so that probes get past authentication.
	Header []string
	// PathParams gives a value per path parameter that names something the
	// server has (an offer ID, a request ID), so that probes reach the
	// handlers, keyed by "METHOD /path name" or, for every operation, by
	// the name alone; a parameter without one gets a value generated from
	// its schema.
	PathParams map[string]string
	// Query gives the value of a query parameter the same way (a claim
	// token, say); parameters without one are sent only when required.
	Query map[string]string
	// Bodies gives a valid JSON body per operation ("POST /v1/offers"),
	// which the probe mutates member by member; an operation without one
	// gets a body generated from its schema. A function is called anew for
	// each probe (for bodies that are good once, such as a presentation).
	Bodies map[string]func() string
	// Skip names operations ("METHOD /path") not to probe, each with the
	// reason.
	Skip map[string]string
	// BodyLimit is the server's request body limit in bytes: the huge
	// bodies are just above it, and the big ones below it. 0 means 1 MiB.
	BodyLimit int
	// SlowFor is how long the slow client takes to send a body, in ten
	// pieces; 0 means 500 ms.
	SlowFor time.Duration
}

// Probe sends bad input generated from an OpenAPI 3.1 document to the
// server at baseURL and fails t on any answer with a status of 500 or
// more, on a connection the server drops or a request that gets no answer
// within 30 s, on an error answer that is not JSON {"error", "code"}, and
// on a success for a request the document refuses. For each operation it
// sends, beside one request as documented:
//
//   - JSON bodies with each member (at any depth) set to null, to every
//     wrong JSON type, to boundary numbers (-1, 2^53, 2^64−1, 2^64, 1e308,
//     1.5) and to a long string, each member removed in turn, an unknown
//     member added, and the documented members the body lacks added with
//     wrong values;
//   - whole bodies that are no JSON object (null, a list, a number, cut
//     short, given twice), nested thousands deep, repeating a member,
//     just over the body limit, and big but within it;
//   - path parameters and query parameters with wrong types, boundary
//     numbers, bad percent escapes, huge values, repeated and unknown
//     parameters;
//   - the documented body from a slow client, in pieces over SlowFor.
//
// Probe runs after the test's own requests and may change the server's
// state (a mutated body can still be valid), so give it a server of its
// own.
func Probe(t TB, doc []byte, baseURL string, o ProbeOptions) {
	t.Helper()
	d, err := Load(doc)
	if err != nil {
		t.Fatalf("apitest: %v", err)
		return
	}
	router, err := gorillamux.NewRouter(d)
	if err != nil {
		t.Fatalf("apitest: routing the document: %v", err)
		return
	}
	if o.BodyLimit <= 0 {
		o.BodyLimit = 1 << 20
	}
	if o.SlowFor <= 0 {
		o.SlowFor = 500 * time.Millisecond
	}
	if len(o.Header)%2 != 0 {
		t.Fatalf("apitest: ProbeOptions.Header needs name, value pairs")
		return
	}
	p := &prober{t: t, base: strings.TrimRight(baseURL, "/"), router: router, o: o,
		client: &http.Client{Timeout: 30 * time.Second}}
	for _, op := range operations(d) {
		if why, ok := o.Skip[op.key]; ok {
			t.Logf("apitest: probe skips %s (%s)", op.key, why)
			continue
		}
		p.operation(op)
	}
	for k := range o.Skip {
		if !p.seenOps[k] && !hasOperation(d, k) {
			t.Errorf("apitest: ProbeOptions.Skip names %s, which the document lacks", k)
		}
	}
	t.Logf("apitest: probe sent %d requests", p.sent)
}

func hasOperation(d *openapi3.T, key string) bool {
	for _, op := range operations(d) {
		if op.key == key {
			return true
		}
	}
	return false
}

type prober struct {
	t       TB
	base    string
	router  routers.Router
	o       ProbeOptions
	client  *http.Client
	mu      sync.Mutex
	sent    int
	seenOps map[string]bool
}

// probeReq is one request a probe sends.
type probeReq struct {
	what   string // what was changed, for the failure message
	method string
	path   string // with its query, escaped as sent
	body   []byte
	slow   bool
	noBody bool
}

func (p *prober) operation(op operation) {
	method, tmpl, _ := strings.Cut(op.key, " ")
	params := op.op.Parameters
	// Parameters declared on the path item apply too.
	if item := p.pathItem(tmpl); item != nil {
		params = append(append(openapi3.Parameters{}, item.Parameters...), params...)
	}
	pathVals := map[string]string{}
	var queryParams []*openapi3.Parameter
	for _, pr := range params {
		prm := pr.Value
		switch prm.In {
		case openapi3.ParameterInPath:
			if v, ok := p.o.PathParams[op.key+" "+prm.Name]; ok {
				pathVals[prm.Name] = v
			} else if v, ok := p.o.PathParams[prm.Name]; ok {
				pathVals[prm.Name] = v
			} else {
				pathVals[prm.Name] = sampleString(prm.Schema)
			}
		case openapi3.ParameterInQuery:
			queryParams = append(queryParams, prm)
		}
	}
	fill := func(vals map[string]string) string {
		out := tmpl
		for k, v := range vals {
			out = strings.ReplaceAll(out, "{"+k+"}", v)
		}
		return out
	}
	good := url.Values{}
	for _, q := range queryParams {
		if v, ok := p.o.Query[op.key+" "+q.Name]; ok {
			good.Set(q.Name, v)
		} else if v, ok := p.o.Query[q.Name]; ok {
			good.Set(q.Name, v)
		} else if q.Required {
			good.Set(q.Name, sampleString(q.Schema))
		}
	}
	path := fill(escapeAll(pathVals))
	withQuery := func(q string) string {
		if q == "" {
			return path
		}
		return path + "?" + q
	}
	var base []byte
	hasBody := op.op.RequestBody != nil && op.op.RequestBody.Value.Content.Get(echo.MIMEApplicationJSON) != nil
	var bodySchema *openapi3.Schema
	bodyFor := func() []byte {
		if !hasBody {
			return nil
		}
		if f, ok := p.o.Bodies[op.key]; ok {
			return []byte(f())
		}
		b, _ := json.Marshal(sample(bodySchema, 0))
		return b
	}
	if hasBody {
		if ref := op.op.RequestBody.Value.Content.Get(echo.MIMEApplicationJSON).Schema; ref != nil {
			bodySchema = ref.Value
		}
		base = bodyFor()
	}
	send := func(r probeReq) {
		r.method = method
		if r.body == nil && hasBody && !r.noBody {
			r.body = bodyFor()
		}
		p.send(op.key, r)
	}

	// As documented.
	send(probeReq{what: "the documented request", path: withQuery(good.Encode())})

	// Path parameters.
	for name := range pathVals {
		for _, bad := range badStrings() {
			vals := escapeAll(pathVals)
			vals[name] = bad
			send(probeReq{what: "path parameter " + name + " = " + clip(bad), path: fill(vals) + queryString(good)})
		}
	}

	// Query parameters.
	for _, q := range queryParams {
		for _, bad := range badStrings() {
			vals := cloneValues(good)
			vals.Del(q.Name)
			send(probeReq{what: "query " + q.Name + " = " + clip(bad), path: withQuery(joinQuery(vals.Encode(), url.QueryEscape(q.Name)+"="+bad))})
		}
		v := sampleString(q.Schema)
		send(probeReq{what: "query " + q.Name + " repeated", path: withQuery(joinQuery(good.Encode(), q.Name+"="+url.QueryEscape(v)+"&"+q.Name+"="+url.QueryEscape(v)))})
		if !q.Required {
			vals := cloneValues(good)
			vals.Del(q.Name)
			send(probeReq{what: "query " + q.Name + " alone", path: withQuery(joinQuery(vals.Encode(), q.Name+"="+url.QueryEscape(v)))})
		}
	}
	send(probeReq{what: "an unknown query parameter", path: withQuery(joinQuery(good.Encode(), "zz_unknown=1"))})
	send(probeReq{what: "a query that does not decode", path: withQuery(joinQuery(good.Encode(), "%zz=%zz"))})

	if !hasBody {
		return
	}
	path = withQuery(good.Encode())

	// Member by member.
	var root any
	dec := json.NewDecoder(bytes.NewReader(base))
	dec.UseNumber()
	if err := dec.Decode(&root); err == nil {
		for _, at := range leaves(root, nil) {
			for _, v := range badValues() {
				body, ok := replaced(base, at, v.v, false)
				if ok {
					send(probeReq{what: pathString(at) + " = " + v.name, path: path, body: body})
				}
			}
			if len(at) > 0 {
				if body, ok := replaced(base, at, nil, true); ok {
					send(probeReq{what: pathString(at) + " removed", path: path, body: body})
				}
			}
		}
		if obj, ok := root.(map[string]any); ok {
			// Documented members the body lacks, with wrong values.
			if bodySchema != nil {
				for name := range bodySchema.Properties {
					if _, has := obj[name]; has {
						continue
					}
					for _, v := range badValues() {
						if body, ok := replaced(base, []any{name}, v.v, false); ok {
							send(probeReq{what: name + " added as " + v.name, path: path, body: body})
						}
					}
				}
			}
			if body, ok := replaced(base, []any{"zz_unknown"}, 1, false); ok {
				send(probeReq{what: "an unknown member", path: path, body: body})
			}
			// Each member given twice, first with another value.
			var compact bytes.Buffer
			if json.Compact(&compact, base) == nil && bytes.HasPrefix(compact.Bytes(), []byte("{")) {
				for name := range obj {
					k, _ := json.Marshal(name)
					dup := append(append([]byte("{"), k...), `:"zz",`...)
					send(probeReq{what: "member " + name + " given twice", path: path, body: append(dup, compact.Bytes()[1:]...)})
				}
			}
		}
	}

	// Whole bodies.
	deep := min(5000, p.o.BodyLimit/3)
	for _, b := range []struct{ what, body string }{
		{"body null", `null`}, {"body a list", `[]`}, {"body a number", `0`}, {"body a string", `"x"`},
		{"body true", `true`}, {"body {}", `{}`}, {"an empty body with a JSON type", ``},
		{"body cut short", string(base[:len(base)/2])}, {"body given twice", string(base) + string(base)},
		{"body with a trailing comma", strings.TrimSuffix(strings.TrimSpace(string(base)), "}") + `,}`},
		{"body nested deep", strings.Repeat("[", deep) + strings.Repeat("]", deep)},
		{"body an object nested deep", strings.Repeat(`{"a":`, deep/5) + "1" + strings.Repeat("}", deep/5)},
		{"body not UTF-8", "{\"\xff\xfe\":1}"},
		{"body with a NUL", "{\"a\u0000\":1}"},
	} {
		send(probeReq{what: b.what, path: path, body: []byte(b.body), noBody: true})
	}
	if obj, ok := root.(map[string]any); ok && len(obj) > 0 {
		// Each member made huge (over the limit) and big (within it).
		for name := range obj {
			for _, n := range []int{p.o.BodyLimit + 1024, p.o.BodyLimit - len(base) - 64} {
				if n <= 0 {
					continue
				}
				if body, ok := replaced(base, []any{name}, strings.Repeat("a", n), false); ok {
					send(probeReq{what: fmt.Sprintf("%s a string of %d bytes", name, n), path: path, body: body})
				}
				items := make([]int, max(1, n/2))
				if body, ok := replaced(base, []any{name}, items, false); ok {
					send(probeReq{what: fmt.Sprintf("%s a list of %d numbers", name, len(items)), path: path, body: body})
				}
			}
		}
	}
	send(probeReq{what: "a body over the limit", path: path, body: []byte(`{"a":"` + strings.Repeat("a", p.o.BodyLimit+1024) + `"}`), noBody: true})
	send(probeReq{what: "the documented body from a slow client", path: path, slow: true})
}

func (p *prober) pathItem(tmpl string) *openapi3.PathItem {
	route, _, err := p.router.FindRoute(&http.Request{Method: http.MethodGet, URL: &url.URL{Path: tmpl}})
	if err != nil || route == nil {
		return nil
	}
	return route.PathItem
}

// send sends one probe and checks its answer.
func (p *prober) send(key string, r probeReq) {
	p.t.Helper()
	p.mu.Lock()
	p.sent++
	if p.seenOps == nil {
		p.seenOps = map[string]bool{}
	}
	p.seenOps[key] = true
	p.mu.Unlock()
	target := p.base + r.path
	u, err := url.Parse(target)
	if err != nil {
		// Not a URL Go would send (a raw control byte, say): nothing
		// reaches the server.
		return
	}
	var rd io.Reader
	if r.body != nil {
		rd = bytes.NewReader(r.body)
		if r.slow {
			rd = &slowReader{b: r.body, pause: p.o.SlowFor / 10, step: max(1, len(r.body)/10)}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), rd)
	if err != nil {
		return
	}
	req.URL = u
	if r.body != nil {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		if r.slow {
			req.ContentLength = -1
		}
	}
	for i := 0; i < len(p.o.Header); i += 2 {
		req.Header.Set(p.o.Header[i], p.o.Header[i+1])
	}
	name := fmt.Sprintf("%s %s (%s)", r.method, clip(r.path), r.what)
	resp, err := p.client.Do(req)
	if err != nil {
		p.t.Errorf("apitest: probe %s: no answer: %v", name, err)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		p.t.Errorf("apitest: probe %s: the answer broke off: %v", name, err)
		return
	}
	st := resp.StatusCode
	if st >= 500 {
		p.t.Errorf("apitest: probe %s answered %d: %s", name, st, snippet(body))
		return
	}
	if st >= 400 && !(st == http.StatusBadRequest && !strings.HasPrefix(resp.Header.Get(echo.HeaderContentType), echo.MIMEApplicationJSON) && goServerRefused(body)) {
		if err := errorBody(resp.Header.Get(echo.HeaderContentType), body); err != nil {
			p.t.Errorf("apitest: probe %s answered %d, not a JSON error: %v: %s", name, st, err, snippet(body))
		}
	}
	if st < 400 && !r.slow {
		if err := p.validate(r, u); err != nil {
			p.t.Errorf("apitest: probe %s: the document refuses it (%v), yet the server answered %d: %s", name, oneLine(err), st, snippet(body))
		}
	}
}

// goServerRefused reports a refusal by Go's HTTP server itself, before any
// handler (a request line it cannot parse): plain text, never from the
// service.
func goServerRefused(body []byte) bool {
	return bytes.HasPrefix(body, []byte("400 Bad Request"))
}

// validate checks a request against the document.
func (p *prober) validate(r probeReq, u *url.URL) error {
	req, err := http.NewRequest(r.method, u.String(), bytes.NewReader(r.body))
	if err != nil {
		return nil
	}
	req.URL = u
	if r.body != nil {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	for i := 0; i < len(p.o.Header); i += 2 {
		req.Header.Set(p.o.Header[i], p.o.Header[i+1])
	}
	route, params, err := p.router.FindRoute(req)
	if err != nil {
		return err
	}
	for k, v := range params {
		if d, err := url.PathUnescape(v); err == nil {
			params[k] = d
		}
	}
	// An operation that takes query parameters must not guess at a query
	// that does not decode, nor pick one of a parameter's repeats (OpenAPI
	// allows parameters it does not name, and an operation without any
	// may ignore its query).
	var takesQuery bool
	for _, prm := range route.Operation.Parameters {
		takesQuery = takesQuery || prm.Value.In == openapi3.ParameterInQuery
	}
	if q, qerr := url.ParseQuery(u.RawQuery); takesQuery && qerr != nil {
		return fmt.Errorf("query does not decode: %v", qerr)
	} else if takesQuery {
		for name, vs := range q {
			prm := route.Operation.Parameters.GetByInAndName(openapi3.ParameterInQuery, name)
			if len(vs) > 1 && prm != nil && (prm.Schema == nil || prm.Schema.Value == nil || !prm.Schema.Value.Type.Includes(openapi3.TypeArray)) {
				return fmt.Errorf("query parameter %s given %d times", name, len(vs))
			}
		}
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: authenticate, SkipSettingDefaults: true}}
	return openapi3filter.ValidateRequest(context.Background(), in)
}

// slowReader hands out its bytes in steps, pausing before each.
type slowReader struct {
	b     []byte
	pause time.Duration
	step  int
}

func (s *slowReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	time.Sleep(s.pause)
	n := copy(p[:min(len(p), s.step)], s.b)
	s.b = s.b[n:]
	return n, nil
}

// badValue is a JSON value put where another belongs.
type badValue struct {
	name string
	v    any
}

func badValues() []badValue {
	return []badValue{
		{"null", nil}, {"true", true}, {"false", false}, {`"x"`, "x"}, {`""`, ""}, {"{}", map[string]any{}},
		{"[]", []any{}}, {"[null]", []any{nil}}, {"0", json.Number("0")}, {"-1", json.Number("-1")},
		{"1.5", json.Number("1.5")}, {"2^53+1", json.Number("9007199254740993")},
		{"2^64-1", json.Number("18446744073709551615")}, {"2^64", json.Number("18446744073709551616")},
		{"1e308", json.Number("1e308")}, {"-1e308", json.Number("-1e308")}, {"1e400", json.Number("1e400")},
		{`"-1"`, "-1"}, {`"18446744073709551616"`, "18446744073709551616"},
		{"the field modulus", "21888242871839275222246405745257275088548364400416034343698204186575808495617"},
		{"a long string", strings.Repeat("z", 2000)}, {"a string of control bytes", "\u0000\u0001\u001f"},
		{"a year-10000 time", "9999-12-31T23:59:59-23:59"},
	}
}

// badStrings are path and query values, as sent (escaped where needed).
func badStrings() []string {
	return []string{
		"", "0", "-1", "01", "1.5", "18446744073709551615", "18446744073709551616", "99999999999999999999999999",
		"21888242871839275222246405745257275088548364400416034343698204186575808495617",
		"x", "%zz", "%", "%00", "%2F", "..", "%2E%2E", "null", "true", "%E2%9C%93", "a%20b",
		strings.Repeat("9", 300), strings.Repeat("a", 8000), "urn%3Auuid%3A00000000-0000-4000-8000-000000000000",
	}
}

// leaves returns the paths of every value in v (the root included), depth
// first.
func leaves(v any, at []any) [][]any {
	out := [][]any{append([]any(nil), at...)}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, leaves(x[k], append(at, k))...)
		}
	case []any:
		for i, e := range x {
			if i >= 3 {
				break // three elements of a list say what the rest would
			}
			out = append(out, leaves(e, append(at, i))...)
		}
	}
	return out
}

// replaced returns base with the value at path set to v (or removed), and
// false when path leads nowhere.
func replaced(base []byte, path []any, v any, remove bool) ([]byte, bool) {
	var root any
	dec := json.NewDecoder(bytes.NewReader(base))
	dec.UseNumber()
	if dec.Decode(&root) != nil {
		return nil, false
	}
	if len(path) == 0 {
		if remove {
			return nil, false
		}
		root = v
	} else {
		parent := root
		for _, step := range path[:len(path)-1] {
			switch c := parent.(type) {
			case map[string]any:
				parent = c[step.(string)]
			case []any:
				parent = c[step.(int)]
			default:
				return nil, false
			}
		}
		last := path[len(path)-1]
		switch c := parent.(type) {
		case map[string]any:
			k, ok := last.(string)
			if !ok {
				return nil, false
			}
			if remove {
				delete(c, k)
			} else {
				c[k] = v
			}
		case []any:
			i, ok := last.(int)
			if !ok {
				return nil, false
			}
			if remove {
				c = append(c[:i], c[i+1:]...)
				// the shortened list must replace the old one in its parent
				return replacedList(base, path[:len(path)-1], c)
			}
			c[i] = v
		default:
			return nil, false
		}
	}
	b, err := json.Marshal(root)
	return b, err == nil
}

func replacedList(base []byte, path []any, l []any) ([]byte, bool) {
	return replaced(base, path, l, false)
}

func pathString(path []any) string {
	if len(path) == 0 {
		return "the body"
	}
	var b strings.Builder
	for _, s := range path {
		switch x := s.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(x)
		case int:
			b.WriteString("[" + strconv.Itoa(x) + "]")
		}
	}
	return b.String()
}

// sample returns a value that the schema describes, as far as a simple
// reading of it goes: examples, enums and consts first, then the type's
// plainest value.
func sample(s *openapi3.Schema, depth int) any {
	if s == nil || depth > 8 {
		return map[string]any{}
	}
	if s.Example != nil {
		return s.Example
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	if s.Const != nil {
		return s.Const
	}
	for _, alt := range [][]*openapi3.SchemaRef{s.AllOf, s.OneOf, s.AnyOf} {
		if len(alt) > 0 && alt[0].Value != nil {
			return sample(alt[0].Value, depth+1)
		}
	}
	switch {
	case s.Type.Includes(openapi3.TypeObject) || len(s.Properties) > 0:
		out := map[string]any{}
		for name, p := range s.Properties {
			out[name] = sample(p.Value, depth+1)
		}
		return out
	case s.Type.Includes(openapi3.TypeArray):
		var item any = "x"
		if s.Items != nil {
			item = sample(s.Items.Value, depth+1)
		}
		n := max(1, int(s.MinItems))
		out := make([]any, n)
		for i := range out {
			out[i] = item
		}
		return out
	case s.Type.Includes(openapi3.TypeInteger), s.Type.Includes(openapi3.TypeNumber):
		if s.Min != nil {
			return *s.Min
		}
		return 1
	case s.Type.Includes(openapi3.TypeBoolean):
		return true
	}
	return sampleString(&openapi3.SchemaRef{Value: s})
}

// sampleString returns a string the schema accepts, if one of a few
// candidates does.
func sampleString(ref *openapi3.SchemaRef) string {
	if ref == nil || ref.Value == nil {
		return "x"
	}
	s := ref.Value
	if s.Example != nil {
		return fmt.Sprint(s.Example)
	}
	if len(s.Enum) > 0 {
		return fmt.Sprint(s.Enum[0])
	}
	for _, c := range []string{"1", "x", "0", "true", strings.Repeat("ab", 32), "2030-01-01T00:00:00Z",
		"urn:uuid:00000000-0000-4000-8000-000000000000", strings.Repeat("0", 64), "a:b"} {
		var v any = c
		if s.Type.Includes(openapi3.TypeInteger) || s.Type.Includes(openapi3.TypeNumber) {
			if n, err := strconv.ParseFloat(c, 64); err == nil {
				v = n
			} else {
				continue
			}
		}
		if s.Type.Includes(openapi3.TypeBoolean) {
			if c != "true" {
				continue
			}
			v = true
		}
		if s.VisitJSON(v) == nil {
			return c
		}
	}
	return "x"
}

func escapeAll(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = url.PathEscape(v)
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func queryString(v url.Values) string {
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

func joinQuery(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "&" + b
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
