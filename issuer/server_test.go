package issuer

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
)

const adminToken = "test-admin-token-0123456789"

// knowsSecret is a stand-in proof of knowledge for these tests: the proof
// is the secret and the challenge, in the clear. It accepts exactly what a
// sound zero-knowledge proof would (right secret, right challenge), so the
// issuer's handling of the verifier's answer is what is tested here.
func knowsSecret(hc, challenge fr.Element, proof []byte) error {
	if len(proof) != 64 {
		return errors.New("want 64 bytes")
	}
	var s, ch fr.Element
	s.SetBytes(proof[:32])
	ch.SetBytes(proof[32:])
	if circuits.HolderCommit(s) != hc {
		return errors.New("secret does not open the holder commitment")
	}
	if ch != challenge {
		return errors.New("proof is for another challenge")
	}
	return nil
}

func proofFor(secret, challenge fr.Element) string {
	a, b := secret.Bytes(), challenge.Bytes()
	return base64.StdEncoding.EncodeToString(append(a[:], b[:]...))
}

type apiEnv struct {
	*testEnv
	srv *httptest.Server
	sid string
}

func newAPI(t *testing.T, opts Options) *apiEnv {
	t.Helper()
	env := newEnv(t, opts)
	d := ExampleSchemas()["diploma"]
	if err := env.store.PutSchema(d); err != nil {
		t.Fatal(err)
	}
	e, err := NewServer(env.is, ServerOptions{AdminToken: adminToken, BodyLimit: 4096})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	sid := d.ID()
	return &apiEnv{env, srv, circuits.Dec(sid)}
}

func (a *apiEnv) do(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, a.srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/ld+json") {
		t.Fatalf("%s %s: Content-Type %q, body %s", method, path, ct, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %s", method, path, raw)
	}
	if resp.StatusCode >= 400 && (m["error"] == "" || m["code"] == nil) {
		t.Fatalf("%s %s: error body without error/code: %s", method, path, raw)
	}
	return resp.StatusCode, m
}

func (a *apiEnv) offerBody() string {
	b, _ := json.Marshal(map[string]any{"schemaId": a.sid, "subject": diplomaSubject(), "validUntil": "2040-01-01T00:00:00Z"})
	return string(b)
}

func TestAdminRoutesRequireToken(t *testing.T) {
	a := newAPI(t, Options{HolderProof: knowsSecret})
	for _, r := range []struct{ method, path string }{
		{"POST", "/v1/offers"}, {"POST", "/v1/credentials"}, {"POST", "/v1/revocations"}, {"GET", "/v1/credentials/x"},
	} {
		for _, tok := range []string{"", "wrong-token-wrong-token", adminToken + "x"} {
			code, m := a.do(t, r.method, r.path, tok, a.offerBody())
			if code != http.StatusUnauthorized || m["code"] != "unauthorized" {
				t.Errorf("%s %s with %q: %d %v", r.method, r.path, tok, code, m)
			}
		}
	}
	if code, _ := a.do(t, "POST", "/v1/offers", adminToken, a.offerBody()); code != http.StatusCreated {
		t.Fatalf("with the token: %d", code)
	}
	if _, err := NewServer(a.is, ServerOptions{}); err == nil {
		t.Fatal("server without admin token")
	}
}

func TestOfferClaimedOnce(t *testing.T) {
	a := newAPI(t, Options{HolderProof: knowsSecret})
	code, link := a.do(t, "POST", "/v1/offers", adminToken, a.offerBody())
	if code != http.StatusCreated {
		t.Fatalf("create offer: %d %v", code, link)
	}
	id, tok := link["id"].(string), link["token"].(string)
	if !strings.Contains(link["url"].(string), "/v1/offers/"+id+"?token=") {
		t.Fatalf("link %v", link)
	}
	// The holder opens the link.
	code, view := a.do(t, "GET", "/v1/offers/"+id+"?token="+tok, "", "")
	if code != http.StatusOK || view["issuer"] != a.key.DID() || len(view["display"].([]any)) != 7 {
		t.Fatalf("get offer: %d %v", code, view)
	}
	if code, m := a.do(t, "GET", "/v1/offers/"+id+"?token=AAAA"+tok[4:], "", ""); code != http.StatusForbidden {
		t.Fatalf("get with wrong token: %d %v", code, m)
	}
	challenge := wire.ClaimChallenge(id, tok)
	if view["challenge"] != circuits.Dec(challenge) {
		t.Fatal("offer view challenge differs")
	}
	secret, hc := holder()
	claim := func(token string, hc fr.Element, proof string) (int, map[string]any) {
		b, _ := json.Marshal(wire.ClaimBody{Token: token, HolderCommitment: circuits.F(hc), Proof: proof})
		return a.do(t, "POST", "/v1/offers/"+id+"/claim", "", string(b))
	}
	// Wrong token, then a proof for another challenge or another secret.
	if code, m := claim(tok+"x", hc, proofFor(secret, challenge)); code != http.StatusForbidden || m["code"] != "wrong_token" {
		t.Fatalf("claim with wrong token: %d %v", code, m)
	}
	if code, m := claim(tok, hc, proofFor(secret, wire.ClaimChallenge("other", tok))); code != http.StatusUnprocessableEntity {
		t.Fatalf("claim with a proof for another offer: %d %v", code, m)
	}
	if code, m := claim(tok, hc, proofFor(circuits.RandomElement(), challenge)); code != http.StatusUnprocessableEntity {
		t.Fatalf("claim without knowing the secret: %d %v", code, m)
	}
	if _, _, size, _ := a.chain.Root(); size != 0 {
		t.Fatal("failed claims anchored something")
	}
	code, got := claim(tok, hc, proofFor(secret, challenge))
	if code != http.StatusOK {
		t.Fatalf("claim: %d %v", code, got)
	}
	raw, _ := json.Marshal(got)
	b, err := wire.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.Check()
	if err != nil {
		t.Fatal(err)
	}
	if c.CredentialSubject.HolderCommitment != circuits.Dec(hc) {
		t.Fatal("credential is not bound to the claiming holder")
	}
	// Exactly once: the same holder, another holder, and GET all refuse now.
	if code, m := claim(tok, hc, proofFor(secret, challenge)); code != http.StatusConflict {
		t.Fatalf("second claim: %d %v", code, m)
	}
	s2, hc2 := holder()
	if code, m := claim(tok, hc2, proofFor(s2, challenge)); code != http.StatusConflict {
		t.Fatalf("claim by another holder: %d %v", code, m)
	}
	if code, _ := a.do(t, "GET", "/v1/offers/"+id+"?token="+tok, "", ""); code != http.StatusConflict {
		t.Fatalf("get after claim: %d", code)
	}
	if _, _, size, _ := a.chain.Root(); size != 1 {
		t.Fatalf("%d leaves anchored for one offer", size)
	}
}

func TestClaimsDisabledWithoutVerifier(t *testing.T) {
	a := newAPI(t, Options{})
	_, link := a.do(t, "POST", "/v1/offers", adminToken, a.offerBody())
	secret, hc := holder()
	id, tok := link["id"].(string), link["token"].(string)
	b, _ := json.Marshal(wire.ClaimBody{Token: tok, HolderCommitment: circuits.F(hc), Proof: proofFor(secret, wire.ClaimChallenge(id, tok))})
	if code, m := a.do(t, "POST", "/v1/offers/"+id+"/claim", "", string(b)); code != http.StatusServiceUnavailable {
		t.Fatalf("%d %v", code, m)
	}
}

func TestAPIBadInput(t *testing.T) {
	a := newAPI(t, Options{HolderProof: knowsSecret})
	_, hc := holder()
	issue := func(subject map[string]any, extra string) string {
		m := map[string]any{"schemaId": a.sid, "subject": subject, "holderCommitment": circuits.Dec(hc)}
		b, _ := json.Marshal(m)
		return strings.TrimSuffix(string(b), "}") + extra + "}"
	}
	bad := diplomaSubject()
	bad["gpa"] = "three"
	for _, tc := range []struct {
		name, method, path, body string
		code                     int
		field                    string
	}{
		{"unknown member", "POST", "/v1/credentials", issue(diplomaSubject(), `,"extra":1`), 400, ""},
		{"trailing data", "POST", "/v1/credentials", issue(diplomaSubject(), "") + "{}", 400, ""},
		{"not JSON", "POST", "/v1/credentials", "{", 400, ""},
		{"too large", "POST", "/v1/credentials", `{"schemaId":"` + strings.Repeat("1", 5000) + `"}`, 413, ""},
		{"bad field", "POST", "/v1/credentials", issue(bad, ""), 422, "gpa"},
		{"unknown schema", "POST", "/v1/offers", `{"schemaId":"12345","subject":{}}`, 404, ""},
		{"non-canonical holder", "POST", "/v1/credentials", `{"schemaId":"` + a.sid + `","subject":{},"holderCommitment":"0123"}`, 400, ""},
		{"unknown credential", "POST", "/v1/revocations", `{"credentialIds":["urn:uuid:x"]}`, 404, ""},
		{"nothing to revoke", "POST", "/v1/revocations", `{}`, 422, ""},
		{"unknown route", "GET", "/v1/nope", "", 404, ""},
		{"unknown offer", "GET", "/v1/offers/nope?token=x", "", 404, ""},
		{"claim bad proof encoding", "POST", "/v1/offers/nope/claim", `{"token":"t","holderCommitment":"1","proof":"!!"}`, 400, ""},
	} {
		code, m := a.do(t, tc.method, tc.path, adminToken, tc.body)
		if code != tc.code || (tc.field != "" && m["field"] != tc.field) {
			t.Errorf("%s: %d %v, want %d", tc.name, code, m, tc.code)
		}
	}
}

func TestAPIIssueAndRevoke(t *testing.T) {
	a := newAPI(t, Options{HolderProof: knowsSecret})
	_, hc := holder()
	body, _ := json.Marshal(map[string]any{"schemaId": a.sid, "subject": diplomaSubject(), "holderCommitment": circuits.Dec(hc)})
	code, m := a.do(t, "POST", "/v1/credentials", adminToken, string(body))
	if code != http.StatusCreated {
		t.Fatalf("%d %v", code, m)
	}
	priv := m["private"].(map[string]any)
	id := priv["credentialId"].(string)
	code, m = a.do(t, "POST", "/v1/revocations", adminToken, `{"credentialIds":["`+id+`"]}`)
	if code != http.StatusOK {
		t.Fatalf("%d %v", code, m)
	}
	code, m = a.do(t, "GET", "/v1/credentials/"+id, adminToken, "")
	if code != http.StatusOK || m["revoked"] != true {
		t.Fatalf("%d %v", code, m)
	}
	leaf, _, _ := a.chain.Leaf(uint64(priv["leafIndex"].(float64)))
	if !leaf.IsZero() {
		t.Fatal("leaf not zero after revocation")
	}
	// The context document is served.
	resp, err := http.Get(a.srv.URL + wire.ContextPath)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, wire.ContextDocument()) {
		t.Fatal("context document differs")
	}
}

func encodeB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestOfferExpiresAndConcurrentClaims(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	a := newAPI(t, Options{HolderProof: knowsSecret, Now: func() time.Time { return clock() }, OfferTTL: time.Hour})
	ctx := context.Background()
	link, err := a.is.CreateOffer(ctx, OfferRequest{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject()})
	if err != nil {
		t.Fatal(err)
	}
	// Many holders race for one offer: exactly one gets the credential.
	var wg sync.WaitGroup
	var won atomic.Int32
	for range 8 {
		wg.Go(func() {
			s, hc := holder()
			b, _ := json.Marshal(wire.ClaimBody{Token: link.Token, HolderCommitment: circuits.F(hc), Proof: proofFor(s, wire.ClaimChallenge(link.ID, link.Token))})
			req, _ := http.NewRequest("POST", a.srv.URL+"/v1/offers/"+link.ID+"/claim", bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
				won.Add(1)
			case http.StatusConflict:
			default:
				t.Errorf("claim answered %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d holders received the credential", won.Load())
	}
	if _, _, size, _ := a.chain.Root(); size != 1 {
		t.Fatalf("%d leaves anchored", size)
	}
	// An offer past its lifetime can be neither opened nor claimed.
	link2, _ := a.is.CreateOffer(ctx, OfferRequest{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject()})
	clock = func() time.Time { return now.Add(2 * time.Hour) }
	if code, m := a.do(t, "GET", "/v1/offers/"+link2.ID+"?token="+link2.Token, "", ""); code != http.StatusGone {
		t.Fatalf("expired offer: %d %v", code, m)
	}
	s, hc := holder()
	if _, err := a.is.Claim(ctx, link2.ID, link2.Token, hc, mustB64(proofFor(s, wire.ClaimChallenge(link2.ID, link2.Token)))); !errors.Is(err, ErrOfferExpired) {
		t.Fatalf("claim of expired offer: %v", err)
	}
}

func mustB64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// A claim interrupted after its commitment reached the chain is finished by
// the same holder's retry, without anchoring again; another holder cannot
// take the offer over.
func TestClaimInterruptedThenRetried(t *testing.T) {
	env := newEnv(t, Options{HolderProof: knowsSecret})
	ctx := context.Background()
	crashing := New(env.key, &crashChain{Chain: env.chain, failAfter: true}, env.store, Options{HolderProof: knowsSecret})
	link, err := env.is.CreateOffer(ctx, OfferRequest{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject()})
	if err != nil {
		t.Fatal(err)
	}
	ch := wire.ClaimChallenge(link.ID, link.Token)
	s, hc := holder()
	if _, err := crashing.Claim(ctx, link.ID, link.Token, hc, mustB64(proofFor(s, ch))); !errors.Is(err, errCrash) {
		t.Fatalf("interrupted claim: %v", err)
	}
	s2, hc2 := holder()
	if _, err := env.is.Claim(ctx, link.ID, link.Token, hc2, mustB64(proofFor(s2, ch))); !errors.Is(err, ErrOfferClaimed) {
		t.Fatalf("another holder took over an interrupted claim: %v", err)
	}
	b, err := env.is.Claim(ctx, link.ID, link.Token, hc, mustB64(proofFor(s, ch)))
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if _, err := b.Check(); err != nil {
		t.Fatal(err)
	}
	if _, _, size, _ := env.chain.Root(); size != 1 {
		t.Fatalf("%d leaves after an interrupted claim and its retry", size)
	}
	if _, err := env.is.Claim(ctx, link.ID, link.Token, hc, mustB64(proofFor(s, ch))); !errors.Is(err, ErrOfferClaimed) {
		t.Fatalf("third claim: %v", err)
	}
}
