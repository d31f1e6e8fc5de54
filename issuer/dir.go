package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/didweb"
	"github.com/zkcred/zkcred/internal/strictjson"
	"github.com/zkcred/zkcred/issuer/store"
)

// An issuer's directory (InitDir, OpenDir) holds:
//
//	issuer.json   Config: the issuer's DID and where it anchors
//	issuer.key    its key, age-encrypted with the passphrase (SaveKey), 0600
//	db/           its store (package issuer/store)
//	chain/        the local chain, when Config.Chain is ChainLocal
const (
	ConfigFile = "issuer.json"
	KeyFile    = "issuer.key"
	StoreDir   = "db"
	ChainDir   = "chain"
	// ChainLocal as Config.Chain anchors in a chain inside the directory
	// that no wallet can check: offline trials only.
	ChainLocal = "local"
)

// Directory errors.
var (
	// ErrNoIssuer: the directory holds no issuer (run InitDir first).
	ErrNoIssuer = errors.New("no issuer in this directory")
	// ErrIssuerExists: InitDir found an issuer already.
	ErrIssuerExists = errors.New("the directory already holds an issuer")
	// ErrChainURL: the chain is neither ChainLocal nor an http(s) URL.
	ErrChainURL = errors.New("the chain must be a registry URL (http:// or https://) or \"local\"")
	// ErrBusy: another process (a running 'issuer serve'?) has the
	// directory's store open.
	ErrBusy = store.ErrBusy
)

// Config is an issuer directory's issuer.json.
type Config struct {
	DID   string `json:"did"`
	Chain string `json:"chain"` // ChainLocal or the registry's URL
	// DIDWeb is the did:web the issuer's credentials name (Options.DIDWeb).
	DIDWeb string `json:"did_web,omitempty"`
}

// InitOptions describes a new issuer directory.
type InitOptions struct {
	Chain      string // required: the registry's URL, or ChainLocal
	Passphrase []byte // required: encrypts the key file
	Key        *Key   // nil: a new random key
	// ScryptWorkFactor of the key file; 0 means DefaultScryptWorkFactor.
	ScryptWorkFactor int
	// DIDWeb is the issuer's did:web (Config.DIDWeb); empty for none.
	DIDWeb string
}

// ErrDIDWeb marks an issuer did:web that is not an origin did:web.
var ErrDIDWeb = errors.New("issuer did:web")

// CheckDIDWeb accepts "" or an origin did:web in canonical form
// (didweb.CheckOrigin: did:web:host[%3Aport]).
func CheckDIDWeb(did string) error {
	if did == "" {
		return nil
	}
	if err := didweb.CheckOrigin(did); err != nil {
		return fmt.Errorf("%w: not a did:web such as did:web:uni.example in canonical form: %v", ErrDIDWeb, err)
	}
	return nil
}

// CheckChain validates a chain setting: ChainLocal or an http(s) URL with a
// host.
func CheckChain(chain string) error {
	if chain == ChainLocal {
		return nil
	}
	u, err := url.Parse(chain)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: %q", ErrChainURL, chain)
	}
	return nil
}

// InitDir makes an issuer in dir (created, mode 0700): a key file, the
// configuration, and a store holding the example schemas.
func InitDir(dir string, o InitOptions) (*Config, error) {
	if err := CheckChain(o.Chain); err != nil {
		return nil, err
	}
	if len(o.Passphrase) == 0 {
		return nil, fmt.Errorf("%w: empty passphrase", ErrKeyFile)
	}
	if err := CheckDIDWeb(o.DIDWeb); err != nil {
		return nil, err
	}
	for _, f := range []string{KeyFile, ConfigFile} {
		if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
			return nil, fmt.Errorf("%w: %s", ErrIssuerExists, filepath.Join(dir, f))
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	k := o.Key
	if k == nil {
		var err error
		if k, err = GenerateKey(); err != nil {
			return nil, err
		}
	}
	if err := SaveKey(filepath.Join(dir, KeyFile), k, o.Passphrase, KeyOptions{ScryptWorkFactor: o.ScryptWorkFactor}); err != nil {
		return nil, err
	}
	cfg := &Config{DID: k.DID(), Chain: strings.TrimRight(o.Chain, "/"), DIDWeb: o.DIDWeb}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	if err := WriteFileAtomic(filepath.Join(dir, ConfigFile), append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	st, err := store.Open(filepath.Join(dir, StoreDir), store.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	err = st.Update(func(tx *store.Txn) error {
		for _, s := range ExampleSchemas() {
			if err := tx.PutSchema(s); err != nil {
				return err
			}
		}
		return nil
	})
	return cfg, err
}

// ReadConfig reads an issuer directory's configuration.
func ReadConfig(dir string) (*Config, error) {
	raw, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoIssuer, dir)
	}
	if err != nil {
		return nil, err
	}
	var cfg Config
	if err := strictjson.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ConfigFile), err)
	}
	if err := CheckChain(cfg.Chain); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ConfigFile), err)
	}
	if err := CheckDIDWeb(cfg.DIDWeb); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ConfigFile), err)
	}
	return &cfg, nil
}

// Dialer connects to the registry at url as the issuer with key k
// (regchain.Dial).
type Dialer func(ctx context.Context, url string, k *Key) (Chain, error)

// OpenOptions says how to open an issuer directory.
type OpenOptions struct {
	Passphrase []byte // decrypts the key file
	// Offline opens no chain: every chain call fails with ErrChain. For
	// commands that only read or change the store.
	Offline bool
	// Registry connects to a registry chain; it is required unless the
	// chain is ChainLocal or Offline is set.
	Registry Dialer
	// Issuer configures the issuer. Its StatusBase defaults to the
	// registry's URL + "/v1".
	Issuer Options
	// Store tunes the store.
	Store store.Options
}

// Dir is an open issuer directory.
type Dir struct {
	Path   string
	Config Config
	Issuer *Issuer

	closers []func() error
}

// OpenDir opens the issuer in dir: it decrypts the key, opens the store
// and connects the chain, then finishes any anchoring a crash interrupted
// (Issuer.Recover) unless Offline. Close releases it.
func OpenDir(ctx context.Context, dir string, o OpenOptions) (_ *Dir, err error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	k, err := LoadKey(filepath.Join(dir, KeyFile), o.Passphrase)
	if err != nil {
		return nil, err
	}
	if k.DID() != cfg.DID {
		return nil, fmt.Errorf("%w: %s holds the key of %s, not of %s (%s)", ErrKeyFile, KeyFile, k.DID(), cfg.DID, ConfigFile)
	}
	d := &Dir{Path: dir, Config: *cfg}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	st, err := store.Open(filepath.Join(dir, StoreDir), o.Store)
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, st.Close)
	var ch Chain
	switch {
	case o.Offline:
		ch = offline{}
	case cfg.Chain == ChainLocal:
		lc, err := OpenLocalChain(filepath.Join(dir, ChainDir), k.IssuerID())
		if err != nil {
			return nil, err
		}
		d.closers = append(d.closers, lc.Close)
		ch = lc
	default:
		if o.Registry == nil {
			return nil, errors.New("issuer: OpenOptions.Registry is required to anchor on a registry")
		}
		if ch, err = o.Registry(ctx, cfg.Chain, k); err != nil {
			return nil, fmt.Errorf("%w: registry %s: %w", ErrChain, cfg.Chain, err)
		}
		if o.Issuer.StatusBase == "" {
			o.Issuer.StatusBase = cfg.Chain + "/v1"
		}
	}
	if o.Issuer.DIDWeb == "" {
		o.Issuer.DIDWeb = cfg.DIDWeb
	}
	if err := CheckDIDWeb(o.Issuer.DIDWeb); err != nil {
		return nil, err
	}
	d.Issuer = New(k, ch, st, o.Issuer)
	if !o.Offline {
		if err := d.Issuer.Recover(ctx); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Close closes the store and the chain.
func (d *Dir) Close() error {
	var errs []error
	for i := len(d.closers) - 1; i >= 0; i-- {
		errs = append(errs, d.closers[i]())
	}
	d.closers = nil
	return errors.Join(errs...)
}

// offline is the chain of a directory opened Offline.
type offline struct{}

var errOffline = fmt.Errorf("%w: not connected (opened offline)", ErrChain)

func (offline) RegisterSchema(context.Context, *circuits.Schema) error { return errOffline }
func (offline) Size(context.Context) (uint64, error)                   { return 0, errOffline }
func (offline) Anchor(context.Context, []fr.Element) ([]Anchored, error) {
	return nil, errOffline
}
func (offline) Lookup(context.Context, []fr.Element, uint64) ([]Anchored, []bool, error) {
	return nil, nil, errOffline
}
func (offline) Revoke(context.Context, []LeafRef) error { return errOffline }
