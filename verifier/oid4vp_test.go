package verifier

import (
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zkcred/zkcred/internal/oid4vp"
	"github.com/zkcred/zkcred/wire"
)

// TestEncryptedResponses: a verifier with EncryptResponses asks for
// direct_post.jwt with its key in client_metadata, takes a response
// encrypted to that key, and refuses one in the clear or encrypted to
// another key.
func TestEncryptedResponses(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.EncryptResponses = true })
	post := func(r *wire.Request, form url.Values) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", e.http.URL+OID4VPResponsePath+r.ID, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		code, _ := m["code"].(string)
		if status, _ := m["status"].(string); resp.StatusCode == 200 {
			code = status
		}
		return resp.StatusCode, code
	}
	r := e.newRequest("hire")
	ar, err := e.srv.AuthorizationRequest(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ar.ResponseMode != oid4vp.ResponseModeJWT || ar.ClientMetadata.JWKS == nil || len(ar.ClientMetadata.JWKS.Keys) != 1 {
		t.Fatalf("request: mode %s, metadata %+v", ar.ResponseMode, ar.ClientMetadata)
	}
	// Through the signed request object, as a wallet reads it.
	jwt, err := e.srv.RequestObject(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	ar, err = oid4vp.VerifyRequest(jwt, e.clock.Now(), func(string, string) (ed25519.PublicKey, error) {
		return e.srv.opts.SigningKey.Public().(ed25519.PublicKey), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p := e.honest(e.alice(), r)
	clear, _ := oid4vp.ResponseForm(r.ID, p)
	if st, code := post(r, clear); st != 400 || code != wire.CodeMalformed {
		t.Fatalf("a response in the clear: %d %s", st, code)
	}
	// Encrypted to another verifier's key.
	other := newEnv(t, func(o *Options) { o.EncryptResponses = true })
	oar, err := other.srv.AuthorizationRequest(other.newRequest("hire").ID)
	if err != nil {
		t.Fatal(err)
	}
	oar.State = r.ID
	wrong, err := oid4vp.EncryptedResponseForm(oar, p)
	if err != nil {
		t.Fatal(err)
	}
	if st, code := post(r, wrong); st != 400 || code != wire.CodeMalformed {
		t.Fatalf("encrypted to another key: %d %s", st, code)
	}
	if st, _ := post(r, url.Values{"response": {"not.a.jwe"}}); st != 400 {
		t.Fatalf("garbage JWE: %d", st)
	}
	form, err := oid4vp.EncryptedResponseForm(ar, p)
	if err != nil {
		t.Fatal(err)
	}
	if st, status := post(r, form); st != 200 || status != wire.StatusVerified {
		t.Fatalf("encrypted response: %d %s", st, status)
	}
	// A verifier without EncryptResponses refuses an encrypted response.
	e2 := newEnv(t, nil)
	r2 := e2.newRequest("hire")
	ar2, _ := e.srv.AuthorizationRequest(e.newRequest("hire").ID)
	ar2.State = r2.ID
	enc2, _ := oid4vp.EncryptedResponseForm(ar2, e2.honest(e2.alice(), r2))
	req, _ := http.NewRequest("POST", e2.http.URL+OID4VPResponsePath+r2.ID, strings.NewReader(enc2.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("an encrypted response to a verifier that asked for none: %d", resp.StatusCode)
	}
}
