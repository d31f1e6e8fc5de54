package abci

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
)

// TestAccreditorRefusals: an accreditor registering an issuer of another
// kind, a withdrawn accreditor and a key that is no accreditor are each
// refused by CheckTx and by FinalizeBlock, with a clear error, and a block
// of refused transactions leaves the app hash as it was.
func TestAccreditorRefusals(t *testing.T) {
	k := newKit(t)
	a := k.open(t, t.TempDir(), Options{})
	initChain(t, a)
	_, ministry, _ := ed25519.GenerateKey(nil)
	_, outsider, _ := ed25519.GenerateKey(nil)
	hexOf := func(k ed25519.PrivateKey) string { return hex.EncodeToString(k.Public().(ed25519.PublicKey)) }
	newIssuer := func(kind string) registry.RegisterIssuer {
		_, key, _ := ed25519.GenerateKey(nil)
		return registry.RegisterIssuer{PubKey: hexOf(key), Name: "Issuer of " + kind, Kind: kind}
	}
	when := time.Unix(1700000100, 0)
	nonces := map[string]uint64{}
	tx := func(key ed25519.PrivateKey, body registry.Body) []byte {
		nonces[hexOf(key)]++
		return k.encode(t, key, nonces[hexOf(key)], body)
	}
	// check wants CheckTx to refuse with code and a log that says why.
	check := func(name string, b []byte, code uint32, why string) {
		t.Helper()
		res, err := a.CheckTx(ctx, &abcitypes.CheckTxRequest{Tx: b, Type: abcitypes.CHECK_TX_TYPE_CHECK})
		if err != nil || res.Code != code || !strings.Contains(res.Log, why) {
			t.Fatalf("%s: CheckTx %d %q (%v), want %d %q", name, res.Code, res.Log, err, code, why)
		}
	}
	// refusedBlock finalizes txs that must all be refused: the results
	// say why and the app hash is the previous block's.
	refusedBlock := func(name string, why []string, txs ...[]byte) {
		t.Helper()
		before := a.st.Latest()
		res := block(t, a, when, txs...)
		for i, r := range res.TxResults {
			if r.Code != CodeForbidden || !strings.Contains(r.Log, why[i]) {
				t.Fatalf("%s: FinalizeBlock result %d: %d %q, want forbidden %q", name, i, r.Code, r.Log, why[i])
			}
		}
		after := a.st.Latest()
		if after.TxCount != 0 || !bytes.Equal(AppHash(&after), AppHash(&before)) || after.IssuerCount != before.IssuerCount {
			t.Fatalf("%s: refused transactions changed the state: %+v -> %+v", name, before, after)
		}
	}

	// Governance accredits the ministry for universities.
	ministryHex := hexOf(ministry)
	res := block(t, a, when, tx(k.gov, registry.Accredit{PubKey: ministryHex, Name: "Ministry of Education", Kinds: []string{"university"}}))
	if res.TxResults[0].Code != CodeOK {
		t.Fatalf("accredit: %q", res.TxResults[0].Log)
	}

	// Another kind, and a key that is no accreditor: refused by both.
	hosp := tx(ministry, newIssuer("hospital"))
	stranger := tx(outsider, newIssuer("university"))
	check("another kind", hosp, CodeForbidden, "not accredited")
	check("not an accreditor", stranger, CodeForbidden, "nor an accreditor")
	refusedBlock("refusals", []string{"not accredited", "nor an accreditor"}, hosp, stranger)

	// Within its kind it registers alone; the record names it.
	uni := newIssuer("university")
	nonces[ministryHex] = 0 // the refused transaction did not use its nonce
	res = block(t, a, when, tx(ministry, uni))
	if res.TxResults[0].Code != CodeOK {
		t.Fatalf("register by the accreditor: %q", res.TxResults[0].Log)
	}
	pub, _ := registry.ParsePubKey(uni.PubKey)
	is, err := a.st.ProvenIssuer(circuits.IssuerID(pub))
	if err != nil || is.RegisteredBy != ministryHex {
		t.Fatalf("issuer %+v: %v", is, err)
	}

	// Withdrawn: refused by both.
	if res := block(t, a, when, tx(k.gov, registry.WithdrawAccreditation{PubKey: ministryHex})); res.TxResults[0].Code != CodeOK {
		t.Fatalf("withdraw: %q", res.TxResults[0].Log)
	}
	late := tx(ministry, newIssuer("university"))
	deact := tx(ministry, registry.DeactivateIssuer{PubKey: uni.PubKey})
	check("withdrawn registers", late, CodeForbidden, "withdrawn")
	check("withdrawn deactivates", deact, CodeForbidden, "withdrawn")
	refusedBlock("withdrawn", []string{"withdrawn", "withdrawn"}, late, deact)
	if is, err := a.st.ProvenIssuer(circuits.IssuerID(pub)); err != nil || !is.Active {
		t.Fatalf("issuer after the refused deactivation %+v: %v", is, err)
	}
	if _, err := a.Check(late); !errors.Is(err, registry.ErrWithdrawn) {
		t.Fatalf("Check: %v", err)
	}
}
