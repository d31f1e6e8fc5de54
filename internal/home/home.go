// Package home locates zkcred's default directories on this machine, so
// that every command and tool finds the same ones.
package home

import (
	"os"
	"path/filepath"
)

// KeysDir is where circuit keys are kept unless told otherwise:
// $ZKCRED_HOME/keys, else the user cache directory's zkcred/keys.
func KeysDir() string {
	if d := os.Getenv("ZKCRED_HOME"); d != "" {
		return filepath.Join(d, "keys")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "zkcred", "keys")
	}
	return filepath.Join(os.TempDir(), "zkcred", "keys")
}
