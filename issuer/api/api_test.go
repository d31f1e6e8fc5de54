package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/apitest"
	"github.com/zkcred/zkcred/internal/didweb"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/issuer/api"
	"github.com/zkcred/zkcred/issuer/store"
	"github.com/zkcred/zkcred/wire"
)

func init() {
	// The JSON-LD context is JSON.
	openapi3filter.RegisterBodyDecoder("application/ld+json", openapi3filter.JSONBodyDecoder)
}

const adminToken = "test-admin-token-0123456789"

// knowsSecret is a stand-in proof of knowledge: the proof is the secret
// and the challenge, in the clear. It accepts exactly what a sound
// zero-knowledge proof would (right secret, right challenge); the Groth16
// verifier itself is tested in circuits and in issuer's end-to-end test.
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

func holder() (secret, commit fr.Element) {
	s := circuits.RandomElement()
	return s, circuits.HolderCommit(s)
}

func diplomaSubject() map[string]any {
	return map[string]any{
		"name": "Ada Lovelace", "birthDate": "1990-12-10", "degree": "MSc",
		"field": "Mathematics", "graduationDate": "2026-06-30", "gpa": "3.85", "honours": true,
	}
}

// flakyChain fails every call while down is set, like an unreachable
// registry.
type flakyChain struct {
	issuer.Chain
	down atomic.Bool
}

var errDown = errors.New("registry unreachable")

func (c *flakyChain) Size(ctx context.Context) (uint64, error) {
	if c.down.Load() {
		return 0, errDown
	}
	return c.Chain.Size(ctx)
}

func (c *flakyChain) Revoke(ctx context.Context, l []issuer.LeafRef) error {
	if c.down.Load() {
		return errDown
	}
	return c.Chain.Revoke(ctx, l)
}

type env struct {
	is     *issuer.Issuer
	chain  *issuer.LocalChain
	flaky  *flakyChain
	skew   atomic.Int64 // seconds added to the issuer's clock
	sid    string
	logBuf *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newIssuer(t testing.TB, hp issuer.HolderProofVerifier, e *env) *issuer.Issuer {
	return issuer.New(e.is.Key(), e.flaky, e.is.Store(), issuer.Options{
		PublicURL: "https://issuer.example", HolderProof: hp, OfferTTL: time.Hour,
		Now: func() time.Time { return time.Now().Add(time.Duration(e.skew.Load()) * time.Second) },
	})
}

func newEnv(t testing.TB) *env {
	t.Helper()
	k, err := issuer.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ch, err := issuer.OpenLocalChain(filepath.Join(dir, "chain"), k.IssuerID())
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "store"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(); ch.Close() })
	e := &env{chain: ch, flaky: &flakyChain{Chain: ch}, logBuf: &syncBuffer{}}
	e.is = issuer.New(k, e.flaky, st, issuer.Options{})
	e.is = newIssuer(t, knowsSecret, e)
	d := issuer.ExampleSchemas()["diploma"]
	if err := e.is.DefineSchema(d); err != nil {
		t.Fatal(err)
	}
	sid := d.ID()
	e.sid = circuits.Dec(sid)
	return e
}

func (e *env) handler(t testing.TB, is *issuer.Issuer) *echo.Echo {
	t.Helper()
	h, err := api.New(is, api.Options{AdminToken: adminToken, BodyLimit: 4096,
		Logger: slog.New(slog.NewJSONHandler(e.logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (e *env) offerBody() map[string]any {
	return map[string]any{"schemaId": e.sid, "subject": diplomaSubject(), "validUntil": "2040-01-01T00:00:00Z"}
}

func (e *env) issueBody() map[string]any {
	_, hc := holder()
	return map[string]any{"schemaId": e.sid, "subject": diplomaSubject(), "holderCommitment": circuits.Dec(hc)}
}

const bearer = "Bearer " + adminToken

func want(t *testing.T, a *apitest.Answer, status int, code string) {
	t.Helper()
	if a.Status != status || (code != "" && a.Code() != code) {
		t.Fatalf("answered %s, want %d %s", a, status, code)
	}
}

// TestConformance drives every route of the issuer API through every
// status its OpenAPI document names, and the harness checks each request
// and answer against the document.
func TestConformance(t *testing.T) {
	e := newEnv(t)
	withClaims := e.handler(t, e.is)
	withoutClaims := e.handler(t, newIssuer(t, nil, e))
	var noClaims atomic.Bool
	h := apitest.New(t, api.OpenAPI(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if noClaims.Load() {
			withoutClaims.ServeHTTP(w, r)
			return
		}
		withClaims.ServeHTTP(w, r)
	}), apitest.Options{Routes: withClaims.Routes()})
	auth := func(extra ...string) []string { return append([]string{"Authorization", bearer}, extra...) }

	// Public routes.
	want(t, h.Do("GET", "/healthz", nil), 200, "")
	want(t, h.Do("GET", "/openapi.json", nil), 200, "")
	var doc didweb.Document
	if a := h.Do("GET", didweb.Path, nil); a.Status != 200 || a.Decode(&doc) != nil || doc.ID != "did:web:issuer.example" {
		t.Fatalf("did.json: %s", a)
	}
	if k, err := doc.Key(didweb.KeyID(doc.ID)); err != nil || !k.Equal(e.is.Key().Public()) {
		t.Fatalf("did.json key: %v", err)
	}
	ctx := h.Do("GET", wire.ContextPath, nil)
	want(t, ctx, 200, "")
	if !bytes.Equal(ctx.Body, wire.ContextDocument()) {
		t.Fatal("context document differs")
	}
	var info map[string]string
	h.Do("GET", "/v1/issuer", nil).Decode(&info)
	if info["did"] != e.is.Key().DID() {
		t.Fatalf("issuer %v", info)
	}
	var schemas []issuer.SchemaInfo
	a := h.Do("GET", "/v1/schemas", nil)
	want(t, a, 200, "")
	a.Decode(&schemas)
	if len(schemas) != 1 || schemas[0].ID != e.sid || !strings.HasPrefix(schemas[0].CSVHeader, "name,birthDate") {
		t.Fatalf("schemas %s", a)
	}
	want(t, h.Do("GET", "/v1/schemas/"+e.sid, nil), 200, "")
	want(t, h.Do("GET", "/v1/schemas/0123", nil), 400, wire.CodeBadRequest)
	want(t, h.Do("GET", "/v1/schemas/12345", nil), 404, wire.CodeNotFound)
	want(t, h.Do("GET", "/v1/nope", nil), 404, wire.CodeNotFound)
	want(t, h.Do("GET", "/v1/revocations", nil, auth()...), 405, "method_not_allowed")

	// Admin routes need the token.
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/v1/offers", e.offerBody()}, {"POST", "/v1/credentials", e.issueBody()},
		{"POST", "/v1/revocations", map[string]any{"credentialIds": []string{"x"}}},
		{"GET", "/v1/credentials", nil}, {"GET", "/v1/credentials/x", nil},
	} {
		for _, tok := range []string{"", "Bearer wrong-token-wrong-token", bearer + "x", adminToken} {
			a := h.Do(r.method, r.path, r.body, "Authorization", tok)
			want(t, a, 401, wire.CodeUnauthorized)
			if a.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		}
	}

	// Every JSON POST: application/json with or without charset, nothing else.
	for _, path := range []string{"/v1/offers", "/v1/credentials", "/v1/revocations", "/v1/offers/x/claim"} {
		for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", "application/json; charset=latin1", "multipart/form-data; boundary=x"} {
			a := h.Do("POST", path, `{}`, auth("Content-Type", ct)...)
			want(t, a, 415, "unsupported_media_type")
			if !strings.Contains(ct, "charset") && !strings.Contains(a.Message(), "Content-Type: application/json") {
				t.Fatalf("415 without a hint: %s", a)
			}
		}
		want(t, h.Do("POST", path, strings.Repeat(" ", 5000)+"{}", auth()...), 413, wire.CodeBodyTooLarge)
		want(t, h.Do("POST", path, `{"unknown":1}`, auth()...), 400, wire.CodeBadRequest)
		want(t, h.Do("POST", path, `{}{}`, auth()...), 400, wire.CodeBadRequest)
	}

	// Offers and claims.
	want(t, h.Do("POST", "/v1/offers", e.offerBody(), auth("Content-Type", "application/json; charset=utf-8")...), 201, "")
	a = h.Do("POST", "/v1/offers", e.offerBody(), auth()...)
	want(t, a, 201, "")
	var link issuer.OfferLink
	a.Decode(&link)
	if !strings.HasPrefix(link.URL, "https://issuer.example/v1/offers/"+link.ID+"?token=") {
		t.Fatalf("link %+v", link)
	}
	bad := diplomaSubject()
	bad["gpa"] = "three"
	a = h.Do("POST", "/v1/offers", map[string]any{"schemaId": e.sid, "subject": bad}, auth()...)
	want(t, a, 422, wire.CodeInvalidField)
	var eb wire.Error
	a.Decode(&eb)
	if eb.Field != "gpa" {
		t.Fatalf("422 names field %q", eb.Field)
	}
	want(t, h.Do("POST", "/v1/offers", map[string]any{"schemaId": "12345", "subject": diplomaSubject()}, auth()...), 404, wire.CodeNotFound)

	offerPath := "/v1/offers/" + link.ID
	tokenQ := "?token=" + url.QueryEscape(link.Token)
	a = h.Do("GET", offerPath+tokenQ, nil)
	want(t, a, 200, "")
	var view wire.OfferView
	a.Decode(&view)
	want(t, h.Do("GET", offerPath+"?token=AAAA"+link.Token[4:], nil), 403, wire.CodeWrongToken)
	want(t, h.Do("GET", offerPath, nil), 403, wire.CodeWrongToken)
	want(t, h.Do("GET", "/v1/offers/nope?token=x", nil), 404, wire.CodeNotFound)

	secret, hc := holder()
	challenge := wire.ClaimChallenge(link.ID, link.Token)
	if view.Challenge != circuits.Dec(challenge) {
		t.Fatal("view challenge differs")
	}
	claim := func(id, tok string, hc fr.Element, proof string) *apitest.Answer {
		return h.Do("POST", "/v1/offers/"+id+"/claim", wire.ClaimBody{Token: tok, HolderCommitment: circuits.F(hc), Proof: proof})
	}
	want(t, claim(link.ID, link.Token+"x", hc, proofFor(secret, challenge)), 403, wire.CodeWrongToken)
	want(t, claim("nope", link.Token, hc, proofFor(secret, challenge)), 404, wire.CodeNotFound)
	want(t, claim(link.ID, link.Token, hc, "!!"), 400, wire.CodeBadRequest)
	want(t, claim(link.ID, link.Token, hc, proofFor(circuits.RandomElement(), challenge)), 422, wire.CodeHolderProof)
	noClaims.Store(true)
	want(t, claim(link.ID, link.Token, hc, proofFor(secret, challenge)), 503, wire.CodeClaimsDisabled)
	noClaims.Store(false)
	e.flaky.down.Store(true)
	want(t, claim(link.ID, link.Token, hc, proofFor(secret, challenge)), 502, wire.CodeChain)
	e.flaky.down.Store(false)
	if _, _, size, _ := e.chain.Root(); size != 0 {
		t.Fatal("failed claims anchored something")
	}
	a = claim(link.ID, link.Token, hc, proofFor(secret, challenge))
	want(t, a, 200, "")
	b, err := wire.ParseBundle(a.Body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Check(); err != nil {
		t.Fatal(err)
	}
	// The answer was lost: the same holder claims again and gets the same
	// credential; another holder gets 409; the offer still reads.
	again := claim(link.ID, link.Token, hc, proofFor(secret, challenge))
	want(t, again, 200, "")
	if !bytes.Equal(again.Body, a.Body) {
		t.Fatal("claiming again delivered another credential")
	}
	s2, hc2 := holder()
	want(t, claim(link.ID, link.Token, hc2, proofFor(s2, challenge)), 409, wire.CodeAlreadyClaimed)
	a = h.Do("GET", offerPath+tokenQ, nil)
	want(t, a, 200, "")
	view = wire.OfferView{}
	if a.Decode(&view); !view.Claimed {
		t.Fatalf("claimed offer reads as unclaimed: %s", a)
	}
	want(t, h.Do("GET", offerPath+"?token=%zz", nil), 400, wire.CodeBadRequest)
	want(t, h.Do("GET", offerPath+tokenQ+"&token=x", nil), 400, wire.CodeBadRequest)
	// An offer past its lifetime.
	a = h.Do("POST", "/v1/offers", e.offerBody(), auth()...)
	var late issuer.OfferLink
	a.Decode(&late)
	e.skew.Store(2 * 3600)
	want(t, h.Do("GET", "/v1/offers/"+late.ID+"?token="+url.QueryEscape(late.Token), nil), 410, wire.CodeOfferExpired)
	want(t, claim(late.ID, late.Token, hc, proofFor(secret, wire.ClaimChallenge(late.ID, late.Token))), 410, wire.CodeOfferExpired)
	e.skew.Store(0)

	// Direct issuance.
	a = h.Do("POST", "/v1/credentials", e.issueBody(), auth()...)
	want(t, a, 201, "")
	direct, err := wire.ParseBundle(a.Body)
	if err != nil {
		t.Fatal(err)
	}
	want(t, h.Do("POST", "/v1/credentials", map[string]any{"schemaId": e.sid, "subject": bad, "holderCommitment": "5"}, auth()...), 422, wire.CodeInvalidField)
	want(t, h.Do("POST", "/v1/credentials", map[string]any{"schemaId": "12345", "subject": diplomaSubject(), "holderCommitment": "5"}, auth()...), 404, wire.CodeNotFound)
	want(t, h.Do("POST", "/v1/credentials", `{"schemaId":"`+e.sid+`","subject":{},"holderCommitment":"0123"}`, auth()...), 400, wire.CodeBadRequest)
	e.flaky.down.Store(true)
	want(t, h.Do("POST", "/v1/credentials", e.issueBody(), auth()...), 502, wire.CodeChain)
	e.flaky.down.Store(false)

	// Listing and status.
	a = h.Do("GET", "/v1/credentials", nil, auth()...)
	want(t, a, 200, "")
	var list issuer.CredentialList
	a.Decode(&list)
	if len(list.Credentials) != 4 { // claimed, direct, two unclaimed offers (one expired)
		t.Fatalf("list %s", a)
	}
	a = h.Do("GET", "/v1/credentials?offer="+link.ID, nil, auth()...)
	list = issuer.CredentialList{}
	a.Decode(&list)
	if len(list.Credentials) != 1 || list.Credentials[0].ID != b.Private.CredentialID {
		t.Fatalf("by offer: %s", a)
	}
	a = h.Do("GET", "/v1/credentials?subject="+url.QueryEscape("name:Ada Lovelace")+"&subject=honours:true&limit=1", nil, auth()...)
	list = issuer.CredentialList{}
	a.Decode(&list)
	if len(list.Credentials) != 1 || list.Next == "" {
		t.Fatalf("by subject, one per page: %s", a)
	}
	want(t, h.Do("GET", "/v1/credentials?after="+url.QueryEscape(list.Next)+"&subject="+url.QueryEscape("name:Ada Lovelace"), nil, auth()...), 200, "")
	want(t, h.Do("GET", "/v1/credentials?job=x&row=2", nil, auth()...), 200, "")
	for _, q := range []string{"row=abc", "row=1", "limit=0", "limit=5000", "subject=name", "shoe=1", "job=a&job=b"} {
		want(t, h.Do("GET", "/v1/credentials?"+q, nil, auth()...), 400, wire.CodeBadRequest)
	}
	a = h.Do("GET", "/v1/credentials/"+direct.Private.CredentialID, nil, auth()...)
	want(t, a, 200, "")
	var st api.CredentialStatus
	a.Decode(&st)
	if st.Revoked || st.LeafIndex != direct.Private.LeafIndex {
		t.Fatalf("status %s", a)
	}
	want(t, h.Do("GET", "/v1/credentials/urn:uuid:nope", nil, auth()...), 404, wire.CodeNotFound)

	// Revocation: idempotent and safe under concurrency.
	rev := map[string]any{"credentialIds": []string{direct.Private.CredentialID}}
	e.flaky.down.Store(true)
	want(t, h.Do("POST", "/v1/revocations", rev, auth()...), 502, wire.CodeChain)
	e.flaky.down.Store(false)
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			a := h.Do("POST", "/v1/revocations", rev, auth()...)
			if a.Status != 200 {
				t.Errorf("concurrent revocation: %s", a)
			}
			var r api.RevocationResult
			a.Decode(&r)
			if len(r.Revoked) != 1 || r.Revoked[0] != direct.Private.CredentialID || len(r.RevokedLeaves) != 1 {
				t.Errorf("revocation result %s", a)
			}
		})
	}
	wg.Wait()
	want(t, h.Do("POST", "/v1/revocations", map[string]any{"leafIndices": []uint64{direct.Private.LeafIndex}}, auth()...), 200, "")
	a = h.Do("GET", "/v1/credentials/"+direct.Private.CredentialID, nil, auth()...)
	st = api.CredentialStatus{}
	a.Decode(&st)
	if !st.Revoked {
		t.Fatal("not revoked")
	}
	if leaf, _, _ := e.chain.Leaf(direct.Private.LeafIndex); !leaf.IsZero() {
		t.Fatal("leaf not zero after revocation")
	}
	want(t, h.Do("POST", "/v1/revocations", map[string]any{"credentialIds": []string{"urn:uuid:x"}}, auth()...), 404, wire.CodeNotFound)
	want(t, h.Do("POST", "/v1/revocations", map[string]any{"leafIndices": []uint64{999}}, auth()...), 404, wire.CodeNotFound)
	want(t, h.Do("POST", "/v1/revocations", `{}`, auth()...), 422, wire.CodeCannotRevoke)

	// Metrics count what happened.
	a = h.Do("GET", "/metrics", nil)
	want(t, a, 200, "")
	for _, m := range []string{
		`zkcred_issuer_http_request_seconds_count{route="/v1/revocations",status="200"} 6`,
		`zkcred_issuer_credentials_issued_total{via="claim"} 1`,
		`zkcred_issuer_claims_total{outcome="delivered"} 1`,
		`zkcred_issuer_claims_total{outcome="delivered_again"} 1`,
		`zkcred_issuer_credentials_issued_total{via="direct"} 1`,
		`zkcred_issuer_revocations_total 1`,
		`zkcred_issuer_claims_total{outcome="holder_proof"} 1`,
		`zkcred_issuer_credentials 2`,
	} {
		if !strings.Contains(string(a.Body), m) {
			t.Errorf("metrics lack %s", m)
		}
	}
	if strings.Contains(string(a.Body), link.ID) {
		t.Error("metrics name an offer ID")
	}
	testOID4VCI(t, h, e, auth)
}

// The request log has one line per request, with method, path, status and
// duration, and never the claim token, in the query or in the body.
func TestRequestLog(t *testing.T) {
	e := newEnv(t)
	link, err := e.is.CreateOffer(context.Background(), issuer.OfferRequest{Schema: issuer.ExampleSchemas()["diploma"], Subject: diplomaSubject()})
	if err != nil {
		t.Fatal(err)
	}
	srv := e.handler(t, e.is)
	do := func(method, target, body string) {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		srv.ServeHTTP(httptest.NewRecorder(), req)
	}
	secret, hc := holder()
	do("GET", "/v1/offers/"+link.ID+"?token="+url.QueryEscape(link.Token), "")
	body, _ := json.Marshal(wire.ClaimBody{Token: link.Token, HolderCommitment: circuits.F(hc), Proof: proofFor(secret, wire.ClaimChallenge(link.ID, link.Token))})
	do("POST", "/v1/offers/"+link.ID+"/claim", string(body))
	do("GET", "/v1/offers/"+link.ID+"?token="+url.QueryEscape(link.Token), "")
	logged := e.logBuf.String()
	if strings.Contains(logged, link.Token) || strings.Contains(logged, url.QueryEscape(link.Token)) {
		t.Fatalf("the claim token is in the log:\n%s", logged)
	}
	lines := strings.Split(strings.TrimSpace(logged), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d log lines for 3 requests:\n%s", len(lines), logged)
	}
	for i, wantStatus := range []int{200, 200, 200} {
		var l map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &l); err != nil {
			t.Fatal(err)
		}
		if l["method"] == nil || !strings.HasPrefix(fmt.Sprint(l["path"]), "/v1/offers/"+link.ID) || l["status"] != float64(wantStatus) || l["duration"] == nil {
			t.Errorf("log line %d: %s", i, lines[i])
		}
	}
}

func TestQueryRoundTrip(t *testing.T) {
	for _, q := range []issuer.Query{
		{},
		{Job: "abc", Row: 5},
		{Offer: "o-1", Limit: 10, After: "urn:uuid:x"},
		{Subject: map[string]string{"name": "Ada: Lovelace", "honours": "true", "gpa": ""}},
	} {
		got, err := api.ParseQuery(api.EncodeQuery(q))
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(q) {
			t.Errorf("round trip of %+v gave %+v", q, got)
		}
	}
}

// testOID4VCI drives the OpenID4VCI routes: metadata, an offer with a
// tx_code, the token endpoint's refusals (wrong grant, forged code,
// missing or wrong tx_code, reused code), the nonce endpoint and the
// credential endpoint's refusals (no or unknown access token, another
// configuration, a stale c_nonce, a proof of another secret) before the
// credential.
func testOID4VCI(t *testing.T, h *apitest.Harness, e *env, auth func(...string) []string) {
	oauth := func(a *apitest.Answer, status int, code string) {
		t.Helper()
		var oe struct{ Error, Code string }
		if a.Status != status || a.Decode(&oe) != nil || oe.Error != code {
			t.Fatalf("answered %s, want %d %s", a, status, code)
		}
	}
	var meta struct {
		CredentialIssuer string                    `json:"credential_issuer"`
		Configs          map[string]map[string]any `json:"credential_configurations_supported"`
	}
	a := h.Do("GET", "/.well-known/openid-credential-issuer", nil)
	if a.Status != 200 || a.Decode(&meta) != nil || meta.CredentialIssuer != "https://issuer.example" || len(meta.Configs) != 1 {
		t.Fatalf("issuer metadata: %s", a)
	}
	var cfgID string
	for id, c := range meta.Configs {
		cfgID = id
		if c["credential_metadata"] == nil || c["proof_types_supported"] == nil {
			t.Fatalf("configuration %s: %v", id, c)
		}
	}
	want(t, h.Do("GET", "/.well-known/oauth-authorization-server", nil), 200, "")

	body := e.offerBody()
	body["txCode"] = true
	a = h.Do("POST", "/v1/offers", body, auth()...)
	var ans struct {
		ID               string `json:"id"`
		OpenID4VCIRefURI string `json:"openid4vciOfferUri"`
		TxCode           string `json:"txCode"`
	}
	if a.Status != 201 || a.Decode(&ans) != nil || len(ans.TxCode) != 6 {
		t.Fatalf("offer with a tx_code: %s", a)
	}
	u, _ := url.Parse(ans.OpenID4VCIRefURI)
	ref, _ := url.Parse(u.Query().Get("credential_offer_uri"))
	var offer issuer.CredentialOffer
	a = h.Do("GET", ref.EscapedPath(), nil)
	if a.Status != 200 || a.Decode(&offer) != nil || offer.CredentialConfigurationIDs[0] != cfgID {
		t.Fatalf("offer by reference: %s", a)
	}
	code := strings.TrimPrefix(ref.Path, issuer.OfferPath)
	want(t, h.Do("GET", issuer.OfferPath+"x.y.0.z", nil), 404, wire.CodeNotFound)

	form := []string{"Content-Type", "application/x-www-form-urlencoded"}
	tokenReq := func(v url.Values) *apitest.Answer { return h.Do("POST", "/v1/oid4vci/token", v.Encode(), form...) }
	grant := func(code, tx string) url.Values {
		v := url.Values{"grant_type": {issuer.GrantPreAuthorizedCode}, "pre-authorized_code": {code}}
		if tx != "" {
			v.Set("tx_code", tx)
		}
		return v
	}
	oauth(h.Do("POST", "/v1/oid4vci/token", grant(code, ans.TxCode).Encode()), 415, "invalid_request")
	oauth(tokenReq(url.Values{"grant_type": {"authorization_code"}}), 400, "unsupported_grant_type")
	forged := code[:len(code)-1] + "A"
	if forged == code {
		forged = code[:len(code)-1] + "B"
	}
	oauth(tokenReq(grant(forged, ans.TxCode)), 400, "invalid_grant")
	oauth(tokenReq(grant(strings.Replace(code, ".1.", ".0.", 1), "")), 400, "invalid_grant") // the tx_code requirement stripped
	oauth(tokenReq(grant(code, "")), 400, "invalid_request")
	wrong := "000000"
	if wrong == ans.TxCode {
		wrong = "111111"
	}
	oauth(tokenReq(grant(code, wrong)), 400, "invalid_grant")
	a = tokenReq(grant(code, ans.TxCode))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if a.Status != 200 || a.Decode(&tok) != nil || tok.AccessToken == "" {
		t.Fatalf("token: %s", a)
	}
	oauth(tokenReq(grant(code, ans.TxCode)), 400, "invalid_grant") // used

	nonce := func() string {
		var n struct {
			CNonce string `json:"c_nonce"`
		}
		if a := h.Do("POST", "/v1/oid4vci/nonce", nil); a.Status != 200 || a.Decode(&n) != nil || n.CNonce == "" {
			t.Fatalf("nonce: %s", a)
		}
		return n.CNonce
	}
	secret, hc := holder()
	credReq := func(config, n string, secret fr.Element) map[string]any {
		return map[string]any{"credential_configuration_id": config, "proofs": map[string]any{api.ProofType: []any{map[string]any{
			"holder_commitment": circuits.Dec(hc), "nonce": n, "proof": proofFor(secret, wire.CredentialNonceChallenge("https://issuer.example", n)),
		}}}}
	}
	bearerOf := []string{"Authorization", "Bearer " + tok.AccessToken}
	oauth(h.Do("POST", "/v1/oid4vci/credential", credReq(cfgID, nonce(), secret)), 401, "invalid_token")
	oauth(h.Do("POST", "/v1/oid4vci/credential", credReq(cfgID, nonce(), secret), "Authorization", "Bearer nope"), 401, "invalid_token")
	want(t, h.Do("POST", "/v1/oid4vci/credential", `{}`, append(bearerOf, "Content-Type", "text/plain")...), 415, "unsupported_media_type")
	oauth(h.Do("POST", "/v1/oid4vci/credential", credReq("vaccination", nonce(), secret), bearerOf...), 400, "unknown_credential_configuration")
	oauth(h.Do("POST", "/v1/oid4vci/credential", credReq(cfgID, "stale", secret), bearerOf...), 400, "invalid_nonce")
	used := nonce()
	oauth(h.Do("POST", "/v1/oid4vci/credential", credReq(cfgID, used, circuits.RandomElement()), bearerOf...), 400, "invalid_proof")
	oauth(h.Do("POST", "/v1/oid4vci/credential", credReq(cfgID, used, secret), bearerOf...), 400, "invalid_nonce") // used up by the failed try
	a = h.Do("POST", "/v1/oid4vci/credential", credReq(cfgID, nonce(), secret), bearerOf...)
	var cr struct {
		Credentials []struct {
			Credential json.RawMessage `json:"credential"`
		} `json:"credentials"`
	}
	if a.Status != 200 || a.Decode(&cr) != nil || len(cr.Credentials) != 1 {
		t.Fatalf("credential: %s", a)
	}
	b, err := wire.ParseBundle(cr.Credentials[0].Credential)
	if err != nil || b.Private.HolderCommit.El() != hc {
		t.Fatalf("bundle: %v", err)
	}
	// The access token expires by the issuer's clock (the offer does not
	// yet).
	e.skew.Add(int64(6 * time.Minute / time.Second))
	defer e.skew.Add(-int64(6 * time.Minute / time.Second))
	oauth(h.Do("POST", "/v1/oid4vci/credential", credReq(cfgID, nonce(), secret), bearerOf...), 401, "invalid_token")
}
