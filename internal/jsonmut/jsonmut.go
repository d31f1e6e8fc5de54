// Package jsonmut makes mutated variants of JSON documents for tests: a
// signed document changed anywhere must no longer verify.
package jsonmut

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
)

// Mutations returns variants of a JSON document: every scalar changed,
// every member removed, a member added to every object, and every array
// entry appended to.
func Mutations(t testing.TB, doc []byte) map[string][]byte {
	t.Helper()
	var root any
	if err := json.Unmarshal(doc, &root); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	var paths [][]any
	var walk func(v any, path []any)
	walk = func(v any, path []any) {
		paths = append(paths, append([]any(nil), path...))
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(x[k], append(path, k))
			}
		case []any:
			for i, e := range x {
				walk(e, append(path, i))
			}
		}
	}
	walk(root, nil)
	for _, p := range paths {
		for _, kind := range []string{"change", "remove", "add"} {
			var c any
			json.Unmarshal(doc, &c)
			if !mutate(&c, p, kind) {
				continue
			}
			b, _ := json.Marshal(c)
			out[fmt.Sprintf("%s %v", kind, p)] = b
		}
	}
	return out
}

func mutate(root *any, path []any, kind string) bool {
	if len(path) == 0 {
		if m, ok := (*root).(map[string]any); ok && kind == "add" {
			m["extraTerm"] = "x"
			return true
		}
		return false
	}
	parent := *root
	for _, step := range path[:len(path)-1] {
		switch s := step.(type) {
		case string:
			parent = parent.(map[string]any)[s]
		case int:
			parent = parent.([]any)[s]
		}
	}
	last := path[len(path)-1]
	get := func() any {
		if s, ok := last.(string); ok {
			return parent.(map[string]any)[s]
		}
		return parent.([]any)[last.(int)]
	}
	set := func(v any) {
		if s, ok := last.(string); ok {
			parent.(map[string]any)[s] = v
		} else {
			parent.([]any)[last.(int)] = v
		}
	}
	cur := get()
	switch kind {
	case "change":
		switch x := cur.(type) {
		case string:
			if len(x) > 0 && x[0] == 'z' && len(x) > 40 {
				// keep multibase values decodable: change one character
				b := []byte(x)
				if b[10] == 'A' {
					b[10] = 'B'
				} else {
					b[10] = 'A'
				}
				set(string(b))
			} else {
				set(x + "x")
			}
		case float64:
			set(x + 1)
		case bool:
			set(!x)
		case nil:
			set("x")
		default:
			return false
		}
	case "remove":
		if s, ok := last.(string); ok {
			delete(parent.(map[string]any), s)
		} else {
			return false
		}
	case "add":
		switch x := cur.(type) {
		case map[string]any:
			x["extraTerm"] = "x"
		case []any:
			set(append(x, "https://example.org/extra"))
		default:
			return false
		}
	}
	return true
}
