package webui

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func loginCookie(t *testing.T, a *Auth) *http.Cookie {
	t.Helper()
	w := httptest.NewRecorder()
	a.Login(w, httptest.NewRequest("POST", "/ui/login", nil))
	cs := w.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("cookies %v", cs)
	}
	c := cs[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Fatalf("session cookie readable by scripts or sent cross-site: %+v", c)
	}
	return c
}

func withCookie(c *http.Cookie) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	return r
}

func TestAuthSession(t *testing.T) {
	a := NewAuth("0123456789abcdef0123", "s")
	if a.Check("") || a.Check("0123456789abcdef012") || !a.Check("0123456789abcdef0123") {
		t.Fatal("token check")
	}
	c := loginCookie(t, a)
	if strings.Contains(c.Value, "0123456789abcdef") {
		t.Fatal("the cookie holds the token")
	}
	sid, ok := a.Session(withCookie(c))
	if !ok {
		t.Fatal("a fresh session is refused")
	}
	// Tampered, foreign (another token's) and expired sessions are refused.
	bad := *c
	bad.Value = c.Value[:len(c.Value)-2] + "AA"
	if _, ok := a.Session(withCookie(&bad)); ok {
		t.Fatal("a tampered session is accepted")
	}
	if _, ok := NewAuth("another token 0123456", "s").Session(withCookie(c)); ok {
		t.Fatal("a session of another token is accepted")
	}
	later := *a
	later.now = func() time.Time { return time.Now().Add(DefaultSessionTTL + time.Minute) }
	if _, ok := later.Session(withCookie(c)); ok {
		t.Fatal("an expired session is accepted")
	}
	if _, ok := NewAuth("", "s").Session(withCookie(c)); ok || NewAuth("", "s").Check("") {
		t.Fatal("an empty token allows a login")
	}

	// CSRF: the session's token, from the page's own origin.
	post := func(tok, origin string) *http.Request {
		r := httptest.NewRequest("POST", "http://desk.example/ui/x", strings.NewReader(url.Values{"csrf": {tok}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		return r
	}
	good := a.CSRF(sid)
	if !a.CheckCSRF(post(good, "http://desk.example"), sid) {
		t.Fatal("a good CSRF token is refused")
	}
	for name, r := range map[string]*http.Request{
		"no token":      post("", "http://desk.example"),
		"wrong token":   post(good+"x", "http://desk.example"),
		"other session": post(a.CSRF(sid+"x"), "http://desk.example"),
		"other origin":  post(good, "http://evil.example"),
		"opaque origin": post(good, "null"),
	} {
		if a.CheckCSRF(r, sid) {
			t.Errorf("%s: accepted", name)
		}
	}
	cross := post(good, "")
	cross.Header.Set("Sec-Fetch-Site", "cross-site")
	if a.CheckCSRF(cross, sid) {
		t.Error("a cross-site post without Origin is accepted")
	}
}

// Mount sends "/" and /ui/ to the pages with the security headers, and
// everything else to the API untouched.
func TestMount(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("api")) })
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("page")) })
	h := Mount(api, pages)
	for path, want := range map[string]string{"/": "page", "/ui/x": "page", "/v1/x": "api", "/healthz": "api", "/uix": "api"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Body.String() != want {
			t.Errorf("%s: %q, want %q", path, w.Body.String(), want)
		}
		csp := w.Header().Get("Content-Security-Policy")
		if (want == "page") != (csp == CSP) {
			t.Errorf("%s: CSP %q", path, csp)
		}
	}
	if !strings.Contains(CSP, "script-src 'self'") || strings.Contains(CSP, "unsafe-inline") || !strings.Contains(CSP, "frame-ancestors 'none'") {
		t.Fatalf("CSP %q", CSP)
	}
}
