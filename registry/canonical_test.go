package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gowebpki/jcs"
	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/strictjson"
)

type canonicalVector struct {
	Name      string `json:"name"`
	Input     string `json:"input"`
	Canonical string `json:"canonical"`
	Hash      string `json:"hash"`
	Error     string `json:"error"`
}

// TestCanonicalVectors checks genesis hashes and issuer-tree leaves against
// testdata/canonical.json (written by `go run ./registry/internal/gencanon`):
// both hash RFC 8785 canonical JSON, whatever whitespace, key order and
// escapes the input used, and the genesis refuses numbers that canonical
// JSON cannot carry exactly.
func TestCanonicalVectors(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "canonical.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Genesis []canonicalVector `json:"genesis"`
		Issuers []canonicalVector `json:"issuers"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Genesis) == 0 || len(f.Issuers) == 0 {
		t.Fatal("no vectors")
	}
	direct := func(t *testing.T, v canonicalVector) {
		t.Helper()
		if d, err := jcs.Transform([]byte(v.Input)); err != nil || string(d) != v.Canonical {
			t.Errorf("jcs.Transform of the input: %s, %v", d, err)
		}
	}
	for _, v := range f.Genesis {
		t.Run("genesis/"+v.Name, func(t *testing.T) {
			g, err := ParseGenesis([]byte(v.Input))
			if v.Error != "" {
				if err == nil || !strings.Contains(err.Error(), v.Error) {
					t.Fatalf("got %v, want an error containing %q", err, v.Error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			direct(t, v)
			if got := g.Hash().String(); got != v.Hash {
				t.Errorf("genesis hash %s, want %s", got, v.Hash)
			}
			if h := sha256Of(genesisHashPrefix, v.Canonical); hex.EncodeToString(h[:]) != v.Hash {
				t.Errorf("SHA-256(prefix ‖ canonical) = %x, want %s", h, v.Hash)
			}
		})
	}
	for _, v := range f.Issuers {
		t.Run("issuer/"+v.Name, func(t *testing.T) {
			var is Issuer
			if err := strictjson.Unmarshal([]byte(v.Input), &is); err != nil {
				t.Fatal(err)
			}
			direct(t, v)
			if got := circuits.Dec(is.Leaf()); got != v.Hash {
				t.Errorf("issuer leaf %s, want %s", got, v.Hash)
			}
			if l := circuits.HashBytes(circuits.TagBytes, append([]byte(issuerLeafPrefix), v.Canonical...)); circuits.Dec(l) != v.Hash {
				t.Errorf("issuer leaf is not bytes(10; prefix ‖ canonical)")
			}
		})
	}
}

// TestGenesisHashNotEncodingJSON: a genesis naming "Barnes & Noble" hashes
// canonical JSON, not encoding/json's escaped output, and the hash names
// version 2.
func TestGenesisHashNotEncodingJSON(t *testing.T) {
	g, _, _, err := NewGenesis("c", time.UnixMilli(1764335000000), RegisterIssuer{PubKey: strings.Repeat("ab", 32), Name: "Barnes & Noble <College>", Kind: "university"})
	if err != nil {
		t.Fatal(err)
	}
	old, _ := json.Marshal(g)
	if g.Hash() == sha256Of("zkcred-registry-genesis/v1\x00", string(old)) || g.Hash() == sha256Of(genesisHashPrefix, string(old)) {
		t.Fatal("genesis hash is over encoding/json's output")
	}
	is := &Issuer{ID: circuits.F(circuits.U64(1)), Name: "Barnes & Noble <College>", Kind: "university"}
	oj, _ := json.Marshal(is)
	if is.Leaf() == circuits.HashBytes(circuits.TagBytes, append([]byte(issuerLeafPrefix), oj...)) {
		t.Fatal("issuer leaf is over encoding/json's output")
	}
}

func sha256Of(prefix, doc string) Hash { return sha256.Sum256([]byte(prefix + doc)) }

// TestBuilderStopsAtLargestExactHeight: issuer records carry heights, which
// canonical JSON carries exactly only below 2^53.
func TestBuilderStopsAtLargestExactHeight(t *testing.T) {
	g, _, _, err := NewGenesis("c", time.UnixMilli(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewBuilder(g, memState{}, &Header{ChainID: "c", Height: 1<<53 - 1}); err == nil {
		t.Fatal("block 2^53 started")
	}
	if _, err := NewBuilder(g, memState{}, &Header{ChainID: "c", Height: 1<<53 - 2}); err != nil {
		t.Fatal(err)
	}
}
