package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer"
)

// TestVerifierCommandErrors checks what a person sees for common mistakes:
// an error naming the problem and a hint, exit status 2.
func TestVerifierCommandErrors(t *testing.T) {
	dir := t.TempDir()
	good := "../../verifier/testdata/verifier.json"
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"audience":"https://a.example","policies":[{"name":"p","schema":{"name":"s","version":"1","attributes":[{"name":"n","type":"string"}]},"issuers":{"ids":["1"]},"predicates":[{"attribute":"n","op":"gt","values":["x"]}]}]}`), 0o644)
	cases := []struct {
		args      []string
		code      int
		msg, hint string
	}{
		{[]string{"verifier"}, 2, "missing subcommand", "zkcred verifier"},
		{[]string{"verifier", "serve"}, 2, "--config is required", "verifier policy init"},
		{[]string{"verifier", "check", "--config", filepath.Join(dir, "none.json")}, 2, "no such file", "docs/verifier.md"},
		{[]string{"verifier", "check", "--config", bad}, 2, `policy "p": predicate 0 (n gt): gt compares order, but "n" is a string`, "Policy file"},
		{[]string{"verifier", "serve", "--config", good, "--roots", "r.json", "--keys", dir}, 4, "verifying key of zkcred/presentation", "zkcred setup"},
		{[]string{"verifier", "serve", "--config", good, "--roots", "r.json", "--vk", filepath.Join(dir, "none.vk")}, 4, "verifying key of zkcred/presentation", "zkcred setup"},
	}
	for _, c := range cases {
		var stderr bytes.Buffer
		code := run(c.args, &stderr)
		out := stderr.String()
		if code != c.code || !strings.Contains(out, c.msg) || !strings.Contains(out, "hint: ") || !strings.Contains(out, c.hint) {
			t.Errorf("zkcred %s: exit %d, stderr:\n%s\nwant exit %d, %q and a hint with %q", strings.Join(c.args, " "), code, out, c.code, c.msg, c.hint)
		}
	}
	var stderr bytes.Buffer
	if code := run([]string{"verifier", "check", "--config", good}, &stderr); code != 0 {
		t.Fatalf("check of the example config: %d %s", code, stderr.String())
	}
}

// TestPolicyExamples checks docs/verifier.md's policy example and
// verifier/testdata/verifier.json with 'zkcred verifier check': both are
// valid and their hire-graduate policy asks for the published example
// diploma (the same schema ID).
func TestPolicyExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/verifier.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Policy file.*?```json\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal(`docs/verifier.md has no JSON example under "Policy file"`)
	}
	docFile := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(docFile, m[1], 0o600); err != nil {
		t.Fatal(err)
	}
	want := circuits.Dec(issuer.ExampleSchemas()["diploma"].ID())
	for _, file := range []string{docFile, "../../verifier/testdata/verifier.json"} {
		var stderr bytes.Buffer
		var code int
		out := captureStdout(t, func() { code = run([]string{"verifier", "check", "--config", file}, &stderr) })
		if code != 0 {
			t.Fatalf("verifier check %s: exit %d\n%s", file, code, stderr.String())
		}
		if !strings.Contains(out, `policy "hire-graduate": ok, schema ID `+want) {
			t.Errorf("%s: hire-graduate is not the example diploma (ID %s):\n%s", file, want, out)
		}
	}
}
