package issuer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

func TestInitAndOpenDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "uni")
	pass := []byte("a passphrase")
	cfg, err := InitDir(dir, InitOptions{Chain: ChainLocal, Passphrase: pass, ScryptWorkFactor: 10})
	if err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{"": 0o700, KeyFile: 0o600, ConfigFile: 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v (%v)", name, fi.Mode().Perm(), mode, err)
		}
	}
	if _, err := InitDir(dir, InitOptions{Chain: ChainLocal, Passphrase: pass}); !errors.Is(err, ErrIssuerExists) {
		t.Fatalf("second init: %v", err)
	}
	ctx := context.Background()
	d, err := OpenDir(ctx, dir, OpenOptions{Passphrase: pass})
	if err != nil {
		t.Fatal(err)
	}
	if d.Issuer.Key().DID() != cfg.DID || d.Config.Chain != ChainLocal {
		t.Fatalf("opened %+v", d.Config)
	}
	// The example schemas are defined, and issuing anchors on the local chain.
	ss, err := d.Issuer.Schemas()
	if err != nil || len(ss) != len(ExampleSchemas()) {
		t.Fatalf("schemas %d %v", len(ss), err)
	}
	_, hc := holder()
	b, err := d.Issuer.Issue(ctx, Request{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject(), HolderCommit: hc})
	if err != nil {
		t.Fatal(err)
	}
	// A second process (here: a second open) is told the directory is busy.
	if _, err := OpenDir(ctx, dir, OpenOptions{Passphrase: pass}); !errors.Is(err, ErrBusy) {
		t.Fatalf("open while open: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	// Offline: the store without a chain.
	d, err = OpenDir(ctx, dir, OpenOptions{Passphrase: pass, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Issuer.Credential(b.Private.CredentialID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Issuer.Issue(ctx, Request{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject(), HolderCommit: hc}); !errors.Is(err, ErrChain) {
		t.Fatalf("issue offline: %v", err)
	}
	d.Close()

	if _, err := OpenDir(ctx, dir, OpenOptions{Passphrase: []byte("wrong")}); !errors.Is(err, ErrWrongPassphrase) || !errors.Is(err, ErrKeyFile) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := OpenDir(ctx, t.TempDir(), OpenOptions{Passphrase: pass}); !errors.Is(err, ErrNoIssuer) {
		t.Fatalf("empty directory: %v", err)
	}
}

func TestDirRegistry(t *testing.T) {
	dir := t.TempDir()
	pass := []byte("pw")
	if _, err := InitDir(dir, InitOptions{Chain: "https://registry.example/", Passphrase: pass, ScryptWorkFactor: 10}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := OpenDir(ctx, dir, OpenOptions{Passphrase: pass}); err == nil || !strings.Contains(err.Error(), "Registry") {
		t.Fatalf("registry chain without a dialer: %v", err)
	}
	var gotURL string
	local, err := OpenLocalChain(filepath.Join(t.TempDir(), "c"), fr.Element{})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	dial := func(_ context.Context, url string, k *Key) (Chain, error) { gotURL = url; return local, nil }
	d, err := OpenDir(ctx, dir, OpenOptions{Passphrase: pass, Registry: dial})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if gotURL != "https://registry.example" {
		t.Fatalf("dialled %q", gotURL)
	}
	_, hc := holder()
	b, err := d.Issuer.Issue(ctx, Request{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject(), HolderCommit: hc})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := b.Check()
	if !strings.HasPrefix(c.CredentialStatus.ID, "https://registry.example/v1/leaves/") {
		t.Fatalf("status id %s", c.CredentialStatus.ID)
	}
	failing := func(context.Context, string, *Key) (Chain, error) { return nil, errors.New("connection refused") }
	d.Close()
	if _, err := OpenDir(ctx, dir, OpenOptions{Passphrase: pass, Registry: failing}); !errors.Is(err, ErrChain) {
		t.Fatalf("unreachable registry: %v", err)
	}
}

func TestInitDirRefuses(t *testing.T) {
	for _, chain := range []string{"", "registry.example", "ftp://x", "http://"} {
		if _, err := InitDir(t.TempDir(), InitOptions{Chain: chain, Passphrase: []byte("pw")}); !errors.Is(err, ErrChainURL) {
			t.Errorf("chain %q: %v", chain, err)
		}
	}
	if _, err := InitDir(t.TempDir(), InitOptions{Chain: ChainLocal}); !errors.Is(err, ErrKeyFile) {
		t.Errorf("no passphrase: %v", err)
	}
}

// TestCheckDIDWeb: an issuer's did:web is an origin did:web in canonical
// form; other spellings of an origin are refused, naming the canonical one.
func TestCheckDIDWeb(t *testing.T) {
	for _, ok := range []string{"", "did:web:uni.example", "did:web:uni.example%3A8443"} {
		if err := CheckDIDWeb(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for bad, canon := range map[string]string{
		"did:web:uni.example%3A443": "did:web:uni.example", "did:web:uni.example%3a8443": "did:web:uni.example%3A8443",
		"did:web:uni.example%3A0443": "did:web:uni.example", "did:web:uni.example.": "did:web:uni.example",
		"uni.example": "", "did:web:uni.example#key-1": "",
	} {
		if err := CheckDIDWeb(bad); !errors.Is(err, ErrDIDWeb) || !strings.Contains(err.Error(), canon) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
