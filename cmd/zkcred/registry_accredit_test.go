package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/keyfile"
	"github.com/zkcred/zkcred/registry/node"
)

// TestAccreditCLI drives accreditation from the command line against a
// one-validator chain: governance accredits a ministry for universities,
// the ministry registers and deactivates one, another kind and a withdrawn
// accreditation are refused with a hint, and 'accredit show' reads the
// record proven through the light client.
func TestAccreditCLI(t *testing.T) {
	t.Setenv(passphraseEnv, "accredit test")
	dir := t.TempDir()
	reg := filepath.Join(dir, "reg")
	if _, err := node.InitDir(reg, "accredit-test", nil, node.KeyOptions{Passphrase: []byte("accredit test"), ScryptWorkFactor: 10}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := node.StartDir(reg, ln, node.ServiceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(context.Background())

	mkey := filepath.Join(dir, "ministry.key")
	genesis := filepath.Join(reg, node.GenesisFile)
	as := []string{"--key", mkey, "--genesis", genesis, "--registry", svc.URL}
	gov := []string{"--dir", reg, "--registry", svc.URL}
	_, uni, _ := ed25519.GenerateKey(nil)
	uniPub := hex.EncodeToString(uni.Public().(ed25519.PublicKey))

	var ministryPub string
	step := func(args []string, code int, want ...string) {
		t.Helper()
		for i, a := range args {
			args[i] = strings.ReplaceAll(a, "MINISTRY", ministryPub)
		}
		var stderr bytes.Buffer
		if got := run(args, &stderr); got != code {
			t.Fatalf("%v: exit %d, want %d\n%s", args, got, code, stderr.String())
		}
		for _, w := range want {
			if !strings.Contains(stderr.String(), w) {
				t.Fatalf("%v: stderr lacks %q:\n%s", args, w, stderr.String())
			}
		}
	}
	step([]string{"registry", "accredit", "init", "--key", mkey, "--work-factor", "10"}, 0)
	step([]string{"registry", "accredit", "init", "--key", mkey, "--work-factor", "10"}, 2, "already exists")
	k, err := keyfile.Load(mkey, accreditorFormat, []byte("accredit test"))
	if err != nil {
		t.Fatal(err)
	}
	ministryPub = hex.EncodeToString(k.Public().(ed25519.PublicKey))
	register := func(kind string) []string {
		return append([]string{"registry", "accredit", "register-issuer", "--pubkey", uniPub, "--name", "Uni", "--kind", kind}, as...)
	}

	// Not accredited yet: refused, with the hint.
	step(register("university"), 1, "nor an accreditor", "accredit show --pubkey "+ministryPub)
	step(append([]string{"registry", "govern", "accredit", "--pubkey", "MINISTRY", "--name", "Ministry of Education"}, gov...), 2, "no --kind")
	step(append([]string{"registry", "govern", "accredit", "--pubkey", "MINISTRY", "--name", "Ministry of Education", "--kind", "university"}, gov...), 0)
	step(register("hospital"), 1, "not accredited", `not "hospital"`)
	step(register("university"), 0)
	is, err := svc.Store.Issuer(circuits.IssuerID(uni.Public().(ed25519.PublicKey)))
	if err != nil || is.RegisteredBy != ministryPub || !is.Active {
		t.Fatalf("registered issuer %+v: %v", is, err)
	}
	step(append([]string{"registry", "accredit", "update-issuer", "--pubkey", uniPub, "--name", "Uni of X", "--kind", "university"}, as...), 0)
	step(append([]string{"registry", "accredit", "show", "--pubkey", "MINISTRY", "--genesis", genesis, "--registry", svc.URL}, "--json"), 0)

	// update-issuer completes the record from the proven one, and shows
	// the whole record before signing.
	step(append([]string{"registry", "govern", "update-issuer", "--pubkey", uniPub, "--did-web", "uni.example", "--json"}, gov...), 0,
		`proven record: name "Uni of X", kind university, active true, did:web none`, `name "Uni of X"`, "active true", "did:web did:web:uni.example")
	step(append([]string{"registry", "govern", "update-issuer", "--pubkey", strings.Repeat("ab", 32), "--name", "X"}, gov...), 1, "is it registered")
	// A registry node that forges the record is refused, and nothing is
	// signed.
	forged := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { u, _ := url.Parse(svc.URL); r.SetURL(u) },
		ModifyResponse: func(r *http.Response) error {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				return err
			}
			b = bytes.ReplaceAll(b, []byte(`"name":"Uni of X"`), []byte(`"name":"Forged"`))
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
			r.Header.Del("Content-Length")
			return nil
		},
	})
	defer forged.Close()
	step([]string{"registry", "accredit", "update-issuer", "--pubkey", uniPub, "--kind", "university", "--key", mkey, "--genesis", genesis, "--registry", forged.URL}, 1, "proof")
	if is, _ := svc.Store.Issuer(circuits.IssuerID(uni.Public().(ed25519.PublicKey))); is.Name != "Uni of X" || is.DIDWeb != "did:web:uni.example" {
		t.Fatalf("issuer after the forged answer %+v", is)
	}

	step(append([]string{"registry", "govern", "withdraw-accreditation", "--pubkey", "MINISTRY"}, gov...), 0)
	step(append([]string{"registry", "accredit", "deactivate-issuer", "--pubkey", uniPub}, as...), 1, "withdrawn")
	if is, _ := svc.Store.Issuer(circuits.IssuerID(uni.Public().(ed25519.PublicKey))); !is.Active || is.Name != "Uni of X" {
		t.Fatalf("issuer after the refused deactivation %+v", is)
	}
	// Bad input.
	step(append([]string{"registry", "accredit", "register-issuer", "--pubkey", uniPub, "--name", "Uni", "--kind", "university", "--passphrase-file", filepath.Join(dir, "nope")}, as...), 2, "passphrase file")
	wrong := filepath.Join(dir, "wrong")
	os.WriteFile(wrong, []byte("wrong\n"), 0o600)
	step(append([]string{"registry", "accredit", "register-issuer", "--pubkey", uniPub, "--name", "Uni", "--kind", "university", "--passphrase-file", wrong}, as...), 4, "wrong passphrase", "hint: check the passphrase")
	step([]string{"registry", "accredit", "register-issuer", "--key", filepath.Join(dir, "none.key"), "--genesis", genesis, "--entry", "x"}, 2, "--entry")
	step([]string{"registry", "accredit", "deactivate-issuer", "--key", filepath.Join(dir, "none.key"), "--genesis", genesis, "--pubkey", uniPub}, 4, "accreditor key", "hint:")
	step([]string{"registry", "accredit", "show", "--pubkey", "zz", "--genesis", genesis}, 2, "--pubkey")
	step([]string{"registry", "accredit", "show", "--pubkey", uniPub, "--genesis", genesis, "--registry", "http://127.0.0.1:1"}, 3, "is the registry running")
	step([]string{"registry", "govern", "accredit", "--pubkey", "00", "--kind", "x", "--dir", reg}, 2, "hex ed25519")
}
