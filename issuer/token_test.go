package issuer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAdminTokenFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	tok, created, err := AdminTokenFile(path)
	if err != nil || !created || len(tok) < 40 {
		t.Fatalf("first call: %q %v %v", tok, created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v, %v", fi.Mode(), err)
	}
	again, created, err := AdminTokenFile(path)
	if err != nil || created || again != tok {
		t.Fatalf("second call: %q %v %v, want the same token", again, created, err)
	}
	other, _, _ := AdminTokenFile(filepath.Join(dir, "other"))
	if other == tok {
		t.Fatal("two token files hold the same token")
	}

	// A token written by hand, with a trailing newline and spaces.
	mine := filepath.Join(dir, "mine")
	os.WriteFile(mine, []byte("  my-own-admin-token-0123  \nignored\n"), 0o600)
	if got, created, err := AdminTokenFile(mine); err != nil || created || got != "my-own-admin-token-0123" {
		t.Fatalf("hand-written token: %q %v %v", got, created, err)
	}

	for name, tc := range map[string]struct {
		setup func() string
		want  string
	}{
		"readable by others": {func() string {
			p := filepath.Join(dir, "loose")
			os.WriteFile(p, []byte("a-token-that-is-long-enough\n"), 0o644)
			return p
		}, "chmod 600"},
		"too short": {func() string {
			p := filepath.Join(dir, "short")
			os.WriteFile(p, []byte("short\n"), 0o600)
			return p
		}, "at least 16"},
		"empty": {func() string {
			p := filepath.Join(dir, "empty")
			os.WriteFile(p, nil, 0o600)
			return p
		}, "delete the file"},
		"no such directory": {func() string { return filepath.Join(dir, "missing", "token") }, "does not exist"},
		"a directory":       {func() string { return dir }, "not a regular file"},
	} {
		_, _, err := AdminTokenFile(tc.setup())
		if !errors.Is(err, ErrTokenFile) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrTokenFile saying %q", name, err, tc.want)
		}
	}
}
