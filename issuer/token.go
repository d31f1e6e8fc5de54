package issuer

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MinAdminToken is the shortest admin bearer token the issuer API accepts.
const MinAdminToken = 16

// ErrTokenFile is wrapped by every reason an admin token file cannot be
// used; the message says how to fix it.
var ErrTokenFile = errors.New("admin token file")

// AdminTokenFile returns the admin bearer token kept in the file at path
// (its first line, without surrounding space). If the file does not exist,
// it is created with a random 32-byte token, mode 0600, and created is
// true. A file that others can read, or whose token is shorter than
// MinAdminToken, is refused, and so is a directory that does not exist:
// the error says what to do.
func AdminTokenFile(path string) (token string, created bool, err error) {
	fi, err := os.Stat(path)
	switch {
	case err == nil:
		if !fi.Mode().IsRegular() {
			return "", false, fmt.Errorf("%w: %s is not a regular file", ErrTokenFile, path)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			return "", false, fmt.Errorf("%w: %s is readable by others (mode %04o); run 'chmod 600 %s'", ErrTokenFile, path, perm, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", false, fmt.Errorf("%w: %v", ErrTokenFile, err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		tok := strings.TrimSpace(line)
		if len(tok) < MinAdminToken {
			return "", false, fmt.Errorf("%w: the token in %s has %d characters, want at least %d; delete the file to have a random one made", ErrTokenFile, path, len(tok), MinAdminToken)
		}
		return tok, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", false, fmt.Errorf("%w: %v", ErrTokenFile, err)
	}
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); err != nil {
		return "", false, fmt.Errorf("%w: cannot create %s: directory %s does not exist (create it, or give another path)", ErrTokenFile, path, dir)
	}
	var r [32]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", false, err
	}
	tok := base64.RawURLEncoding.EncodeToString(r[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) { // made meanwhile by another process
			tok, _, err := AdminTokenFile(path)
			return tok, false, err
		}
		if errors.Is(err, fs.ErrPermission) {
			return "", false, fmt.Errorf("%w: cannot create %s: permission denied (choose a path you can write, or create the file yourself: one line of at least %d random characters, mode 0600)", ErrTokenFile, path, MinAdminToken)
		}
		return "", false, fmt.Errorf("%w: %v", ErrTokenFile, err)
	}
	_, werr := f.WriteString(tok + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		return "", false, fmt.Errorf("%w: writing %s: %v", ErrTokenFile, path, err)
	}
	return tok, true, nil
}
