package circuits

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gowebpki/jcs"
)

// canonicalVector is one case of testdata/schema-ids.json, written by
// `go run ./registry/internal/gencanon`.
type canonicalVector struct {
	Name      string `json:"name"`
	Input     string `json:"input"`
	Canonical string `json:"canonical"`
	Hash      string `json:"hash"`
	Error     string `json:"error"`
}

// TestSchemaIDVectors checks schema IDs against testdata/schema-ids.json:
// each schema's canonical JSON is RFC 8785 of the schema as written (with
// '&', '<', '>' and non-ASCII as themselves, whatever escapes the input
// used) and its ID is bytes(6; canonical JSON).
func TestSchemaIDVectors(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "schema-ids.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Schemas []canonicalVector `json:"schemas"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Schemas) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range f.Schemas {
		t.Run(v.Name, func(t *testing.T) {
			s, err := ParseSchema([]byte(v.Input))
			if v.Error != "" {
				if err == nil || !strings.Contains(err.Error(), v.Error) {
					t.Fatalf("got %v, want an error containing %q", err, v.Error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(s.Canonical()); got != v.Canonical {
				t.Errorf("canonical JSON\n got %s\nwant %s", got, v.Canonical)
			}
			// The library applied to the text as written gives the same
			// bytes: the inputs name no empty optional field.
			if direct, err := jcs.Transform([]byte(v.Input)); err != nil || string(direct) != v.Canonical {
				t.Errorf("jcs.Transform of the input: %s, %v", direct, err)
			}
			if got := Dec(s.ID()); got != v.Hash {
				t.Errorf("schema ID %s, want %s", got, v.Hash)
			}
			if id := HashBytes(TagSchema, []byte(v.Canonical)); Dec(id) != v.Hash {
				t.Errorf("bytes(6; canonical) = %s, want %s", Dec(id), v.Hash)
			}
		})
	}
}

// TestSchemaIDNotEncodingJSON: encoding/json escapes '&', '<' and '>', so
// an ID over its output would differ from every other implementation's.
func TestSchemaIDNotEncodingJSON(t *testing.T) {
	s := &Schema{Name: "Barnes & Noble <Gift>", Version: "1", Attributes: []Attribute{{Name: "a", Type: TypeString}}}
	if strings.Contains(string(s.Canonical()), `\u0026`) {
		t.Fatalf("canonical JSON escapes '&': %s", s.Canonical())
	}
	old, _ := json.Marshal(s)
	if s.ID() == HashBytes(TagSchema, old) {
		t.Fatal("schema ID is still over encoding/json's output")
	}
}

// TestSchemaInvalidUTF8: encoding/json writes invalid UTF-8 as U+FFFD, so
// two schemas differing there would share an ID; Validate refuses them.
func TestSchemaInvalidUTF8(t *testing.T) {
	for _, s := range []Schema{
		{Name: "a\xff", Version: "1", Attributes: []Attribute{{Name: "a", Type: TypeString}}},
		{Name: "a", Version: "\xfe", Attributes: []Attribute{{Name: "a", Type: TypeString}}},
		{Name: "a", Version: "1", Attributes: []Attribute{{Name: "a", Type: TypeString, Display: "\xff"}}},
		{Name: "a", Version: "1", Attributes: []Attribute{{Name: "a", Type: TypeEnum, Values: []string{"x", "\xff"}}}},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
}
