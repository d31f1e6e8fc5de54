package issuer

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"filippo.io/age"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/atomicfile"
	"github.com/zkcred/zkcred/internal/strictjson"
	"github.com/zkcred/zkcred/wire"
)

// DefaultScryptWorkFactor is the age scrypt work factor (log2 N) used for key
// files: about one second on a laptop.
const DefaultScryptWorkFactor = 18

// PassphraseEnv is the environment variable that holds the key passphrase
// for services that cannot prompt. Reading it, a passphrase file or a
// prompt is the caller's (cmd/zkcred); the library takes the passphrase.
const PassphraseEnv = "ZKCRED_PASSPHRASE"

// ErrKeyFile is wrapped by errors reading or decrypting a key file.
var ErrKeyFile = errors.New("issuer key file")

// ErrWrongPassphrase: the passphrase does not decrypt the key file.
var ErrWrongPassphrase = fmt.Errorf("%w: wrong passphrase", ErrKeyFile)

// Key is an issuer's ed25519 signing key.
type Key struct {
	priv ed25519.PrivateKey
}

// GenerateKey returns a new random issuer key.
func GenerateKey() (*Key, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return &Key{priv}, nil
}

// NewKeyFromSeed returns the key of a 32-byte ed25519 seed.
func NewKeyFromSeed(seed []byte) (*Key, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("ed25519 seed must be %d bytes, got %d", ed25519.SeedSize, len(seed))
	}
	return &Key{ed25519.NewKeyFromSeed(seed)}, nil
}

// Public returns the public key.
func (k *Key) Public() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }

// DID returns the issuer's did:key.
func (k *Key) DID() string { return wire.DIDKey(k.Public()) }

// VerificationMethod returns the DID URL of the key, used in proofs.
func (k *Key) VerificationMethod() string { return wire.VerificationMethod(k.Public()) }

// IssuerID returns the field element the registry derives from the key.
func (k *Key) IssuerID() fr.Element { return circuits.IssuerID(k.Public()) }

// Sign signs msg with ed25519.
func (k *Key) Sign(msg []byte) []byte { return ed25519.Sign(k.priv, msg) }

// Signer returns the key as a crypto.Signer, e.g. to sign registry
// transactions.
func (k *Key) Signer() ed25519.PrivateKey { return k.priv }

// keyFile is the plaintext inside the age envelope.
type keyFile struct {
	Format string `json:"format"`
	Seed   []byte `json:"seed"` // base64
	DID    string `json:"did"`
}

const keyFormat = "zkcred-issuer-key/1"

// KeyOptions tunes key encryption; the zero value is the default.
type KeyOptions struct {
	// ScryptWorkFactor is age's scrypt log2(N); 0 means
	// DefaultScryptWorkFactor. Tests lower it.
	ScryptWorkFactor int
}

// SaveKey encrypts k with passphrase (age scrypt recipient) and writes it to
// path with mode 0600, atomically. It refuses to overwrite an existing file.
func SaveKey(path string, k *Key, passphrase []byte, opts KeyOptions) error {
	if len(passphrase) == 0 {
		return fmt.Errorf("%w: empty passphrase", ErrKeyFile)
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%w: %s already exists", ErrKeyFile, path)
	}
	r, err := age.NewScryptRecipient(string(passphrase))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrKeyFile, err)
	}
	wf := opts.ScryptWorkFactor
	if wf == 0 {
		wf = DefaultScryptWorkFactor
	}
	r.SetWorkFactor(wf)
	plain, err := json.Marshal(keyFile{keyFormat, k.priv.Seed(), k.DID()})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		return fmt.Errorf("%w: failed to encrypt: %v", ErrKeyFile, err)
	}
	if _, err := w.Write(plain); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return WriteFileAtomic(path, buf.Bytes(), 0o600)
}

// LoadKey decrypts the key file at path.
func LoadKey(path string, passphrase []byte) (*Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyFile, err)
	}
	defer f.Close()
	id, err := age.NewScryptIdentity(string(passphrase))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyFile, err)
	}
	r, err := age.Decrypt(f, id)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, fmt.Errorf("%w: %s", ErrWrongPassphrase, path)
		}
		return nil, fmt.Errorf("%w: cannot decrypt %s: %v", ErrKeyFile, path, err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyFile, err)
	}
	var kf keyFile
	if err := strictjson.Unmarshal(plain, &kf); err != nil || kf.Format != keyFormat {
		return nil, fmt.Errorf("%w: %s is not a zkcred issuer key", ErrKeyFile, path)
	}
	k, err := NewKeyFromSeed(kf.Seed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeyFile, err)
	}
	if k.DID() != kf.DID {
		return nil, fmt.Errorf("%w: %s: key does not match its recorded DID", ErrKeyFile, path)
	}
	return k, nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory that is synced and renamed over path, then syncs the directory:
// after a crash path holds either its old or its new contents.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return atomicfile.Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
