package issuer

import (
	"embed"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/zkcred/zkcred/circuits"
)

//go:embed schemas/*.json
var exampleSchemaFiles embed.FS

// ExampleSchemas returns the schemas shipped with zkcred, by short name:
// "diploma" (a university diploma) and "vaccination" (a hospital
// vaccination record).
func ExampleSchemas() map[string]*circuits.Schema {
	entries, err := exampleSchemaFiles.ReadDir("schemas")
	if err != nil {
		panic(err)
	}
	out := make(map[string]*circuits.Schema, len(entries))
	for _, e := range entries {
		b, err := exampleSchemaFiles.ReadFile(path.Join("schemas", e.Name()))
		if err != nil {
			panic(err)
		}
		s, err := circuits.ParseSchema(b)
		if err != nil {
			panic(fmt.Sprintf("embedded schema %s: %v", e.Name(), err))
		}
		out[strings.TrimSuffix(e.Name(), ".json")] = s
	}
	return out
}

// ExampleSchemaNames returns the short names of ExampleSchemas, sorted.
func ExampleSchemaNames() []string {
	m := ExampleSchemas()
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
