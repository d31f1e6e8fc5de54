package issuer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/zkcred/zkcred/wire"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer"
)

// A hospital issues a vaccination record to a holder known by its holder
// commitment; the credential verifies, and any change to it does not.
func Example() {
	dir, _ := os.MkdirTemp("", "zkcred-issuer-example")
	defer os.RemoveAll(dir)
	key, _ := issuer.GenerateKey()
	chain, _ := issuer.OpenLocalChain(filepath.Join(dir, "chain"), key.IssuerID())
	defer chain.Close()
	store, _ := issuer.OpenStore(filepath.Join(dir, "store"), issuer.StoreOptions{})
	defer store.Close()
	is := issuer.New(key, chain, store, issuer.Options{})

	b, err := is.Issue(context.Background(), issuer.Request{
		Schema: issuer.ExampleSchemas()["vaccination"],
		Subject: map[string]any{"name": "Bo Chen", "birthDate": "2001-01-01", "vaccine": "measles",
			"dose": 2, "vaccinationDate": "2025-03-01", "lot": "MMR-2291"},
		HolderCommit: circuits.HolderCommit(circuits.U64(42)), // from the wallet
	})
	if err != nil {
		panic(err)
	}
	c, err := wire.VerifyCredential(b.Credential)
	fmt.Println(c.Type[1], c.CredentialSubject.Claims["vaccine"], "at leaf", b.Private.LeafIndex, err)

	tampered := bytes.Replace(b.Credential, []byte(`"measles"`), []byte(`"rubella"`), 1)
	_, err = wire.VerifyCredential(tampered)
	fmt.Println("tampered:", errors.Is(err, wire.ErrCredential))
	// Output:
	// ZkcredCredential measles at leaf 0 <nil>
	// tampered: true
}
