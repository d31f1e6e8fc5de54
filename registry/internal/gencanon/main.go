// Command gencanon writes the canonical-JSON test vectors:
// circuits/testdata/schema-ids.json (schema → canonical JSON → schema ID)
// and registry/testdata/canonical.json (genesis → canonical JSON → genesis
// hash; issuer record → canonical JSON → issuer-tree leaf). Run it from the
// module root:
//
//	go run ./registry/internal/gencanon
//
// Each input is JSON text as a person or another implementation may write
// it (whitespace, escapes such as \u0026, fields in any order). Where a case
// gives the canonical bytes by hand (from RFC 8785's rules), the generator
// refuses to write unless zkcred's encoder produces exactly them, so the
// files do not merely record what the code does. circuits.TestSchemaIDVectors
// and registry.TestCanonicalVectors read the files.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/canonjson"
	"github.com/zkcred/zkcred/internal/strictjson"
	"github.com/zkcred/zkcred/registry"
)

// Vector is one case of a vector file. Error cases have Error (a substring
// of the message) and no Canonical or Hash.
type Vector struct {
	Name      string `json:"name"`
	Input     string `json:"input"`
	Canonical string `json:"canonical,omitempty"`
	// Hash is the schema ID (decimal), the genesis hash (hex) or the
	// issuer-tree leaf (decimal).
	Hash  string `json:"hash,omitempty"`
	Error string `json:"error,omitempty"`
}

// File is a vector file.
type File struct {
	Comment string   `json:"comment"`
	Schemas []Vector `json:"schemas,omitempty"`
	Genesis []Vector `json:"genesis,omitempty"`
	Issuers []Vector `json:"issuers,omitempty"`
}

type input struct {
	name, in string
	want     string // canonical bytes by hand; "" to take the encoder's
	err      string
}

func pub(seed byte) string {
	k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return hex.EncodeToString(k.Public().(ed25519.PublicKey))
}

var schemas = []input{
	{name: "plain ASCII", in: `{
  "name": "diploma",
  "version": "1",
  "attributes": [
    {"name": "fullName", "type": "string"},
    {"name": "degree", "type": "enum", "values": ["BSc", "MSc", "PhD"]},
    {"name": "gpa", "type": "decimal", "scale": 2},
    {"name": "graduated", "type": "date"}
  ]
}`, want: `{"attributes":[{"name":"fullName","type":"string"},{"name":"degree","type":"enum","values":["BSc","MSc","PhD"]},{"name":"gpa","scale":2,"type":"decimal"},{"name":"graduated","type":"date"}],"name":"diploma","version":"1"}`},
	{name: "& < > written as themselves", in: `{"name":"Barnes & Noble <Gift> Card","version":"1","attributes":[{"name":"holder","type":"string","display":"Holder's name & title <required>"}]}`,
		want: `{"attributes":[{"display":"Holder's name & title <required>","name":"holder","type":"string"}],"name":"Barnes & Noble <Gift> Card","version":"1"}`},
	{name: "& < > written as \\u escapes", in: `{"name":"Barnes \u0026 Noble \u003cGift\u003e Card","version":"1","attributes":[{"name":"holder","type":"string","display":"Holder's name \u0026 title \u003crequired\u003e"}]}`,
		want: `{"attributes":[{"display":"Holder's name & title <required>","name":"holder","type":"string"}],"name":"Barnes & Noble <Gift> Card","version":"1"}`},
	{name: "non-ASCII names and enum values", in: `{"name":"Universität Zürich – Diplom","version":"2026.1","attributes":[{"name":"studiengang","type":"enum","display":"Studiengang","values":["Informatik","Ökonomie","東京","🎓"]},{"name":"geburtsdatum","type":"date","display":"生年月日"}]}`,
		want: `{"attributes":[{"display":"Studiengang","name":"studiengang","type":"enum","values":["Informatik","Ökonomie","東京","🎓"]},{"display":"生年月日","name":"geburtsdatum","type":"date"}],"name":"Universität Zürich – Diplom","version":"2026.1"}`},
	{name: "non-ASCII written as \\u escapes, surrogate pair included", in: `{"name":"Universit\u00e4t Z\u00fcrich \u2013 Diplom","version":"2026.1","attributes":[{"name":"studiengang","type":"enum","display":"Studiengang","values":["Informatik","\u00d6konomie","\u6771\u4eac","\ud83c\udf93"]},{"name":"geburtsdatum","type":"date","display":"\u751f\u5e74\u6708\u65e5"}]}`,
		want: `{"attributes":[{"display":"Studiengang","name":"studiengang","type":"enum","values":["Informatik","Ökonomie","東京","🎓"]},{"display":"生年月日","name":"geburtsdatum","type":"date"}],"name":"Universität Zürich – Diplom","version":"2026.1"}`},
	{name: "line separator and control characters", in: `{"name":"lab\u2028result","version":"1","attributes":[{"name":"value","type":"decimal","scale":18,"display":"tab\there\u0001\"quoted\"\\"}]}`,
		want: "{\"attributes\":[{\"display\":\"tab\\there\\u0001\\\"quoted\\\"\\\\\",\"name\":\"value\",\"scale\":18,\"type\":\"decimal\"}],\"name\":\"lab\u2028result\",\"version\":\"1\"}"},
	{name: "scale beyond 2^53 refused", in: `{"name":"x","version":"1","attributes":[{"name":"v","type":"decimal","scale":9007199254740993}]}`, err: "decimal scale must be 0..18"},
	{name: "scale as a fraction refused", in: `{"name":"x","version":"1","attributes":[{"name":"v","type":"decimal","scale":2.0}]}`, err: "cannot unmarshal number 2.0"},
}

var genesis = []input{
	{name: "issuer names with & < > and non-ASCII", in: fmt.Sprintf(`{
  "chain_id": "zkcred-dev",
  "time": 1764335000000,
  "governance": ["%s"],
  "producer": "%s",
  "issuers": [
    {"pubkey": "%s", "name": "Barnes & Noble <College>", "kind": "university"},
    {"pubkey": "%s", "name": "Universit\u00e4t Z\u00fcrich", "kind": "university"},
    {"pubkey": "%s", "name": "東京大学病院 🏥", "kind": "hospital"}
  ]
}`, pub(1), pub(2), pub(3), pub(4), pub(5)),
		want: fmt.Sprintf(`{"chain_id":"zkcred-dev","governance":["%s"],"issuers":[{"kind":"university","name":"Barnes & Noble <College>","pubkey":"%s"},{"kind":"university","name":"Universität Zürich","pubkey":"%s"},{"kind":"hospital","name":"東京大学病院 🏥","pubkey":"%s"}],"producer":"%s","time":1764335000000}`,
			pub(1), pub(3), pub(4), pub(5), pub(2))},
	{name: "largest exact time", in: fmt.Sprintf(`{"chain_id":"c","time":9007199254740991,"governance":["%s","%s"],"producer":"%s","issuers":[]}`, pub(1), pub(6), pub(2)),
		want: fmt.Sprintf(`{"chain_id":"c","governance":["%s","%s"],"issuers":[],"producer":"%s","time":9007199254740991}`, pub(1), pub(6), pub(2))},
	{name: "negative time", in: fmt.Sprintf(`{"chain_id":"c","time":-9007199254740991,"governance":["%s"],"producer":"%s","issuers":[]}`, pub(1), pub(2))},
	{name: "time 2^53 refused", in: fmt.Sprintf(`{"chain_id":"c","time":9007199254740992,"governance":["%s"],"producer":"%s","issuers":[]}`, pub(1), pub(2)), err: "canonical JSON cannot carry exactly"},
	{name: "time 2^53+1 refused", in: fmt.Sprintf(`{"chain_id":"c","time":9007199254740993,"governance":["%s"],"producer":"%s","issuers":[]}`, pub(1), pub(2)), err: "canonical JSON cannot carry exactly"},
}

var issuers = []input{
	{name: "name with & < >", in: fmt.Sprintf(`{"id":"%s","pubkey":"%s","did":"did:key:z6MkExample","name":"Barnes & Noble <College>","kind":"university","active":true,"index":0,"registered":0,"updated":0}`,
		circuits.Dec(circuits.IssuerID(mustHex(pub(3)))), pub(3)),
		want: fmt.Sprintf(`{"active":true,"did":"did:key:z6MkExample","id":"%s","index":0,"kind":"university","name":"Barnes & Noble <College>","pubkey":"%s","registered":0,"updated":0}`,
			circuits.Dec(circuits.IssuerID(mustHex(pub(3)))), pub(3))},
	{name: "non-ASCII name written as escapes, deactivated", in: fmt.Sprintf(`{"id":"%s","pubkey":"%s","did":"did:key:z6MkExample","name":"\u6771\u4eac\u5927\u5b66\u75c5\u9662 \ud83c\udfe5","kind":"hospital","active":false,"index":1048575,"registered":12,"updated":40}`,
		circuits.Dec(circuits.IssuerID(mustHex(pub(5)))), pub(5)),
		want: fmt.Sprintf(`{"active":false,"did":"did:key:z6MkExample","id":"%s","index":1048575,"kind":"hospital","name":"東京大学病院 🏥","pubkey":"%s","registered":12,"updated":40}`,
			circuits.Dec(circuits.IssuerID(mustHex(pub(5)))), pub(5))},
	{name: "largest exact heights, field element below the modulus", in: fmt.Sprintf(`{"id":"21888242871839275222246405745257275088548364400416034343698204186575808495616","pubkey":"%s","did":"did:key:z6MkExample","name":"Universität Zürich","kind":"university","active":true,"index":7,"registered":9007199254740990,"updated":9007199254740991}`, pub(4)),
		want: fmt.Sprintf(`{"active":true,"did":"did:key:z6MkExample","id":"21888242871839275222246405745257275088548364400416034343698204186575808495616","index":7,"kind":"university","name":"Universität Zürich","pubkey":"%s","registered":9007199254740990,"updated":9007199254740991}`, pub(4))},
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gencanon:", err)
		os.Exit(1)
	}
}

func run() error {
	var sf, rf File
	sf.Comment = "Schema IDs over RFC 8785 canonical JSON (SPEC.md). Made by go run ./registry/internal/gencanon; read by circuits.TestSchemaIDVectors."
	rf.Comment = "Genesis hashes (v2) and issuer-tree leaves (v2) over RFC 8785 canonical JSON (docs/registry.md). Made by go run ./registry/internal/gencanon; read by registry.TestCanonicalVectors."
	for _, c := range schemas {
		v, err := vector(c, func(b []byte) ([]byte, string, error) {
			s, err := circuits.ParseSchema(b)
			if err != nil {
				return nil, "", err
			}
			return s.Canonical(), circuits.Dec(s.ID()), nil
		})
		if err != nil {
			return err
		}
		sf.Schemas = append(sf.Schemas, v)
	}
	for _, c := range genesis {
		v, err := vector(c, func(b []byte) ([]byte, string, error) {
			g, err := registry.ParseGenesis(b)
			if err != nil {
				return nil, "", err
			}
			cj, err := canonjson.Marshal(g)
			if err != nil {
				return nil, "", err
			}
			// The hash written out is computed here from its definition,
			// then checked against Genesis.Hash.
			h := sha256.Sum256(append([]byte("zkcred-registry-genesis/v2\x00"), cj...))
			if got := g.Hash(); got != h {
				return nil, "", fmt.Errorf("Genesis.Hash %s, by definition %x", got, h)
			}
			return cj, hex.EncodeToString(h[:]), nil
		})
		if err != nil {
			return err
		}
		rf.Genesis = append(rf.Genesis, v)
	}
	for _, c := range issuers {
		v, err := vector(c, func(b []byte) ([]byte, string, error) {
			var is registry.Issuer
			if err := strictjson.Unmarshal(b, &is); err != nil {
				return nil, "", err
			}
			cj, err := canonjson.Marshal(&is)
			if err != nil {
				return nil, "", err
			}
			leaf := circuits.HashBytes(circuits.TagBytes, append([]byte("zkcred-issuer/v2\x00"), cj...))
			if got := is.Leaf(); got != leaf {
				return nil, "", fmt.Errorf("Issuer.Leaf %s, by definition %s", circuits.Dec(got), circuits.Dec(leaf))
			}
			return cj, circuits.Dec(leaf), nil
		})
		if err != nil {
			return err
		}
		rf.Issuers = append(rf.Issuers, v)
	}
	if err := write(filepath.Join("circuits", "testdata", "schema-ids.json"), &sf); err != nil {
		return err
	}
	return write(filepath.Join("registry", "testdata", "canonical.json"), &rf)
}

func vector(c input, enc func([]byte) ([]byte, string, error)) (Vector, error) {
	v := Vector{Name: c.name, Input: c.in}
	cj, h, err := enc([]byte(c.in))
	if c.err != "" {
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.err)) {
			return v, fmt.Errorf("%s: want an error containing %q, got %v", c.name, c.err, err)
		}
		v.Error = c.err
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("%s: %w", c.name, err)
	}
	if c.want != "" && string(cj) != c.want {
		return v, fmt.Errorf("%s: canonical JSON\n got %s\nwant %s", c.name, cj, c.want)
	}
	v.Canonical, v.Hash = string(cj), h
	return v, nil
}

func write(path string, f *File) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
