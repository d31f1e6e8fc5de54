package wallet

import (
	"encoding/json"
	"testing"

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
