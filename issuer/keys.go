package issuer

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"os"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/atomicfile"
	"github.com/zkcred/zkcred/internal/keyfile"
	"github.com/zkcred/zkcred/wire"
)

// DefaultScryptWorkFactor is the age scrypt work factor (log2 N) used for key
// files: about one second on a laptop.
const DefaultScryptWorkFactor = keyfile.DefaultScryptWorkFactor

// PassphraseEnv is the environment variable that holds the key passphrase
// for services that cannot prompt. Reading it, a passphrase file or a
// prompt is the caller's (cmd/zkcred); the library takes the passphrase.
const PassphraseEnv = "ZKCRED_PASSPHRASE"

// ErrKeyFile is wrapped by errors reading or decrypting a key file.
var ErrKeyFile = keyfile.ErrKeyFile

// ErrWrongPassphrase: the passphrase does not decrypt the key file.
var ErrWrongPassphrase = keyfile.ErrWrongPassphrase

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

// KeyFormat is the issuer key's format in internal/keyfile: an accreditor
// may sign with its issuer key.
var KeyFormat = keyfile.Format{ID: "zkcred-issuer-key/1", What: "issuer"}

// KeyOptions tunes key encryption; the zero value is the default.
type KeyOptions struct {
	// ScryptWorkFactor is age's scrypt log2(N); 0 means
	// DefaultScryptWorkFactor. Tests lower it.
	ScryptWorkFactor int
}

// SaveKey encrypts k with passphrase (age scrypt recipient) and writes it to
// path with mode 0600, atomically. It refuses to overwrite an existing file.
func SaveKey(path string, k *Key, passphrase []byte, opts KeyOptions) error {
	return keyfile.Save(path, KeyFormat, k.priv, passphrase, keyfile.Options{ScryptWorkFactor: opts.ScryptWorkFactor})
}

// LoadKey decrypts the key file at path.
func LoadKey(path string, passphrase []byte) (*Key, error) {
	priv, err := keyfile.Load(path, KeyFormat, passphrase)
	if err != nil {
		return nil, err
	}
	return &Key{priv}, nil
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
