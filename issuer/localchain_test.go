package issuer_test

import (
	"path/filepath"
	"testing"

	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/issuer/chaintest"
)

func TestLocalChain(t *testing.T) {
	k, _ := issuer.GenerateKey()
	ch, err := issuer.OpenLocalChain(filepath.Join(t.TempDir(), "chain"), k.IssuerID())
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	chaintest.Run(t, ch)
}
