package issuer

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/zkcred/zkcred/circuits"
)

// SchemaInfo describes a schema for the people who fill in its data: what
// each attribute is, how its values are written, and the header of a batch
// CSV.
type SchemaInfo struct {
	ID         string          `json:"id"` // decimal
	Name       string          `json:"name"`
	Version    string          `json:"version"`
	Attributes []AttributeInfo `json:"attributes"`
	// CSVHeader is the header line of a batch CSV: every attribute in
	// schema order, then the holder commitment column (optional: rows
	// without a holder commitment get a claim link instead).
	CSVHeader string `json:"csvHeader"`
	// CSVExample is one data row that the batch accepts, each value in the
	// form its type takes, with an empty holder commitment.
	CSVExample string `json:"csvExample"`
	// Schema is the schema itself.
	Schema *circuits.Schema `json:"schema"`
}

// AttributeInfo describes one attribute.
type AttributeInfo struct {
	Name    string   `json:"name"`
	Label   string   `json:"label"` // the schema's display text, else the name
	Type    string   `json:"type"`
	Scale   int      `json:"scale,omitempty"`  // decimal: digits after the point
	Values  []string `json:"values,omitempty"` // enum: the allowed values
	Format  string   `json:"format"`           // how a value is written
	Example string   `json:"example"`
}

// DescribeSchema describes s; holderColumn names the CSV's holder
// commitment column ("" means DefaultHolderColumn).
func DescribeSchema(s *circuits.Schema, holderColumn string) (*SchemaInfo, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if holderColumn == "" {
		holderColumn = DefaultHolderColumn
	}
	id := s.ID()
	info := &SchemaInfo{ID: circuits.Dec(id), Name: s.Name, Version: s.Version, Schema: s}
	var header, example []string
	for _, a := range s.Attributes {
		ai := AttributeInfo{Name: a.Name, Label: a.Display, Type: string(a.Type), Scale: a.Scale, Values: a.Values}
		if ai.Label == "" {
			ai.Label = a.Name
		}
		ai.Format, ai.Example = attributeFormat(a, ai.Label)
		info.Attributes = append(info.Attributes, ai)
		header = append(header, a.Name)
		example = append(example, ai.Example)
	}
	info.CSVHeader = csvLine(append(header, holderColumn))
	info.CSVExample = csvLine(append(example, ""))
	return info, nil
}

// attributeFormat says how values of a are written in a CSV cell or a JSON
// subject, with an example value.
func attributeFormat(a circuits.Attribute, label string) (format, example string) {
	switch a.Type {
	case circuits.TypeString:
		return "text", label
	case circuits.TypeInteger:
		return "a whole number from 0 to 18446744073709551615", "1"
	case circuits.TypeDecimal:
		if a.Scale == 0 {
			return "a whole number (decimal with no digits after the point)", "1"
		}
		return fmt.Sprintf("a decimal number with at most %d digits after the point", a.Scale), "1." + strings.Repeat("5", a.Scale)
	case circuits.TypeDate:
		return "a date, YYYY-MM-DD", "2026-06-30"
	case circuits.TypeTimestamp:
		return "a time, RFC 3339 (2026-06-30T12:00:00Z)", "2026-06-30T12:00:00Z"
	case circuits.TypeBoolean:
		return "true or false", "false"
	case circuits.TypeEnum:
		return "one of " + strings.Join(a.Values, ", "), a.Values[0]
	}
	return string(a.Type), ""
}

func csvLine(fields []string) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(fields)
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}
