package circuits

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/zkcred/zkcred/internal/canonjson"
	"github.com/zkcred/zkcred/internal/strictjson"
)

// Slots is the number of attribute slots of a credential commitment.
const Slots = 16

// AttrType is the type of one schema attribute; it fixes the encoding.
type AttrType string

// Attribute types and their encodings (SPEC.md, "Attribute encodings").
const (
	TypeString    AttrType = "string"    // tagged Poseidon2 hash of the UTF-8 bytes
	TypeInteger   AttrType = "integer"   // uint64
	TypeDecimal   AttrType = "decimal"   // fixed point uint64, Scale digits after the point
	TypeDate      AttrType = "date"      // YYYYMMDD as an integer
	TypeTimestamp AttrType = "timestamp" // Unix seconds
	TypeBoolean   AttrType = "boolean"   // 0 or 1
	TypeEnum      AttrType = "enum"      // index into Values
)

// Numeric reports whether values of t are ordered 64-bit integers, so that
// range predicates (lt, lte, gt, gte, between) apply. Strings are hashes:
// only eq, ne, in and nin apply to them.
func (t AttrType) Numeric() bool { return t != TypeString && t != "" }

// Attribute is one slot of a schema.
type Attribute struct {
	Name    string   `json:"name"`
	Type    AttrType `json:"type"`
	Display string   `json:"display,omitempty"`
	Scale   int      `json:"scale,omitempty"`  // decimal only, 0..18
	Values  []string `json:"values,omitempty"` // enum only
}

// Schema is an ordered list of attributes. Its ID is a field element derived
// from its canonical JSON, so any change to it is a different schema.
type Schema struct {
	Name       string      `json:"name"`
	Version    string      `json:"version"`
	Attributes []Attribute `json:"attributes"`
}

// ErrSchema is wrapped by every schema validation error.
var ErrSchema = errors.New("invalid schema")

// FieldError names the subject field whose value could not be encoded.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return fmt.Sprintf("field %q: %v", e.Field, e.Err) }
func (e *FieldError) Unwrap() error { return e.Err }

// ParseSchema decodes and validates a schema, rejecting unknown fields.
func ParseSchema(b []byte) (*Schema, error) {
	var s Schema
	if err := strictjson.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSchema, err)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate checks names, types, scales and enum values.
func (s *Schema) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrSchema, fmt.Sprintf(format, a...))
	}
	if strings.TrimSpace(s.Name) == "" {
		return bad("name is empty")
	}
	// encoding/json would write invalid UTF-8 as U+FFFD, so that two
	// schemas differing only there would share one ID.
	if !utf8.ValidString(s.Name) || !utf8.ValidString(s.Version) {
		return bad("name and version must be valid UTF-8")
	}
	if len(s.Attributes) == 0 || len(s.Attributes) > Slots {
		return bad("%d attributes, want 1 to %d", len(s.Attributes), Slots)
	}
	seen := map[string]bool{}
	for i, a := range s.Attributes {
		if !validName(a.Name) {
			return bad("attribute %d: name %q must be letters, digits or _ and start with a letter", i, a.Name)
		}
		if seen[a.Name] {
			return bad("attribute %q appears twice", a.Name)
		}
		seen[a.Name] = true
		if !utf8.ValidString(a.Display) {
			return bad("attribute %q: display must be valid UTF-8", a.Name)
		}
		switch a.Type {
		case TypeString, TypeInteger, TypeDate, TypeTimestamp, TypeBoolean:
			if a.Scale != 0 || len(a.Values) != 0 {
				return bad("attribute %q: scale and values apply only to decimal and enum", a.Name)
			}
		case TypeDecimal:
			if a.Scale < 0 || a.Scale > 18 || len(a.Values) != 0 {
				return bad("attribute %q: decimal scale must be 0..18", a.Name)
			}
		case TypeEnum:
			if len(a.Values) == 0 || a.Scale != 0 {
				return bad("attribute %q: enum needs values", a.Name)
			}
			vs := map[string]bool{}
			for _, v := range a.Values {
				if v == "" || vs[v] || !utf8.ValidString(v) {
					return bad("attribute %q: enum values must be distinct, non-empty UTF-8", a.Name)
				}
				vs[v] = true
			}
		default:
			return bad("attribute %q: unknown type %q (string, integer, decimal, date, timestamp, boolean, enum)", a.Name, a.Type)
		}
	}
	return nil
}

func validName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for i, c := range n {
		isLetter := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !(isLetter || c == '_' || (i > 0 && c >= '0' && c <= '9')) {
			return false
		}
	}
	return isLetterByte(n[0])
}

func isLetterByte(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// Canonical returns the schema's canonical JSON: RFC 8785 (JCS) applied to
// the schema as encoding/json writes it (empty optional fields omitted), so
// keys are sorted and strings are plain UTF-8 (SPEC.md, "Attributes and
// schemas"). It is nil for a schema that Validate refuses because a number
// is beyond what canonical JSON carries exactly; nil is the canonical form
// of no valid schema.
func (s *Schema) Canonical() []byte {
	b, err := canonjson.Marshal(s)
	if err != nil {
		return nil
	}
	return b
}

// ID returns the schema identifier H(TagSchema, canonical JSON).
func (s *Schema) ID() fr.Element { return HashBytes(TagSchema, s.Canonical()) }

// Slot returns the index of the named attribute.
func (s *Schema) Slot(name string) (int, bool) {
	for i, a := range s.Attributes {
		if a.Name == name {
			return i, true
		}
	}
	return 0, false
}

// Encode encodes subject data (attribute name → JSON value) into the 16
// slots. Every attribute is required; unknown names are rejected. Errors are
// *FieldError values naming the field.
func (s *Schema) Encode(subject map[string]any) ([Slots]fr.Element, error) {
	var out [Slots]fr.Element
	for name := range subject {
		if _, ok := s.Slot(name); !ok {
			return out, &FieldError{name, errors.New("not an attribute of schema " + s.Name)}
		}
	}
	for i, a := range s.Attributes {
		v, ok := subject[a.Name]
		if !ok {
			return out, &FieldError{a.Name, errors.New("missing")}
		}
		e, err := a.Encode(v)
		if err != nil {
			return out, &FieldError{a.Name, err}
		}
		out[i] = e
	}
	return out, nil
}

// Encode encodes one value. Accepted JSON forms: string for string, date
// ("2006-01-02"), timestamp (RFC 3339), decimal ("12.50") and enum; number
// or digit string for integer; true/false for boolean.
func (a *Attribute) Encode(v any) (fr.Element, error) {
	switch a.Type {
	case TypeString:
		s, ok := v.(string)
		if !ok {
			return fr.Element{}, fmt.Errorf("want a string, got %s", jsonKind(v))
		}
		if !utf8.ValidString(s) {
			return fr.Element{}, errors.New("not valid UTF-8")
		}
		return StringValue(s), nil
	case TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return fr.Element{}, fmt.Errorf("want true or false, got %s", jsonKind(v))
		}
		if b {
			return U64(1), nil
		}
		return U64(0), nil
	case TypeEnum:
		s, ok := v.(string)
		if !ok {
			return fr.Element{}, fmt.Errorf("want one of %q, got %s", a.Values, jsonKind(v))
		}
		for i, ev := range a.Values {
			if ev == s {
				return U64(uint64(i)), nil
			}
		}
		return fr.Element{}, fmt.Errorf("%q is not one of %q", s, a.Values)
	}
	x, err := a.encodeUint(v)
	return U64(x), err
}

// encodeUint encodes a value of a numeric type to its 64-bit integer.
func (a *Attribute) encodeUint(v any) (uint64, error) {
	switch a.Type {
	case TypeInteger:
		switch x := v.(type) {
		case float64:
			if x < 0 || x != math.Trunc(x) || x > 1<<53 {
				return 0, fmt.Errorf("%v is not a non-negative integer (use a string for values above 2^53)", x)
			}
			return uint64(x), nil
		case json.Number:
			return parseUint(string(x))
		case string:
			return parseUint(x)
		case int:
			if x < 0 {
				return 0, fmt.Errorf("%d is negative", x)
			}
			return uint64(x), nil
		case uint64:
			return x, nil
		}
		return 0, fmt.Errorf("want an integer, got %s", jsonKind(v))
	case TypeDecimal:
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case json.Number:
			s = string(x)
		case float64:
			s = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			return 0, fmt.Errorf("want a decimal string such as \"12.50\", got %s", jsonKind(v))
		}
		return parseDecimal(s, a.Scale)
	case TypeDate:
		s, ok := v.(string)
		if !ok {
			return 0, fmt.Errorf("want a date \"YYYY-MM-DD\", got %s", jsonKind(v))
		}
		return encodeDate(s)
	case TypeTimestamp:
		s, ok := v.(string)
		if !ok {
			return 0, fmt.Errorf("want an RFC 3339 timestamp, got %s", jsonKind(v))
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return 0, fmt.Errorf("%q is not an RFC 3339 timestamp", s)
		}
		if t.Unix() < 0 {
			return 0, fmt.Errorf("%q is before 1970", s)
		}
		return uint64(t.Unix()), nil
	case TypeBoolean, TypeEnum:
		e, err := a.Encode(v)
		if err != nil {
			return 0, err
		}
		return e.Uint64(), nil
	}
	return 0, fmt.Errorf("type %s has no integer encoding", a.Type)
}

// encodeDate encodes "YYYY-MM-DD" as the integer YYYYMMDD.
func encodeDate(s string) (uint64, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a date YYYY-MM-DD", s)
	}
	return DateValue(t), nil
}

// DateValue encodes a time's calendar date (in its own location) as YYYYMMDD.
func DateValue(t time.Time) uint64 {
	return uint64(t.Year())*10000 + uint64(t.Month())*100 + uint64(t.Day())
}

func parseUint(s string) (uint64, error) {
	x, err := strconv.ParseUint(s, 10, 64)
	if err != nil || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("%q is not an integer in 0..2^64-1", s)
	}
	return x, nil
}

func parseDecimal(s string, scale int) (uint64, error) {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && frac == "") {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	if len(frac) > scale {
		return 0, fmt.Errorf("%q has more than %d digits after the point", s, scale)
	}
	digits := intPart + frac + strings.Repeat("0", scale-len(frac))
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a non-negative decimal number", s)
		}
	}
	v, ok := new(big.Int).SetString(digits, 10)
	if !ok || !v.IsUint64() {
		return 0, fmt.Errorf("%q does not fit in 64 bits at scale %d", s, scale)
	}
	return v.Uint64(), nil
}

// Decode turns a disclosed slot value back into its schema type: a string
// attribute cannot be decoded (it is a hash) and yields the decimal field
// element; dates come back as "YYYY-MM-DD", timestamps as RFC 3339, decimals
// as strings with Scale digits, enums as their value.
func (a *Attribute) Decode(e fr.Element) (any, error) {
	if a.Type == TypeString {
		return Dec(e), nil
	}
	if !e.IsUint64() {
		return nil, fmt.Errorf("attribute %q: value does not fit in 64 bits", a.Name)
	}
	x := e.Uint64()
	switch a.Type {
	case TypeInteger:
		return x, nil
	case TypeBoolean:
		if x > 1 {
			return nil, fmt.Errorf("attribute %q: %d is not a boolean", a.Name, x)
		}
		return x == 1, nil
	case TypeEnum:
		if x >= uint64(len(a.Values)) {
			return nil, fmt.Errorf("attribute %q: enum index %d out of range", a.Name, x)
		}
		return a.Values[x], nil
	case TypeDate:
		return fmt.Sprintf("%04d-%02d-%02d", x/10000, x/100%100, x%100), nil
	case TypeTimestamp:
		if x > math.MaxInt64 {
			return nil, fmt.Errorf("attribute %q: timestamp out of range", a.Name)
		}
		return time.Unix(int64(x), 0).UTC().Format(time.RFC3339), nil
	case TypeDecimal:
		s := strconv.FormatUint(x, 10)
		if a.Scale == 0 {
			return s, nil
		}
		if len(s) <= a.Scale {
			s = strings.Repeat("0", a.Scale-len(s)+1) + s
		}
		return s[:len(s)-a.Scale] + "." + s[len(s)-a.Scale:], nil
	}
	return nil, fmt.Errorf("attribute %q: unknown type %q", a.Name, a.Type)
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, json.Number, int, uint64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
