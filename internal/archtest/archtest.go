// Package archtest holds zkcred's import rules and the check that enforces
// them (docs/architecture.md explains them). The test in this package runs
// the check on the module's real package graph (`go list -deps -json`):
// it fails as soon as a forbidden import appears, directly or through
// another package. Test files are not part of the graph: a test may
// assemble parties that the code keeps apart.
package archtest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Module is zkcred's module path.
const Module = "github.com/zkcred/zkcred"

// Rule forbids packages under From (module-relative path prefixes, "" for
// every package) to depend, directly or not, on the packages matched by
// Forbid. Allow lists exceptions to Forbid.
type Rule struct {
	Name   string
	From   []string
	Forbid func(dep string) bool
	Allow  func(dep string) bool
}

// under reports whether the module-relative path p is one of prefixes or
// below one; the prefix "" is the whole module.
func under(p string, prefixes ...string) bool {
	for _, pre := range prefixes {
		if pre == "" || p == pre || strings.HasPrefix(p, pre+"/") {
			return true
		}
	}
	return false
}

// ours returns the module-relative path of an import path of this module.
func ours(importPath string) (string, bool) {
	if importPath == Module {
		return "", true
	}
	rel, ok := strings.CutPrefix(importPath, Module+"/")
	return rel, ok
}

// forbidOurs forbids the module's packages under the given prefixes.
func forbidOurs(prefixes ...string) func(string) bool {
	return func(dep string) bool {
		rel, ok := ours(dep)
		return ok && under(rel, prefixes...)
	}
}

// forbidExternal forbids third-party modules by import path prefix.
func forbidExternal(prefixes ...string) func(string) bool {
	return func(dep string) bool {
		for _, p := range prefixes {
			if dep == p || strings.HasPrefix(dep, p+"/") {
				return true
			}
		}
		return false
	}
}

// Rules are zkcred's import rules. Parties (issuer, wallet, verifier) meet
// only over HTTP and the formats of package wire; the registry knows no
// party; circuits and wire know none of them; nothing imports the binary.
var Rules = []Rule{
	{Name: "the wallet imports no issuer code", From: []string{"wallet"}, Forbid: forbidOurs("issuer")},
	{Name: "the wallet imports no verifier code", From: []string{"wallet"}, Forbid: forbidOurs("verifier")},
	{Name: "the wallet links no server, metrics or database library", From: []string{"wallet"},
		Forbid: forbidExternal("github.com/labstack/echo", "github.com/prometheus", "github.com/dgraph-io/badger")},
	{Name: "the verifier imports no issuer or wallet code", From: []string{"verifier"}, Forbid: forbidOurs("issuer", "wallet")},
	{Name: "the issuer imports no verifier or wallet code", From: []string{"issuer"}, Forbid: forbidOurs("verifier", "wallet")},
	{Name: "the registry imports no party", From: []string{"registry"}, Forbid: forbidOurs("issuer", "wallet", "verifier")},
	{Name: "wire imports only circuits and internal helpers", From: []string{"wire"}, Forbid: forbidOurs(""),
		Allow: func(dep string) bool { rel, _ := ours(dep); return under(rel, "circuits", "internal") }},
	{Name: "circuits imports only internal helpers", From: []string{"circuits"}, Forbid: forbidOurs(""),
		Allow: func(dep string) bool { rel, _ := ours(dep); return under(rel, "internal") }},
	{Name: "nothing imports cmd", From: []string{""}, Forbid: forbidOurs("cmd")},
}

// Package is a node of the package graph: its import path and every
// package it depends on, directly or not.
type Package struct {
	ImportPath string
	Deps       []string
}

// Violation is a package that breaks a rule.
type Violation struct {
	Rule, Package, Dep string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: %s depends on %s", v.Rule, v.Package, v.Dep)
}

// Check returns every violation of rules in the graph, sorted.
func Check(pkgs []Package, rules []Rule) []Violation {
	var out []Violation
	for _, p := range pkgs {
		rel, ok := ours(p.ImportPath)
		if !ok {
			continue
		}
		for _, r := range rules {
			if !slices.ContainsFunc(r.From, func(pre string) bool { return under(rel, pre) }) {
				continue
			}
			for _, d := range p.Deps {
				if d == p.ImportPath || !r.Forbid(d) || (r.Allow != nil && r.Allow(d)) {
					continue
				}
				out = append(out, Violation{Rule: r.Name, Package: p.ImportPath, Dep: d})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
