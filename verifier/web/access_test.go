package web

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/verifier"
)

// A policy that is not public needs a sign-in with the create token; a
// public one does not.
func TestSignInForStaffPolicies(t *testing.T) {
	pinned, err := verifier.ParsePinned([]byte(`{"roots":[{"root":"1","height":1,"time":"` + time.Now().UTC().Format(time.RFC3339) + `"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	const token = "create-token-0123456789"
	ids := verifier.IssuerSpec{IDs: []circuits.Field{circuits.F(circuits.U64(7))}}
	schema := issuer.ExampleSchemas()["diploma"]
	srv, err := verifier.New(verifier.Options{
		InMemory: true, Audience: "http://127.0.0.1:1", PublicURL: "http://127.0.0.1:1", CreateToken: token,
		Policies: []*verifier.Policy{
			{Name: "kiosk", Schema: schema, Public: true, Issuers: ids},
			{Name: "staff", Schema: schema, Issuers: ids, Disclose: []string{"degree"}},
		},
		Proofs: noProofs{}, Roots: pinned, Issuers: pinned,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	h, err := Handler(srv, srv.Handler(), Options{CreateToken: token})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	defer ts.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := func() string {
		resp, err := c.Get(ts.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	csrf := func(html string) string {
		_, rest, _ := strings.Cut(html, `name="csrf" value="`)
		tok, _, _ := strings.Cut(rest, `"`)
		return tok
	}
	post := func(path string, v url.Values) *http.Response {
		resp, err := c.PostForm(ts.URL+path, v)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	html := page()
	if !strings.Contains(html, `value="staff" disabled`) || !strings.Contains(html, "needs sign-in") {
		t.Fatal("the staff policy is offered without a sign-in")
	}
	tok := csrf(html)
	if r := post("/ui/requests", url.Values{"policy": {"staff"}, "csrf": {tok}}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("staff policy without a sign-in: %d", r.StatusCode)
	}
	if r := post("/ui/requests", url.Values{"policy": {"kiosk"}, "csrf": {tok}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("public policy: %d", r.StatusCode)
	}
	if r := post("/ui/login", url.Values{"token": {token + "x"}}); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("sign-in with a wrong token: %d", r.StatusCode)
	}
	r := post("/ui/login", url.Values{"token": {token}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", r.StatusCode)
	}
	for _, ck := range r.Cookies() {
		if strings.Contains(ck.Value, token) || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
			t.Fatalf("session cookie %+v", ck)
		}
	}
	html = page()
	if strings.Contains(html, `value="staff" disabled`) || strings.Contains(html, token) {
		t.Fatal("after the sign-in the staff policy is still disabled, or the page holds the token")
	}
	if r := post("/ui/requests", url.Values{"policy": {"staff"}, "csrf": {csrf(html)}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("staff policy after the sign-in: %d", r.StatusCode)
	}
	// Signing out needs the CSRF token too, and ends the session.
	if r := post("/ui/logout", url.Values{}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-out without a CSRF token: %d", r.StatusCode)
	}
	post("/ui/logout", url.Values{"csrf": {csrf(html)}})
	if html := page(); !strings.Contains(html, `value="staff" disabled`) {
		t.Fatal("still signed in after signing out")
	}
}
