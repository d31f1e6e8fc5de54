package stack_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/stack"
	"github.com/zkcred/zkcred/internal/wallettest"
	"github.com/zkcred/zkcred/wallet"
)

// The key server serves the key files and nothing else.
func TestKeyServer(t *testing.T) {
	dir := t.TempDir()
	pk, vk := circuits.KeyFileNames()[0], circuits.KeyFileNames()[1]
	for name, body := range map[string]string{pk: "proving", vk: "verifying", "a.pk": "other", "admin-token": "secret", ".x.pk": "hidden"} {
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600)
	}
	os.MkdirAll(filepath.Join(dir, "sub"), 0o700)
	os.WriteFile(filepath.Join(dir, "sub", "b.pk"), []byte("nested"), 0o600)
	srv := httptest.NewServer(stack.KeyServer(dir))
	defer srv.Close()
	get := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, b := get("GET", "/keys/"+pk); st != 200 || b != "proving" {
		t.Fatalf("%s: %d %q", pk, st, b)
	}
	if st, b := get("GET", "/keys/"+vk); st != 200 || b != "verifying" {
		t.Fatalf("%s: %d %q", vk, st, b)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/keys/admin-token"}, {"GET", "/keys/.x.pk"}, {"GET", "/keys/sub/b.pk"},
		{"GET", "/keys/..%2fadmin-token"}, {"GET", "/keys/"}, {"GET", "/" + pk}, {"GET", "/keys/a.pk"},
		{"GET", "/keys/" + circuits.KeyFileNames()[3]}, // a key file the directory lacks
		{"POST", "/keys/" + pk}, {"DELETE", "/keys/" + pk},
	} {
		if st, b := get(c.method, c.path); st != http.StatusNotFound {
			t.Errorf("%s %s: %d %q, want 404", c.method, c.path, st, b)
		}
	}
}

// A wallet initialised with the stack's KeysURL and no keys of its own
// fetches them and checks them against the registry's published hashes.
func TestWalletFetchesKeysFromStack(t *testing.T) {
	keys := wallettest.Keys(t)
	ctx := context.Background()
	st, err := stack.Start(ctx, stack.Options{Dir: t.TempDir(), Keys: keys, KeysDir: wallettest.KeyDir(), KeyWorkFactor: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.KeysURL == "" {
		t.Fatal("no KeysURL although KeysDir is set")
	}
	w, err := wallet.Create(filepath.Join(t.TempDir(), "wallet.age"), "pw", wallet.CreateOptions{
		WorkFactor: wallet.MinWorkFactor,
		Config:     wallet.Config{Registry: st.RegistryURL, Genesis: st.Genesis, KeysURL: st.KeysURL},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	kdir := t.TempDir()
	got, err := w.LoadKeys(ctx, kdir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Verifier().Hash() != keys.Verifier().Hash() {
		t.Fatal("fetched keys are not the stack's")
	}
	if _, err := os.Stat(filepath.Join(kdir, filepath.Base(circuits.PresentationID)+".pk")); err != nil {
		t.Fatalf("proving key not stored: %v", err)
	}
}
