// Package keyfile stores zkcred's own ed25519 signing keys (issuer keys,
// registry governance keys) encrypted at rest: the seed, in a small JSON
// document naming the key's format and did:key, inside an age envelope to
// an scrypt (passphrase) recipient, written atomically with mode 0600.
//
// Reading the passphrase (a file, ZKCRED_PASSPHRASE, a prompt) is the
// caller's; this package takes it as bytes.
package keyfile

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"filippo.io/age"

	"github.com/zkcred/zkcred/internal/atomicfile"
	"github.com/zkcred/zkcred/internal/didkey"
	"github.com/zkcred/zkcred/internal/strictjson"
)

// DefaultScryptWorkFactor is the age scrypt work factor (log2 N) of a key
// file: about one second on a laptop.
const DefaultScryptWorkFactor = 18

var (
	// ErrKeyFile is wrapped by every error reading, decrypting or writing
	// a key file.
	ErrKeyFile = errors.New("key file")
	// ErrWrongPassphrase: the passphrase does not decrypt the file.
	ErrWrongPassphrase = fmt.Errorf("%w: wrong passphrase", ErrKeyFile)
	// ErrPlain: the file holds the key in plain hex (as registry
	// directories made before keys were encrypted did); Encrypt migrates
	// it.
	ErrPlain = fmt.Errorf("%w: stored unencrypted", ErrKeyFile)
)

// Format names a kind of key file: the format string recorded inside the
// envelope, and what the key is, for error messages.
type Format struct {
	ID   string // e.g. "zkcred-issuer-key/1"
	What string // e.g. "issuer": errors say "issuer key file: ..."
}

// Options tunes the encryption; the zero value is the default.
type Options struct {
	// ScryptWorkFactor is age's scrypt log2(N); 0 means
	// DefaultScryptWorkFactor. Tests lower it.
	ScryptWorkFactor int
}

// content is the plaintext inside the age envelope.
type content struct {
	Format string `json:"format"`
	Seed   []byte `json:"seed"` // base64
	DID    string `json:"did"`
}

// Save encrypts key with passphrase and writes it to path (mode 0600,
// atomically). It refuses an empty passphrase and an existing file.
func Save(path string, f Format, key ed25519.PrivateKey, passphrase []byte, o Options) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s %w: %s already exists", f.What, ErrKeyFile, path)
	}
	return write(path, f, key, passphrase, o)
}

func write(path string, f Format, key ed25519.PrivateKey, passphrase []byte, o Options) error {
	if len(passphrase) == 0 {
		return fmt.Errorf("%s %w: empty passphrase", f.What, ErrKeyFile)
	}
	r, err := age.NewScryptRecipient(string(passphrase))
	if err != nil {
		return fmt.Errorf("%s %w: %v", f.What, ErrKeyFile, err)
	}
	wf := o.ScryptWorkFactor
	if wf == 0 {
		wf = DefaultScryptWorkFactor
	}
	r.SetWorkFactor(wf)
	plain, err := json.Marshal(content{f.ID, key.Seed(), didkey.Encode(key.Public().(ed25519.PublicKey))})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		return fmt.Errorf("%s %w: failed to encrypt: %v", f.What, ErrKeyFile, err)
	}
	if _, err := w.Write(plain); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return atomicfile.Write(path, 0o600, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
}

// Load decrypts the key file at path. A file that holds a plain hex seed
// is refused with ErrPlain.
func Load(path string, f Format, passphrase []byte) (ed25519.PrivateKey, error) {
	return LoadAny(path, passphrase, f)
}

// LoadAny is Load for a file that may be of any of the formats fs (the
// first names the key in errors): an accreditor signs with a key of its
// own or with its issuer key.
func LoadAny(path string, passphrase []byte, fs ...Format) (ed25519.PrivateKey, error) {
	f := fs[0]
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s %w: %w", f.What, ErrKeyFile, err)
	}
	if _, err := plainSeed(raw); err == nil {
		return nil, fmt.Errorf("%s %w: %s", f.What, ErrPlain, path)
	}
	id, err := age.NewScryptIdentity(string(passphrase))
	if err != nil {
		return nil, fmt.Errorf("%s %w: %v", f.What, ErrKeyFile, err)
	}
	r, err := age.Decrypt(bytes.NewReader(raw), id)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, fmt.Errorf("%s %w: %s", f.What, ErrWrongPassphrase, path)
		}
		return nil, fmt.Errorf("%s %w: cannot decrypt %s: %v", f.What, ErrKeyFile, path, err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("%s %w: %v", f.What, ErrKeyFile, err)
	}
	var c content
	if err := strictjson.Unmarshal(plain, &c); err != nil || !slices.ContainsFunc(fs, func(f Format) bool { return f.ID == c.Format }) {
		return nil, fmt.Errorf("%s %w: %s is not a zkcred %s key", f.What, ErrKeyFile, path, f.What)
	}
	if len(c.Seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s %w: %s: seed of %d bytes", f.What, ErrKeyFile, path, len(c.Seed))
	}
	k := ed25519.NewKeyFromSeed(c.Seed)
	if didkey.Encode(k.Public().(ed25519.PublicKey)) != c.DID {
		return nil, fmt.Errorf("%s %w: %s: key does not match its recorded DID", f.What, ErrKeyFile, path)
	}
	return k, nil
}

// Encrypt rewrites, in place and atomically, a key file that holds a
// plain hex ed25519 seed as an encrypted one, and returns the key. A file
// that is already encrypted is left alone (ErrKeyFile).
func Encrypt(path string, f Format, passphrase []byte, o Options) (ed25519.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s %w: %w", f.What, ErrKeyFile, err)
	}
	seed, err := plainSeed(raw)
	if err != nil {
		return nil, fmt.Errorf("%s %w: %s is not a plain hex seed (%v)", f.What, ErrKeyFile, path, err)
	}
	k := ed25519.NewKeyFromSeed(seed)
	if err := write(path, f, k, passphrase, o); err != nil {
		return nil, err
	}
	return k, nil
}

// Rekey rewrites, in place and atomically, the encrypted key file at
// path under a new passphrase, and returns the key. The old passphrase
// must open it; the file is left as it was when it does not, and when the
// new passphrase is empty.
func Rekey(path string, f Format, old, new []byte, o Options) (ed25519.PrivateKey, error) {
	k, err := Load(path, f, old)
	if err != nil {
		return nil, err
	}
	if err := write(path, f, k, new, o); err != nil {
		return nil, err
	}
	return k, nil
}

// plainSeed parses a plain key file: one line of 64 hex digits.
func plainSeed(raw []byte) ([]byte, error) {
	s := strings.TrimSpace(string(raw))
	seed, err := hex.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	return seed, nil
}
