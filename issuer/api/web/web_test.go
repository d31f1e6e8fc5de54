package web_test

import (
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

	"github.com/chromedp/chromedp"
	"github.com/dgraph-io/badger/v4"

	"github.com/zkcred/zkcred/internal/browsertest"
	"github.com/zkcred/zkcred/internal/qr/qrtest"
	"github.com/zkcred/zkcred/internal/stack"
	"github.com/zkcred/zkcred/internal/wallettest"
	"github.com/zkcred/zkcred/wallet"
)

func TestMain(m *testing.M) { os.Exit(browsertest.Main(m)) }

func start(t *testing.T) *stack.Stack {
	t.Helper()
	st, err := stack.Start(context.Background(), stack.Options{
		Dir: filepath.Join(t.TempDir(), "stack"), Keys: wallettest.Keys(t), KeyWorkFactor: 10,
		Institutions: []stack.Institution{{Kind: "university", Name: "University of Examples", Schema: "diploma"}},
		Badger: func(o badger.Options) badger.Options {
			return o.WithMemTableSize(8 << 20).WithValueLogFileSize(16 << 20)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// The registrar signs in, issues a diploma through the form (a bad decimal
// caught in the browser, a bad date by the issuer, shown next to its
// field), the graduate claims the link of the QR code, and the registrar
// revokes the credential.
func TestDesk(t *testing.T) {
	st := start(t)
	uni := st.Issuers["university"]
	ctx := context.Background()
	p := browsertest.New(t)

	p.Open(uni.URL+"/", 200)
	p.Do(chromedp.SetValue(chromedp.CSS("#token"), "not the token at all"))
	p.Follow("#login button", http.StatusUnauthorized)
	p.WaitText("#message", "not this issuer's admin token")
	p.Do(chromedp.SetValue(chromedp.CSS("#token"), st.AdminToken))
	p.Follow("#login button", 200)
	p.WaitText("#schemas", "UniversityDiploma")
	p.Follow("#schemas a", 200)
	p.WaitText("h1", "UniversityDiploma")

	set := func(name, v string) { p.Do(chromedp.SetValue(chromedp.CSS("#f-"+name), v)) }
	set("name", "Ada Lovelace")
	set("birthDate", "1995-12-10")
	set("degree", "MSc")
	set("field", "Mathematics")
	set("graduationDate", "2024-02-30") // the form's pattern holds; the calendar does not
	set("gpa", "3.725")                 // three decimals: the schema's scale is 2
	p.Do(chromedp.Click(chromedp.CSS("#f-honours")))

	// In the browser: the decimal is refused before anything is sent.
	p.Do(chromedp.Click(chromedp.CSS("#issue button[type=submit]")))
	p.WaitText("#e-gpa", "at most 2 digit")
	if got := p.Attr("#f-gpa", "aria-invalid"); got != "true" {
		t.Fatalf("gpa aria-invalid %q", got)
	}
	if loc := browsertest.Run(p, chromedp.Location()); !strings.Contains(loc, "/ui/issue?schema=") {
		t.Fatalf("the form was sent despite the bad decimal: %s", loc)
	}

	// By the issuer: the date that does not exist, next to its field.
	set("gpa", "3.72")
	p.Follow("#issue button[type=submit]", http.StatusUnprocessableEntity)
	msg := p.WaitText("#e-graduationDate", "not a date")
	if strings.TrimSpace(msg) == "" || p.Attr("#f-graduationDate", "aria-invalid") != "true" {
		t.Fatalf("no field error for the bad date: %q", msg)
	}
	if v := browsertest.Run(p, chromedp.Value(chromedp.CSS("#f-name"))); v != "Ada Lovelace" {
		t.Fatalf("the form lost its values: name %q", v)
	}
	t.Logf("field error: %s", msg)
	p.Screenshot("desk-field-error")

	set("graduationDate", "2024-06-30")
	p.Follow("#issue button[type=submit]", http.StatusCreated)
	p.WaitVisible("#qr")
	offer := qrtest.Decode(t, browsertest.Run(p, chromedp.Screenshot(chromedp.CSS("#qr"))))
	if got := strings.TrimSpace(p.Text("#oid4vci")); got != offer || !wallet.IsCredentialOffer(offer) {
		t.Fatalf("QR code %q, offer %q", offer, got)
	}
	if link := strings.TrimSpace(p.Text("#link")); !strings.HasPrefix(link, uni.URL+"/v1/offers/") {
		t.Fatalf("claim link %q", link)
	}
	p.Screenshot("desk-offer")

	// The graduate scans the code: the wallet takes the OpenID4VCI offer.
	w, err := wallet.Create(filepath.Join(t.TempDir(), "w.age"), "pw", wallet.CreateOptions{
		WorkFactor: wallet.MinWorkFactor, Config: wallet.Config{Registry: st.RegistryURL, Genesis: st.Genesis}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ent, err := w.ReceiveOffer(ctx, offer, "", wallettest.Keys(t))
	if err != nil {
		t.Fatal(err)
	}
	id := ent.Private().CredentialID

	// The desk lists it; the registrar revokes it.
	p.Open(uni.URL+"/", 200)
	row := `#credentials tr[data-id="` + id + `"]`
	p.WaitText(row, "active")
	p.WaitText(row, "Ada Lovelace")
	p.Follow(row+" button", 200)
	p.WaitText("#message", "Revoked credential "+id)
	p.WaitText(row, "revoked")
	p.Screenshot("desk-credentials")
	p.Phone()
	if err := w.CheckStatus(ctx, ent); err == nil {
		t.Fatal("the wallet does not see the revocation")
	}
}

// Without a session nothing is done; a session without its CSRF token
// does nothing either; the session cookie opens no admin API route.
func TestDeskAccess(t *testing.T) {
	st := start(t)
	base := st.Issuers["university"].URL
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := func(c *http.Client, path string, v url.Values) (int, string) {
		r, _ := http.NewRequest("POST", base+path, strings.NewReader(v.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	get := func(c *http.Client, path string) (*http.Response, string) {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	schema := url.Values{"schema": {"1"}}
	if st, _ := form(c, "/ui/issue", schema); st != http.StatusUnauthorized {
		t.Fatalf("issue without a session: %d", st)
	}
	if resp, _ := get(c, "/ui/issue?schema=1"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("form without a session: %d", resp.StatusCode)
	}
	if st, _ := form(c, "/ui/login", url.Values{"token": {st.AdminToken + "x"}}); st != http.StatusUnauthorized {
		t.Fatalf("login with a wrong token: %d", st)
	}
	if s, _ := form(c, "/ui/login", url.Values{"token": {st.AdminToken}}); s != http.StatusSeeOther {
		t.Fatalf("login: %d", s)
	}
	u, _ := url.Parse(base)
	for _, ck := range jar.Cookies(u) {
		if strings.Contains(ck.Value, st.AdminToken) {
			t.Fatal("the session cookie holds the admin token")
		}
	}
	resp, html := get(c, "/")
	if resp.StatusCode != 200 || !strings.Contains(html, "Issued credentials") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("desk: %d %v", resp.StatusCode, resp.Header)
	}
	if strings.Contains(html, st.AdminToken) {
		t.Fatal("the page holds the admin token")
	}
	if s, body := form(c, "/ui/revoke", url.Values{"id": {"x"}}); s != http.StatusForbidden || !strings.Contains(body, "nothing was done") {
		t.Fatalf("revoke without a CSRF token: %d", s)
	}
	if s, _ := form(c, "/ui/issue", url.Values{"schema": {"1"}, "csrf": {"forged"}}); s != http.StatusForbidden {
		t.Fatalf("issue with a forged CSRF token: %d", s)
	}
	// The cookie is not a bearer token: the admin API still refuses.
	if resp, _ := get(c, "/v1/credentials"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("admin API with the desk's cookie: %d", resp.StatusCode)
	}
	if resp, _ := get(c, "/healthz"); resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
}

// A CSV batch from the desk: progress to the end, then the rejected rows
// and the claim links to download.
func TestDeskBatch(t *testing.T) {
	st := start(t)
	uni := st.Issuers["university"]
	p := browsertest.New(t)
	p.Open(uni.URL+"/", 200)
	p.Do(chromedp.SetValue(chromedp.CSS("#token"), st.AdminToken))
	p.Follow("#login button", 200)

	csvFile := filepath.Join(t.TempDir(), "graduates.csv")
	rows := "name,birthDate,degree,field,graduationDate,gpa,honours,holderCommitment\n" +
		"Ada Lovelace,1995-12-10,MSc,Mathematics,2024-06-30,3.72,true,\n" +
		"Bad Gpa,1996-01-01,BSc,Physics,2024-06-30,3.725,false,\n" +
		"Alan Turing,1994-06-23,PhD,Mathematics,2024-06-30,3.90,true,\n"
	if err := os.WriteFile(csvFile, []byte(rows), 0o600); err != nil {
		t.Fatal(err)
	}
	p.Do(chromedp.SetUploadFiles(chromedp.CSS("#batch-csv"), []string{csvFile}))
	p.Follow("#batch button[type=submit]", 200)
	p.WaitText("#batch-summary", "Finished")
	got := p.Text("#batch-summary")
	for _, s := range []string{"3 rows", "2 claim links", "1 rejected"} {
		if !strings.Contains(got, s) {
			t.Fatalf("summary %q lacks %q", got, s)
		}
	}
	if v := p.Attr("#bar", "value"); v != "3" {
		t.Fatalf("progress %q at the end, want 3", v)
	}
	p.WaitVisible("#errors-csv")
	p.Screenshot("desk-batch")
	fetch := func(sel string) string {
		href := p.Attr(sel, "href")
		return browsertest.Run(p, chromedp.Evaluate[string](`fetch(`+strconvQuote(href)+`).then(r => r.text())`, chromedp.EvalAwaitPromise))
	}
	if errs := fetch("#errors-csv"); !strings.Contains(errs, "row,field,reason") || !strings.Contains(errs, "3,gpa,") {
		t.Fatalf("rejected rows:\n%s", errs)
	}
	links := fetch("#links-csv")
	if n := strings.Count(links, uni.URL+"/v1/offers/"); n != 2 || !strings.Contains(links, "\n2,") || !strings.Contains(links, "\n4,") {
		t.Fatalf("claim links (%d):\n%s", n, links)
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
