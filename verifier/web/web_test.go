package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/dgraph-io/badger/v4"

	"github.com/zkcred/zkcred/internal/browsertest"
	"github.com/zkcred/zkcred/internal/oid4vp"
	"github.com/zkcred/zkcred/internal/qr/qrtest"
	"github.com/zkcred/zkcred/internal/stack"
	"github.com/zkcred/zkcred/internal/wallettest"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/verifier"
	"github.com/zkcred/zkcred/wallet"
	"github.com/zkcred/zkcred/wire"
)

func TestMain(m *testing.M) { os.Exit(browsertest.Main(m)) }

var university = stack.Institution{Kind: "university", Name: "University of Examples", Schema: "diploma"}

// start runs a registry, a university and the verifier with its page, and
// a wallet holding one diploma.
func start(t *testing.T) (*stack.Stack, *wallet.Wallet) {
	t.Helper()
	ctx := context.Background()
	keys := wallettest.Keys(t)
	st, err := stack.Start(ctx, stack.Options{
		Dir: filepath.Join(t.TempDir(), "stack"), Keys: keys, KeyWorkFactor: 10,
		Institutions: []stack.Institution{university},
		Policies:     func(*stack.Stack) []*verifier.Policy { return stack.Policies()[:1] }, // graduate, public
		Badger: func(o badger.Options) badger.Options {
			return o.WithMemTableSize(8 << 20).WithValueLogFileSize(16 << 20)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	w, err := wallet.Create(filepath.Join(t.TempDir(), "wallet.age"), "pw", wallet.CreateOptions{
		WorkFactor: wallet.MinWorkFactor,
		Config:     wallet.Config{Registry: st.RegistryURL, Genesis: st.Genesis},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	b, err := st.Issuers["university"].Issuer.Issue(ctx, issuer.Request{Schema: wallettest.Schema(), Subject: wallettest.Subject("3.72"), HolderCommit: w.HolderCommit().El()})
	if err != nil {
		t.Fatal(err)
	}
	bj, _ := json.Marshal(b)
	if _, err := w.Receive(ctx, bj); err != nil {
		t.Fatal(err)
	}
	return st, w
}

// newRequest asks for a presentation under the first policy and returns
// the link the page's QR code holds.
func newRequest(t *testing.T, p *browsertest.Page, base string) string {
	t.Helper()
	p.Open(base+"/", 200)
	p.Do(chromedp.Click(chromedp.CSS(`#choose button[type=submit]`)))
	p.WaitVisible("#qr")
	p.WaitText("#verdict-title", "Waiting")
	shot := browsertest.Run(p, chromedp.Screenshot(chromedp.CSS("#qr")))
	link := qrtest.Decode(t, shot)
	if got := strings.TrimSpace(p.Text("#link")); got != link {
		t.Fatalf("the QR code holds %q, the page's link is %q", link, got)
	}
	return link
}

// The employer's page: a QR code whose link the wallet presents to, a
// green verdict with the disclosed degree without a reload, and a
// replayed presentation turning a second page red with the reason.
func TestVerifierPage(t *testing.T) {
	st, w := start(t)
	ctx := context.Background()
	keys := wallettest.Keys(t)
	p := browsertest.New(t)

	link := newRequest(t, p, st.VerifierURL)
	for _, s := range []string{"the holder's Degree", "Date of birth", "the one accepted university issuer", "not revoked"} {
		if !strings.Contains(p.Text("main"), s) {
			t.Errorf("page does not say %q", s)
		}
	}
	p.Screenshot("verifier-request")

	// The wallet reads the request from the decoded link, checking who
	// asks (the OpenID4VP request object's signature by the verifier's
	// did:web, or the zkcred request's audience against the link's
	// origin), and presents.
	present := func(link string) (*wallet.Presented, string, string) {
		t.Helper()
		if wallet.IsOpenID4VPLink(link) {
			ar, err := w.ReadAuthorizationRequest(ctx, link, wallet.OpenID4VPOptions{AllowLoopbackHTTP: true})
			if err != nil {
				t.Fatalf("the QR code's link is not a valid request: %v", err)
			}
			done, err := w.PresentOpenID4VP(ctx, ar, wallet.PresentOptions{Keys: keys})
			if err != nil {
				t.Fatal(err)
			}
			return done, ar.Auth.ResponseURI, ar.Auth.State
		}
		if !strings.HasPrefix(link, st.VerifierURL+"/v1/requests/") {
			t.Fatalf("QR link %q is not a request link of %s", link, st.VerifierURL)
		}
		req, err := w.ReadRequest(ctx, link)
		if err != nil {
			t.Fatalf("the QR code's link is not a valid request: %v", err)
		}
		done, err := w.Present(ctx, req, wallet.PresentOptions{Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		return done, "", req.ID
	}
	done, _, id1 := present(link)
	p.WaitText("#verdict-title", "Verified")
	if got := p.Attr("#verdict", "data-state"); got != "verified" {
		t.Fatalf("verdict state %q", got)
	}
	if got := p.WaitText("#disclosed", "MSc"); !strings.Contains(got, "Degree") {
		t.Fatalf("disclosed values %q lack the degree's label", got)
	}
	p.Screenshot("verifier-verified")
	p.Phone()
	p.Screenshot("verifier-phone")

	// Replays of that presentation: to its own request (409 replay: the
	// page stays green), and to a second page's request, which turns red
	// and says why.
	body, _ := json.Marshal(done.Presentation)
	post := func(id string) (int, string) {
		resp, err := http.Post(st.VerifierURL+"/v1/requests/"+id+"/presentations", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e wire.Error
		json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e.Code
	}
	if st, code := post(id1); st != http.StatusConflict || code != wire.CodeReplay {
		t.Fatalf("replay to the same request: %d %s", st, code)
	}
	p2 := browsertest.New(t)
	link2 := newRequest(t, p2, st.VerifierURL)
	if link2 == link {
		t.Fatal("the second page shows the first request")
	}
	id2 := browsertest.Run(p2, chromedp.Location())
	id2 = id2[strings.LastIndex(id2, "/")+1:]
	if wallet.IsOpenID4VPLink(link2) {
		// Replayed as a wallet answers OpenID4VP: direct_post to the
		// second request's response URI.
		ar2, err := w.ReadAuthorizationRequest(ctx, link2, wallet.OpenID4VPOptions{AllowLoopbackHTTP: true})
		if err != nil {
			t.Fatal(err)
		}
		form, err := oid4vp.ResponseForm(ar2.Auth.State, done.Presentation)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.PostForm(ar2.Auth.ResponseURI, form)
		if err != nil {
			t.Fatal(err)
		}
		var e oid4vp.ErrorResponse
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnprocessableEntity || e.ZkcredCode != wire.CodeWrongRequest {
			t.Fatalf("replay to another request over OpenID4VP: %d %+v", resp.StatusCode, e)
		}
	} else if st, code := post(id2); st != http.StatusUnprocessableEntity || code != wire.CodeWrongRequest {
		t.Fatalf("replay to another request: %d %s", st, code)
	}
	p2.WaitText("#verdict-title", "Refused")
	if got := p2.Attr("#verdict", "data-state"); got != "rejected" {
		t.Fatalf("second page state %q", got)
	}
	if d := p2.Text("#verdict-detail"); !strings.Contains(d, "replay") {
		t.Fatalf("the reason does not name the replay: %q", d)
	}
	p2.Screenshot("verifier-replayed")
	if got := p.Attr("#verdict", "data-state"); got != "verified" {
		t.Fatalf("first page changed to %q after a replay", got)
	}

	// The holder presents to the second request after all: green.
	present(link2)
	p2.WaitText("#verdict-title", "Verified")
}

// client is a browser-like HTTP client: it keeps cookies and does not
// follow redirects.
func client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func csrfOf(t *testing.T, html string) string {
	t.Helper()
	_, rest, ok := strings.Cut(html, `name="csrf" value="`)
	if !ok {
		t.Fatalf("no CSRF token in the page")
	}
	tok, _, _ := strings.Cut(rest, `"`)
	return tok
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// The page's own rules, without a browser: headers, CSRF, the result
// token and the verdict kept to the browser that made the request, and
// the API unchanged beside the page.
func TestVerifierPageAccess(t *testing.T) {
	st, _ := start(t)
	c := client(t)
	resp, html := get(t, c, st.VerifierURL+"/")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("GET /: %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	for _, ck := range resp.Cookies() {
		if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
			t.Fatalf("cookie %s is readable by scripts or sent cross-site: %+v", ck.Name, ck)
		}
	}
	tok := csrfOf(t, html)
	create := func(c *http.Client, form url.Values, hdr ...string) *http.Response {
		r, _ := http.NewRequest("POST", st.VerifierURL+"/ui/requests", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := c.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := create(c, url.Values{"policy": {"graduate"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("create without a CSRF token: %d", r.StatusCode)
	}
	if r := create(c, url.Values{"policy": {"graduate"}, "csrf": {tok + "x"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("create with a wrong CSRF token: %d", r.StatusCode)
	}
	if r := create(c, url.Values{"policy": {"graduate"}, "csrf": {tok}}, "Origin", "http://evil.example"); r.StatusCode != http.StatusForbidden {
		t.Fatalf("create from another origin: %d", r.StatusCode)
	}
	if r := create(c, url.Values{"policy": {"nope"}, "csrf": {tok}}); r.StatusCode != http.StatusNotFound {
		t.Fatalf("create under an unknown policy: %d", r.StatusCode)
	}
	r := create(c, url.Values{"policy": {"graduate"}, "csrf": {tok}})
	loc := r.Header.Get("Location")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/requests/") {
		t.Fatalf("create: %d %q", r.StatusCode, loc)
	}
	id := strings.TrimPrefix(loc, "/ui/requests/")
	resp, html = get(t, c, st.VerifierURL+loc)
	if resp.StatusCode != 200 || !strings.Contains(html, id) {
		t.Fatalf("request page: %d", resp.StatusCode)
	}
	if strings.Contains(strings.ToLower(html), "resulttoken") || strings.Contains(html, "token=") {
		t.Fatal("the request page carries the result token")
	}
	resp, body := get(t, c, st.VerifierURL+loc+"/status")
	var s struct{ State string }
	json.Unmarshal([]byte(body), &s)
	if resp.StatusCode != 200 || s.State != "pending" {
		t.Fatalf("status: %d %s", resp.StatusCode, body)
	}
	// Another browser (no cookie, or its own) learns nothing.
	other := client(t)
	get(t, other, st.VerifierURL+"/")
	for _, c := range []*http.Client{other, {}} {
		if resp, body := get(t, c, st.VerifierURL+loc+"/status"); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("another browser reads the status: %d %s", resp.StatusCode, body)
		}
		if resp, body := get(t, c, st.VerifierURL+loc); resp.StatusCode != http.StatusNotFound || strings.Contains(body, id) {
			t.Fatalf("another browser sees the request page: %d", resp.StatusCode)
		}
	}
	// Unknown page routes answer JSON 404; the API beside the page is
	// as before: no CORS, its own JSON answers.
	if resp, body := get(t, c, st.VerifierURL+"/ui/nope"); resp.StatusCode != 404 || !strings.Contains(body, `"code"`) {
		t.Fatalf("unknown page: %d %s", resp.StatusCode, body)
	}
	for _, path := range []string{"/healthz", "/openapi.json", "/v1/requests/" + id} {
		resp, _ := get(t, c, st.VerifierURL+path)
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, resp.Header)
		}
	}
	if resp, _ := get(t, c, st.VerifierURL+"/v1/requests/"+id+"/result"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("result without its token: %d", resp.StatusCode)
	}
	_ = time.Second
}
