package dcql

import (
	"encoding/json"
	"errors"
	"os"
	"sort"
	"strings"
	"testing"
)

// TestSpecExamples parses the DCQL examples of OpenID4VP 1.0 and checks
// that each survives a marshal round trip.
func TestSpecExamples(t *testing.T) {
	b, err := os.ReadFile("testdata/spec-examples.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Queries map[string]struct {
			Source string          `json:"source"`
			Query  json.RawMessage `json:"query"`
		} `json:"queries"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(file.Queries))
	for n := range file.Queries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			q, err := Parse(file.Queries[n].Query)
			if err != nil {
				t.Fatalf("%s: %v", file.Queries[n].Source, err)
			}
			roundTrip(t, q)
		})
	}
}

func roundTrip(t *testing.T, q *Query) {
	t.Helper()
	out, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	q2, err := Parse(out)
	if err != nil {
		t.Fatalf("re-parse of %s: %v", out, err)
	}
	out2, _ := json.Marshal(q2)
	if string(out) != string(out2) {
		t.Fatalf("round trip differs:\n%s\n%s", out, out2)
	}
}

func TestParseRefuses(t *testing.T) {
	const meta = `"meta":{}`
	for _, c := range []struct{ name, q, where string }{
		{"empty", `{}`, "credentials"},
		{"no credentials", `{"credentials":[]}`, "credentials"},
		{"unknown member", `{"credentials":[{"id":"a","format":"f",` + meta + `,"extra":1}]}`, "extra"},
		{"repeated member", `{"credentials":[{"id":"a","id":"b","format":"f",` + meta + `}]}`, "id"},
		{"no meta", `{"credentials":[{"id":"a","format":"f"}]}`, "credentials[0].meta"},
		{"meta not an object", `{"credentials":[{"id":"a","format":"f","meta":[1]}]}`, "credentials[0].meta"},
		{"no format", `{"credentials":[{"id":"a",` + meta + `}]}`, "credentials[0].format"},
		{"bad id", `{"credentials":[{"id":"a b","format":"f",` + meta + `}]}`, "credentials[0].id"},
		{"duplicate id", `{"credentials":[{"id":"a","format":"f",` + meta + `},{"id":"a","format":"f",` + meta + `}]}`, "credentials[1].id"},
		{"empty claims", `{"credentials":[{"id":"a","format":"f",` + meta + `,"claims":[]}]}`, "credentials[0].claims"},
		{"empty path", `{"credentials":[{"id":"a","format":"f",` + meta + `,"claims":[{"path":[]}]}]}`, "claims[0].path"},
		{"negative index", `{"credentials":[{"id":"a","format":"f",` + meta + `,"claims":[{"path":["x",-1]}]}]}`, "path[1]"},
		{"fractional index", `{"credentials":[{"id":"a","format":"f",` + meta + `,"claims":[{"path":["x",1.5]}]}]}`, "path[1]"},
		{"object in path", `{"credentials":[{"id":"a","format":"f",` + meta + `,"claims":[{"path":[{}]}]}]}`, "path[0]"},
		{"empty values", `{"credentials":[{"id":"a","format":"f",` + meta + `,"claims":[{"path":["x"],"values":[]}]}]}`, "values"},
		{"float value", `{"credentials":[{"id":"a","format":"f",` + meta + `,"claims":[{"path":["x"],"values":[1.5]}]}]}`, "values[0]"},
		{"null value", `{"credentials":[{"id":"a","format":"f",` + meta + `,"claims":[{"path":["x"],"values":[null]}]}]}`, "values[0]"},
		{"claim_sets without ids", `{"credentials":[{"id":"a","format":"f",` + meta + `,"claims":[{"path":["x"]}],"claim_sets":[["x"]]}]}`, "claims[0].id"},
		{"claim_sets unknown id", `{"credentials":[{"id":"a","format":"f",` + meta + `,"claims":[{"id":"x","path":["x"]}],"claim_sets":[["y"]]}]}`, "claim_sets[0][0]"},
		{"claim_sets without claims", `{"credentials":[{"id":"a","format":"f",` + meta + `,"claim_sets":[["y"]]}]}`, "claim_sets"},
		{"empty trusted_authorities", `{"credentials":[{"id":"a","format":"f",` + meta + `,"trusted_authorities":[]}]}`, "trusted_authorities"},
		{"trusted authority without values", `{"credentials":[{"id":"a","format":"f",` + meta + `,"trusted_authorities":[{"type":"aki","values":[]}]}]}`, "trusted_authorities[0].values"},
		{"credential set unknown id", `{"credentials":[{"id":"a","format":"f",` + meta + `}],"credential_sets":[{"options":[["b"]]}]}`, "credential_sets[0].options[0][0]"},
		{"credential set empty option", `{"credentials":[{"id":"a","format":"f",` + meta + `}],"credential_sets":[{"options":[[]]}]}`, "credential_sets[0].options[0]"},
		{"null multiple", `{"credentials":[{"id":"a","format":"f",` + meta + `,"multiple":"yes"}]}`, "multiple"},
		{"member in another case", `{"credentials":[{"id":"a","format":"f",` + meta + `,"Claims":[{"path":["x"]}]}]}`, "Claims"},
		{"trailing data", `{"credentials":[{"id":"a","format":"f",` + meta + `}]} x`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.q))
			if !errors.Is(err, ErrQuery) {
				t.Fatalf("got %v, want ErrQuery", err)
			}
			if !strings.Contains(err.Error(), c.where) {
				t.Fatalf("error %q does not name %q", err, c.where)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	b, _ := os.ReadFile("testdata/spec-examples.json")
	var file struct {
		Queries map[string]struct {
			Query json.RawMessage `json:"query"`
		} `json:"queries"`
	}
	_ = json.Unmarshal(b, &file)
	for _, q := range file.Queries {
		f.Add([]byte(q.Query))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := Parse(b)
		if err != nil {
			return
		}
		roundTrip(t, q)
	})
}
