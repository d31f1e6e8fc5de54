package web

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/zkcred/zkcred/internal/qr"
	"github.com/zkcred/zkcred/internal/webui"
	"github.com/zkcred/zkcred/verifier"
	"github.com/zkcred/zkcred/wire"
)

//go:embed files
var files embed.FS

// Options configure Handler. The zero value is the default.
type Options struct {
	// CreateToken is the verifier's create token: signing in with it
	// allows requests under every policy. Empty: no sign-in, public
	// policies only.
	CreateToken string
	// MaxTracked bounds the requests the page follows at once (default
	// DefaultMaxTracked); the oldest are forgotten first.
	MaxTracked int
}

// DefaultMaxTracked is the default Options.MaxTracked.
const DefaultMaxTracked = 4096

// Cookie names.
const (
	visitorCookie = "zkcred_verifier_visitor"
	sessionCookie = "zkcred_verifier_session"
)

// Handler serves the page beside the verifier's API (api, as
// Server.Handler returns it): "/" and "/ui/…" are the page's, every other
// path is the API's, unchanged.
func Handler(srv *verifier.Server, api http.Handler, o Options) (http.Handler, error) {
	if o.MaxTracked <= 0 {
		o.MaxTracked = DefaultMaxTracked
	}
	sub, err := fs.Sub(files, "files")
	if err != nil {
		return nil, err
	}
	tmpl, err := webui.Templates(sub, "*.html", nil)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	p := &page{srv: srv, opts: o, tmpl: tmpl, files: sub, auth: webui.NewAuth(o.CreateToken, sessionCookie), key: key,
		tracked: map[string]*tracked{}}
	return webui.Mount(p.observe(api), p), nil
}

type page struct {
	srv   *verifier.Server
	opts  Options
	tmpl  map[string]*template.Template
	files fs.FS
	auth  *webui.Auth
	key   []byte // keys the visitors' CSRF tokens

	mu      sync.Mutex
	tracked map[string]*tracked // request id → what the page follows
	order   []string
}

// tracked is a request the page created, its result token and the last
// rejection seen for it.
type tracked struct {
	link    string // what the QR code holds (RequestLink)
	oid4vp  string // the OpenID4VP link, if the verifier makes one
	owner   string // the creating browser's visitor cookie
	token   string // the result token: never leaves the server
	req     wire.Request
	schema  string
	reject  *rejection
	expires time.Time
}

type rejection struct {
	Code, Message string
	At            time.Time
}

func (p *page) track(id string, t *tracked) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tracked[id] = t
	p.order = append(p.order, id)
	for len(p.order) > p.opts.MaxTracked {
		delete(p.tracked, p.order[0])
		p.order = p.order[1:]
	}
}

func (p *page) lookup(id string) *tracked {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tracked[id]
}

// observe records the rejections of presentations submitted for requests
// the page follows.
func (p *page) observe(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := submitID(r)
		if !ok || p.lookup(id) == nil {
			api.ServeHTTP(w, r)
			return
		}
		rec := &recorder{ResponseWriter: w}
		api.ServeHTTP(rec, r)
		if rec.status == http.StatusConflict || rec.status == http.StatusGone || rec.status == http.StatusUnprocessableEntity {
			// {"error", "code"}, or OpenID4VP's {"error", "error_description", "code"}.
			var e struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
				Code        string `json:"code"`
			}
			if json.Unmarshal(rec.body.Bytes(), &e) == nil && e.Code != "" {
				msg := e.Error
				if e.Description != "" {
					msg = e.Description
				}
				p.mu.Lock()
				if t := p.tracked[id]; t != nil {
					t.reject = &rejection{Code: e.Code, Message: msg, At: time.Now()}
				}
				p.mu.Unlock()
			}
		}
	})
}

// submitID is the request id of POST /v1/requests/{id}/presentations or
// of the OpenID4VP response URI (direct_post).
func submitID(r *http.Request) (string, bool) {
	if r.Method != http.MethodPost {
		return "", false
	}
	if id, ok := strings.CutPrefix(r.URL.Path, verifier.OID4VPResponsePath); ok {
		return id, id != "" && !strings.Contains(id, "/")
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/requests/")
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, "/presentations")
	return id, ok && id != "" && !strings.Contains(id, "/")
}

// recorder keeps the status and the start of the body of an answer.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if n := 8<<10 - r.body.Len(); n > 0 {
		r.body.Write(b[:min(n, len(b))])
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// visitor returns the browser's visitor id, setting the cookie when it
// has none.
func (p *page) visitor(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(visitorCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: visitorCookie, Value: v, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	return v
}

func (p *page) csrf(visitor string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte("csrf\x00" + visitor))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (p *page) checkCSRF(r *http.Request, visitor string) bool {
	tok := r.PostFormValue("csrf")
	return webui.SameOrigin(r) && tok != "" && hmac.Equal([]byte(tok), []byte(p.csrf(visitor)))
}

func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if webui.Static(p.files, w, r) {
		return
	}
	path := r.URL.Path
	switch {
	case path == "/" && isGet(r):
		p.home(w, r, "", http.StatusOK)
	case path == "/ui/login" && isGet(r):
		p.loginForm(w, r, "", http.StatusOK)
	case path == "/ui/login" && r.Method == http.MethodPost:
		p.login(w, r)
	case path == "/ui/logout" && r.Method == http.MethodPost:
		v := p.visitor(w, r)
		if !p.checkCSRF(r, v) {
			p.home(w, r, "The form was out of date; try again.", http.StatusForbidden)
			return
		}
		p.auth.Logout(w, r)
		http.Redirect(w, r, "/", http.StatusSeeOther)
	case path == "/ui/requests" && r.Method == http.MethodPost:
		p.create(w, r)
	case strings.HasPrefix(path, "/ui/requests/"):
		rest := strings.TrimPrefix(path, "/ui/requests/")
		if id, ok := strings.CutSuffix(rest, "/status"); ok && isGet(r) {
			p.status(w, r, id)
		} else if isGet(r) && !strings.Contains(rest, "/") {
			p.show(w, r, rest)
		} else {
			webui.Error(w, http.StatusNotFound, wire.CodeNotFound, "no such page: "+path)
		}
	default:
		webui.Error(w, http.StatusNotFound, wire.CodeNotFound, "no such page: "+path)
	}
}

func isGet(r *http.Request) bool { return r.Method == http.MethodGet || r.Method == http.MethodHead }

func (p *page) loggedIn(r *http.Request) bool {
	_, ok := p.auth.Session(r)
	return ok
}

// policyView is a policy on the chooser.
type policyView struct {
	Name, Schema string
	Public       bool
	Allowed      bool
}

func (p *page) base(title, visitor string, r *http.Request) webui.Page {
	return webui.Page{Title: title, Service: "verifier", LoggedIn: p.loggedIn(r), CSRF: p.csrf(visitor)}
}

func (p *page) home(w http.ResponseWriter, r *http.Request, msg string, status int) {
	v := p.visitor(w, r)
	in := p.loggedIn(r)
	var pols []policyView
	for _, name := range p.srv.Policies() {
		pol, _ := p.srv.Policy(name)
		sn := ""
		if pol.Schema != nil {
			sn = pol.Schema.Name
		}
		pols = append(pols, policyView{Name: name, Schema: sn, Public: pol.Public, Allowed: pol.Public || in})
	}
	pg := p.base("Ask for a presentation", v, r)
	pg.Data = map[string]any{"Policies": pols, "Message": msg, "CanSignIn": p.auth.Enabled() && !in}
	webui.Render(w, p.tmpl["home.html"], status, pg)
}

func (p *page) loginForm(w http.ResponseWriter, r *http.Request, msg string, status int) {
	v := p.visitor(w, r)
	pg := p.base("Sign in", v, r)
	pg.Data = map[string]any{"Message": msg, "Enabled": p.auth.Enabled()}
	webui.Render(w, p.tmpl["login.html"], status, pg)
}

func (p *page) login(w http.ResponseWriter, r *http.Request) {
	if !p.auth.Enabled() {
		p.loginForm(w, r, "This verifier has no create token: only its public policies can be used.", http.StatusNotFound)
		return
	}
	if !webui.SameOrigin(r) {
		p.loginForm(w, r, "Sign in from this page.", http.StatusForbidden)
		return
	}
	if !p.auth.Check(r.PostFormValue("token")) {
		p.loginForm(w, r, "That is not the verifier's create token.", http.StatusUnauthorized)
		return
	}
	p.auth.Login(w, r)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (p *page) create(w http.ResponseWriter, r *http.Request) {
	v := p.visitor(w, r)
	if !p.checkCSRF(r, v) {
		p.home(w, r, "The form was out of date; try again.", http.StatusForbidden)
		return
	}
	name := r.PostFormValue("policy")
	cr, err := p.srv.CreateRequestFor(name, clientIP(r), p.loggedIn(r))
	if err != nil {
		status, _, ok := verifier.Code(err)
		if !ok {
			status = http.StatusServiceUnavailable
		}
		msg := err.Error()
		if errors.Is(err, verifier.ErrUnauthorized) {
			msg = "Policy " + name + " is not public: sign in with the verifier's create token to use it."
		}
		p.home(w, r, msg, status)
		return
	}
	pol, _ := p.srv.Policy(cr.Request.Policy)
	sn := ""
	if pol.Schema != nil {
		sn = pol.Schema.Name
	}
	p.track(cr.Request.ID, &tracked{link: RequestLink(cr), oid4vp: cr.OpenID4VPURI, owner: v, token: cr.ResultToken, req: cr.Request, schema: sn,
		expires: time.Unix(int64(cr.Request.Expires), 0)})
	http.Redirect(w, r, "/ui/requests/"+cr.Request.ID, http.StatusSeeOther)
}

// owned returns the tracked request id when r's browser created it.
func (p *page) owned(w http.ResponseWriter, r *http.Request, id string) *tracked {
	t := p.lookup(id)
	c, err := r.Cookie(visitorCookie)
	if t == nil || err != nil || !hmac.Equal([]byte(c.Value), []byte(t.owner)) {
		return nil
	}
	return t
}

func (p *page) show(w http.ResponseWriter, r *http.Request, id string) {
	t := p.owned(w, r, id)
	if t == nil {
		v := p.visitor(w, r)
		pg := p.base("Unknown request", v, r)
		webui.Render(w, p.tmpl["unknown.html"], http.StatusNotFound, pg)
		return
	}
	link := t.link
	png, err := qr.PNG(link)
	if err != nil {
		webui.Error(w, http.StatusInternalServerError, wire.CodeInternal, "QR code: "+err.Error())
		return
	}
	pg := p.base("Presentation request", t.owner, r)
	pg.Scripts = []string{"/ui/verifier.js"}
	pg.Data = map[string]any{
		"ID":     id,
		"Policy": t.req.Policy,
		"Link":   link,
		"OpenID4VP": func() string {
			if t.oid4vp == link {
				return ""
			}
			return t.oid4vp
		}(),
		"QR":      template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		"Explain": Explain(&t.req, t.schema),
		"Expires": t.expires.UTC().Format("15:04:05 UTC"),
	}
	webui.Render(w, p.tmpl["request.html"], http.StatusOK, pg)
}

// Status is the page's view of a request's verdict.
type Status struct {
	State     string      `json:"state"` // pending, verified, rejected, expired
	Title     string      `json:"title"`
	Detail    string      `json:"detail"`
	Code      string      `json:"code,omitempty"`
	Disclosed []Disclosed `json:"disclosed,omitempty"`
	Height    uint64      `json:"height,omitempty"`
	Final     bool        `json:"final"` // no later change: stop asking
}

// Disclosed is one disclosed value.
type Disclosed struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

func (p *page) status(w http.ResponseWriter, r *http.Request, id string) {
	t := p.owned(w, r, id)
	if t == nil {
		webui.Error(w, http.StatusNotFound, wire.CodeUnknownRequest, "this browser made no request "+id)
		return
	}
	webui.JSON(w, http.StatusOK, p.verdict(id, t))
}

func (p *page) verdict(id string, t *tracked) Status {
	res, err := p.srv.Result(id, t.token)
	p.mu.Lock()
	rej := t.reject
	p.mu.Unlock()
	until := t.expires.UTC().Format("15:04:05 UTC")
	switch {
	case errors.Is(err, verifier.ErrRequestExpired):
		s := Status{State: "expired", Title: "Expired", Code: wire.CodeRequestExpired, Final: true,
			Detail: "The request expired at " + until + " without a valid presentation. Ask for a new one."}
		if rej != nil {
			s.Detail += " The last presentation was refused: " + Reason(rej.Code, rej.Message)
		}
		return s
	case err != nil:
		return Status{State: "rejected", Title: "Cannot tell", Detail: "The verifier could not read the result: " + err.Error()}
	case res.Status == wire.StatusVerified:
		s := Status{State: "verified", Title: "Verified", Height: res.Height, Final: true,
			Detail: "The proof holds: every fact below the QR code is proven."}
		for _, name := range t.req.Disclose {
			a, _ := attrByName(&t.req, name)
			if a.Name == "" {
				a.Name = name
			}
			if v, ok := res.Disclosed[name]; ok {
				s.Disclosed = append(s.Disclosed, Disclosed{Label: label(a), Value: formatValue(v)})
			}
		}
		return s
	case res.Status == wire.StatusConsumed:
		return Status{State: "rejected", Title: "Used elsewhere", Final: true,
			Detail: "The request was answered through the verifier's stateless check, which keeps no result."}
	case rej != nil:
		return Status{State: "rejected", Title: "Refused", Code: rej.Code,
			Detail: Reason(rej.Code, rej.Message) + " Still waiting for a valid presentation until " + until + "."}
	default:
		return Status{State: "pending", Title: "Waiting for the holder",
			Detail: "Scan the QR code with the wallet, or open the link. This page changes by itself; the request is open until " + until + "."}
	}
}

func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "yes"
		}
		return "no"
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}
