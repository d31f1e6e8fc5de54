package wallet

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/zkcred/zkcred/internal/atomicfile"
	"github.com/zkcred/zkcred/internal/strictjson"
	"github.com/zkcred/zkcred/wire"

	"filippo.io/age"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/light"
)

// DefaultWorkFactor is the scrypt work factor (log2 N) of new wallets.
const DefaultWorkFactor = 18

// MinWorkFactor is the lowest work factor accepted (tests use it).
const MinWorkFactor = 10

// MaxWalletBytes bounds a decrypted wallet or backup.
const MaxWalletBytes = 256 << 20

const (
	walletFormat = "zkcred-wallet/1"
	backupFormat = "zkcred-wallet-backup/1"
)

// Errors of the store.
var (
	// ErrNoWallet: no wallet file at the path (run init).
	ErrNoWallet = errors.New("no wallet")
	// ErrExists: init would overwrite a wallet.
	ErrExists = errors.New("a wallet already exists")
	// ErrPassphrase: the passphrase does not decrypt the wallet.
	ErrPassphrase = errors.New("wrong passphrase, or not a zkcred wallet")
	// ErrCorrupt: the wallet decrypts but its content is not a wallet.
	ErrCorrupt = errors.New("wallet content is corrupt")
	// ErrUnknownCredential: no credential with that ID.
	ErrUnknownCredential = errors.New("no such credential")
	// ErrBusy: another process holds the wallet's lock.
	ErrBusy = errors.New("the wallet is in use by another zkcred process")
	// ErrAmbiguous: a credential ID prefix matches several credentials.
	ErrAmbiguous = errors.New("credential ID prefix is ambiguous")
)

// DefaultTimeout bounds each request to a registry, issuer or verifier
// when Options.HTTP is nil.
const DefaultTimeout = client.DefaultTimeout

// Options are an open wallet's network settings, fixed when it is opened
// (Open, Create, Restore). The zero value is the default.
type Options struct {
	// HTTP is the client of every call to the registry (light client and
	// witness), issuers, verifiers and the key server. Nil means one whose
	// requests time out after Timeout, and no overall timeout for key
	// downloads, which are large.
	HTTP *http.Client
	// Timeout bounds each request of the default client; 0 means
	// DefaultTimeout. It is unused when HTTP is set.
	Timeout time.Duration
	// AllowLoopbackHTTP resolves the did:web of a loopback host
	// (localhost, 127.0.0.0/8, ::1) over plain http when a credential's
	// issuer is one: local development and tests only.
	AllowLoopbackHTTP bool
}

// CreateOptions configure Create. The zero value is the default.
type CreateOptions struct {
	// WorkFactor is age's scrypt log2(N) (DefaultWorkFactor). The wallet
	// keeps it, so that every later save uses the same.
	WorkFactor int
	// Config is the wallet's initial configuration.
	Config Config
	// Options are the new wallet's network settings.
	Options Options
}

// Config is where the wallet finds the chain and the proving keys.
type Config struct {
	// Registry is the registry's base URL.
	Registry string `json:"registry,omitempty"`
	// Genesis is the registry genesis the light client trusts.
	Genesis *registry.Genesis `json:"genesis,omitempty"`
	// KeysURL, if set, is a base URL serving the proving and verifying key
	// files (as `zkcred setup` writes them) for wallets without them.
	KeysURL string `json:"keysUrl,omitempty"`
}

// Entry is one stored credential.
type Entry struct {
	// ID is the wallet's short name of the credential: the first 8 hex
	// digits of the SHA-256 of its credential ID.
	ID    string    `json:"id"`
	Added time.Time `json:"added"`
	// Bundle is the issuer's bundle exactly as received.
	Bundle json.RawMessage `json:"bundle"`
	// Unchecked marks a credential stored when its local checks passed but
	// the chain could not be asked (ErrUnchecked); CheckStatus, Present and
	// Sync check it before anything else, and remove it if the chain
	// refuses it.
	Unchecked bool `json:"unchecked,omitempty"`

	bundle *wire.Bundle
	cred   *wire.Credential
}

// Credential returns the signed credential.
func (e *Entry) Credential() *wire.Credential { return e.cred }

// Private returns the credential's private values.
func (e *Entry) Private() *wire.Private { return &e.bundle.Private }

// Schema returns the credential's schema.
func (e *Entry) Schema() *circuits.Schema { return e.bundle.Private.Schema }

type walletFile struct {
	Format      string         `json:"format"`
	Secret      circuits.Field `json:"secret"`
	Created     time.Time      `json:"created"`
	WorkFactor  int            `json:"workFactor"`
	Config      Config         `json:"config"`
	Credentials []*Entry       `json:"credentials"`
}

// Wallet is an open wallet. It is not safe for concurrent use.
type Wallet struct {
	path string
	pass string
	f    walletFile
	opts Options
	hc   *http.Client  // opts.HTTP, or the default client
	lc   *light.Client // opened by the first network call, with hc

	ready     map[string]*proverEntry // prover states Prepare or Sync brought to the newest root (prover.go)
	lastProve circuits.ProveInfo      // how prove made its last proof (tests)
}

// newOpen returns a wallet with its network settings in place.
func newOpen(path, passphrase string, opts Options) *Wallet {
	hc := opts.HTTP
	if hc == nil {
		t := opts.Timeout
		if t <= 0 {
			t = DefaultTimeout
		}
		hc = &http.Client{Timeout: t}
	}
	return &Wallet{path: path, pass: passphrase, opts: opts, hc: hc}
}

// ShortID returns the wallet ID of a credential ID.
func ShortID(credentialID string) string {
	h := sha256.Sum256([]byte(credentialID))
	return hex.EncodeToString(h[:4])
}

// Create makes a new wallet with a fresh holder secret at path.
func Create(path, passphrase string, opts CreateOptions) (*Wallet, error) {
	if passphrase == "" {
		return nil, errors.New("empty passphrase")
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("%w at %s", ErrExists, path)
	}
	wf := opts.WorkFactor
	if wf == 0 {
		wf = DefaultWorkFactor
	}
	if wf < MinWorkFactor || wf > 22 {
		return nil, fmt.Errorf("work factor %d outside %d..22", wf, MinWorkFactor)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	w := newOpen(path, passphrase, opts.Options)
	w.f = walletFile{
		Format: walletFormat, Secret: circuits.F(circuits.RandomElement()),
		Created: time.Now().UTC().Truncate(time.Second), WorkFactor: wf,
		Config: opts.Config, Credentials: []*Entry{},
	}
	return w, w.Save()
}

// Open decrypts the wallet at path; opts are its network settings.
func Open(path, passphrase string, opts Options) (*Wallet, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s", ErrNoWallet, path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	plain, err := decrypt(f, passphrase)
	if err != nil {
		return nil, err
	}
	w := newOpen(path, passphrase, opts)
	if err := w.load(plain); err != nil {
		return nil, err
	}
	return w, nil
}

func decrypt(r io.Reader, passphrase string) ([]byte, error) {
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return nil, err
	}
	dr, err := age.Decrypt(r, id)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrPassphrase, err)
	}
	plain, err := io.ReadAll(io.LimitReader(dr, MaxWalletBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if len(plain) > MaxWalletBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrCorrupt, MaxWalletBytes)
	}
	return plain, nil
}

func encrypt(plain []byte, passphrase string, wf int) ([]byte, error) {
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return nil, err
	}
	r.SetWorkFactor(wf)
	var buf bytes.Buffer
	ew, err := age.Encrypt(&buf, r)
	if err != nil {
		return nil, fmt.Errorf("failed to encrypt: %w", err)
	}
	if _, err := ew.Write(plain); err != nil {
		return nil, err
	}
	if err := ew.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (w *Wallet) load(plain []byte) error {
	if err := strictjson.Unmarshal(plain, &w.f); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if w.f.Format != walletFormat {
		return fmt.Errorf("%w: format %q, want %q", ErrCorrupt, w.f.Format, walletFormat)
	}
	if w.f.Secret.IsZero() {
		return fmt.Errorf("%w: holder secret is zero", ErrCorrupt)
	}
	if w.f.WorkFactor < MinWorkFactor || w.f.WorkFactor > 22 {
		w.f.WorkFactor = DefaultWorkFactor
	}
	for _, e := range w.f.Credentials {
		b, err := wire.ParseBundle(e.Bundle)
		if err != nil {
			return fmt.Errorf("%w: credential %s: %v", ErrCorrupt, e.ID, err)
		}
		c, err := b.Check()
		if err != nil {
			return fmt.Errorf("%w: credential %s: %v", ErrCorrupt, e.ID, err)
		}
		e.bundle, e.cred = b, c
	}
	return nil
}

// Path returns the wallet file's path.
func (w *Wallet) Path() string { return w.path }

// Config returns the wallet's configuration.
func (w *Wallet) Config() Config { return w.f.Config }

// SetConfig replaces the configuration (saved by Save).
func (w *Wallet) SetConfig(c Config) { w.f.Config = c }

// HolderCommit returns the commitment to the holder secret that issuers
// bind credentials to.
func (w *Wallet) HolderCommit() circuits.Field {
	return circuits.F(circuits.HolderCommit(w.f.Secret.El()))
}

// Credentials returns the stored credentials, oldest first.
func (w *Wallet) Credentials() []*Entry { return w.f.Credentials }

// Credential finds a credential by its wallet ID or a unique prefix of it
// (at least 4 digits).
func (w *Wallet) Credential(id string) (*Entry, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	var found *Entry
	for _, e := range w.f.Credentials {
		if e.ID == id {
			return e, nil
		}
		if len(id) >= 4 && strings.HasPrefix(e.ID, id) {
			if found != nil {
				return nil, fmt.Errorf("%w: %q", ErrAmbiguous, id)
			}
			found = e
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownCredential, id)
	}
	return found, nil
}

// Remove deletes a credential (saved by Save).
func (w *Wallet) Remove(id string) error {
	e, err := w.Credential(id)
	if err != nil {
		return err
	}
	w.drop(e)
	return nil
}

// drop removes an entry and its prover state. The list is copied, not
// shifted in place, so that a caller ranging over Credentials() sees the
// list it started with.
func (w *Wallet) drop(e *Entry) {
	if i := slices.Index(w.f.Credentials, e); i >= 0 {
		w.f.Credentials = slices.Concat(w.f.Credentials[:i], w.f.Credentials[i+1:])
	}
	w.removeState(e)
}

// add stores a bundle whose local checks passed, unchecked against the
// chain; a credential already stored is replaced (the same credential
// received again: an issuer delivers one claim's credential unchanged).
func (w *Wallet) add(raw []byte, b *wire.Bundle, c *wire.Credential) *Entry {
	e := &Entry{ID: ShortID(c.ID), Added: time.Now().UTC().Truncate(time.Second), Bundle: raw, Unchecked: true, bundle: b, cred: c}
	for i, x := range w.f.Credentials {
		if x.ID == e.ID {
			e.Added = x.Added
			w.f.Credentials = slices.Clone(w.f.Credentials)
			w.f.Credentials[i] = e
			return e
		}
	}
	w.f.Credentials = append(w.f.Credentials, e)
	sort.SliceStable(w.f.Credentials, func(i, j int) bool { return w.f.Credentials[i].Added.Before(w.f.Credentials[j].Added) })
	return e
}

// Save encrypts the wallet and replaces the file atomically.
func (w *Wallet) Save() error {
	plain, err := json.Marshal(&w.f)
	if err != nil {
		return err
	}
	ct, err := encrypt(plain, w.pass, w.f.WorkFactor)
	if err != nil {
		return err
	}
	return writeFileAtomic(w.path, ct)
}

// ChangePassphrase re-encrypts the wallet under a new passphrase.
func (w *Wallet) ChangePassphrase(passphrase string) error {
	if passphrase == "" {
		return errors.New("empty passphrase")
	}
	old := w.pass
	w.pass = passphrase
	if err := w.Save(); err != nil {
		w.pass = old
		return err
	}
	return nil
}

type backupFile struct {
	Format string     `json:"format"`
	Wallet walletFile `json:"wallet"`
}

// Backup writes an encrypted export holding the secret, the configuration
// and every credential, under its own passphrase.
func (w *Wallet) Backup(out io.Writer, passphrase string) error {
	if passphrase == "" {
		return errors.New("empty backup passphrase")
	}
	plain, err := json.Marshal(backupFile{Format: backupFormat, Wallet: w.f})
	if err != nil {
		return err
	}
	ct, err := encrypt(plain, passphrase, w.f.WorkFactor)
	if err != nil {
		return err
	}
	_, err = out.Write(ct)
	return err
}

// Restore creates a wallet at path from a backup, encrypted under
// passphrase, with opts as its network settings. It refuses to overwrite
// an existing wallet.
func Restore(in io.Reader, backupPassphrase, path, passphrase string, opts Options) (*Wallet, error) {
	if passphrase == "" {
		return nil, errors.New("empty passphrase")
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("%w at %s", ErrExists, path)
	}
	plain, err := decrypt(in, backupPassphrase)
	if err != nil {
		return nil, err
	}
	var b backupFile
	if err := strictjson.Unmarshal(plain, &b); err != nil || b.Format != backupFormat {
		return nil, fmt.Errorf("%w: not a zkcred wallet backup", ErrCorrupt)
	}
	inner, err := json.Marshal(b.Wallet)
	if err != nil {
		return nil, err
	}
	w := newOpen(path, passphrase, opts)
	if err := w.load(inner); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return w, w.Save()
}

// failAfterTempWrite, when set (tests), is called with the new contents
// after they are handed to the temporary file and before that file is
// synced and renamed, to simulate a crash there.
var failAfterTempWrite func(data []byte) error

// writeFileAtomic writes the wallet file (mode 0600) so that after a crash
// at any point path holds the old or the new contents.
func writeFileAtomic(path string, data []byte) error {
	return atomicfile.Write(path, 0o600, func(w io.Writer) error {
		if _, err := w.Write(data); err != nil {
			return err
		}
		if failAfterTempWrite != nil {
			return failAfterTempWrite(data)
		}
		return nil
	})
}
