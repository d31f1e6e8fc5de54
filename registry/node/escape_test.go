package node

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/zkcred/zkcred/registry"
)

// A transaction whose payload its signer did not HTML-escape ('&', '<',
// '>' as the specification allows) is kept in the block with the bytes it
// was signed over, so that every node that replays the block verifies it.
func TestUnescapedPayloadIsKeptAsSigned(t *testing.T) {
	e := start(t)
	_, newcomer, _ := ed25519.GenerateKey(nil)
	gov := e.signer(t, e.gov)
	tx, err := gov.Sign(registry.RegisterIssuer{PubKey: pubHex(newcomer), Name: "A&B <x>", Kind: "university"})
	if err != nil {
		t.Fatal(err)
	}
	// the same payload as a client that does not escape would sign it
	unescape := strings.NewReplacer(`\u0026`, "&", `\u003c`, "<", `\u003e`, ">")
	payload := unescape.Replace(string(tx.Payload))
	if payload == string(tx.Payload) {
		t.Fatal("the payload had nothing escaped; the test shows nothing")
	}
	sig := ed25519.Sign(e.gov, registry.SigningBytes(e.g.ChainID, []byte(payload)))
	body := `{"payload":` + payload + `,"signature":"` + hex.EncodeToString(sig) + `"}`
	res, err := http.Post(e.svc.URL+"/v1/tx", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var rc registry.Receipt
	if err := json.NewDecoder(res.Body).Decode(&rc); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("submit: %d %v", res.StatusCode, err)
	}
	bs := e.svc.Node.CometBFT().BlockStore()
	found := false
	for h := int64(1); h <= bs.Height(); h++ {
		blk, _ := bs.LoadBlock(h)
		for _, b := range blk.Txs {
			st, err := registry.DecodeTx(e.g.ChainID, b)
			if err != nil {
				t.Fatalf("block %d holds a transaction that does not verify: %v", h, err)
			}
			if st.Type == registry.TypeRegisterIssuer {
				found = true
			}
		}
	}
	if !found {
		t.Fatal("the registration is in no block")
	}
}
