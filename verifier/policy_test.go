package verifier

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/wire"
)

func policyJSON(body string) string {
	return `{"audience":"https://a.example","policies":[{"name":"p","schema":` + testSchemaJSON + `,"issuers":{"ids":["7"]}` + body + `}]}`
}

func TestPolicyErrors(t *testing.T) {
	cases := map[string]struct{ body, want string }{
		"range on a string":    {`,"predicates":[{"attribute":"fullName","op":"gt","values":["A"]}]`, "only eq, ne, in, nin apply"},
		"five predicates":      {`,"predicates":[` + strings.Repeat(`{"attribute":"gpa","op":"gte","values":["1.00"]},`, 4) + `{"attribute":"gpa","op":"gte","values":["1.00"]}]`, "5 predicates, at most 4"},
		"unknown attribute":    {`,"predicates":[{"attribute":"height","op":"eq","values":[1]}]`, `"height" is not an attribute`},
		"unknown operator":     {`,"predicates":[{"attribute":"gpa","op":"approx","values":["1.00"]}]`, "unknown operator"},
		"wrong value type":     {`,"predicates":[{"attribute":"birthDate","op":"lt","values":[20000101]}]`, `want a date`},
		"bad date":             {`,"predicates":[{"attribute":"birthDate","op":"lt","values":["2000-13-01"]}]`, "not a date"},
		"too many in values":   {`,"predicates":[{"attribute":"degree","op":"in","values":["BSc","BSc","BSc","BSc","BSc","BSc","BSc","BSc","BSc"]}]`, "1 to 8 values"},
		"enum value":           {`,"predicates":[{"attribute":"degree","op":"eq","values":["MBA"]}]`, `"MBA" is not one of`},
		"empty range":          {`,"predicates":[{"attribute":"gpa","op":"between","values":["4.00","3.00"]}]`, "can never hold"},
		"helper on non-date":   {`,"predicates":[{"attribute":"gpa","op":"age_at_least","years":18}]`, "applies to date attributes"},
		"helper with values":   {`,"predicates":[{"attribute":"birthDate","op":"age_at_least","values":["x"]}]`, "not values"},
		"helper without years": {`,"predicates":[{"attribute":"birthDate","op":"age_at_least"}]`, "needs years"},
		"years on a plain op":  {`,"predicates":[{"attribute":"birthDate","op":"lt","values":["2000-01-01"],"years":3}]`, "apply only to the helpers"},
		"disclose unknown":     {`,"disclose":["salary"]`, `"salary" is not an attribute`},
		"disclose twice":       {`,"disclose":["gpa","gpa"]`, "listed twice"},
		"unknown field":        {`,"disclosed":["gpa"]`, `unknown field "disclosed"`},
		"bad duration":         {`,"maxRootAge":"an hour"`, "not a non-negative duration"},
		"numeric duration":     {`,"requestTTL":600`, "durations are strings"},
		"object as value":      {`,"predicates":[{"attribute":"gpa","op":"eq","values":[{}]}]`, "want a string, number or boolean"},
	}
	for name, c := range cases {
		_, err := ParseConfig([]byte(policyJSON(c.body)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, c.want)
		}
	}
	bad := map[string]string{
		"no issuers":           `{"audience":"https://a.example","policies":[{"name":"p","schema":` + testSchemaJSON + `,"issuers":{}}]}`,
		"ids and kind":         `{"audience":"https://a.example","policies":[{"name":"p","schema":` + testSchemaJSON + `,"issuers":{"ids":["1"],"kind":"u"}}]}`,
		"dids and kind":        `{"audience":"https://a.example","policies":[{"name":"p","schema":` + testSchemaJSON + `,"issuers":{"dids":["did:web:uni.example"],"kind":"u"}}]}`,
		"did not a did:web":    `{"audience":"https://a.example","policies":[{"name":"p","schema":` + testSchemaJSON + `,"issuers":{"dids":["uni.example"]}}]}`,
		"did with a fragment":  `{"audience":"https://a.example","policies":[{"name":"p","schema":` + testSchemaJSON + `,"issuers":{"dids":["did:web:uni.example#key-1"]}}]}`,
		"did default port":     `{"audience":"https://a.example","policies":[{"name":"p","schema":` + testSchemaJSON + `,"issuers":{"dids":["did:web:uni.example%3A443"]}}]}`,
		"did trailing dot":     `{"audience":"https://a.example","policies":[{"name":"p","schema":` + testSchemaJSON + `,"issuers":{"dids":["did:web:uni.example."]}}]}`,
		"did port zeros":       `{"audience":"https://a.example","policies":[{"name":"p","schema":` + testSchemaJSON + `,"issuers":{"dids":["did:web:uni.example%3A08443"]}}]}`,
		"issuer id 0":          `{"audience":"https://a.example","policies":[{"name":"p","schema":` + testSchemaJSON + `,"issuers":{"ids":["0"]}}]}`,
		"no schema":            `{"audience":"https://a.example","policies":[{"name":"p","issuers":{"ids":["1"]}}]}`,
		"schema id mismatch":   `{"audience":"https://a.example","policies":[{"name":"p","schema":` + testSchemaJSON + `,"schemaId":"5","issuers":{"ids":["1"]}}]}`,
		"duplicate policy":     `{"audience":"https://a.example","policies":[{"name":"p","schema":` + testSchemaJSON + `,"issuers":{"ids":["1"]}},{"name":"p","schema":` + testSchemaJSON + `,"issuers":{"ids":["1"]}}]}`,
		"no audience":          `{"policies":[{"name":"p","schema":` + testSchemaJSON + `,"issuers":{"ids":["1"]}}]}`,
		"bad proxy":            `{"audience":"https://a.example","trustedProxies":["10.0.0.1"],"policies":[{"name":"p","schema":` + testSchemaJSON + `,"issuers":{"ids":["1"]}}]}`,
		"trailing data":        `{"audience":"https://a.example","policies":[{"name":"p","schema":` + testSchemaJSON + `,"issuers":{"ids":["1"]}}]} {}`,
		"issuer above modulus": `{"audience":"https://a.example","policies":[{"name":"p","schema":` + testSchemaJSON + `,"issuers":{"ids":["21888242871839275222246405745257275088548364400416034343698204186575808495617"]}}]}`,
	}
	for name, b := range bad {
		if _, err := ParseConfig([]byte(b)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPolicyCompile(t *testing.T) {
	cfg, err := ParseConfig([]byte(policyJSON(`,"disclose":["degree"],"predicates":[
		{"attribute":"birthDate","op":"age_under","years":65},
		{"attribute":"graduated","op":"within_days","days":30},
		{"attribute":"fullName","op":"nin","values":["Mallory","Eve"]},
		{"attribute":"gpa","op":"between","values":["2.5","4"]}],"scope":"s","maxRootAge":"15m"`)))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Policies[0]
	now := time.Date(2024, 2, 29, 23, 30, 0, 0, time.FixedZone("X", -3600)) // 2024-03-01 00:30 UTC
	q, plain, err := p.compile(now)
	if err != nil {
		t.Fatal(err)
	}
	if plain[0].Op != "gt" || plain[0].Values[0] != "1959-03-01" || plain[1].Op != "gte" || plain[1].Values[0] != "2024-01-31" {
		t.Fatalf("helpers: %+v", plain)
	}
	if q.Predicates[0].Values[0] != circuits.U64(19590302) {
		t.Fatalf("age_under threshold: %s", q.Predicates[0].Values[0].String())
	}
	if q.Predicates[2].Kind != circuits.PredNotIn || q.Predicates[2].Values[1] != circuits.StringValue("Eve") || q.Predicates[2].Values[7] != circuits.StringValue("Mallory") {
		t.Fatal("string nin")
	}
	if q.Predicates[3].Values[0] != circuits.U64(250) || q.Predicates[3].Values[1] != circuits.U64(400) {
		t.Fatal("decimal between")
	}
	if q.Disclose != 1<<1 || time.Duration(p.MaxRootAge) != 15*time.Minute || time.Duration(p.RequestTTL) != DefaultRequestTTL {
		t.Fatal("disclose or defaults")
	}
	// schemaId + attributes form.
	id := circuits.F(testSchema(t).ID())
	b := `{"audience":"https://a.example","policies":[{"name":"p","schemaId":"` + id.String() + `","attributes":[{"name":"birthDate","type":"date"}],"issuers":{"kind":"university"},"predicates":[{"attribute":"birthDate","op":"age_at_least","years":21}]}]}`
	cfg2, err := ParseConfig([]byte(b))
	if err != nil {
		t.Fatal(err)
	}
	if cfg2.Policies[0].schemaID != testSchema(t).ID() {
		t.Fatal("schemaId form")
	}
	if _, err := New(Options{InMemory: true, Audience: "https://a.example", Policies: cfg2.Policies, Proofs: hashProofs{}, Roots: &fakeChain{}}); !errors.Is(err, ErrPolicy) {
		t.Fatalf("kind policy without an issuer lister: %v", err)
	}
}

// TestAudienceOrigin: the audience must be a web origin and the public URL
// (where wallets send presentations) must have the same one, since wallets
// refuse a request whose audience, source or submit URL disagree.
func TestAudienceOrigin(t *testing.T) {
	parse := func(aud, public string) error {
		b := `{"audience":` + strconv.Quote(aud) + `,"publicUrl":` + strconv.Quote(public) + `,"policies":[{"name":"p","schema":` + testSchemaJSON + `,"issuers":{"ids":["7"]}}]}`
		_, err := ParseConfig([]byte(b))
		return err
	}
	for _, c := range []struct{ aud, public, want string }{
		{"employer-example", "", "web origin"},
		{"ftp://files.example", "", "web origin"},
		{"https://", "", "web origin"},
		{"https://ann@jobs.example", "", "user information"},
		{"https://jobs.example", "https://verify.jobs.example", "has origin https://verify.jobs.example but the audience is https://jobs.example"},
		{"https://jobs.example", "http://jobs.example", "but the audience is"},
		{"https://jobs.example", "https://jobs.example:8443", "but the audience is"},
	} {
		if err := parse(c.aud, c.public); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("audience %q, publicUrl %q: %v, want %q", c.aud, c.public, err, c.want)
		}
	}
	for _, c := range [][2]string{
		{"https://jobs.example", ""},
		{"https://Jobs.Example", "https://jobs.example:443/verifier"},
		{"http://127.0.0.1:8643", "http://127.0.0.1:8643/"},
	} {
		if err := parse(c[0], c[1]); err != nil {
			t.Errorf("audience %q, publicUrl %q: %v", c[0], c[1], err)
		}
	}
	for in, want := range map[string]string{
		"HTTPS://Jobs.Example:443/a?b": "https://jobs.example",
		"http://[::1]:80":              "http://[::1]",
		"http://[::1]:8080/x":          "http://[::1]:8080",
		"https://jobs.example:8443":    "https://jobs.example:8443",
	} {
		if got, err := wire.Origin(in); err != nil || got != want {
			t.Errorf("Origin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
