package keyfile_test

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/zkcred/zkcred/internal/keyfile"
)

func Example() {
	dir, _ := os.MkdirTemp("", "keyfile")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "governance.key")
	format := keyfile.Format{ID: "zkcred-governance-key/1", What: "governance"}

	_, key, _ := ed25519.GenerateKey(nil)
	if err := keyfile.Save(path, format, key, []byte("correct horse"), keyfile.Options{ScryptWorkFactor: 10}); err != nil {
		panic(err)
	}
	got, err := keyfile.Load(path, format, []byte("correct horse"))
	fmt.Println("same key:", err == nil && got.Equal(key))
	_, err = keyfile.Load(path, format, []byte("wrong"))
	fmt.Println(errors.Is(err, keyfile.ErrWrongPassphrase))
	// Output:
	// same key: true
	// true
}
