package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/piprate/json-gold/ld"

	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/wire"
)

// loader is a JSON-LD document loader that reaches nothing but the test's
// issuer server: the two W3C contexts come from testdata, everything else
// must be served at base, and any other URL is refused.
type loader struct {
	base    string
	fetched []string
}

func (l *loader) LoadDocument(u string) (*ld.RemoteDocument, error) {
	file := map[string]string{
		wire.ContextV2:             "testdata/contexts/credentials-v2.jsonld",
		wire.ContextUndefinedTerms: "testdata/contexts/undefined-terms-v2.jsonld",
	}[u]
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		doc, err := ld.DocumentFromReader(f)
		return &ld.RemoteDocument{DocumentURL: u, Document: doc}, err
	}
	if !strings.HasPrefix(u, l.base+"/") {
		return nil, fmt.Errorf("the test loader fetches only from %s, not %s", l.base, u)
	}
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", u, resp.StatusCode)
	}
	l.fetched = append(l.fetched, u)
	doc, err := ld.DocumentFromReader(resp.Body)
	return &ld.RemoteDocument{DocumentURL: u, Document: doc}, err
}

// expand expands a credential with a JSON-LD processor in safe mode (a
// term that does not expand is an error, as in RDF-based Data Integrity
// suites and many verifiers) and checks that every property, type and ID
// of the result is an absolute IRI.
func expand(t *testing.T, l *loader, credential []byte) ([]any, error) {
	t.Helper()
	var doc any
	if err := json.Unmarshal(credential, &doc); err != nil {
		t.Fatal(err)
	}
	opts := ld.NewJsonLdOptions("")
	opts.SafeMode = true
	opts.DocumentLoader = l
	out, err := ld.NewJsonLdProcessor().Expand(doc, opts)
	if err != nil {
		return nil, err
	}
	var walk func(v any) error
	walk = func(v any) error {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if !strings.HasPrefix(k, "@") && !strings.Contains(k, ":") {
					return fmt.Errorf("property %q did not expand", k)
				}
				switch k {
				case "@type", "@id":
					ids, _ := e.([]any)
					if s, ok := e.(string); ok {
						ids = []any{s}
					}
					for _, id := range ids {
						if s, _ := id.(string); !strings.Contains(s, ":") && !(k == "@type" && s == "@json") {
							return fmt.Errorf("%s %q is not an absolute IRI", k, id)
						}
					}
				case "@value":
					continue // a literal, the @json claims included
				}
				if err := walk(e); err != nil {
					return err
				}
			}
		case []any:
			for _, e := range x {
				if err := walk(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return out, walk(out)
}

// served starts the issuer API on a listener whose URL is the issuer's
// public URL, so that credentials name contexts it serves.
func served(t *testing.T, e *env) (*issuer.Issuer, string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	is := issuer.New(e.is.Key(), e.flaky, e.is.Store(), issuer.Options{PublicURL: base, HolderProof: knowsSecret})
	srv := httptest.NewUnstartedServer(e.handler(t, is))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return is, base
}

// TestCredentialExpandsInSafeMode: a JSON-LD processor in safe mode
// expands an issued credential without dropping a term, fetching the
// zkcred context from the URL the credential names, which the issuer's
// API serves; the claims stay one @json literal.
func TestCredentialExpandsInSafeMode(t *testing.T) {
	e := newEnv(t)
	is, base := served(t, e)
	_, hc := holder()
	b, err := is.Issue(context.Background(), issuer.Request{Schema: issuer.ExampleSchemas()["diploma"], Subject: diplomaSubject(), HolderCommit: hc})
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.Check()
	if err != nil {
		t.Fatal(err)
	}
	if want := base + wire.ContextPath; len(c.Context) != 2 || c.Context[1] != want {
		t.Fatalf("@context %v, want the issuer's own %s second", c.Context, want)
	}
	l := &loader{base: base}
	out, err := expand(t, l, b.Credential)
	if err != nil {
		t.Fatalf("safe-mode expansion: %v", err)
	}
	if len(l.fetched) == 0 || slices.ContainsFunc(l.fetched, func(u string) bool { return u != base+wire.ContextPath }) {
		t.Fatalf("fetched %v, want the issuer's context (for the document and its proof)", l.fetched)
	}
	raw, _ := json.Marshal(out)
	for _, iri := range []string{
		"https://zkcred.org/ns/credentials#holderCommitment", "https://zkcred.org/ns/credentials#claims",
		"https://zkcred.org/ns/credentials#leafIndex", "https://zkcred.org/ns/credentials#ZkcredCredential",
		"https://www.w3.org/2018/credentials#credentialStatus", "https://w3id.org/security#proofValue",
		`"@type":"@json"`,
	} {
		if !strings.Contains(string(raw), iri) {
			t.Errorf("expanded credential lacks %s", iri)
		}
	}

	// A term the contexts do not define fails safe mode: the check above
	// would see one.
	var doc map[string]any
	json.Unmarshal(b.Credential, &doc)
	doc["credentialSubject"].(map[string]any)["nickname"] = "Ada"
	bad, _ := json.Marshal(doc)
	if _, err := expand(t, &loader{base: base}, bad); err == nil {
		t.Fatal("an undefined term expanded in safe mode")
	}
	// A context the issuer does not serve cannot be loaded.
	doc["@context"] = []any{wire.ContextV2, base + "/ns/other/v1"}
	delete(doc["credentialSubject"].(map[string]any), "nickname")
	bad, _ = json.Marshal(doc)
	if _, err := expand(t, &loader{base: base}, bad); err == nil {
		t.Fatal("a context nobody serves was loaded")
	}
	// The old context URL is served nowhere.
	doc["@context"] = []any{wire.ContextV2, wire.ContextZkcred}
	bad, _ = json.Marshal(doc)
	if _, err := expand(t, &loader{base: base}, bad); err == nil {
		t.Fatal("the unserved zkcred.org context was loaded")
	}
}

// TestCredentialWithoutPublicURLExpands: an issuer without a public URL
// names W3C's undefined-terms context, and its credentials expand in safe
// mode too.
func TestCredentialWithoutPublicURLExpands(t *testing.T) {
	e := newEnv(t)
	is := issuer.New(e.is.Key(), e.flaky, e.is.Store(), issuer.Options{})
	_, hc := holder()
	b, err := is.Issue(context.Background(), issuer.Request{Schema: issuer.ExampleSchemas()["diploma"], Subject: diplomaSubject(), HolderCommit: hc})
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.Check()
	if err != nil {
		t.Fatal(err)
	}
	if c.Context[1] != wire.ContextUndefinedTerms {
		t.Fatalf("@context %v", c.Context)
	}
	if _, err := expand(t, &loader{base: "http://nowhere.invalid"}, b.Credential); err != nil {
		t.Fatalf("safe-mode expansion: %v", err)
	}
}
