package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// graph lists the module's packages (not their tests) with their
// transitive dependencies.
func graph(t *testing.T) []Package {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	cmd := exec.Command(goBin, "list", "-deps", "-json=ImportPath,Deps,Module", Module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []Package
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Deps       []string
			Module     *struct{ Path string }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p.Module != nil && p.Module.Path == Module {
			pkgs = append(pkgs, Package{ImportPath: p.ImportPath, Deps: p.Deps})
		}
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages of %s", len(pkgs), Module)
	}
	return pkgs
}

// TestImportRules fails on any forbidden dependency in the real graph.
func TestImportRules(t *testing.T) {
	// One line per rule and package, naming the dependencies.
	var order []string
	deps := map[string][]string{}
	for _, v := range Check(graph(t), Rules) {
		k := v.Rule + ": " + v.Package
		if deps[k] == nil {
			order = append(order, k)
		}
		deps[k] = append(deps[k], v.Dep)
	}
	for _, k := range order {
		t.Errorf("%s depends on %s", k, strings.Join(deps[k], ", "))
	}
}

// TestRulesCatch feeds Check graphs that each break one rule, so that a
// rule that stops matching is noticed.
func TestRulesCatch(t *testing.T) {
	m := func(p string) string { return Module + "/" + p }
	for _, c := range []struct {
		pkg, dep, rule string
	}{
		{"wallet", m("issuer"), "the wallet imports no issuer code"},
		{"wallet", m("issuer/regchain"), "the wallet imports no issuer code"},
		{"wallet", m("verifier/store"), "the wallet imports no verifier code"},
		{"wallet", "github.com/labstack/echo/v4", "the wallet links no server, metrics or database library"},
		{"wallet", "github.com/dgraph-io/badger/v4", "the wallet links no server, metrics or database library"},
		{"wallet", "github.com/prometheus/client_golang/prometheus", "the wallet links no server, metrics or database library"},
		{"verifier", m("issuer"), "the verifier imports no issuer or wallet code"},
		{"verifier/store", m("wallet"), "the verifier imports no issuer or wallet code"},
		{"issuer/regchain", m("verifier"), "the issuer imports no verifier or wallet code"},
		{"registry", m("issuer"), "the registry imports no party"},
		{"registry/api", m("wallet"), "the registry imports no party"},
		{"registry/light", m("verifier"), "the registry imports no party"},
		{"wire", m("registry"), "wire imports only circuits and internal helpers"},
		{"circuits", m("registry"), "circuits imports only internal helpers"},
		{"circuits", m("wire"), "circuits imports only internal helpers"},
		{"internal/stack", m("cmd/zkcred"), "nothing imports cmd"},
		{"e2e", m("cmd/zkcred"), "nothing imports cmd"},
	} {
		got := Check([]Package{{ImportPath: m(c.pkg), Deps: []string{c.dep, "fmt"}}}, Rules)
		found := false
		for _, v := range got {
			found = found || (v.Rule == c.rule && v.Dep == c.dep)
		}
		if !found {
			t.Errorf("%s → %s: violations %v, want %q", c.pkg, c.dep, got, c.rule)
		}
	}
	// What the rules allow.
	for _, c := range []struct{ pkg, dep string }{
		{"wallet", m("wire")}, {"wallet", m("registry/light")}, {"wallet", m("circuits")},
		{"circuits", m("internal/atomicfile")}, {"wire", m("circuits")}, {"wire", m("internal/didkey")},
		{"internal/stack", m("issuer")}, {"internal/stack", m("verifier")}, {"cmd/zkcred", m("wallet")},
		{"walletx", m("issuer")}, // a package only named like one
	} {
		if got := Check([]Package{{ImportPath: m(c.pkg), Deps: []string{c.dep}}}, Rules); len(got) != 0 {
			t.Errorf("%s → %s refused: %v", c.pkg, c.dep, got)
		}
	}
}
