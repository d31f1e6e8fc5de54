package issuer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/wire"
)

// A hospital issues a vaccination record to a holder known by its holder
// commitment; the credential verifies, and any change to it does not.
func Example() {
	dir, _ := os.MkdirTemp("", "zkcred-issuer-example")
	defer os.RemoveAll(dir)
	pass := []byte("correct horse battery staple")
	// A local chain keeps the example offline; a real issuer names its
	// registry's URL and opens with OpenOptions.Registry = regchain.Dial.
	if _, err := issuer.InitDir(dir, issuer.InitOptions{Chain: issuer.ChainLocal, Passphrase: pass, ScryptWorkFactor: 10}); err != nil {
		panic(err)
	}
	d, err := issuer.OpenDir(context.Background(), dir, issuer.OpenOptions{Passphrase: pass})
	if err != nil {
		panic(err)
	}
	defer d.Close()
	is := d.Issuer

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
