package issuer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// sharedVector finds a file under shared/testvectors by walking up from the
// working directory, as the repository may be checked out as a worktree.
func sharedVector(t *testing.T, rel string) []byte {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "testvectors", rel)
		if b, err := os.ReadFile(p); err == nil {
			return b
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skipf("shared/testvectors/%s not found in any parent directory (outside test vectors are not part of the repository)", rel)
		}
		dir = parent
	}
}

func TestW3CVectorVerifies(t *testing.T) {
	vec := sharedVector(t, "vc-di-eddsa/signedJCS.json")
	v, err := Verify(vec)
	if err != nil {
		t.Fatalf("W3C eddsa-jcs-2022 vector does not verify: %v", err)
	}
	if DIDKey(v.PublicKey) != w3cDID {
		t.Fatalf("verification key %s", DIDKey(v.PublicKey))
	}
	// The issuer is an https URL, not the key's DID: VerifyCredential, which
	// binds the issuer to the key, must refuse it.
	if _, err := VerifyCredential(vec); !errors.Is(err, ErrCredential) {
		t.Fatalf("VerifyCredential accepted an issuer that is not the signing DID: %v", err)
	}
}

// TestW3CVectorResign signs the vector's unsecured document with the
// vector's key and creation time and gets the published proofValue back
// (ed25519 is deterministic), which pins the canonicalisation and the hash
// layout to the specification's.
func TestW3CVectorResign(t *testing.T) {
	vec := sharedVector(t, "vc-di-eddsa/signedJCS.json")
	var m map[string]json.RawMessage
	if err := json.Unmarshal(vec, &m); err != nil {
		t.Fatal(err)
	}
	var p Proof
	if err := json.Unmarshal(m["proof"], &p); err != nil {
		t.Fatal(err)
	}
	delete(m, "proof")
	doc, _ := json.Marshal(m)
	created, _ := time.Parse(time.RFC3339, p.Created)
	out, err := Sign(doc, w3cKey(t), created)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Proof Proof }
	json.Unmarshal(out, &got)
	if got.Proof.ProofValue != p.ProofValue {
		t.Fatalf("proofValue\n got %s\nwant %s", got.Proof.ProofValue, p.ProofValue)
	}
}

func TestW3CVectorTamper(t *testing.T) {
	vec := sharedVector(t, "vc-di-eddsa/signedJCS.json")
	n := 0
	for name, m := range mutations(t, vec) {
		n++
		if _, err := Verify(m); err == nil {
			t.Errorf("mutation %s still verifies", name)
		}
	}
	if n < 20 {
		t.Fatalf("only %d mutations", n)
	}
}

// mutations returns variants of a JSON document: every scalar changed,
// every member removed, a member added to every object, and every array
// entry appended to.
func mutations(t *testing.T, doc []byte) map[string][]byte {
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

func TestSignRejects(t *testing.T) {
	k := w3cKey(t)
	for _, doc := range []string{`[]`, `{"a":1}{}`, `{"proof":{}}`, `{"a":1,"a":2}`, `not json`} {
		if _, err := Sign([]byte(doc), k, time.Now()); err == nil {
			t.Errorf("Sign(%s) succeeded", doc)
		}
	}
}

func TestVerifyRejectsDuplicateMembers(t *testing.T) {
	k := w3cKey(t)
	out, err := Sign([]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"a":"1"}`), k, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(out); err != nil {
		t.Fatal(err)
	}
	dup := bytes.Replace(out, []byte(`"a":"1"`), []byte(`"a":"1","a":"2"`), 1)
	if _, err := Verify(dup); !errors.Is(err, ErrProof) {
		t.Fatalf("duplicate member accepted: %v", err)
	}
}
