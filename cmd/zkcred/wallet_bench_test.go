package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	testenv "github.com/zkcred/zkcred/internal/wallettest"
	"github.com/zkcred/zkcred/wallet"
)

// BenchmarkWalletPresentCLI runs 'zkcred wallet present --yes' as a person
// would, in-process: open the wallet, fetch the request, load the proving
// keys from disk and check them against the chain, prove, submit, read the
// verdict. Unlike wallet's BenchmarkPresent, key loading is included.
func BenchmarkWalletPresentCLI(b *testing.B) {
	e := testenv.Start(b, testenv.Options{})
	home := b.TempDir()
	os.Symlink(testenv.KeyDir(), filepath.Join(home, "keys"))
	b.Setenv("ZKCRED_HOME", home)
	b.Setenv("ZKCRED_PASSPHRASE", "pw")
	w, err := wallet.Create(filepath.Join(home, "wallet.age"), "pw", wallet.CreateOptions{WorkFactor: wallet.MinWorkFactor,
		Config: wallet.Config{Registry: e.RegistryURL, Genesis: e.Genesis}})
	if err != nil {
		b.Fatal(err)
	}
	stdout := os.Stdout
	defer func() { os.Stdout = stdout }()
	bundle := filepath.Join(home, "d.json")
	os.WriteFile(bundle, e.Issue(w.HolderCommit(), "3.72", time.Time{}), 0o600)
	os.Stdout, _ = os.Open(os.DevNull)
	code := run([]string{"wallet", "receive", bundle}, io.Discard)
	os.Stdout = stdout
	if code != 0 {
		b.Fatal("receive failed")
	}
	devnull, _ := os.Open(os.DevNull)
	for range b.N {
		b.StopTimer()
		u := e.Request("graduate")
		os.Stdout = devnull
		b.StartTimer()
		code := run([]string{"wallet", "present", "--yes", u}, os.Stderr)
		b.StopTimer()
		os.Stdout = stdout
		if code != 0 {
			b.Fatal("present failed")
		}
		b.StartTimer()
	}
}
