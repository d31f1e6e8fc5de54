package circuits

import (
	"encoding/json"
	"errors"
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

func TestParseElementBoundary(t *testing.T) {
	p := Modulus()
	pm1 := new(big.Int).Sub(p, big.NewInt(1))
	if e, err := ParseElement(pm1.String()); err != nil || Dec(e) != pm1.String() {
		t.Fatalf("p-1: %v %s", err, Dec(e))
	}
	for _, s := range []string{p.String(), new(big.Int).Add(p, big.NewInt(1)).String(), "-1", "+1", "01", "", "1e3", " 1", "0x10"} {
		if _, err := ParseElement(s); !errors.Is(err, ErrNonCanonical) {
			t.Errorf("ParseElement(%q) = %v, want ErrNonCanonical", s, err)
		}
	}
	var f Field
	if err := json.Unmarshal([]byte(`"`+p.String()+`"`), &f); !errors.Is(err, ErrNonCanonical) {
		t.Errorf("JSON field equal to the modulus accepted: %v", err)
	}
	if err := json.Unmarshal([]byte(`5`), &f); err == nil {
		t.Error("JSON number accepted as a field element")
	}
	var b [32]byte
	p.FillBytes(b[:])
	if _, err := ElementFromBytes(b[:]); !errors.Is(err, ErrNonCanonical) {
		t.Errorf("32-byte modulus accepted: %v", err)
	}
	pm1.FillBytes(b[:])
	if _, err := ElementFromBytes(b[:]); err != nil {
		t.Errorf("32-byte p-1 rejected: %v", err)
	}
}

// FuzzParseElement: whatever parses must print back to the same string
// (one canonical form), and be below the modulus.
func FuzzParseElement(f *testing.F) {
	for _, s := range []string{"0", "1", "-1", "00", Modulus().String(), new(big.Int).Sub(Modulus(), big.NewInt(1)).String(), "18446744073709551616"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseElement(s)
		if err != nil {
			return
		}
		if Dec(e) != s {
			t.Fatalf("ParseElement(%q) prints back as %q", s, Dec(e))
		}
		var fj Field
		b, _ := json.Marshal(F(e))
		if err := json.Unmarshal(b, &fj); err != nil || fj.El() != e {
			t.Fatalf("JSON round trip of %q: %v", s, err)
		}
	})
}

// FuzzSchema: a schema that parses validates, and its canonical form parses
// to the same schema with the same ID.
func FuzzSchema(f *testing.F) {
	f.Add([]byte(`{"name":"d","version":"1","attributes":[{"name":"a","type":"integer"}]}`))
	f.Add([]byte(`{"name":"d","version":"1","attributes":[{"name":"e","type":"enum","values":["x","y"]},{"name":"g","type":"decimal","scale":2}]}`))
	f.Add([]byte(`{"name":"d","attributes":[{"name":"a","type":"bogus"}]}`))
	f.Add([]byte(`{"name":"d","attributes":[]} trailing`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSchema(b)
		if err != nil {
			return
		}
		s2, err := ParseSchema(s.Canonical())
		if err != nil {
			t.Fatalf("canonical form does not parse: %v", err)
		}
		if s.ID() != s2.ID() {
			t.Fatal("schema ID changed across canonical round trip")
		}
	})
}

// FuzzEncode: encoding never panics; a numeric value that encodes decodes to
// a value that encodes to the same element (typed round trip).
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"2024-02-29", "2023-02-29", "12.50", "12.505", "0", "18446744073709551615", "18446744073709551616", "1970-01-01T00:00:00Z", "BSc", ""} {
		f.Add(s)
	}
	attrs := []Attribute{
		{Name: "i", Type: TypeInteger}, {Name: "d", Type: TypeDecimal, Scale: 2},
		{Name: "t", Type: TypeDate}, {Name: "ts", Type: TypeTimestamp},
		{Name: "e", Type: TypeEnum, Values: []string{"BSc", "MSc"}}, {Name: "s", Type: TypeString},
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, a := range attrs {
			e, err := a.Encode(s)
			if err != nil {
				continue
			}
			if a.Type == TypeString {
				continue // a hash: not decodable
			}
			v, err := a.Decode(e)
			if err != nil {
				t.Fatalf("%s: %q encodes but does not decode: %v", a.Type, s, err)
			}
			e2, err := a.Encode(v)
			if err != nil || e2 != e {
				t.Fatalf("%s: %q → %v → %v (%v)", a.Type, s, v, e2, err)
			}
		}
	})
}

func TestSchemaEncodeErrorsNameTheField(t *testing.T) {
	s, err := ParseSchema([]byte(`{"name":"diploma","version":"1","attributes":[
		{"name":"name","type":"string"},{"name":"birthDate","type":"date"},
		{"name":"degree","type":"enum","values":["BSc","MSc"]},{"name":"gpa","type":"decimal","scale":2}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		subject map[string]any
		field   string
	}{
		{map[string]any{"name": "A", "birthDate": "2001-02-30", "degree": "BSc", "gpa": "3.5"}, "birthDate"},
		{map[string]any{"name": "A", "birthDate": "2001-02-03", "degree": "BA", "gpa": "3.5"}, "degree"},
		{map[string]any{"name": "A", "birthDate": "2001-02-03", "degree": "BSc", "gpa": "3.505"}, "gpa"},
		{map[string]any{"name": "A", "birthDate": "2001-02-03", "degree": "BSc"}, "gpa"},
		{map[string]any{"name": 5.0, "birthDate": "2001-02-03", "degree": "BSc", "gpa": "3.5"}, "name"},
		{map[string]any{"name": "A", "birthDate": "2001-02-03", "degree": "BSc", "gpa": "3.5", "extra": 1.0}, "extra"},
	} {
		_, err := s.Encode(tc.subject)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("subject %v: error %v, want one naming %q", tc.subject, err, tc.field)
		}
	}
	slots, err := s.Encode(map[string]any{"name": "A", "birthDate": "2001-02-03", "degree": "MSc", "gpa": "3.5"})
	if err != nil {
		t.Fatal(err)
	}
	if slots[1] != U64(20010203) || slots[2] != U64(1) || slots[3] != U64(350) || slots[4] != (fr.Element{}) {
		t.Fatalf("encoded slots %v", slots[:5])
	}
}
