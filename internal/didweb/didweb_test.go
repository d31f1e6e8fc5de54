package didweb

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFromOrigin(t *testing.T) {
	for _, c := range []struct {
		origin, did string
		loop        bool
		bad         bool
	}{
		{origin: "https://verifier.example", did: "did:web:verifier.example"},
		{origin: "https://Verifier.Example:443", did: "did:web:verifier.example"},
		{origin: "https://verifier.example:8443", did: "did:web:verifier.example%3A8443"},
		{origin: "http://127.0.0.1:8643", did: "did:web:127.0.0.1%3A8643", loop: true},
		{origin: "http://localhost:8643", did: "did:web:localhost%3A8643", loop: true},
		{origin: "http://127.0.0.1:8643", bad: true},               // http without the option
		{origin: "http://verifier.example", loop: true, bad: true}, // http for a non-loopback host
		{origin: "https://verifier.example/path", bad: true},       // not an origin
		{origin: "https://verifier.example?x=1", bad: true},        // not an origin
		{origin: "https://[::1]:8443", bad: true},                  // IPv6
		{origin: "ftp://verifier.example", bad: true},
	} {
		got, err := FromOrigin(c.origin, c.loop)
		if c.bad {
			if err == nil || !errors.Is(err, ErrDID) {
				t.Errorf("FromOrigin(%q) = %q, %v; want an ErrDID", c.origin, got, err)
			}
			continue
		}
		if err != nil || got != c.did {
			t.Errorf("FromOrigin(%q) = %q, %v; want %q", c.origin, got, err, c.did)
			continue
		}
		p, err := Parse(got + "#key-1")
		if err != nil {
			t.Fatal(err)
		}
		if o := p.Origin(c.loop); !strings.EqualFold(strings.TrimSuffix(c.origin, ":443"), o) {
			t.Errorf("Origin of %s = %s, want %s", got, o, c.origin)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, d := range []string{
		"did:key:z6Mk", "did:web:", "did:web:example.com:user:alice", "did:web:Example.com",
		"did:web:example.com%3A", "did:web:example.com%3Ax1", "did:web:exa%2Fmple.com", "did:web:%zz",
	} {
		if _, err := Parse(d); !errors.Is(err, ErrDID) {
			t.Errorf("Parse(%q) = %v, want ErrDID", d, err)
		}
	}
}

// serve publishes doc (or any handler) on a loopback server and returns
// the server's DID.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	did, err := FromOrigin(srv.URL, true)
	if err != nil {
		t.Fatal(err)
	}
	return did
}

// docFor serves a document made by mk from the server's own DID.
func docFor(t *testing.T, mk func(did string) any) string {
	var did string
	did = serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != Path {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(mk(did))
	}))
	return did
}

func TestResolve(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	did := docFor(t, func(did string) any { return NewDocument(did, pub) })
	r := &Resolver{AllowLoopbackHTTP: true}
	doc, err := r.Resolve(context.Background(), did)
	if err != nil {
		t.Fatal(err)
	}
	got, err := doc.Key(KeyID(did))
	if err != nil || !got.Equal(pub) {
		t.Fatalf("Key = %x, %v", got, err)
	}
	if _, err := doc.Key("#" + KeyFragment); err != nil {
		t.Fatalf("relative key id: %v", err)
	}
	if _, err := doc.Key(did + "#key-2"); !errors.Is(err, ErrDID) {
		t.Fatalf("unknown key: %v", err)
	}
	// Without the explicit option, a loopback DID is resolved over https
	// only, which a plain http server cannot answer.
	if _, err := (&Resolver{}).Resolve(context.Background(), did); !errors.Is(err, ErrDID) {
		t.Fatalf("loopback http without the option: %v", err)
	}
}

func TestResolveRefuses(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	other, _, _ := ed25519.GenerateKey(nil)
	r := &Resolver{AllowLoopbackHTTP: true}
	ctx := context.Background()
	cases := map[string]func(t *testing.T) (did, kid string){
		"document of another DID": func(t *testing.T) (string, string) {
			did := docFor(t, func(string) any { return NewDocument("did:web:elsewhere.example", pub) })
			return did, KeyID(did)
		},
		"key not an assertion method": func(t *testing.T) (string, string) {
			did := docFor(t, func(did string) any { d := NewDocument(did, pub); d.AssertionMethod = nil; return d })
			return did, KeyID(did)
		},
		"key of another controller": func(t *testing.T) (string, string) {
			did := docFor(t, func(did string) any {
				d := NewDocument(did, pub)
				d.VerificationMethod[0].Controller = "did:web:elsewhere.example"
				return d
			})
			return did, KeyID(did)
		},
		"key of another DID": func(t *testing.T) (string, string) {
			did := docFor(t, func(did string) any {
				d := NewDocument(did, pub)
				d.VerificationMethod = append(d.VerificationMethod, NewDocument("did:web:elsewhere.example", other).VerificationMethod...)
				d.AssertionMethod = append(d.AssertionMethod, KeyID("did:web:elsewhere.example"))
				return d
			})
			return did, KeyID("did:web:elsewhere.example")
		},
		"not a Multikey": func(t *testing.T) (string, string) {
			did := docFor(t, func(did string) any {
				d := NewDocument(did, pub)
				d.VerificationMethod[0].Type = "JsonWebKey"
				return d
			})
			return did, KeyID(did)
		},
		"bad multibase": func(t *testing.T) (string, string) {
			did := docFor(t, func(did string) any {
				d := NewDocument(did, pub)
				d.VerificationMethod[0].PublicKeyMultibase = "zzz"
				return d
			})
			return did, KeyID(did)
		},
		"redirect": func(t *testing.T) (string, string) {
			target := docFor(t, func(did string) any { return NewDocument(did, pub) })
			p, _ := Parse(target)
			did := serve(t, http.RedirectHandler(p.DocumentURL(true), http.StatusFound))
			return did, KeyID(did)
		},
		"not JSON": func(t *testing.T) (string, string) {
			did := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				_, _ = w.Write([]byte("<html>"))
			}))
			return did, KeyID(did)
		},
		"too large": func(t *testing.T) (string, string) {
			did := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"id":"` + strings.Repeat("a", MaxDocument) + `"}`))
			}))
			return did, KeyID(did)
		},
		"not found": func(t *testing.T) (string, string) {
			did := serve(t, http.NotFoundHandler())
			return did, KeyID(did)
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			did, kid := mk(t)
			doc, err := r.Resolve(ctx, did)
			if err == nil {
				_, err = doc.Key(kid)
			}
			if !errors.Is(err, ErrDID) {
				t.Fatalf("got %v, want an ErrDID", err)
			}
			t.Log(err)
		})
	}
}

func TestHandlerServesTheDocument(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	var did string
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	did, _ = FromOrigin(srv.URL, true)
	mux.Handle(Path, Handler(NewDocument(did, pub)))
	doc, err := (&Resolver{AllowLoopbackHTTP: true}).Resolve(context.Background(), did)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := doc.Key(KeyID(did)); err != nil || !k.Equal(pub) {
		t.Fatal(k, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("did:web:example.com%3A8443#key-1")
	f.Add(`{"id":"did:web:example.com","verificationMethod":[{"id":"#key-1"}],"assertionMethod":["#key-1"]}`)
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := Parse(s); err == nil {
			q, err := Parse(p.DID)
			if err != nil || *q != *p {
				t.Fatalf("Parse(%q) does not round-trip: %v", s, err)
			}
		}
		if d, err := ParseDocument([]byte(s), "did:web:example.com"); err == nil {
			_, _ = d.Key("#key-1")
		}
	})
}

func TestFromDomain(t *testing.T) {
	for in, want := range map[string]string{
		"uni.example":              "did:web:uni.example",
		"uni.example:8443":         "did:web:uni.example%3A8443",
		"127.0.0.1:8080":           "did:web:127.0.0.1%3A8080",
		"did:web:uni.example":      "did:web:uni.example",
		"did:web:uni.example%3A99": "did:web:uni.example%3A99",
	} {
		if got, err := FromDomain(in); err != nil || got != want {
			t.Errorf("FromDomain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "https://uni.example", "uni.example/path", "Uni.Example", "did:web:uni.example#key-1", "uni.example:port", "did:key:z6Mk"} {
		if got, err := FromDomain(bad); err == nil {
			t.Errorf("FromDomain(%q) = %q, want an error", bad, got)
		}
	}
}

// TestCanonical: every spelling of one origin has one canonical form, and
// CheckOrigin accepts that form only, so that aliases of an origin cannot
// stand for different parties.
func TestCanonical(t *testing.T) {
	for _, c := range []struct{ in, canon string }{
		{"did:web:uni.example", "did:web:uni.example"},
		{"did:web:uni.example%3A8443", "did:web:uni.example%3A8443"},
		{"did:web:127.0.0.1%3A8080", "did:web:127.0.0.1%3A8080"},
		{"did:web:localhost%3A1", "did:web:localhost%3A1"},
		// aliases
		{"did:web:uni.example%3A443", "did:web:uni.example"},
		{"did:web:uni.example%3a443", "did:web:uni.example"},
		{"did:web:uni.example%3A0443", "did:web:uni.example"},
		{"did:web:uni.example.", "did:web:uni.example"},
		{"did:web:uni.example.%3A443", "did:web:uni.example"},
		{"did:web:uni.example%3a8443", "did:web:uni.example%3A8443"},
		{"did:web:uni.example%3A08443", "did:web:uni.example%3A8443"},
		{"did:web:uni.example.%3A8443", "did:web:uni.example%3A8443"},
		{"did:web:uni%2Eexample", "did:web:uni.example"},
		{"did:web:%75ni.example", "did:web:uni.example"},
	} {
		got, err := Canonical(c.in)
		if err != nil || got != c.canon {
			t.Errorf("Canonical(%q) = %q, %v; want %q", c.in, got, err, c.canon)
		}
		err = CheckOrigin(c.in)
		if ok := c.in == c.canon; ok != (err == nil) || (!ok && !errors.Is(err, ErrDID)) {
			t.Errorf("CheckOrigin(%q) = %v", c.in, err)
		}
		if err != nil && !strings.Contains(err.Error(), c.canon) {
			t.Errorf("CheckOrigin(%q) = %v: does not name %q", c.in, err, c.canon)
		}
	}
	for _, bad := range []string{
		"", "uni.example", "did:key:z6Mk", "did:web:", "did:web:Uni.example", "did:web:uni.example#key-1",
		"did:web:uni.example:path", "did:web:uni.example%3A0", "did:web:uni.example%3A65536", "did:web:uni.example%3A",
		"did:web:uni..example", "did:web:.uni.example", "did:web:.", "did:web:uni.example..",
	} {
		if got, err := Canonical(bad); !errors.Is(err, ErrDID) {
			t.Errorf("Canonical(%q) = %q, %v; want ErrDID", bad, got, err)
		}
		if err := CheckOrigin(bad); !errors.Is(err, ErrDID) {
			t.Errorf("CheckOrigin(%q) = %v; want ErrDID", bad, err)
		}
	}
	// What FromOrigin and FromDomain make is canonical.
	for in, want := range map[string]string{
		"https://uni.example:443": "did:web:uni.example", "https://uni.example.:0443": "did:web:uni.example",
		"https://uni.example:08443": "did:web:uni.example%3A8443",
	} {
		if got, err := FromOrigin(in, false); err != nil || got != want {
			t.Errorf("FromOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"uni.example:443": "did:web:uni.example", "uni.example.": "did:web:uni.example",
		"did:web:uni.example%3a0443": "did:web:uni.example", "uni.example:08443": "did:web:uni.example%3A8443",
	} {
		if got, err := FromDomain(in); err != nil || got != want {
			t.Errorf("FromDomain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
