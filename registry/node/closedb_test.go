package node

import (
	"testing"

	cmtcfg "github.com/cometbft/cometbft/config"
)

// A read after CometBFT closed its database reports "not found" rather
// than panicking (pebble panics on it).
func TestCloseSafeDB(t *testing.T) {
	cfg := cmtcfg.DefaultConfig()
	cfg.SetRoot(t.TempDir())
	db, err := closeSafeDBProvider(&cmtcfg.DBContext{ID: "blockstore", Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if v, err := db.Get([]byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("Get before close: %q %v", v, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if v, err := db.Get([]byte("k")); err != nil || v != nil {
		t.Fatalf("Get after close: %q %v", v, err)
	}
	if ok, err := db.Has([]byte("k")); err != nil || ok {
		t.Fatalf("Has after close: %v %v", ok, err)
	}
	if _, err := db.Iterator(nil, nil); err == nil {
		t.Fatal("Iterator after close: no error")
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
