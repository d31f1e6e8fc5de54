package verifier

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkcred/zkcred/wire"
)

func TestStrictJSON(t *testing.T) {
	e := newEnv(t, nil)
	r := e.newRequest("hire")
	good, _ := json.Marshal(e.honest(e.alice(), r))
	modulus := "21888242871839275222246405745257275088548364400416034343698204186575808495617"
	mutate := func(f func(m map[string]any)) string {
		var m map[string]any
		json.Unmarshal(good, &m)
		f(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	cases := map[string]string{
		"unknown field":           mutate(func(m map[string]any) { m["extra"] = 1 }),
		"trailing data":           string(good) + `{}`,
		"trailing garbage":        string(good) + `x`,
		"root equal to modulus":   mutate(func(m map[string]any) { m["root"] = modulus }),
		"nullifier above modulus": mutate(func(m map[string]any) { m["nullifier"] = modulus + "0" }),
		"nonce as a number":       mutate(func(m map[string]any) { m["nonce"] = 5 }),
		"leading zero":            mutate(func(m map[string]any) { m["root"] = "01" }),
		"disclosed above modulus": mutate(func(m map[string]any) {
			m["disclosed"].(map[string]any)["degree"] = modulus
		}),
		"proof not base64":  mutate(func(m map[string]any) { m["proof"] = "!!!" }),
		"empty proof":       mutate(func(m map[string]any) { m["proof"] = "" }),
		"negative height":   mutate(func(m map[string]any) { m["height"] = -1 }),
		"missing requestId": mutate(func(m map[string]any) { delete(m, "requestId") }),
		"empty body":        "",
		"not JSON":          "hello",
		"array":             "[]",
	}
	for name, body := range cases {
		for _, path := range []string{"/v1/requests/" + r.ID + "/presentations", "/v1/verify"} {
			st, eb := e.do("POST", path, body, nil)
			if st != 400 || eb.Code != "malformed" {
				t.Errorf("%s to %s: %d %+v", name, path, st, eb)
			}
		}
	}
	if st, eb := e.do("POST", "/v1/requests", `{"policy":"hire","x":1}`, nil); st != 400 || !strings.Contains(eb.Error, `"x"`) {
		t.Errorf("unknown field in create: %d %+v", st, eb)
	}
	if st, eb := e.do("POST", "/v1/verify/batch", `{"presentations":[]}`, nil); st != 400 {
		t.Errorf("empty batch: %d %+v", st, eb)
	}
	// Nothing above reached the store: the request is still pending and answerable.
	if st, eb, _ := e.submit(r, json.RawMessage(good)); st != 200 {
		t.Fatalf("after malformed attempts: %d %+v", st, eb)
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxBody = 2048; o.MaxBatch = 4 })
	r := e.newRequest("hire")
	big := `{"requestId":"` + r.ID + `","pad":"` + strings.Repeat("a", 4096) + `"}`
	if st, eb := e.do("POST", "/v1/verify", big, nil); st != 413 || eb.Code != "body_too_large" {
		t.Fatalf("big body: %d %+v", st, eb)
	}
	p := e.honest(e.alice(), r)
	items := make([]any, 5)
	for i := range items {
		items[i] = p
	}
	if st, eb := e.do("POST", "/v1/verify/batch", map[string]any{"presentations": items}, nil); st != 400 || !strings.Contains(eb.Error, "want 1 to 4") {
		t.Fatalf("batch above MaxBatch: %d %+v", st, eb)
	}
}

func TestRateLimitBehindTrustedProxy(t *testing.T) {
	get := func(e *env, xff string) int {
		req, _ := http.NewRequest("GET", e.http.URL+"/v1/requests/AAAAAAAAAAAAAAAAAAAAAA", nil)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		resp, err := e.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode == 429 {
			var eb wire.Error
			if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil || eb.Code != "rate_limited" {
				t.Fatalf("429 body: %+v %v", eb, err)
			}
		}
		return resp.StatusCode
	}
	limit := func(o *Options) { o.RateLimit = 0.001; o.RateBurst = 2 }

	// Behind a trusted proxy (loopback here), clients are told apart by
	// X-Forwarded-For.
	e := newEnv(t, func(o *Options) { limit(o); o.TrustedProxies = []string{"127.0.0.1/32", "::1/128"} })
	for i, want := range []int{404, 404, 429} {
		if st := get(e, "203.0.113.7"); st != want {
			t.Fatalf("client A request %d: %d, want %d", i, st, want)
		}
	}
	if st := get(e, "203.0.113.8"); st != 404 {
		t.Fatalf("client B limited by A's use: %d", st)
	}
	// A client cannot escape by claiming an address in front of its own.
	if st := get(e, "198.51.100.1, 203.0.113.7"); st != 429 {
		t.Fatalf("spoofed XFF prefix escaped the limit: %d", st)
	}

	// Without trusted proxies X-Forwarded-For is ignored: one peer, one bucket.
	e2 := newEnv(t, limit)
	get(e2, "203.0.113.1")
	get(e2, "203.0.113.2")
	if st := get(e2, "203.0.113.3"); st != 429 {
		t.Fatalf("untrusted XFF split the bucket: %d", st)
	}
	// Health and metrics are not limited.
	if st, _ := e2.do("GET", "/healthz", nil, nil); st != 200 {
		t.Fatalf("healthz limited: %d", st)
	}
}

// TestCreateWithoutBody: with one policy, an empty POST (curl -X POST)
// creates a request under it, whatever Content-Type it names.
func TestCreateWithoutBody(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Policies = o.Policies[:1] })
	for _, ct := range []string{"", "application/x-www-form-urlencoded"} {
		req, _ := http.NewRequest("POST", e.http.URL+"/v1/requests", nil)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		req.Header.Set(auth[0], auth[1])
		resp, err := e.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var r wire.Request
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if resp.StatusCode != 201 || err != nil || r.Policy != "hire" {
			t.Fatalf("Content-Type %q: %d %v %+v", ct, resp.StatusCode, err, r)
		}
	}
}

// TestRequestLog: one slog line per request, refused ones included.
func TestRequestLog(t *testing.T) {
	var buf syncBuffer
	e := newEnv(t, func(o *Options) { o.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })
	e.do("GET", "/v1/requests/AAAAAAAAAAAAAAAAAAAAAA", nil, nil)
	req, _ := http.NewRequest("POST", e.http.URL+"/v1/verify", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m struct {
			Msg, Method, Route string
			Status             int
		}
		if json.Unmarshal([]byte(l), &m) == nil && m.Msg == "http request" {
			got = append(got, fmt.Sprintf("%s %s %d", m.Method, m.Route, m.Status))
		}
	}
	if want := "GET /v1/requests/:id 404,POST /v1/verify 415"; strings.Join(got, ",") != want {
		t.Fatalf("request log %q, want %q\n%s", got, want, buf.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

func TestHealthMetricsAndUnknownRoutes(t *testing.T) {
	e := newEnv(t, nil)
	r := e.newRequest("hire")
	e.submit(r, e.honest(e.alice(), r))
	resp, err := e.http.Client().Get(e.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`zkcred_verifier_presentations_total{endpoint="submit",outcome="verified"} 1`, "zkcred_verifier_requests_created_total 1"} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("metrics lack %q", want)
		}
	}
	if st, eb := e.do("GET", "/v2/nothing", nil, nil); st != 404 || eb.Code != "not_found" {
		t.Fatalf("unknown route: %d %+v", st, eb)
	}
	if st, eb := e.do("DELETE", "/v1/requests", nil, nil); st != 405 || eb.Code != "method_not_allowed" {
		t.Fatalf("wrong method: %d %+v", st, eb)
	}
}

// TestCreateAccess: requests of a policy that is not public need the
// create token; a public policy's requests do not, but a wrong token is
// refused either way.
func TestCreateAccess(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Policies[1].Public = true }) // "vote" is public
	create := func(policy string, hdr ...string) (int, wire.Error) {
		var r wire.CreatedRequest
		st, eb := e.do("POST", "/v1/requests", `{"policy":"`+policy+`"}`, &r, hdr...)
		if st == 201 && r.ResultToken == "" {
			t.Fatalf("%s: no result token", policy)
		}
		return st, eb
	}
	for _, hdr := range [][]string{nil, {"Authorization", "Bearer wrong"}, {"Authorization", testCreateToken},
		{"Authorization", "Bearer " + testCreateToken + "2"}, {"Authorization", "bearer " + testCreateToken}} {
		if st, eb := create("hire", hdr...); st != 401 || eb.Code != "unauthorized" {
			t.Fatalf("hire with %q: %d %+v", hdr, st, eb)
		}
	}
	if st, eb := create("hire", auth...); st != 201 {
		t.Fatalf("hire with the token: %d %+v", st, eb)
	}
	if st, eb := create("vote"); st != 201 {
		t.Fatalf("public vote without a token: %d %+v", st, eb)
	}
	if st, eb := create("vote", "Authorization", "Bearer wrong"); st != 401 {
		t.Fatalf("public vote with a wrong token: %d %+v", st, eb)
	}
	if st, eb := create("vote", auth...); st != 201 {
		t.Fatalf("public vote with the token: %d %+v", st, eb)
	}
	// Without a configured token, only public policies can be created
	// over HTTP (in process, CreateRequest can make any).
	e2 := newEnv(t, func(o *Options) { o.CreateToken = "" })
	if st, eb := e2.do("POST", "/v1/requests", `{"policy":"hire"}`, nil); st != 401 || !strings.Contains(eb.Error, "not public") {
		t.Fatalf("no token configured: %d %+v", st, eb)
	}
	if st, _ := e2.do("POST", "/v1/requests", `{"policy":"hire"}`, nil, "Authorization", "Bearer anything"); st != 401 {
		t.Fatalf("a token when none is configured: %d", st)
	}
	if _, err := e2.srv.CreateRequest("hire"); err != nil {
		t.Fatal(err)
	}
}

// TestPublicQuota: one client holds at most PublicQuota open requests of
// public policies; they count until they expire, other clients and the
// create token's holder are not limited by them.
func TestPublicQuota(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Policies[1].Public = true
		o.PublicQuota = 3
		o.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
	})
	from := func(client string, hdr ...string) (int, wire.Error, http.Header) {
		req, _ := http.NewRequest("POST", e.http.URL+"/v1/requests", strings.NewReader(`{"policy":"vote"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", client)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := e.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var eb wire.Error
		json.NewDecoder(resp.Body).Decode(&eb)
		return resp.StatusCode, eb, resp.Header
	}
	for i := range 3 {
		if st, eb, _ := from("203.0.113.1"); st != 201 {
			t.Fatalf("request %d: %d %+v", i, st, eb)
		}
	}
	st, eb, h := from("203.0.113.1")
	if st != 429 || eb.Code != "quota_exceeded" || h.Get("Retry-After") == "" {
		t.Fatalf("over the quota: %d %+v %v", st, eb, h)
	}
	if st, _, _ := from("203.0.113.2"); st != 201 {
		t.Fatalf("another client: %d", st)
	}
	if st, _, _ := from("203.0.113.1", auth...); st != 201 {
		t.Fatalf("with the create token: %d", st)
	}
	// Once they expire (the policy's TTL is 10 minutes), there is room again.
	e.clock.Add(11 * time.Minute)
	if st, eb, _ := from("203.0.113.1"); st != 201 {
		t.Fatalf("after expiry: %d %+v", st, eb)
	}
}

// TestMaxRequests: the store takes at most MaxRequests requests, whoever
// asks, counting those stored before a restart; they count until their
// expiry plus the retention.
func TestMaxRequests(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, func(o *Options) { o.MaxRequests = 2; o.Dir = dir })
	e.newRequest("hire")
	e.newRequest("hire")
	if st, eb := e.do("POST", "/v1/requests", `{"policy":"hire"}`, nil, auth...); st != 503 || eb.Code != "store_full" {
		t.Fatalf("third request: %d %+v", st, eb)
	}
	if _, err := e.srv.CreateRequest("hire"); !errors.Is(err, ErrStoreFull) {
		t.Fatalf("in process: %v", err)
	}
	// A restarted verifier counts what its store holds.
	e.http.Close()
	e.srv.Close()
	e2 := newEnv(t, func(o *Options) { o.MaxRequests = 2; o.Dir = dir })
	if st, eb := e2.do("POST", "/v1/requests", `{"policy":"hire"}`, nil, auth...); st != 503 || eb.Code != "store_full" {
		t.Fatalf("after a restart: %d %+v", st, eb)
	}
	e2.clock.Add(DefaultRequestTTL + DefaultRetention + time.Minute)
	if st, eb := e2.do("POST", "/v1/requests", `{"policy":"hire"}`, nil, auth...); st != 201 {
		t.Fatalf("after expiry and retention: %d %+v", st, eb)
	}
}
