package main

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
	testenv "github.com/zkcred/zkcred/internal/wallettest"
	"github.com/zkcred/zkcred/issuer"
)

// TestOpenID4VCIStateAcrossRestart stops 'zkcred issuer serve' and starts
// it again over the same directory: a pre-authorized code redeemed before
// the restart cannot be redeemed after it, wrong tx_codes stay counted,
// and an access token and a c_nonce handed out before it are still valid
// after it (the token until it expires, the nonce until it is used).
func TestOpenID4VCIStateAcrossRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	keys := testenv.KeyDir()
	testenv.Keys(t)
	bin := buildZkcred(t)
	home := filepath.Join(t.TempDir(), "issuer")
	const token = "vci-restart-admin-token-0123"
	env := append(os.Environ(), issuer.PassphraseEnv+"=pw", "ZKCRED_ADMIN_TOKEN="+token)
	cmd := exec.Command(bin, "issuer", "init", "--dir", home, "--local", "--work-factor", "10")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	start := func() func() {
		srv := exec.Command(bin, "issuer", "serve", "--dir", home, "--addr", addr, "--keys", keys)
		srv.Env = env
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			if r, err := http.Get(base + "/healthz"); err == nil {
				r.Body.Close()
				break
			}
			if i > 400 {
				t.Fatal("issuer serve did not start")
			}
			time.Sleep(25 * time.Millisecond)
		}
		return func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() }
	}
	stop := start()
	defer func() { stop() }()

	d := issuer.ExampleSchemas()["diploma"]
	offer := func(txCode bool) (code, pin string) {
		body, _ := json.Marshal(map[string]any{"schemaId": circuits.Dec(d.ID()), "txCode": txCode, "subject": map[string]any{
			"name": "Ada", "birthDate": "1990-12-10", "degree": "MSc", "field": "Math", "graduationDate": "2026-06-30", "gpa": "3.85", "honours": true}})
		req, _ := http.NewRequest("POST", base+"/v1/offers", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ans struct {
			Ref    string `json:"openid4vciOfferUri"`
			TxCode string `json:"txCode"`
		}
		if err := json.Unmarshal(mustRead(t, r), &ans); err != nil || r.StatusCode != 201 {
			t.Fatalf("offer: %d %v", r.StatusCode, err)
		}
		u, _ := url.Parse(ans.Ref)
		ref, _ := url.Parse(u.Query().Get("credential_offer_uri"))
		return strings.TrimPrefix(ref.Path, issuer.OfferPath), ans.TxCode
	}
	type answer struct {
		status int
		m      map[string]any
	}
	do := func(req *http.Request) answer {
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		return answer{r.StatusCode, m}
	}
	tokenFor := func(code, pin string) answer {
		v := url.Values{"grant_type": {issuer.GrantPreAuthorizedCode}, "pre-authorized_code": {code}}
		if pin != "" {
			v.Set("tx_code", pin)
		}
		req, _ := http.NewRequest("POST", base+"/v1/oid4vci/token", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return do(req)
	}
	nonce := func() string {
		req, _ := http.NewRequest("POST", base+"/v1/oid4vci/nonce", nil)
		a := do(req)
		n, _ := a.m["c_nonce"].(string)
		if a.status != 200 || n == "" {
			t.Fatalf("nonce: %+v", a)
		}
		return n
	}
	// A credential request whose proof is not a proof: with a valid token
	// and a fresh nonce it gets as far as invalid_proof.
	credential := func(at, n string) answer {
		body, _ := json.Marshal(map[string]any{"credential_configuration_id": d.Name, "proofs": map[string]any{"zkcred_holder_groth16": []any{
			map[string]any{"holder_commitment": "12345", "nonce": n, "proof": base64.StdEncoding.EncodeToString([]byte("not a proof"))}}}})
		req, _ := http.NewRequest("POST", base+"/v1/oid4vci/credential", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+at)
		return do(req)
	}
	wrongPIN := func(pin string) string {
		if pin == "000000" {
			return "111111"
		}
		return "000000"
	}

	code, _ := offer(false)
	a := tokenFor(code, "")
	at, _ := a.m["access_token"].(string)
	if a.status != 200 || at == "" {
		t.Fatalf("token: %+v", a)
	}
	n := nonce()
	pinCode, pin := offer(true)
	for range 2 {
		if a := tokenFor(pinCode, wrongPIN(pin)); a.status != 400 || a.m["error"] != "invalid_grant" {
			t.Fatalf("wrong tx_code: %+v", a)
		}
	}

	stop()
	stop = start()

	if a := tokenFor(code, ""); a.status != 400 || a.m["error"] != "invalid_grant" || !strings.Contains(a.m["error_description"].(string), "already used") {
		t.Fatalf("the code redeemed before the restart, after it: %+v", a)
	}
	if a := credential(at, n); a.status != 400 || a.m["error"] != "invalid_proof" {
		t.Fatalf("the access token and c_nonce of before the restart: %+v", a)
	}
	if a := credential(at, n); a.status != 400 || a.m["error"] != "invalid_nonce" {
		t.Fatalf("the c_nonce used up after the restart, again: %+v", a)
	}
	if a := credential("unknown-token", nonce()); a.status != 401 || a.m["error"] != "invalid_token" {
		t.Fatalf("an unknown access token: %+v", a)
	}
	if a := tokenFor(pinCode, wrongPIN(pin)); a.status != 400 || !strings.Contains(a.m["error_description"].(string), "2 of 5 tries left") {
		t.Fatalf("the third wrong tx_code, after the restart: %+v", a)
	}
	if a := tokenFor(pinCode, pin); a.status != 200 {
		t.Fatalf("the right tx_code: %+v", a)
	}
}
