package api_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/apitest"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/api"
	"github.com/zkcred/zkcred/registry/store"
)

// TestProbe sends the bad-input prober's requests, generated from the
// OpenAPI document, to every route of the registry API: no 5xx, no dropped
// connection, no success for what the document refuses.
func TestProbe(t *testing.T) {
	_, uni, _ := ed25519.GenerateKey(nil)
	uniPub := hex.EncodeToString(uni.Public().(ed25519.PublicKey))
	g, _, prod, err := registry.NewGenesis("probe", time.Unix(1700000000, 0),
		registry.RegisterIssuer{PubKey: uniPub, Name: "Uni", Kind: "university"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := store.Init(dir, g, prod, store.Options{}); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(api.New(st, &directSubmitter{st, prod}, api.Options{}))
	defer srv.Close()
	// Each documented body is a fresh, valid anchor of the registered
	// issuer; the mutations of it are not.
	var nonce uint64
	anchor := func() string {
		nonce++
		tx, err := registry.NewTx(g.ChainID, uni, nonce, registry.Anchor{Commitments: []circuits.Field{circuits.F(circuits.RandomElement())}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(tx)
		return string(b)
	}
	if _, err := (&directSubmitter{st, prod}).SubmitSigned(t.Context(), mustDecode(t, g.ChainID, anchor())); err != nil {
		t.Fatal(err)
	}
	latest := st.Latest()
	apitest.Probe(t, api.OpenAPI(), srv.URL, apitest.ProbeOptions{
		BodyLimit: api.MaxBodyBytes,
		PathParams: map[string]string{
			"height": "1", "bucket": "0", "index": "0", "pubkey": uniPub,
			"id":   circuits.F(circuits.IssuerID(uni.Public().(ed25519.PublicKey))).String(),
			"root": latest.CredRoot.String(),
		},
		Query:  map[string]string{"from": "0", "to": "1", "kind": "university", "active": "true"},
		Bodies: map[string]func() string{"POST /v1/tx": anchor},
	})
}

func mustDecode(t *testing.T, chainID, b string) *registry.SignedTx {
	t.Helper()
	st, err := registry.DecodeTx(chainID, []byte(b))
	if err != nil {
		t.Fatal(err)
	}
	return st
}
