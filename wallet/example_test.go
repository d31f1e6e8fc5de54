package wallet_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/zkcred/zkcred/wallet"
)

// A wallet is created under a passphrase, backed up under another, and
// restored on a new machine with the same holder secret.
func Example() {
	dir, _ := os.MkdirTemp("", "wallet-example")
	defer os.RemoveAll(dir)

	w, err := wallet.Create(filepath.Join(dir, "wallet.age"), "correct horse", wallet.CreateOptions{WorkFactor: wallet.MinWorkFactor})
	if err != nil {
		panic(err)
	}
	var backup bytes.Buffer
	if err := w.Backup(&backup, "battery staple"); err != nil {
		panic(err)
	}
	_, err = wallet.Open(w.Path(), "wrong", wallet.Options{})
	fmt.Println("wrong passphrase:", err != nil)

	r, err := wallet.Restore(&backup, "battery staple", filepath.Join(dir, "new", "wallet.age"), "new passphrase", wallet.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println("same holder:", r.HolderCommit() == w.HolderCommit())
	fmt.Println("credentials:", len(r.Credentials()))
	// Output:
	// wrong passphrase: true
	// same holder: true
	// credentials: 0
}
