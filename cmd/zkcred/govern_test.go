package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/api"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/node"
	"github.com/zkcred/zkcred/registry/store"
)

// blockPerTx commits each transaction in a block of its own.
type blockPerTx struct {
	st   *store.Store
	prod ed25519.PrivateKey
}

func (d *blockPerTx) SubmitSigned(_ context.Context, st *registry.SignedTx) (*registry.Receipt, error) {
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

// TestGovernThreshold drives the governance commands against a registry
// whose genesis needs 2 of 3 governance keys: one key alone is refused
// with a hint, --out, approve and submit gather the second signature, a
// key approving twice counts once, and governance revokes a deactivated
// issuer's leaf.
func TestGovernThreshold(t *testing.T) {
	t.Setenv(passphraseEnv, "governance")
	dir := t.TempDir()
	var govHex []string
	var keyFiles []string
	for i := range 3 {
		pub, priv, _ := ed25519.GenerateKey(nil)
		govHex = append(govHex, hex.EncodeToString(pub))
		f := filepath.Join(dir, "gov"+string(rune('a'+i))+".key")
		os.WriteFile(f, []byte(hex.EncodeToString(priv.Seed())+"\n"), 0o600)
		if _, err := node.EncryptKey(f, node.KeyOptions{Passphrase: []byte("governance"), ScryptWorkFactor: 10}); err != nil {
			t.Fatal(err)
		}
		keyFiles = append(keyFiles, f)
	}
	_, uni, _ := ed25519.GenerateKey(nil)
	uniPub := hex.EncodeToString(uni.Public().(ed25519.PublicKey))
	g, _, prod, err := registry.NewGenesis("govern-test", time.Unix(1700000000, 0),
		registry.RegisterIssuer{PubKey: uniPub, Name: "Uni", Kind: "university"})
	if err != nil {
		t.Fatal(err)
	}
	g.Governance, g.Threshold = govHex, 2
	// a node directory as 'registry init' makes it (its validator is not
	// run here: the test's submitter makes the blocks)
	vpub, _, _ := ed25519.GenerateKey(nil)
	g.Validators = []registry.GenesisValidator{{PubKey: hex.EncodeToString(vpub), Power: 1, Name: "validator-0"}}
	reg := filepath.Join(dir, "reg")
	os.MkdirAll(reg, 0o700)
	gj, _ := json.Marshal(g)
	os.WriteFile(filepath.Join(reg, node.GenesisFile), gj, 0o600)
	os.WriteFile(filepath.Join(reg, node.ConfigFile), []byte(`{"name":"validator-0"}`), 0o600)
	data := filepath.Join(reg, node.DataDir)
	if err := store.Init(data, g, prod, store.Options{}); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(api.New(st, &blockPerTx{st, prod}, api.Options{}))
	defer srv.Close()
	cl, _ := client.New(srv.URL, client.Options{})
	ctx := context.Background()
	signer, _ := cl.NewSigner(ctx, g.ChainID, uni)
	c5 := circuits.F(circuits.U64(5))
	anchor, err := signer.Do(ctx, registry.Anchor{Commitments: []circuits.Field{c5}})
	if err != nil {
		t.Fatal(err)
	}

	tx := filepath.Join(dir, "tx.json")
	base := []string{"--dir", reg, "--registry", srv.URL}
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{append([]string{"registry", "govern", "deactivate-issuer", "--pubkey", uniPub, "--key", keyFiles[0]}, base...), 1, []string{"1 of the 2", "govern approve"}},
		{append([]string{"registry", "govern", "deactivate-issuer", "--pubkey", uniPub, "--key", keyFiles[0], "--out", tx}, base...), 0, nil},
		{[]string{"registry", "govern", "approve", "--dir", reg, "--key", keyFiles[0], "--in", tx}, 4, []string{"already signed"}},
		{[]string{"registry", "govern", "submit", "--dir", reg, "--registry", srv.URL, "--in", tx}, 1, []string{"1 of the 2", "govern approve"}},
		{[]string{"registry", "govern", "approve", "--dir", reg, "--key", keyFiles[1], "--in", tx}, 0, nil},
		{[]string{"registry", "govern", "submit", "--dir", reg, "--registry", srv.URL, "--in", tx}, 0, nil},
		{append([]string{"registry", "govern", "revoke", "--issuer", uniPub, "--leaf", "0:" + c5.String(), "--key", keyFiles[2], "--out", tx}, base...), 0, nil},
		{[]string{"registry", "govern", "approve", "--dir", reg, "--key", keyFiles[0], "--in", tx}, 0, nil},
		{[]string{"registry", "govern", "submit", "--dir", reg, "--registry", srv.URL, "--in", tx}, 0, nil},
		{append([]string{"registry", "govern", "revoke", "--issuer", uniPub, "--leaf", "zero"}, base...), 2, []string{"INDEX:COMMITMENT"}},
		{[]string{"registry", "govern", "submit", "--dir", reg, "--in", filepath.Join(dir, "none.json")}, 2, []string{"--out"}},
	} {
		var stderr bytes.Buffer
		code := run(tc.args, &stderr)
		if code != tc.code {
			t.Fatalf("%v: exit %d, want %d\n%s", tc.args, code, tc.code, stderr.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tc.args, w, stderr.String())
			}
		}
	}
	is, err := st.Issuer(circuits.IssuerID(uni.Public().(ed25519.PublicKey)))
	if err != nil || is.Active {
		t.Fatalf("issuer after the approved deactivation: %+v %v", is, err)
	}
	ls, err := st.Bucket(registry.BucketOf(anchor.FirstLeaf))
	if err != nil || !ls.Leaves[anchor.FirstLeaf%registry.BucketSize].IsZero() {
		t.Fatalf("leaf after the approved governance revoke: %v", err)
	}
}
