package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/api"
	"github.com/zkcred/zkcred/registry/store"
)

// directSubmitter commits each transaction in a block of its own.
type directSubmitter struct {
	st   *store.Store
	prod ed25519.PrivateKey
}

func (d *directSubmitter) SubmitSigned(_ context.Context, st *registry.SignedTx) (*registry.Receipt, error) {
	latest := d.st.Latest()
	b, _ := registry.NewBuilder(d.st.Genesis(), d.st, &latest)
	rc, err := b.Apply(st)
	if err != nil {
		return nil, err
	}
	h, txs, w, err := b.Finish(latest.Time + 1)
	if err != nil {
		return nil, err
	}
	h.Sign(d.prod)
	return rc, d.st.Commit(&registry.Block{Header: *h, Txs: txs}, w)
}

// FuzzHandlers sends arbitrary methods, paths and bodies to a real server
// over a real store: every answer must be JSON with a status below 500.
func FuzzHandlers(f *testing.F) {
	_, uni, _ := ed25519.GenerateKey(nil)
	g, gov, prod, err := registry.NewGenesis("fuzz", time.Unix(1700000000, 0),
		registry.RegisterIssuer{PubKey: hex.EncodeToString(uni.Public().(ed25519.PublicKey)), Name: "Uni", Kind: "university"})
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	if err := store.Init(dir, g, prod, store.Options{}); err != nil {
		f.Fatal(err)
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(api.New(st, &directSubmitter{st, prod}, api.Options{}))
	defer srv.Close()

	anchor, _ := registry.NewTx("fuzz", uni, 1, registry.Anchor{Commitments: []circuits.Field{circuits.F(circuits.U64(5))}})
	ab, _ := json.Marshal(anchor)
	revoke, _ := registry.NewTx("fuzz", uni, 2, registry.Revoke{Leaves: []registry.RevokeLeaf{{Index: 0, Commitment: circuits.F(circuits.U64(5))}}})
	rb, _ := json.Marshal(revoke)
	gr, _ := registry.NewTx("fuzz", gov, 1, registry.GovernanceRevoke{Issuer: hex.EncodeToString(uni.Public().(ed25519.PublicKey)),
		Leaves: []registry.RevokeLeaf{{Index: 0, Commitment: circuits.F(circuits.U64(5))}}})
	gr.Approve("fuzz", gov)
	gb, _ := json.Marshal(gr)
	vu, _ := registry.NewTx("fuzz", gov, 2, registry.UpdateValidators{Validators: []registry.Validator{{PubKey: hex.EncodeToString(uni.Public().(ed25519.PublicKey)), Power: 3}}})
	vb, _ := json.Marshal(vu)
	uniHex := hex.EncodeToString(uni.Public().(ed25519.PublicKey))
	acc, _ := registry.NewTx("fuzz", gov, 3, registry.Accredit{PubKey: uniHex, Name: "Ministry", Kinds: []string{"university", "college"}})
	accb, _ := json.Marshal(acc)
	byAcc, _ := registry.NewTx("fuzz", uni, 3, registry.RegisterIssuer{PubKey: strings.Repeat("0d", 32), Name: "College", Kind: "college"})
	byAccb, _ := json.Marshal(byAcc)
	wd, _ := registry.NewTx("fuzz", gov, 4, registry.WithdrawAccreditation{PubKey: uniHex})
	wdb, _ := json.Marshal(wd)
	root := st.Latest().CredRoot.String()
	for _, s := range []struct{ m, p, b string }{
		{"POST", "/v1/tx", string(ab)},
		{"POST", "/v1/tx", string(rb)},
		{"POST", "/v1/tx", `{"payload":{"type":"anchor","signer":"00","nonce":1,"body":{}},"signature":"00"}`},
		{"GET", "/v1/headers/0", ""},
		{"GET", "/v1/headers?from=0&to=18446744073709551615", ""},
		{"GET", "/v1/blocks/latest", ""},
		{"GET", "/v1/witness/0", ""},
		{"GET", "/v1/witness/16777215", ""},
		{"GET", "/v1/roots/" + root, ""},
		{"GET", "/v1/issuers?kind=university&active=true", ""},
		{"GET", "/v1/issuers/" + circuits.F(circuits.IssuerID(uni.Public().(ed25519.PublicKey))).String(), ""},
		{"GET", "/v1/schemas/1", ""},
		{"GET", "/v1/accounts/" + hex.EncodeToString(uni.Public().(ed25519.PublicKey)), ""},
		{"GET", "/v1/circuits", ""},
		{"GET", "/v1/circuits/zkcred%2Fpresentation", ""},
		{"GET", "/v1/circuits/%00", ""},
		{"GET", "/v1/kinds/university", ""},
		{"GET", "/v1/kinds/%2e%2e", ""},
		{"GET", "/v1/governance", ""},
		{"GET", "/v1/leaves/0", ""},
		{"POST", "/v1/tx", string(gb)},
		{"POST", "/v1/tx", string(vb)},
		{"POST", "/v1/tx", string(accb)},
		{"POST", "/v1/tx", string(byAccb)},
		{"POST", "/v1/tx", string(wdb)},
		{"GET", "/v1/accreditors/" + uniHex, ""},
		{"GET", "/v1/accreditors/%2e%2e", ""},
		{"GET", "/healthz", ""},
	} {
		f.Add(s.m, s.p, []byte(s.b))
	}
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		if method != "GET" && method != "POST" && method != "PUT" {
			method = "GET"
		}
		req, err := http.NewRequest(method, srv.URL+"/"+trimSlash(path), bytes.NewReader(body))
		if err != nil {
			return // not a URL at all: nothing reaches the server
		}
		req.Header.Set("Content-Type", "application/json") // so that bodies reach the decoders
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		if !json.Valid(b) && req.URL.Path != "/metrics" {
			t.Fatalf("%s %s: answer is not JSON: %q", method, path, b)
		}
	})
}

func trimSlash(p string) string {
	for len(p) > 0 && p[0] == '/' {
		p = p[1:]
	}
	return p
}

func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
