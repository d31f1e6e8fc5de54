package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestUnmarshal(t *testing.T) {
	var v struct{ A int }
	if err := Unmarshal([]byte(`{"A":1}`), &v); err != nil || v.A != 1 {
		t.Fatalf("%v %+v", err, v)
	}
	if err := Unmarshal([]byte(`{"A":1,"B":2}`), &v); err == nil {
		t.Error("unknown field accepted")
	}
	for _, in := range []string{`{"A":1} {}`, `{"A":1}x`, `{"A":1}]`} {
		if err := Unmarshal([]byte(in), &v); !errors.Is(err, ErrTrailing) && err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

type inner struct {
	Deep uint64 `json:"deep"`
}

type Embedded struct {
	Promoted int `json:"promoted"`
}

type target struct {
	Embedded
	LeafIndices []uint64          `json:"leafIndices,omitempty"`
	IDs         []string          `json:"ids"`
	Nonce       uint64            `json:"nonce"`
	Name        string            `json:"name"`
	Flag        bool              `json:"flag"`
	Expiry      uint64            `json:"expiry,string"`
	When        time.Time         `json:"when"`
	Opt         *int              `json:"opt"`
	Any         any               `json:"any"`
	Subject     map[string]any    `json:"subject"`
	Counts      map[string]uint64 `json:"counts"`
	Inner       inner             `json:"inner"`
	Inners      []inner           `json:"inners"`
	Ptrs        []*uint64         `json:"ptrs"`
	Raw         json.RawMessage   `json:"raw"`
	Pair        [2]int            `json:"pair"`
	Untagged    int
}

// TestNull: null is refused wherever the Go value cannot be nil, with the
// path of the member; it passes where the value can.
func TestNull(t *testing.T) {
	refused := map[string]string{
		`{"leafIndices":[null]}`:     "leafIndices[0]",
		`{"leafIndices":[3,null]}`:   "leafIndices[1]",
		`{"ids":["a",null]}`:         "ids[1]",
		`{"nonce":null}`:             "nonce",
		`{"name":null}`:              "name",
		`{"flag":null}`:              "flag",
		`{"expiry":null}`:            "expiry",
		`{"when":null}`:              "when",
		`{"counts":{"a":null}}`:      "counts.a",
		`{"inner":null}`:             "inner",
		`{"inner":{"deep":null}}`:    "inner.deep",
		`{"inners":[{"deep":null}]}`: "inners[0].deep",
		`{"pair":[1,null]}`:          "pair[1]",
		`{"promoted":null}`:          "promoted",
		`{"Untagged":null}`:          "Untagged",
		`{"untagged":null}`:          "untagged",
		`{"NONCE":null}`:             "NONCE",
		`{"leafIndices":[],"nonce":1,"inners":[{"deep":1},{"deep":null}]}`: "inners[1].deep",
	}
	for in, path := range refused {
		var v target
		err := Unmarshal([]byte(in), &v)
		var ne *NullError
		if !errors.As(err, &ne) || !errors.Is(err, ErrNull) || ne.Path != path {
			t.Errorf("%s: %v, want a null error at %q", in, err, path)
		}
	}
	var n uint64
	if err := Unmarshal([]byte(`null`), &n); !errors.Is(err, ErrNull) {
		t.Errorf("top-level null into uint64: %v", err)
	}
	for _, in := range []string{
		`{"opt":null}`, `{"any":null}`, `{"subject":null}`, `{"subject":{"a":null}}`,
		`{"leafIndices":null}`, `{"ptrs":[null,1]}`, `{"raw":null}`, `{"raw":{"x":null}}`,
		`{"any":{"x":[null]}}`, `{"inners":null}`,
	} {
		var v target
		if err := Unmarshal([]byte(in), &v); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
	var p *uint64
	if err := Unmarshal([]byte(`null`), &p); err != nil || p != nil {
		t.Errorf("null into a pointer: %v", err)
	}
}

// TestDuplicate: a member given twice is refused, also in another case
// where both spellings name one field, and inside free-form values.
func TestDuplicate(t *testing.T) {
	for in, path := range map[string]string{
		`{"nonce":1,"nonce":2}`:                 "",
		`{"nonce":1,"Nonce":2}`:                 "",
		`{"inner":{"deep":1,"DEEP":2}}`:         "inner",
		`{"subject":{"a":1,"a":2}}`:             "subject",
		`{"any":[{"k":1,"k":2}]}`:               "any[0]",
		`{"raw":{"k":1,"k":1}}`:                 "raw",
		`{"promoted":1,"Promoted":1}`:           "",
		`{"leafIndices":[1],"leafIndices":[2]}`: "",
	} {
		var v target
		err := Unmarshal([]byte(in), &v)
		var de *DuplicateError
		if !errors.As(err, &de) || !errors.Is(err, ErrDuplicate) || de.Path != path {
			t.Errorf("%s: %v, want a duplicate at %q", in, err, path)
		}
	}
	var v target
	if err := Unmarshal([]byte(`{"subject":{"a":1,"A":2}}`), &v); err != nil {
		t.Errorf("map keys differing in case: %v", err)
	}
}

// TestStillEncodingJSON: what encoding/json refuses stays refused, and a
// valid value decodes as encoding/json decodes it.
func TestStillEncodingJSON(t *testing.T) {
	for _, in := range []string{
		`{"nonce":"1"}`, `{"nonce":-1}`, `{"nonce":1.5}`, `{"leafIndices":["x"]}`, `{"name":1}`,
		`{"inner":[]}`, `{"pair":{}}`, `{"expiry":5}`, `{"when":"yesterday"}`, `{"nope":1}`,
		`{"nonce":1`, `{"nonce" 1}`, ``, `[`, `{"inner":{"deep":1,"x":2}}`,
	} {
		var v target
		if err := Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	in := `{"promoted":7,"leafIndices":[1,2],"ids":["a"],"nonce":3,"name":"n","flag":true,"expiry":"9",
		"when":"2026-01-02T03:04:05Z","opt":4,"any":{"x":[1,"y",null]},"subject":{"a":1.5},"counts":{"c":2},
		"inner":{"deep":5},"inners":[{"deep":6}],"ptrs":[null,8],"raw":{"r":1},"pair":[1,2],"Untagged":9}`
	var got, want target
	if err := Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(in), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	var m map[string]any
	if err := UnmarshalNumbers([]byte(`{"a":12345678901234567890}`), &m); err != nil || m["a"] != json.Number("12345678901234567890") {
		t.Fatalf("UnmarshalNumbers: %v %v", err, m)
	}
}

func TestDescribe(t *testing.T) {
	var v target
	err := Unmarshal([]byte(`{"leafIndices":[null]}`), &v)
	if got := Describe(err); got != `field "leafIndices[0]": null is not allowed: want a number` {
		t.Fatalf("Describe: %s", got)
	}
}

// FuzzUnmarshal: whatever Unmarshal accepts, encoding/json (with unknown
// fields refused) accepts too and decodes to the same value.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{`{"leafIndices":[null]}`, `{"nonce":1,"Nonce":2}`, `{"inner":{"deep":3}}`, `{"any":[{"k":null}]}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got target
		if Unmarshal(b, &got) != nil {
			return
		}
		var want target
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("strictjson accepted what encoding/json refuses: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded differently: %+v vs %+v", got, want)
		}
	})
}

// TestDeep: nesting beyond encoding/json's limit is refused, and the walk
// does not recurse without bound.
func TestDeep(t *testing.T) {
	deep := `{"any":` + strings.Repeat("[", 200000) + strings.Repeat("]", 200000) + `}`
	var v target
	if err := Unmarshal([]byte(deep), &v); err == nil {
		t.Fatal("200,000 levels accepted")
	}
	ok := `{"any":` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `}`
	if err := Unmarshal([]byte(ok), &v); err != nil {
		t.Fatal(err)
	}
}

// TestEmptyMemberNameInError: an error under a member named "" names its
// place without panicking.
func TestEmptyMemberNameInError(t *testing.T) {
	var v struct {
		M map[string]map[string]int `json:"m"`
	}
	for _, in := range []string{`{"m":{"":{"":1,"":2}}}`, `{"m":{"":{"":,"":`} {
		if err := Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("%s: accepted", in)
		}
	}
}
