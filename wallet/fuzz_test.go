package wallet

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/zkcred/zkcred/wire"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
)

// FuzzLoad feeds arbitrary decrypted contents to the wallet loader: it
// must refuse or accept without panicking, and an accepted wallet must
// encode to content that loads to the same wallet.
func FuzzLoad(f *testing.F) {
	good, _ := json.Marshal(walletFile{Format: walletFormat, Secret: circuits.F(circuits.U64(5)), WorkFactor: 10, Credentials: []*Entry{}})
	f.Add(good)
	f.Add([]byte(`{"format":"zkcred-wallet/1","secret":"0"}`))
	f.Add([]byte(`{"format":"zkcred-wallet/1","secret":"1","credentials":[{"id":"x","bundle":{}}]}`))
	f.Add([]byte(`{"format":"zkcred-wallet/1","secret":"1"} trailing`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var w Wallet
		if err := w.load(b); err != nil {
			return
		}
		again, err := json.Marshal(&w.f)
		if err != nil {
			t.Fatal(err)
		}
		var w2 Wallet
		if err := w2.load(again); err != nil {
			t.Fatalf("re-encoded wallet does not load: %v", err)
		}
		if w2.f.Secret != w.f.Secret || len(w2.f.Credentials) != len(w.f.Credentials) {
			t.Fatal("round trip changed the wallet")
		}
	})
}

// FuzzReadRequest feeds arbitrary request files to ReadRequest: it must
// refuse or accept without panicking, and an accepted request's trust list
// must make its root.
func FuzzReadRequest(f *testing.F) {
	tl, _ := circuits.NewTrustList([]fr.Element{circuits.U64(7)})
	good, _ := json.Marshal(wire.Request{
		ID: "r", Policy: "p", Nonce: circuits.F(circuits.U64(1)), Audience: "a", AudienceID: circuits.F(circuits.AudienceID("a")),
		SchemaID: circuits.F(circuits.U64(2)), TrustList: wire.TrustList{Issuers: []circuits.Field{circuits.F(circuits.U64(7))}, Root: circuits.F(tl.Root())},
		ScopeID: circuits.F(circuits.ScopeID("")), SubmitURL: "http://127.0.0.1:1/v1/requests/r/presentations",
	})
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"r","trustList":{"issuers":["0"],"root":"0"}}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "req.json")
		os.WriteFile(p, b, 0o600)
		r, err := newOpen("", "", Options{}).ReadRequest(context.Background(), p)
		if err != nil {
			return
		}
		if _, err := trustList(r); err != nil {
			t.Fatalf("accepted request with a bad trust list: %v", err)
		}
	})
}
