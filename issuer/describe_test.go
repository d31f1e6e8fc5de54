package issuer

import (
	"context"
	"strings"
	"testing"

	"github.com/zkcred/zkcred/circuits"
)

func TestDescribeSchema(t *testing.T) {
	d := ExampleSchemas()["diploma"]
	info, err := DescribeSchema(d, "")
	if err != nil {
		t.Fatal(err)
	}
	if info.CSVHeader != "name,birthDate,degree,field,graduationDate,gpa,honours,holderCommitment" {
		t.Fatalf("header %q", info.CSVHeader)
	}
	id := d.ID()
	if info.ID != circuits.Dec(id) || info.Name != d.Name || len(info.Attributes) != len(d.Attributes) {
		t.Fatalf("%+v", info)
	}
	byName := map[string]AttributeInfo{}
	for _, a := range info.Attributes {
		byName[a.Name] = a
	}
	if a := byName["gpa"]; a.Type != "decimal" || a.Scale != 2 || !strings.Contains(a.Format, "2 digits") || a.Label != "Grade point average" {
		t.Errorf("gpa: %+v", a)
	}
	if a := byName["degree"]; len(a.Values) != 8 || !strings.Contains(a.Format, "BSc, BA") {
		t.Errorf("degree: %+v", a)
	}
	if a := byName["birthDate"]; a.Format != "a date, YYYY-MM-DD" {
		t.Errorf("birthDate: %+v", a)
	}
	if _, err := DescribeSchema(&circuits.Schema{Name: "x"}, ""); err == nil {
		t.Error("described an invalid schema")
	}
}

// The header and example row that DescribeSchema prints are a CSV that the
// batch accepts, for every example schema and every attribute type.
func TestDescribedCSVIsAccepted(t *testing.T) {
	schemas := ExampleSchemas()
	schemas["every type"] = &circuits.Schema{Name: "EveryType", Version: "1", Attributes: []circuits.Attribute{
		{Name: "s", Type: circuits.TypeString, Display: "Label, with a comma"},
		{Name: "i", Type: circuits.TypeInteger},
		{Name: "d0", Type: circuits.TypeDecimal},
		{Name: "d3", Type: circuits.TypeDecimal, Scale: 3},
		{Name: "date", Type: circuits.TypeDate},
		{Name: "ts", Type: circuits.TypeTimestamp},
		{Name: "b", Type: circuits.TypeBoolean},
		{Name: "e", Type: circuits.TypeEnum, Values: []string{"x", "y"}},
	}}
	for name, s := range schemas {
		env := newEnv(t, Options{PublicURL: "https://issuer.example"})
		info, err := DescribeSchema(s, "")
		if err != nil {
			t.Fatal(err)
		}
		csvData := info.CSVHeader + "\n" + info.CSVExample + "\n"
		rep, err := env.is.RunBatch(context.Background(), BatchOptions{Schema: s, CSV: []byte(csvData), OutDir: t.TempDir()})
		if err != nil || rep.Offered != 1 {
			t.Errorf("%s: %q: %+v %v", name, csvData, rep, err)
		}
	}
}
