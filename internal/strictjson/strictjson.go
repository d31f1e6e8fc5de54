// Package strictjson decodes exactly one JSON value the way every zkcred
// file and message format is read: encoding/json's decoding, with the
// leniencies that let bad input through refused.
//
// Beyond encoding/json, Unmarshal refuses:
//
//   - unknown object members and data after the value;
//   - a member name given twice in one object, also in another letter case
//     where both name one struct field (encoding/json matches names
//     case-insensitively and keeps the last, so two readers of one message
//     could disagree on it);
//   - null where the Go value cannot hold "nothing": anything but a pointer,
//     an interface, a slice or a map. encoding/json leaves such a value
//     unchanged on null, so {"leafIndices":[null]} would read as leaf 0 and
//     {"nonce":null} as nonce 0.
//
// Wrong types (a string for a number, an object for a list) are refused by
// encoding/json itself; this package only adds the checks above, made in one
// pass over the tokens before the value is decoded.
package strictjson

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ErrTrailing is returned for data after the JSON value.
var ErrTrailing = errors.New("trailing data after JSON value")

// ErrNull is wrapped by a *NullError.
var ErrNull = errors.New("null is not allowed here")

// ErrDuplicate is wrapped by a *DuplicateError.
var ErrDuplicate = errors.New("member given twice")

// NullError says where a null stood for a value that cannot be null.
type NullError struct {
	Path string       // "leafIndices[0]", "" for the whole value
	Type reflect.Type // the Go type expected there
}

func (e *NullError) Error() string {
	want := describeType(e.Type)
	if e.Path == "" {
		return fmt.Sprintf("null is not allowed: want %s", want)
	}
	return fmt.Sprintf("field %q: null is not allowed: want %s", e.Path, want)
}

func (e *NullError) Unwrap() error { return ErrNull }

// DuplicateError says which object repeats a member.
type DuplicateError struct {
	Path string // the object's path, "" for the top level
	Name string // the repeated member, as given the second time
}

func (e *DuplicateError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("member %q given twice", e.Name)
	}
	return fmt.Sprintf("field %q: member %q given twice", e.Path, e.Name)
}

func (e *DuplicateError) Unwrap() error { return ErrDuplicate }

// Unmarshal decodes b into v (a non-nil pointer).
func Unmarshal(b []byte, v any) error { return unmarshal(b, v, false) }

// UnmarshalNumbers is Unmarshal keeping the numbers that land in interface
// values (map[string]any and the like) exact, as json.Number.
func UnmarshalNumbers(b []byte, v any) error { return unmarshal(b, v, true) }

func unmarshal(b []byte, v any, numbers bool) error {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		if err := check(b, rv.Type().Elem()); err != nil {
			return err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if numbers {
		dec.UseNumber()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ErrTrailing
	}
	return nil
}

// check walks the JSON value in b against the Go type t and returns the
// first null or repeated member it refuses. Malformed JSON ends the walk
// without an error: the decoding that follows reports it. The walk reads
// the bytes itself (encoding/json's Token allocates per token, which
// tripled the cost of a decode) and checks no more syntax than it needs.
func check(b []byte, t reflect.Type) error {
	w := &walker{b: b}
	err := w.value(t)
	if errors.Is(err, errBroken) {
		return nil
	}
	return err
}

// errBroken stops a walk over malformed JSON.
var errBroken = errors.New("malformed JSON")

type walker struct {
	b    []byte
	i    int
	path []string
}

// maxDepth bounds the walk's nesting, as encoding/json bounds its own
// (10,000): deeper JSON ends the walk and the decoder refuses it.
const maxDepth = 10000

func (w *walker) where() string {
	var b strings.Builder
	for _, p := range w.path {
		if b.Len() > 0 && (p == "" || p[0] != '[') {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func (w *walker) ws() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// next skips white space and returns the next byte (0 at the end).
func (w *walker) next() byte {
	w.ws()
	if w.i >= len(w.b) {
		return 0
	}
	return w.b[w.i]
}

// str reads a string at w.i and returns its raw bytes, without the quotes,
// and whether they hold an escape or a non-ASCII byte (whose meaning
// encoding/json's unquoting decides).
func (w *walker) str() (raw []byte, special bool, err error) {
	start := w.i + 1
	for j := start; j < len(w.b); j++ {
		switch c := w.b[j]; {
		case c == '"':
			w.i = j + 1
			return w.b[start:j], special, nil
		case c == '\\':
			special = true
			j++
		case c >= 0x80:
			special = true
		}
	}
	return nil, false, errBroken
}

// key decodes a member name as encoding/json does.
func (w *walker) key() (string, error) {
	start := w.i
	raw, special, err := w.str()
	if err != nil {
		return "", err
	}
	if !special {
		return string(raw), nil
	}
	var k string
	if json.Unmarshal(w.b[start:w.i], &k) != nil {
		return "", errBroken
	}
	return k, nil
}

// scalar skips a number or a literal.
func (w *walker) scalar() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return
		}
		w.i++
	}
}

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	customCache         sync.Map // reflect.Type → bool
)

// custom reports whether t decodes itself (json.Unmarshaler or, for
// strings, encoding.TextUnmarshaler).
func custom(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		return false
	}
	if v, ok := customCache.Load(t); ok {
		return v.(bool)
	}
	pt := reflect.PointerTo(t)
	c := pt.Implements(unmarshalerType) || pt.Implements(textUnmarshalerType) ||
		t.Implements(unmarshalerType) || t.Implements(textUnmarshalerType)
	customCache.Store(t, c)
	return c
}

// value checks the value at w.i, whose Go type is t (nil: any, nothing
// to check but repeated members).
func (w *walker) value(t reflect.Type) error {
	c := w.next()
	if c == 'n' {
		if !bytes.HasPrefix(w.b[w.i:], []byte("null")) {
			return errBroken
		}
		w.i += 4
		if t == nil {
			return nil
		}
		switch t.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
			return nil
		}
		return &NullError{Path: w.where(), Type: t}
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (t.Kind() == reflect.Interface || custom(t)) {
		t = nil
	}
	switch c {
	case '"':
		_, _, err := w.str()
		return err
	case '[', '{':
		if len(w.path) >= maxDepth {
			return errBroken
		}
	case 0:
		return errBroken
	default:
		w.scalar() // its type is encoding/json's to check
		return nil
	}
	w.i++
	if c == '[' {
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		if w.next() == ']' {
			w.i++
			return nil
		}
		for n := 0; ; n++ {
			w.path = append(w.path, "["+strconv.Itoa(n)+"]")
			if err := w.value(elem); err != nil {
				return err
			}
			w.path = w.path[:len(w.path)-1]
			switch w.next() {
			case ',':
				w.i++
			case ']':
				w.i++
				return nil
			default:
				return errBroken
			}
		}
	}
	var fs *structFields
	var elem reflect.Type
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fs = fieldsOf(t)
		case reflect.Map:
			elem = t.Elem()
		}
	}
	var seenFields []*field
	var seenKeys map[string]bool
	if w.next() == '}' {
		w.i++
		return nil
	}
	for {
		if w.next() != '"' {
			return errBroken
		}
		name, err := w.key()
		if err != nil {
			return err
		}
		if w.next() != ':' {
			return errBroken
		}
		w.i++
		ft := elem
		if fs != nil {
			f := fs.lookup(name)
			switch {
			case f == nil:
				ft = nil // unknown: encoding/json refuses it
			case slices.Contains(seenFields, f):
				return &DuplicateError{Path: w.where(), Name: name}
			default:
				seenFields = append(seenFields, f)
				ft = f.typ
			}
		}
		if fs == nil || ft == nil {
			if seenKeys[name] {
				return &DuplicateError{Path: w.where(), Name: name}
			}
			if seenKeys == nil {
				seenKeys = map[string]bool{}
			}
			seenKeys[name] = true
		}
		w.path = append(w.path, name)
		if err := w.value(ft); err != nil {
			return err
		}
		w.path = w.path[:len(w.path)-1]
		switch w.next() {
		case ',':
			w.i++
		case '}':
			w.i++
			return nil
		default:
			return errBroken
		}
	}
}

// structFields are the JSON members of a struct type, resolved as
// encoding/json resolves them.
type structFields struct {
	exact map[string]*field
	list  []*field // in field order, for case-insensitive matching
}

type field struct {
	name   string
	typ    reflect.Type
	depth  int
	tagged bool
}

// lookup finds the field a member name decodes into: the exact name, else
// the first whose name equals it case-insensitively.
func (fs *structFields) lookup(name string) *field {
	if f, ok := fs.exact[name]; ok {
		return f
	}
	for _, f := range fs.list {
		if strings.EqualFold(f.name, name) {
			return f
		}
	}
	return nil
}

var fieldCache sync.Map // reflect.Type → *structFields

func fieldsOf(t reflect.Type) *structFields {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(*structFields)
	}
	var all []*field
	collect(t, 0, map[reflect.Type]bool{t: true}, &all)
	// encoding/json's dominance rule: of the fields of one name, the
	// shallowest wins; among those a single tagged one, else a single one;
	// otherwise none.
	byName := map[string][]*field{}
	var order []string
	for _, f := range all {
		if _, ok := byName[f.name]; !ok {
			order = append(order, f.name)
		}
		byName[f.name] = append(byName[f.name], f)
	}
	fs := &structFields{exact: map[string]*field{}}
	for _, name := range order {
		cands := byName[name]
		minDepth := cands[0].depth
		for _, f := range cands {
			minDepth = min(minDepth, f.depth)
		}
		var top, tagged []*field
		for _, f := range cands {
			if f.depth == minDepth {
				top = append(top, f)
				if f.tagged {
					tagged = append(tagged, f)
				}
			}
		}
		var win *field
		switch {
		case len(tagged) == 1:
			win = tagged[0]
		case len(tagged) == 0 && len(top) == 1:
			win = top[0]
		}
		if win != nil {
			fs.exact[name] = win
			fs.list = append(fs.list, win)
		}
	}
	fieldCache.Store(t, fs)
	return fs
}

func collect(t reflect.Type, depth int, visiting map[reflect.Type]bool, out *[]*field) {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if sf.Anonymous {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if !sf.IsExported() && ft.Kind() != reflect.Struct {
				continue
			}
			if name == "" && ft.Kind() == reflect.Struct {
				if !visiting[ft] {
					visiting[ft] = true
					collect(ft, depth+1, visiting, out)
					delete(visiting, ft)
				}
				continue
			}
		} else if !sf.IsExported() {
			continue
		}
		f := &field{name: name, typ: sf.Type, depth: depth, tagged: name != ""}
		if name == "" {
			f.name = sf.Name
		}
		*out = append(*out, f)
	}
}

// describeType names a Go type as a JSON sender thinks of it.
func describeType(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Array:
		return "a list"
	}
	if custom(t) {
		return "a " + t.String()
	}
	if t.Kind() == reflect.Struct {
		return "an object"
	}
	return t.String()
}

// Describe words a decoding error for the person who sent the JSON: where
// the syntax breaks, which field has the wrong type.
func Describe(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %q: want %v, got %s", te.Field, te.Type, te.Value)
		}
		return fmt.Sprintf("want %v, got %s", te.Type, te.Value)
	case errors.Is(err, io.EOF):
		return "empty body"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	}
	return err.Error()
}
