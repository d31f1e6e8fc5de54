package e2e

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/oid4vp"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/node"
	"github.com/zkcred/zkcred/wire"
)

// keyDir is where the development keys are made once and then reused.
func keyDir() string {
	if d := os.Getenv("ZKCRED_E2E_KEYS"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "zkcred-e2e-keys")
}

// The zkcred binary, built once for both tests into buildDir (TestMain
// removes it).
var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

// TestMain removes the binary buildBinary made.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// buildBinary builds cmd/zkcred once and returns the binary.
func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := filepath.Abs("..")
		if err != nil {
			buildErr = err
			return
		}
		if buildDir, buildErr = os.MkdirTemp("", "zkcred-e2e-bin-"); buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "zkcred")
		start := time.Now()
		cmd := exec.Command("go", "build", "-o", buildBin, "./cmd/zkcred")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/zkcred: %v\n%s", err, out)
			return
		}
		t.Logf("%-45s %6.2fs", "build zkcred", time.Since(start).Seconds())
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// setupMu keeps the two tests from making the shared keys at once.
var setupMu sync.Mutex

// TestEndToEnd runs the whole story with separate processes over loopback
// HTTP: a registry with governance, a university and a hospital that
// register, publish schemas and issue (a claim link and a file), a wallet
// that presents both credentials to a verifier, a replayed presentation
// (also after the verifier restarts), a revocation, a registry restart, and
// an audit of the chain at the end.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("the end-to-end test builds the binary and proves; skipped with -short")
	}
	t.Parallel()
	dir := t.TempDir()
	if os.Getenv("ZKCRED_E2E_KEEP") != "" {
		var err error
		if dir, err = os.MkdirTemp("", "zkcred-e2e-"); err != nil {
			t.Fatal(err)
		}
		t.Logf("working directory kept: %s", dir)
	}
	w := &world{t: t, dir: dir}
	t.Cleanup(w.cleanup)
	w.bin = buildBinary(t)
	total := time.Now()

	// 1. Development keys, made once and shared by every process.
	keys := keyDir()
	operator := w.newParty("operator", "governance passphrase")
	var setup struct {
		Circuit  string `json:"circuit"`
		VK       string `json:"vk_sha256"`
		HolderVK string `json:"holder_vk_sha256"`
		Unsafe   bool   `json:"unsafe_single_party"`
	}
	func() {
		setupMu.Lock()
		defer setupMu.Unlock()
		w.runJSON("setup (keys in "+keys+")", operator, &setup, "setup", "--keys", keys, "--json")
	}()
	if setup.Circuit != circuits.PresentationID || setup.VK == "" || setup.HolderVK == "" || !setup.Unsafe {
		t.Fatalf("setup summary: %+v", setup)
	}

	// 2. The registry: genesis with a governance key, then the service.
	regDir := filepath.Join(dir, "registry")
	var ini struct {
		ChainID    string   `json:"chain_id"`
		Governance []string `json:"governance"`
	}
	w.runJSON("registry init", operator, &ini, "registry", "init", "--dir", regDir, "--chain-id", "zkcred-e2e", "--work-factor", "10", "--json")
	if ini.ChainID != "zkcred-e2e" || len(ini.Governance) != 1 {
		t.Fatalf("registry init: %+v", ini)
	}
	genesis := filepath.Join(regDir, node.GenesisFile)
	regAddr := freeAddr(t)
	regURL := "http://" + regAddr
	// No heartbeat blocks, so that the chain's height changes only with
	// the story's transactions and the restart check below is exact. (A
	// block the verifier has not fetched yet is handled by its light
	// client syncing on the miss; with 300 ms heartbeats the presentations
	// still verify.)
	regArgs := []string{"registry", "start", "--dir", regDir, "--addr", regAddr, "--heartbeat", "-1s"}
	reg := w.start("registry", operator, regArgs...)
	w.waitHTTP(reg, regURL+"/healthz")

	// 3. A university and a hospital make their keys; before governance
	// registers them the registry refuses their schemas.
	uni := w.newParty("university", "university passphrase")
	hosp := w.newParty("hospital", "hospital passphrase")
	uniDir, hospDir := filepath.Join(uni.home(), "issuer"), filepath.Join(hosp.home(), "issuer")
	for _, is := range []struct {
		p   *party
		dir string
	}{{uni, uniDir}, {hosp, hospDir}} {
		var out struct{ DID, Chain string }
		w.runJSON(is.p.name+": issuer init", is.p, &out, "issuer", "init", "--dir", is.dir, "--registry", regURL, "--work-factor", "10", "--json")
		if !strings.HasPrefix(out.DID, "did:key:z6Mk") || out.Chain != regURL {
			t.Fatalf("issuer init: %+v", out)
		}
	}
	msg := w.runFail("university: schema publish before registration", uni, 1, "issuer", "schema", "publish", "--dir", uniDir, "--schema", "diploma")
	if !strings.Contains(msg, "not a registered issuer") || !strings.Contains(msg, "403 forbidden") {
		t.Fatalf("an unregistered issuer's schema was refused for another reason:\n%s", msg)
	}

	// 4. Governance registers both (from the entries 'issuer register'
	// prints), a second university, and the circuits' verifying keys.
	var uniEntry, hospEntry registry.RegisterIssuer
	w.runJSON("university: issuer register", uni, &uniEntry, "issuer", "register", "--dir", uniDir, "--name", "University of Examples", "--kind", "university", "--json")
	w.runJSON("hospital: issuer register", hosp, &hospEntry, "issuer", "register", "--dir", hospDir, "--name", "Example General Hospital", "--kind", "hospital", "--json")
	other := w.newParty("other-university", "other passphrase")
	otherDir := filepath.Join(other.home(), "issuer")
	var otherOut struct{ DID string }
	w.runJSON("other university: issuer init", other, &otherOut, "issuer", "init", "--dir", otherDir, "--registry", regURL, "--work-factor", "10", "--json")
	var otherEntry registry.RegisterIssuer
	w.runJSON("other university: issuer register", other, &otherEntry, "issuer", "register", "--dir", otherDir, "--name", "Second University", "--kind", "university", "--json")
	// The registry operators sign with the governance key, from the
	// entries the issuers sent them.
	for _, e := range []struct {
		name  string
		entry registry.RegisterIssuer
	}{{"university", uniEntry}, {"hospital", hospEntry}, {"other-university", otherEntry}} {
		file := filepath.Join(operator.home(), e.name+".json")
		b, _ := json.Marshal(e.entry)
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
		w.run("governance: register "+e.name, operator, "registry", "govern", "register-issuer", "--dir", regDir, "--registry", regURL, "--entry", file)
	}
	var published []struct{ Height uint64 }
	w.runJSON("governance: publish circuits", operator, &published, "registry", "govern", "publish-circuits", "--dir", regDir, "--registry", regURL, "--keys", keys, "--json")
	if len(published) != 2 {
		t.Fatalf("publish-circuits: %d receipts, want 2", len(published))
	}
	if setup.VK == "" || setup.HolderVK == "" {
		t.Fatal("setup printed no verifying-key hashes")
	}

	// 5. Schemas on the chain.
	var diplomaID, vaccinationID struct{ ID string }
	w.runJSON("university: schema publish diploma", uni, &diplomaID, "issuer", "schema", "publish", "--dir", uniDir, "--schema", "diploma", "--json")
	w.runJSON("hospital: schema publish vaccination", hosp, &vaccinationID, "issuer", "schema", "publish", "--dir", hospDir, "--schema", "vaccination", "--json")
	if diplomaID.ID != id(issuer.ExampleSchemas()["diploma"]) || vaccinationID.ID != id(issuer.ExampleSchemas()["vaccination"]) {
		t.Fatalf("published schema IDs %s, %s differ from the schemas' IDs", diplomaID.ID, vaccinationID.ID)
	}

	// 6. The holder's wallet trusts the registry's genesis.
	holder := w.newParty("holder", "holder passphrase")
	walletPath := filepath.Join(holder.home(), "wallet.age")
	var winit struct {
		Wallet           string `json:"wallet"`
		HolderCommitment string `json:"holderCommitment"`
	}
	w.runJSON("holder: wallet init", holder, &winit, "wallet", "init", "--wallet", walletPath, "--registry", regURL, "--genesis", genesis, "--work-factor", "10", "--json")
	if _, err := circuits.ParseElement(winit.HolderCommitment); err != nil {
		t.Fatalf("wallet init printed holder commitment %q: %v", winit.HolderCommitment, err)
	}

	// 7. The hospital issues a vaccination record as a file, from the CLI.
	vaccFile := filepath.Join(dir, "vaccination.credential.json")
	subject := writeJSON(t, filepath.Join(dir, "vaccination.subject.json"), map[string]any{
		"name": "Ada Example", "birthDate": "1998-04-02", "vaccine": "measles", "dose": 2,
		"vaccinationDate": "2023-03-15", "lot": "MV-2023-118",
	})
	w.run("hospital: issuer issue vaccination", hosp, "issuer", "issue", "--dir", hospDir, "--schema", "vaccination",
		"--subject", subject, "--holder-commitment", winit.HolderCommitment, "--valid-until", "2036-01-01", "--out", vaccFile)
	var vacc credSummary
	w.runJSON("holder: wallet receive vaccination file", holder, &vacc, "wallet", "receive", "--wallet", walletPath, "--keys", keys, "--json", vaccFile)
	if vacc.Schema != "VaccinationRecord 1.0" || vacc.Issuer == "" {
		t.Fatalf("received vaccination record: %+v", vacc)
	}

	// 8. The university serves its API and sends a diploma claim link.
	uniAddr := freeAddr(t)
	uniURL := "http://" + uniAddr
	adminToken := "e2e-admin-token-0123456789"
	tokenFile := filepath.Join(uni.home(), "admin.token")
	if err := os.WriteFile(tokenFile, []byte(adminToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	uniSvc := w.start("university issuer service", uni, "issuer", "serve", "--dir", uniDir, "--addr", uniAddr, "--keys", keys, "--admin-token-file", tokenFile)
	w.waitHTTP(uniSvc, uniURL+"/v1/issuer")
	var link struct{ ID, Token, URL string }
	status, body := httpJSON(t, http.MethodPost, uniURL+"/v1/offers", adminToken, map[string]any{
		"schemaId": diplomaID.ID,
		"subject": map[string]any{
			"name": "Ada Example", "birthDate": "1998-04-02", "degree": "MSc", "field": "Computer Science",
			"graduationDate": "2021-06-30", "gpa": "3.70", "honours": true,
		},
		"validUntil": "2036-06-30T00:00:00Z",
	}, &link)
	if status != http.StatusCreated || !strings.HasPrefix(link.URL, uniURL+"/v1/offers/") {
		t.Fatalf("POST /v1/offers: %d %s", status, body)
	}
	var diploma credSummary
	w.runJSON("holder: wallet receive claim link", holder, &diploma, "wallet", "receive", "--wallet", walletPath, "--keys", keys, "--json", link.URL)
	if diploma.Schema != "UniversityDiploma 1.0" || diploma.Credential == "" {
		t.Fatalf("received diploma: %+v", diploma)
	}
	if diploma.Issuer != uniDID(t, uniDir) {
		t.Fatalf("diploma issued by %s, want the university", diploma.Issuer)
	}
	// Claiming again (as after a lost answer) gets the same credential.
	var reclaimed credSummary
	w.runJSON("holder: claim the same link again", holder, &reclaimed, "wallet", "receive", "--wallet", walletPath, "--keys", keys, "--json", link.URL)
	if reclaimed.Credential != diploma.Credential {
		t.Fatalf("claiming again gave %s, not %s", reclaimed.Credential, diploma.Credential)
	}
	var list []credSummary
	w.runJSON("holder: wallet list", holder, &list, "wallet", "list", "--wallet", walletPath, "--json")
	if len(list) != 2 {
		t.Fatalf("the wallet holds %d credentials, want 2: %+v", len(list), list)
	}

	// 8b. Another graduate receives diplomas over OpenID4VCI 1.0 only: an
	// offer by value without a tx_code, and one by reference with a PIN
	// (refused without it, and once used).
	wallet2 := filepath.Join(holder.home(), "wallet2.age")
	w.runJSON("graduate 2: wallet init", holder, &winit, "wallet", "init", "--wallet", wallet2, "--registry", regURL, "--genesis", genesis, "--work-factor", "10", "--json")
	vciOffer := func(txCode bool) (byValue, byRef, pin string) {
		var o struct {
			OpenID4VCIURI    string `json:"openid4vciUri"`
			OpenID4VCIRefURI string `json:"openid4vciOfferUri"`
			TxCode           string `json:"txCode"`
		}
		st, b := httpJSON(t, http.MethodPost, uniURL+"/v1/offers", adminToken, map[string]any{
			"schemaId": diplomaID.ID, "txCode": txCode,
			"subject": map[string]any{
				"name": "Grace Example", "birthDate": "1999-01-20", "degree": "BSc", "field": "Physics",
				"graduationDate": "2022-06-30", "gpa": "3.40", "honours": false,
			},
		}, &o)
		if st != http.StatusCreated || !strings.HasPrefix(o.OpenID4VCIURI, "openid-credential-offer://?credential_offer=") || (txCode && len(o.TxCode) != 6) {
			t.Fatalf("POST /v1/offers (OpenID4VCI): %d %s", st, b)
		}
		return o.OpenID4VCIURI, o.OpenID4VCIRefURI, o.TxCode
	}
	byValue, _, _ := vciOffer(false)
	var vc1 credSummary
	w.runJSON("graduate 2: receive an OpenID4VCI offer", holder, &vc1, "wallet", "receive", "--wallet", wallet2, "--keys", keys, "--json", byValue)
	if vc1.Schema != "UniversityDiploma 1.0" || vc1.Issuer != uniDID(t, uniDir) {
		t.Fatalf("OpenID4VCI diploma: %+v", vc1)
	}
	_, byRef, pin := vciOffer(true)
	msg = w.runFail("graduate 2: OpenID4VCI offer without its PIN", holder, 2, "wallet", "receive", "--wallet", wallet2, "--keys", keys, byRef)
	if !strings.Contains(msg, "--tx-code") {
		t.Fatalf("no hint for the missing PIN:\n%s", msg)
	}
	var vc2 credSummary
	w.runJSON("graduate 2: receive an offer with its PIN", holder, &vc2, "wallet", "receive", "--wallet", wallet2, "--keys", keys, "--json", "--tx-code", pin, byRef)
	msg = w.runFail("graduate 2: the same offer again", holder, 1, "wallet", "receive", "--wallet", wallet2, "--keys", keys, "--tx-code", pin, byRef)
	if !strings.Contains(msg, "already used") {
		t.Fatalf("a used pre-authorized code accepted, or refused for another reason:\n%s", msg)
	}

	// 9. The verifier: an employer's policy (a degree from any accredited
	// university, 18 or older) and a health desk's (measles after 2020).
	verAddr := freeAddr(t)
	verURL := "http://" + verAddr
	cfg := writeJSON(t, filepath.Join(dir, "verifier.json"), map[string]any{
		"audience": verURL, // wallets check it against where they fetch requests from
		"policies": []any{
			map[string]any{
				"name":       "hire-graduate",
				"schema":     schemaJSON(t, "diploma"),
				"issuers":    map[string]any{"kind": "university"},
				"disclose":   []string{"degree"},
				"predicates": []any{map[string]any{"attribute": "birthDate", "op": "age_at_least", "years": 18}},
				"maxRootAge": "1h",
			},
			map[string]any{
				"name":    "measles-check",
				"schema":  schemaJSON(t, "vaccination"),
				"issuers": map[string]any{"kind": "hospital"},
				"predicates": []any{
					map[string]any{"attribute": "vaccine", "op": "eq", "values": []string{"measles"}},
					map[string]any{"attribute": "vaccinationDate", "op": "gt", "values": []string{"2020-01-01"}},
				},
			},
		},
	})
	verifierParty := w.newParty("verifier", "")
	w.run("verifier check", verifierParty, "verifier", "check", "--config", cfg)
	verArgs := []string{"verifier", "serve", "--config", cfg, "--addr", verAddr,
		"--dir", filepath.Join(verifierParty.home(), "data"), "--keys", keys, "--registry", regURL, "--genesis", genesis}
	ver := w.start("verifier service", verifierParty, verArgs...)
	w.waitHTTP(ver, verURL+"/healthz")
	// The relying party's backend creates requests with the create token
	// that 'verifier serve' made in its data directory.
	createToken, err := os.ReadFile(filepath.Join(verifierParty.home(), "data", "create-token"))
	if err != nil {
		t.Fatal(err)
	}
	rp := strings.TrimSpace(string(createToken))

	// 10. Degree from an accredited university, born 18 years ago or more.
	req := newRequest(t, verURL, rp, "hire-graduate")
	if req.TrustList.Kind != "university" || len(req.TrustList.Issuers) != 2 {
		t.Fatalf("the trust list should hold both active universities: %+v", req.TrustList)
	}
	var res resultWire
	w.runJSON("holder: present diploma (submit)", holder, &res, "wallet", "present", "--wallet", walletPath, "--keys", keys, "--yes", "--json", req.url)
	if res.Status != "verified" || res.Disclosed["degree"] != "MSc" {
		t.Fatalf("diploma presentation: %+v", res)
	}
	if _, ok := res.Disclosed["birthDate"]; ok {
		t.Fatalf("the birth date was disclosed: %+v", res.Disclosed)
	}
	expectResult(t, verURL, req, "verified", "")

	// 11. Measles after 2020-01-01; the wallet writes the presentation and
	// the test carries it, so it can also replay it.
	req2 := newRequest(t, verURL, rp, "measles-check")
	presFile := filepath.Join(dir, "measles.presentation.json")
	shown := w.run("holder: present vaccination (--out)", holder, "wallet", "present", "--wallet", walletPath, "--keys", keys, "--yes", "--out", presFile, req2.url)
	// What the holder is shown: who asks, that no value is disclosed, and
	// which attributes stay hidden.
	for _, want := range []string{`Verifier ` + verURL + ` asks (policy "measles-check")`, "goes to " + req2.SubmitURL, "It will learn no attribute values.", "Not disclosed:", "Lot number", "presentation written to"} {
		if !strings.Contains(shown, want) {
			t.Fatalf("wallet present printed no %q:\n%s", want, shown)
		}
	}
	pres, err := os.ReadFile(presFile)
	if err != nil {
		t.Fatal(err)
	}
	expectResult(t, verURL, req2, "pending", "")
	var r2 resultWire
	if status, body := httpJSON(t, http.MethodPost, req2.SubmitURL, "", pres, &r2); status != http.StatusOK || r2.Status != "verified" {
		t.Fatalf("vaccination presentation: %d %s", status, body)
	}
	expectResult(t, verURL, req2, "verified", "")

	// 12. Replaying the verified presentation is refused.
	var apiErr struct{ Error, Code string }
	if status, body := httpJSON(t, http.MethodPost, req2.SubmitURL, "", pres, &apiErr); status != http.StatusConflict || apiErr.Code != "replay" {
		t.Fatalf("replayed presentation: want 409 replay, got %d %s", status, body)
	}
	if status, body := httpJSON(t, http.MethodPost, verURL+"/v1/verify", "", pres, &apiErr); status != http.StatusConflict {
		t.Fatalf("replayed presentation on /v1/verify: want 409, got %d %s", status, body)
	}
	t.Logf("%-45s", "verifier: replays refused (409 "+apiErr.Code+")")

	// 12b. Both policies again over OpenID4VP 1.0 only: the openid4vp://
	// link → the request object signed by the verifier's did:web key → the
	// confirmation naming that DID → direct_post → verdict.
	verDID := "did:web:" + strings.ReplaceAll(verAddr, ":", "%3A")
	for _, policy := range []string{"hire-graduate", "measles-check"} {
		r := newRequest(t, verURL, rp, policy)
		if !strings.HasPrefix(r.OpenID4VPURI, "openid4vp://?client_id=decentralized_identifier") {
			t.Fatalf("request %s: openid4vpUri %q", r.ID, r.OpenID4VPURI)
		}
		shown := w.run("holder: present "+policy+" (OpenID4VP)", holder, "wallet", "present", "--wallet", walletPath, "--keys", keys, "--yes", "--allow-loopback-http", r.OpenID4VPURI)
		for _, want := range []string{"Verifier " + verDID + " (request signed by its key, DID document at " + verURL + "/.well-known/did.json)", "verified by the verifier"} {
			if !strings.Contains(shown, want) {
				t.Fatalf("wallet present (OpenID4VP) printed no %q:\n%s", want, shown)
			}
		}
		expectResult(t, verURL, r, "verified", "")
	}
	// Without --allow-loopback-http the wallet does not trust a did:web
	// served over plain http.
	r5 := newRequest(t, verURL, rp, "measles-check")
	msg = w.runFail("holder: OpenID4VP over plain http refused", holder, 1, "wallet", "present", "--wallet", walletPath, "--keys", keys, "--yes", r5.OpenID4VPURI)
	if !strings.Contains(msg, "could not be authenticated") {
		t.Fatalf("plain-http did:web accepted or refused for another reason:\n%s", msg)
	}
	expectResult(t, verURL, r5, "pending", "")

	// A restarted verifier still knows the nonce is used.
	w.stop(ver)
	ver = w.start("verifier service (restarted)", verifierParty, verArgs...)
	w.waitHTTP(ver, verURL+"/healthz")
	if status, body := httpJSON(t, http.MethodPost, req2.SubmitURL, "", pres, &apiErr); status != http.StatusConflict || apiErr.Code != "replay" {
		t.Fatalf("replay after a verifier restart: want 409 replay, got %d %s", status, body)
	}
	t.Logf("%-45s", "verifier restarted: replay still refused")

	// 12c. Encrypted responses (direct_post.jwt): the verifier, restarted
	// with --encrypt-responses, names its encryption key in the signed
	// request object, 'wallet present' encrypts its answer to it and the
	// verifier decrypts it and answers its verdict; a response in the
	// clear, or encrypted to another key, is refused with a clear error.
	w.stop(ver)
	ver = w.start("verifier service (encrypted responses)", verifierParty, append(verArgs, "--encrypt-responses")...)
	w.waitHTTP(ver, verURL+"/healthz")
	r6 := newRequest(t, verURL, rp, "hire-graduate")
	ar6 := requestObject(t, r6.OpenID4VPURI)
	if ar6.ResponseMode != oid4vp.ResponseModeJWT || ar6.ClientMetadata == nil || ar6.ClientMetadata.JWKS == nil {
		t.Fatalf("the request object of an encrypting verifier: mode %q, metadata %+v", ar6.ResponseMode, ar6.ClientMetadata)
	}
	oid4vpPres := filepath.Join(dir, "oid4vp-presentation.json")
	w.run("holder: prove for an encrypted OpenID4VP request", holder, "wallet", "present", "--wallet", walletPath, "--keys", keys, "--yes", "--allow-loopback-http", "--out", oid4vpPres, r6.OpenID4VPURI)
	var p6 wire.Presentation
	if b, err := os.ReadFile(oid4vpPres); err != nil || json.Unmarshal(b, &p6) != nil {
		t.Fatalf("presentation file: %v", err)
	}
	clearForm, _ := oid4vp.ResponseForm(ar6.State, &p6)
	if st, body := postForm(t, ar6.ResponseURI, clearForm); st != http.StatusBadRequest || !strings.Contains(body, "takes encrypted responses only") {
		t.Fatalf("a response in the clear to an encrypting verifier: %d %s", st, body)
	}
	otherKey, _ := oid4vp.EncryptionKey(ed25519.NewKeyFromSeed(make([]byte, 32)))
	toOther := *ar6
	toOther.ClientMetadata = &oid4vp.ClientMetadata{JWKS: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{oid4vp.EncryptionJWK(otherKey, "enc-1")}}}
	otherForm, err := oid4vp.EncryptedResponseForm(&toOther, &p6)
	if err != nil {
		t.Fatal(err)
	}
	if st, body := postForm(t, ar6.ResponseURI, otherForm); st != http.StatusBadRequest || !strings.Contains(body, "does not decrypt with this verifier's key") {
		t.Fatalf("a response encrypted to another key: %d %s", st, body)
	}
	expectResult(t, verURL, r6, "pending", "")
	shown = w.run("holder: present (OpenID4VP, direct_post.jwt)", holder, "wallet", "present", "--wallet", walletPath, "--keys", keys, "--yes", "--allow-loopback-http", r6.OpenID4VPURI)
	if !strings.Contains(shown, "verified by the verifier") {
		t.Fatalf("wallet present (direct_post.jwt) printed:\n%s", shown)
	}
	expectResult(t, verURL, r6, "verified", "")
	w.stop(ver)
	ver = w.start("verifier service (restarted)", verifierParty, verArgs...)
	w.waitHTTP(ver, verURL+"/healthz")

	// 13. The university revokes the diploma; the wallet's next
	// presentation of it is refused, and nothing reaches the verifier.
	var rev struct {
		RevokedLeaves []uint64 `json:"revokedLeaves"`
	}
	if status, body := httpJSON(t, http.MethodPost, uniURL+"/v1/revocations", adminToken,
		map[string]any{"credentialIds": []string{diploma.Credential}}, &rev); status != http.StatusOK ||
		len(rev.RevokedLeaves) != 1 || rev.RevokedLeaves[0] != diploma.LeafIndex {
		t.Fatalf("revocation: %d %s (want leaf %d)", status, body, diploma.LeafIndex)
	}
	t.Logf("%-45s", "university: revoked the diploma (API)")
	// The verifier's light client learns the new root within its polling
	// interval; wait until its header file holds the registry's latest block.
	var latest struct {
		Height      uint64 `json:"height"`
		IssuerCount uint64 `json:"issuer_count"`
	}
	w.runJSON("registry status", operator, &latest, "registry", "status", "--registry", regURL, "--json")
	if latest.IssuerCount != 3 {
		t.Fatalf("registry status: %+v, want 3 issuers", latest)
	}
	// The latest block's state is signed by the next block's commit, which
	// an idle chain (no heartbeat here) has not made yet: the one before
	// carries the same roots.
	waitHeaders(t, ver, filepath.Join(verifierParty.home(), "data", "headers.jsonl"), latest.Height-1)

	// The registry restarts from its directory where it stopped; the
	// verifier's and the wallet's light clients carry on with it. (The
	// blocks that sign the revocation's state are made by now: the chain is
	// idle.)
	w.runJSON("registry status before stopping", operator, &latest, "registry", "status", "--registry", regURL, "--json")
	w.stop(reg)
	reg = w.start("registry (restarted)", operator, regArgs...)
	w.waitHTTP(reg, regURL+"/healthz")
	var again struct {
		Height uint64 `json:"height"`
	}
	w.runJSON("registry status after restart", operator, &again, "registry", "status", "--registry", regURL, "--json")
	if again.Height != latest.Height {
		t.Fatalf("the restarted registry is at height %d, it stopped at %d", again.Height, latest.Height)
	}
	req3 := newRequest(t, verURL, rp, "hire-graduate")
	msg = w.runFail("holder: present the revoked diploma", holder, 1, "wallet", "present", "--wallet", walletPath, "--keys", keys, "--yes", "--json", req3.url)
	if !strings.Contains(msg, "revoked") {
		t.Fatalf("the wallet refused the revoked diploma for another reason:\n%s", msg)
	}
	expectResult(t, verURL, req3, "pending", "")
	req3b := newRequest(t, verURL, rp, "hire-graduate")
	msg = w.runFail("holder: present the revoked diploma (OpenID4VP)", holder, 1, "wallet", "present", "--wallet", walletPath, "--keys", keys, "--yes", "--allow-loopback-http", req3b.OpenID4VPURI)
	if !strings.Contains(msg, "revoked") {
		t.Fatalf("the wallet refused the revoked diploma (OpenID4VP) for another reason:\n%s", msg)
	}
	expectResult(t, verURL, req3b, "pending", "")

	// The vaccination record is untouched by the diploma's revocation.
	req4 := newRequest(t, verURL, rp, "measles-check")
	var r4 resultWire
	w.runJSON("holder: present vaccination after revocation", holder, &r4, "wallet", "present", "--wallet", walletPath, "--keys", keys, "--yes", "--json", req4.url)
	if r4.Status != "verified" {
		t.Fatalf("vaccination after the diploma's revocation: %+v", r4)
	}

	// 14. Everything stops cleanly, and the chain replays from genesis.
	w.stop(ver)
	w.stop(uniSvc)
	w.stop(reg)
	var audit struct {
		Blocks, Txs, Leaves uint64
	}
	w.runJSON("registry audit", operator, &audit, "registry", "audit", "--dir", regDir, "--json")
	// 3 registrations + 2 circuits + 2 schemas + 4 anchors (the last two
	// over OpenID4VCI) + 1 revocation.
	if audit.Txs != 12 || audit.Leaves != 4 {
		t.Fatalf("audit: %+v, want 12 transactions and 4 leaves", audit)
	}
	t.Logf("%-45s %6.2fs", "whole story (after the build)", time.Since(total).Seconds())
}

// waitHeaders waits until the verifier's light client has written the
// header at height, verified, to its file (it polls the registry every 2 s).
func waitHeaders(t *testing.T, ver *service, path string, height uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil {
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			var h struct {
				Header struct {
					Height uint64 `json:"height"`
				} `json:"header"`
			}
			if json.Unmarshal([]byte(lines[len(lines)-1]), &h) == nil && h.Header.Height >= height {
				return
			}
		}
		if ver.exited() {
			t.Fatalf("the verifier exited: %v\n%s", ver.err, ver.out)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the verifier has not synced block %d after 30 s (%s)", height, path)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// credSummary is what 'zkcred wallet receive --json' and 'list --json'
// print per credential.
type credSummary struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Schema     string `json:"schema"`
	Issuer     string `json:"issuer"`
	ValidFrom  string `json:"validFrom"`
	ValidUntil string `json:"validUntil"`
	LeafIndex  uint64 `json:"leafIndex"`
	Credential string `json:"credentialId"`
}

// request is the part of a verifier's presentation request the test reads.
type request struct {
	ID          string `json:"id"`
	SubmitURL   string `json:"submitUrl"`
	ResultToken string `json:"resultToken"` // only in the creation's answer
	// OpenID4VPURI is the request as an OpenID4VP 1.0 link.
	OpenID4VPURI string `json:"openid4vpUri"`
	TrustList    struct {
		Kind    string   `json:"kind"`
		Issuers []string `json:"issuers"`
	} `json:"trustList"`
	url string
}

// resultWire is a verifier's result.
type resultWire struct {
	RequestID string         `json:"requestId"`
	Status    string         `json:"status"`
	Code      string         `json:"code"`
	Reason    string         `json:"reason"`
	Disclosed map[string]any `json:"disclosed"`
}

// newRequest asks the verifier for a presentation request, as the relying
// party's backend does, and returns it with the URL the holder is given.
func newRequest(t *testing.T, verURL, createToken, policy string) *request {
	t.Helper()
	var r request
	status, body := httpJSON(t, http.MethodPost, verURL+"/v1/requests", createToken, map[string]string{"policy": policy}, &r)
	if status != http.StatusCreated || r.ID == "" {
		t.Fatalf("POST /v1/requests %s: %d %s", policy, status, body)
	}
	r.url = verURL + "/v1/requests/" + r.ID
	return &r
}

// expectResult checks the verifier's recorded result of a request, read
// with its result token as the relying party does.
func expectResult(t *testing.T, verURL string, req *request, status, code string) {
	t.Helper()
	var r resultWire
	if st, body := httpJSON(t, http.MethodGet, verURL+"/v1/requests/"+req.ID+"/result", req.ResultToken, nil, &r); st != http.StatusOK || r.Status != status || r.Code != code {
		t.Fatalf("result of request %s: got %d %s, want status %q code %q", req.ID, st, body, status, code)
	}
}

func writeJSON(t *testing.T, path string, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// schemaJSON is an example schema as the verifier's policy names it.
func schemaJSON(t *testing.T, name string) json.RawMessage {
	t.Helper()
	s, ok := issuer.ExampleSchemas()[name]
	if !ok {
		t.Fatalf("no example schema %q", name)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func id(s *circuits.Schema) string {
	i := s.ID()
	return circuits.Dec(i)
}

// uniDID reads the DID that 'issuer init' recorded.
func uniDID(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "issuer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		DID string `json:"did"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.DID
}

// requestObject fetches the request object an openid4vp:// link names and
// returns its claims (the wallet checks its signature; this test reads
// what it asks).
func requestObject(t *testing.T, link string) *oid4vp.AuthorizationRequest {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, u.Query().Get("request_uri"), nil)
	req.Header.Set("Accept", oid4vp.RequestObjectMedia)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	parts := strings.Split(string(b), ".")
	if len(parts) != 3 {
		t.Fatalf("request object: %s", b)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	ar, err := oid4vp.ParseRequest(payload)
	if err != nil {
		t.Fatal(err)
	}
	return ar
}

// postForm posts a form-encoded body and returns the status and body.
func postForm(t *testing.T, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.Post(u, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
