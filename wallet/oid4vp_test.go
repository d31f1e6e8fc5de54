package wallet_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/dcql"
	"github.com/zkcred/zkcred/internal/didweb"
	"github.com/zkcred/zkcred/internal/oid4vp"
	testenv "github.com/zkcred/zkcred/internal/wallettest"
	"github.com/zkcred/zkcred/wallet"
	"github.com/zkcred/zkcred/wire"
)

var loopback = wallet.OpenID4VPOptions{AllowLoopbackHTTP: true}

// TestPresentOpenID4VP: an openid4vp:// link → the signed request object
// → a confirmation naming the verifier authenticated by its did:web →
// direct_post → verified; the same request answered again is refused.
func TestPresentOpenID4VP(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	w := newWallet(t, e)
	ctx := context.Background()
	if _, err := w.Receive(ctx, e.Issue(w.HolderCommit(), "3.72", time.Time{})); err != nil {
		t.Fatal(err)
	}
	cr, err := e.Verifier.CreateRequest("graduate")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cr.OpenID4VPURI, "openid4vp://?") {
		t.Fatalf("link %q", cr.OpenID4VPURI)
	}
	ar, err := w.ReadAuthorizationRequest(ctx, cr.OpenID4VPURI, loopback)
	if err != nil {
		t.Fatal(err)
	}
	did := e.Verifier.DID()
	if !ar.Signed || !strings.HasPrefix(did, "did:web:127.0.0.1%3A") || ar.Auth.ClientID != oid4vp.PrefixDID+did {
		t.Fatalf("signed %v, client %q, did %q", ar.Signed, ar.Auth.ClientID, did)
	}
	if ar.Request.ID != cr.ID || ar.Request.Nonce != cr.Nonce || ar.Request.Query != cr.Query {
		t.Fatalf("the DCQL query does not compile to the verifier's request")
	}
	var desc bytes.Buffer
	done, err := w.PresentOpenID4VP(ctx, ar, wallet.PresentOptions{Keys: e.Keys, Confirm: func(p *wallet.Plan) error {
		p.Describe(&desc)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(desc.String(), "Verifier "+did+" (request signed by its key") {
		t.Fatalf("the confirmation does not name the authenticated verifier:\n%s", desc.String())
	}
	if done.Result.Status != wire.StatusVerified || done.Result.Disclosed["degree"] != "MSc" {
		t.Fatalf("verdict %+v", done.Result)
	}
	if res, err := e.Verifier.Result(cr.ID, cr.ResultToken); err != nil || res.Status != wire.StatusVerified {
		t.Fatalf("result %+v, %v", res, err)
	}
	// The request_uri alone (without the link) works too, and the nonce is
	// used up: a new presentation for it is refused.
	ar2, err := w.ReadAuthorizationRequest(ctx, e.Verifier.RequestURI(cr.ID), loopback)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.PresentOpenID4VP(ctx, ar2, wallet.PresentOptions{Keys: e.Keys})
	var re *wallet.RemoteError
	if !errors.As(err, &re) || re.Status != http.StatusConflict || re.Code != wire.CodeNonceUsed {
		t.Fatalf("reused nonce: %v", err)
	}
	// Without the explicit option, a loopback did:web is not resolved over
	// http: the verifier is not authenticated.
	if _, err := w.ReadAuthorizationRequest(ctx, cr.OpenID4VPURI, wallet.OpenID4VPOptions{}); !errors.Is(err, wallet.ErrClient) {
		t.Fatalf("loopback http without the option: %v", err)
	}
	// A zkcred request URL is not an OpenID4VP request.
	if _, err := w.ReadAuthorizationRequest(ctx, e.Request("graduate"), loopback); !errors.Is(err, wallet.ErrNotOpenID4VP) {
		t.Fatalf("zkcred request: %v", err)
	}
}

// fakeVerifier is a site with a did:web of its own that serves request
// objects made by the test, built from a real request of the verifier.
type fakeVerifier struct {
	srv  *httptest.Server
	did  string
	key  ed25519.PrivateKey
	objs map[string]string // path → request object
	zk   map[string][]byte // path → zkcred request JSON

	mu   sync.Mutex
	gets map[string]int // path → GETs served
}

func (f *fakeVerifier) served(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets[path]
}

func newFakeVerifier(t *testing.T) *fakeVerifier {
	f := &fakeVerifier{objs: map[string]string{}, zk: map[string][]byte{}, gets: map[string]int{}}
	_, f.key, _ = ed25519.GenerateKey(nil)
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.did, _ = didweb.FromOrigin(f.srv.URL, true)
	mux.Handle(didweb.Path, didweb.Handler(didweb.NewDocument(f.did, f.key.Public().(ed25519.PublicKey))))
	mux.HandleFunc("/zk/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.gets[r.URL.Path]++
		f.mu.Unlock()
		b, ok := f.zk[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("/req/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.gets[r.URL.Path]++
		f.mu.Unlock()
		o, ok := f.objs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", oid4vp.RequestObjectMedia)
		_, _ = w.Write([]byte(o))
	})
	return f
}

// TestReadPresentationRequestOneGET: a zkcred request URL and a
// request_uri are each read with one GET (the wallet does not fetch a
// zkcred request again after finding it is no request object), and each
// is checked as its own kind.
func TestReadPresentationRequestOneGET(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	w := newWallet(t, e)
	ctx := context.Background()
	if _, err := w.Receive(ctx, e.Issue(w.HolderCommit(), "3.72", time.Time{})); err != nil {
		t.Fatal(err)
	}
	f := newFakeVerifier(t)
	// The verifier's zkcred request, re-addressed to the fake site.
	resp, err := http.Get(e.Request("graduate"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	m["audience"] = f.srv.URL
	m["audienceId"] = circuits.F(circuits.AudienceID(f.srv.URL)).String()
	m["submitUrl"] = f.srv.URL + "/zk/r1/presentations"
	f.zk["/zk/r1"], _ = json.Marshal(m)
	req, ar, err := w.ReadPresentationRequest(ctx, f.srv.URL+"/zk/r1", loopback)
	if err != nil || ar != nil || req.Audience != f.srv.URL {
		t.Fatalf("zkcred request: %+v %+v %v", req, ar, err)
	}
	if n := f.served("/zk/r1"); n != 1 {
		t.Fatalf("the zkcred request was fetched %d times, want 1", n)
	}
	// Its checks still apply to the one body read: a request naming
	// another audience than the site serving it is refused.
	m["audience"] = e.VerifierURL
	m["audienceId"] = circuits.F(circuits.AudienceID(e.VerifierURL)).String()
	f.zk["/zk/r2"], _ = json.Marshal(m)
	if _, _, err := w.ReadPresentationRequest(ctx, f.srv.URL+"/zk/r2", loopback); !errors.Is(err, wallet.ErrAudience) {
		t.Fatalf("relayed zkcred request: %v", err)
	}
	if n := f.served("/zk/r2"); n != 1 {
		t.Fatalf("the relayed request was fetched %d times, want 1", n)
	}
	// A request_uri answering a request object: one GET too, and it is
	// checked as an OpenID4VP request.
	cr, err := e.Verifier.CreateRequest("graduate")
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.Verifier.AuthorizationRequest(cr.ID)
	if err != nil {
		t.Fatal(err)
	}
	a.ClientID = oid4vp.PrefixDID + f.did
	a.ResponseURI = f.srv.URL + "/resp/" + cr.ID
	meta, _ := oid4vp.ParseMeta(a.DCQLQuery.Credentials[0].Meta)
	meta.Audience = f.srv.URL
	a.DCQLQuery.Credentials[0].Meta, _ = json.Marshal(meta)
	jwt, err := oid4vp.SignRequest(a, f.key, didweb.KeyID(f.did))
	if err != nil {
		t.Fatal(err)
	}
	f.objs["/req/o1"] = jwt
	req, ar, err = w.ReadPresentationRequest(ctx, f.srv.URL+"/req/o1", loopback)
	if err != nil || ar == nil || !ar.Signed || req != ar.Request {
		t.Fatalf("request_uri: %+v %v", ar, err)
	}
	if n := f.served("/req/o1"); n != 1 {
		t.Fatalf("the request object was fetched %d times, want 1", n)
	}
	// A file is read as a zkcred request.
	p := filepath.Join(t.TempDir(), "request.json")
	if err := os.WriteFile(p, f.zk["/zk/r1"], 0o600); err != nil {
		t.Fatal(err)
	}
	if req, ar, err := w.ReadPresentationRequest(ctx, p, loopback); err != nil || ar != nil || req.Audience != f.srv.URL {
		t.Fatalf("request file: %v", err)
	}
}

// TestOpenID4VPRefused: each way a request can fail to authenticate its
// verifier or to make sense is refused, with a clear error.
func TestOpenID4VPRefused(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	w := newWallet(t, e)
	ctx := context.Background()
	if _, err := w.Receive(ctx, e.Issue(w.HolderCommit(), "3.72", time.Time{})); err != nil {
		t.Fatal(err)
	}
	f := newFakeVerifier(t)
	other := newFakeVerifier(t)
	cr, err := e.Verifier.CreateRequest("graduate")
	if err != nil {
		t.Fatal(err)
	}
	// base is the verifier's own request, re-addressed to the fake site.
	base := func() *oid4vp.AuthorizationRequest {
		ar, err := e.Verifier.AuthorizationRequest(cr.ID)
		if err != nil {
			t.Fatal(err)
		}
		ar.ClientID = oid4vp.PrefixDID + f.did
		ar.ResponseURI = f.srv.URL + "/resp/" + cr.ID
		meta, _ := oid4vp.ParseMeta(ar.DCQLQuery.Credentials[0].Meta)
		meta.Audience = f.srv.URL
		ar.DCQLQuery.Credentials[0].Meta, _ = json.Marshal(meta)
		return ar
	}
	serve := func(name string, ar *oid4vp.AuthorizationRequest, key ed25519.PrivateKey, kid string) string {
		jwt, err := oid4vp.SignRequest(ar, key, kid)
		if err != nil {
			t.Fatal(err)
		}
		f.objs["/req/"+name] = jwt
		return oid4vp.ReferenceLink(ar.ClientID, f.srv.URL+"/req/"+name)
	}
	kid := didweb.KeyID(f.did)
	// The base request is accepted: the negatives below each change one thing.
	if ar, err := w.ReadAuthorizationRequest(ctx, serve("good", base(), f.key, kid), loopback); err != nil || !ar.Signed {
		t.Fatalf("the unchanged request: %v", err)
	}
	dcqlWith := func(mut func(cq *dcql.CredentialQuery, m *oid4vp.Meta)) *oid4vp.AuthorizationRequest {
		ar := base()
		cq := &ar.DCQLQuery.Credentials[0]
		m, _ := oid4vp.ParseMeta(cq.Meta)
		mut(cq, m)
		cq.Meta, _ = json.Marshal(m)
		return ar
	}
	_, otherKey, _ := ed25519.GenerateKey(nil)
	cases := []struct {
		name string
		link func() string
		want error
		says string
	}{
		{"bad signature", func() string { return serve("badsig", base(), otherKey, kid) }, wallet.ErrClient, "does not verify"},
		{"client_id not matching its key", func() string {
			return serve("otherkid", base(), other.key, didweb.KeyID(other.did))
		}, wallet.ErrClient, "is not a key of " + f.did},
		{"link naming another client", func() string {
			serve("otherclient", base(), f.key, kid)
			return oid4vp.ReferenceLink(oid4vp.PrefixDID+other.did, f.srv.URL+"/req/otherclient")
		}, wallet.ErrClient, "the link names client"},
		{"response_uri of another origin", func() string {
			ar := base()
			ar.ResponseURI = other.srv.URL + "/resp/" + cr.ID
			return serve("otherorigin", ar, f.key, kid)
		}, wallet.ErrClient, "does not belong to"},
		{"missing nonce", func() string { ar := base(); ar.Nonce = ""; return serve("nononce", ar, f.key, kid) }, wallet.ErrBadRequest, "no nonce"},
		{"missing state", func() string { ar := base(); ar.State = ""; return serve("nostate", ar, f.key, kid) }, wallet.ErrBadRequest, "no state"},
		{"expired request object", func() string {
			ar := base()
			ar.Expiry = time.Now().Add(-time.Minute).Unix()
			return serve("expired", ar, f.key, kid)
		}, wallet.ErrBadRequest, "expired"},
		{"attribute the schema lacks", func() string {
			return serve("noattr", dcqlWith(func(cq *dcql.CredentialQuery, _ *oid4vp.Meta) {
				cq.Claims = append(cq.Claims, dcql.ClaimQuery{Path: []any{"salary"}})
			}), f.key, kid)
		}, wallet.ErrBadRequest, `the schema has no attribute "salary"`},
		{"unsupported operator", func() string {
			return serve("badop", dcqlWith(func(_ *dcql.CredentialQuery, m *oid4vp.Meta) {
				m.Predicates[0].Op = "regex"
			}), f.key, kid)
		}, wallet.ErrBadRequest, `operator "regex" is not supported`},
		{"another format", func() string {
			return serve("format", dcqlWith(func(cq *dcql.CredentialQuery, _ *oid4vp.Meta) { cq.Format = "dc+sd-jwt" }), f.key, kid)
		}, wallet.ErrBadRequest, `format "dc+sd-jwt"`},
		{"trust root not of the trusted authorities", func() string {
			return serve("trust", dcqlWith(func(cq *dcql.CredentialQuery, _ *oid4vp.Meta) {
				cq.TrustedAuthorities[0].Values = cq.TrustedAuthorities[0].Values[:1]
			}), f.key, kid)
		}, wallet.ErrBadRequest, "trust_list_root"},
		{"audience not the response origin", func() string {
			return serve("aud", dcqlWith(func(_ *dcql.CredentialQuery, m *oid4vp.Meta) { m.Audience = other.srv.URL }), f.key, kid)
		}, wallet.ErrAudience, "the presentation would go to"},
		{"unsigned request", func() string {
			ar := base()
			ar.ClientID = oid4vp.PrefixRedirectURI + ar.ResponseURI
			l, _ := oid4vp.ValueLink(ar)
			return l
		}, wallet.ErrClient, "unsigned"},
		{"did client by value", func() string {
			l, _ := oid4vp.ValueLink(base())
			return l
		}, wallet.ErrClient, "must be a signed request object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := w.ReadAuthorizationRequest(ctx, c.link(), loopback)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("got %v, want %v saying %q", err, c.want, c.says)
			}
		})
	}
	// An unsigned local request is accepted when asked for, and shown as
	// unauthenticated.
	ar := base()
	ar.ClientID = oid4vp.PrefixRedirectURI + ar.ResponseURI
	l, _ := oid4vp.ValueLink(ar)
	got, err := w.ReadAuthorizationRequest(ctx, l, wallet.OpenID4VPOptions{AllowUnsigned: true})
	if err != nil || got.Signed || !strings.Contains(got.Verifier, "UNSIGNED") {
		t.Fatalf("unsigned with the option: %+v, %v", got, err)
	}
}
