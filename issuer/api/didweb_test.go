package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/zkcred/zkcred/internal/apitest"
	"github.com/zkcred/zkcred/internal/didweb"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/wire"
)

// plainClient sends requests without the OpenAPI harness (whose coverage
// check belongs to TestConformance).
type plainClient struct {
	t   *testing.T
	url string
}

func (c plainClient) Do(method, path string, body any, header ...string) *apitest.Answer {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.url+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &apitest.Answer{Status: resp.StatusCode, Body: b}
}

// TestDIDWebIssuerAPI: an issuer configured with a did:web serves that
// DID's document (its signing key as the Multikey #key-1), names it in
// /v1/issuer and its OpenID4VCI metadata, and signs its credentials as
// it, even when its public URL is another origin.
func TestDIDWebIssuerAPI(t *testing.T) {
	e := newEnv(t)
	const did = "did:web:uni.example"
	is := issuer.New(e.is.Key(), e.flaky, e.is.Store(), issuer.Options{
		PublicURL: "https://issuer.example", HolderProof: knowsSecret, OfferTTL: time.Hour, DIDWeb: did})
	srv := httptest.NewServer(e.handler(t, is))
	defer srv.Close()
	h := plainClient{t, srv.URL}
	var doc didweb.Document
	if a := h.Do("GET", didweb.Path, nil); a.Status != 200 || a.Decode(&doc) != nil || doc.ID != did {
		t.Fatalf("did.json: %s", a)
	}
	if k, err := doc.Key(did + "#key-1"); err != nil || !k.Equal(is.Key().Public()) {
		t.Fatalf("did.json key: %v", err)
	}
	var info map[string]string
	if a := h.Do("GET", "/v1/issuer", nil); a.Decode(&info) != nil || info["didWeb"] != did || info["did"] != is.Key().DID() {
		t.Fatalf("issuer info %v", info)
	}
	var md struct {
		Display []struct{ Name string } `json:"display"`
	}
	if a := h.Do("GET", "/.well-known/openid-credential-issuer", nil); a.Decode(&md) != nil || len(md.Display) == 0 || md.Display[0].Name != did {
		t.Fatalf("metadata display %+v", md)
	}
	a := h.Do("POST", "/v1/credentials", e.issueBody(), "Authorization", bearer)
	if a.Status != 201 {
		t.Fatalf("issue: %s", a)
	}
	var b wire.Bundle
	if err := a.Decode(&b); err != nil {
		t.Fatal(err)
	}
	c, err := b.Check()
	if err != nil || c.Issuer != did || c.Proof.VerificationMethod != did+"#key-1" {
		t.Fatalf("credential: %v", err)
	}
	// The key is in the private part, and must be the signer's.
	b.Private.IssuerKey = "00" + b.Private.IssuerKey[2:]
	if _, err := b.Check(); err == nil {
		t.Fatal("a bundle with another issuer key checks")
	}
}
