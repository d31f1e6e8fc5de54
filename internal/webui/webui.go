// Package webui holds what zkcred's web pages share: the page layout and
// style sheet, the security headers every page gets, embedded static files,
// and a login by a service's secret token (the issuer's admin token, the
// verifier's create token) that keeps the token out of every script.
//
// The pages are plain server-rendered HTML (html/template) with a little
// JavaScript served as files: the Content-Security-Policy allows scripts,
// styles, images and fetches from the page's own origin only (images also
// as data: URLs, for QR codes), no inline script, no framing. A page is
// mounted beside its service's API by Mount: "/" and "/ui/…" go to the
// pages, everything else to the API unchanged (no CORS, the API's bearer
// tokens as before).
//
// Login: a form takes the token and sets a session cookie (HttpOnly,
// SameSite=Strict, Secure over TLS) holding an expiry and an HMAC keyed by
// the token, so a session needs no server state and ends when the token
// changes. Every form and every state-changing fetch carries a CSRF token
// (an HMAC of the session), checked with the request's Origin.
package webui

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

//go:embed static templates
var files embed.FS

// Prefix is the path under which the pages' routes and files live, beside
// "/" itself.
const Prefix = "/ui/"

// CSP is the Content-Security-Policy of every page and file.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Secure sets the security headers of a page or file answer.
func Secure(h http.Header) {
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin") // no-referrer would make the Origin of same-origin posts "null"
	h.Set("Cache-Control", "no-store")
}

// Mount serves pages at "/" and under Prefix, and api at every other path.
func Mount(api, pages http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" || strings.HasPrefix(r.URL.Path, Prefix) {
			Secure(w.Header())
			pages.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// Page is what the layout template shows around a page's content.
type Page struct {
	Title    string   // the page's title
	Service  string   // "Verifier", "Issuer desk", "Explorer"
	Scripts  []string // paths of the page's scripts (under Prefix)
	LoggedIn bool     // shows the sign-out button
	CSRF     string   // the session's CSRF token, for forms
	Data     any      // the page's own data
}

// Templates parses each page template of fsys (glob pattern) with the
// shared layout; the result maps a page file's base name to its template.
// A page file defines "content" (and may define "head").
func Templates(fsys fs.FS, pattern string, funcs template.FuncMap) (map[string]*template.Template, error) {
	base, err := template.New("layout").Funcs(funcs).ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		t, err := template.Must(base.Clone()).ParseFS(fsys, n)
		if err != nil {
			return nil, err
		}
		out[path.Base(n)] = t
	}
	return out, nil
}

// Render writes a page with status.
func Render(w http.ResponseWriter, t *template.Template, status int, p Page) {
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		http.Error(w, "page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// JSON writes v as a JSON answer.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Error writes a JSON error {"error", "code"}, as zkcred's APIs do.
func Error(w http.ResponseWriter, status int, code, msg string) {
	JSON(w, status, map[string]string{"error": msg, "code": code})
}

// Static serves the files of fsys and the shared files (zkcred.css,
// icon.svg) at Prefix+name; it reports whether it served r.
func Static(fsys fs.FS, w http.ResponseWriter, r *http.Request) bool {
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok || r.Method != http.MethodGet && r.Method != http.MethodHead || name == "" || strings.Contains(name, "/") {
		return false
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		if b, err = fs.ReadFile(files, "static/"+name); err != nil {
			return false
		}
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if strings.HasSuffix(name, ".js") {
		ct = "text/javascript; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
	return true
}

// Auth is a login by a secret token.
type Auth struct {
	key    []byte // HMAC key derived from the token
	Cookie string // the session cookie's name
	TTL    time.Duration
	now    func() time.Time
	token  []byte
}

// DefaultSessionTTL is how long a login lasts.
const DefaultSessionTTL = 12 * time.Hour

// NewAuth returns the login of the given token; an empty token allows no
// login.
func NewAuth(token, cookie string) *Auth {
	k := sha256.Sum256([]byte("zkcred-web-session\x00" + token))
	return &Auth{key: k[:], Cookie: cookie, TTL: DefaultSessionTTL, now: time.Now, token: []byte(token)}
}

func (a *Auth) mac(parts ...[]byte) []byte {
	m := hmac.New(sha256.New, a.key)
	for _, p := range parts {
		m.Write(p)
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// Enabled reports whether a login is possible (the token is set).
func (a *Auth) Enabled() bool { return len(a.token) > 0 }

// Check compares a token with the secret in constant time.
func (a *Auth) Check(token string) bool {
	return a.Enabled() && subtle.ConstantTimeCompare([]byte(token), a.token) == 1
}

// Login sets the session cookie.
func (a *Auth) Login(w http.ResponseWriter, r *http.Request) {
	exp := make([]byte, 8)
	binary.BigEndian.PutUint64(exp, uint64(a.now().Add(a.TTL).Unix()))
	v := base64.RawURLEncoding.EncodeToString(append(exp, a.mac([]byte("session"), exp)...))
	http.SetCookie(w, &http.Cookie{Name: a.Cookie, Value: v, Path: "/", MaxAge: int(a.TTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

// Logout clears the session cookie.
func (a *Auth) Logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: a.Cookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

// Session returns the session of r's cookie when it is valid and unexpired.
func (a *Auth) Session(r *http.Request) (string, bool) {
	if !a.Enabled() {
		return "", false
	}
	c, err := r.Cookie(a.Cookie)
	if err != nil {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(b) != 8+sha256.Size {
		return "", false
	}
	if !hmac.Equal(b[8:], a.mac([]byte("session"), b[:8])) {
		return "", false
	}
	if int64(binary.BigEndian.Uint64(b[:8])) < a.now().Unix() {
		return "", false
	}
	return c.Value, true
}

// CSRF is the CSRF token of a session.
func (a *Auth) CSRF(session string) string {
	return base64.RawURLEncoding.EncodeToString(a.mac([]byte("csrf"), []byte(session)))
}

// CheckCSRF reports whether a state-changing request of session carries
// its CSRF token (form field "csrf" or header X-CSRF-Token) and, when it
// says where it comes from, comes from the page's own origin.
func (a *Auth) CheckCSRF(r *http.Request, session string) bool {
	if !SameOrigin(r) {
		return false
	}
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		tok = r.PostFormValue("csrf")
	}
	return tok != "" && hmac.Equal([]byte(tok), []byte(a.CSRF(session)))
}

// SameOrigin reports whether r's Origin header, when it has one, is the
// origin r was sent to.
func SameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return r.Header.Get("Sec-Fetch-Site") == "" || r.Header.Get("Sec-Fetch-Site") == "same-origin" || r.Header.Get("Sec-Fetch-Site") == "none"
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}
