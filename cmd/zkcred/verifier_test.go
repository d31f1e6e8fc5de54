package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifierCommandErrors checks what a person sees for common mistakes:
// an error naming the problem and a hint, exit status 2.
func TestVerifierCommandErrors(t *testing.T) {
	dir := t.TempDir()
	good := "../../verifier/testdata/verifier.json"
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"audience":"a","policies":[{"name":"p","schema":{"name":"s","version":"1","attributes":[{"name":"n","type":"string"}]},"issuers":{"ids":["1"]},"predicates":[{"attribute":"n","op":"gt","values":["x"]}]}]}`), 0o644)
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
