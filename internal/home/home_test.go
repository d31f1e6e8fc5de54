package home

import (
	"path/filepath"
	"testing"
)

func TestKeysDir(t *testing.T) {
	t.Setenv("ZKCRED_HOME", "/srv/zk")
	if got := KeysDir(); got != filepath.Join("/srv/zk", "keys") {
		t.Fatalf("with ZKCRED_HOME: %s", got)
	}
	t.Setenv("ZKCRED_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "/tmp/cache")
	t.Setenv("HOME", "/tmp/home")
	if got := KeysDir(); got != filepath.Join("/tmp/cache", "zkcred", "keys") && got != filepath.Join("/tmp/home", "Library", "Caches", "zkcred", "keys") {
		t.Fatalf("without ZKCRED_HOME: %s", got)
	}
}
