package canonjson

import (
	"errors"
	"math"
	"testing"

	"github.com/gowebpki/jcs"
)

func TestMarshal(t *testing.T) {
	type inner struct {
		Z string `json:"z"`
		A int    `json:"a"`
	}
	type doc struct {
		Name  string  `json:"name"`
		Big   int64   `json:"big"`
		Neg   int64   `json:"neg"`
		Inner inner   `json:"inner"`
		List  []inner `json:"list"`
	}
	for _, c := range []struct {
		name string
		in   any
		want string
	}{
		{"keys sorted, no whitespace", doc{Name: "x", Inner: inner{"z", 1}, List: []inner{{"b", 2}}},
			`{"big":0,"inner":{"a":1,"z":"z"},"list":[{"a":2,"z":"b"}],"name":"x","neg":0}`},
		{"html characters as themselves", map[string]string{"n": "Barnes & Noble <b>"}, `{"n":"Barnes & Noble <b>"}`},
		{"line and paragraph separators as themselves", map[string]string{"n": "a\u2028b\u2029c"}, "{\"n\":\"a\u2028b\u2029c\"}"},
		{"non-ASCII as UTF-8", map[string]string{"n": "Universität Zürich, 東京大学 🎓"}, `{"n":"Universität Zürich, 東京大学 🎓"}`},
		{"control characters escaped", map[string]string{"n": "a\tb\x01\"\\"}, `{"n":"a\tb\u0001\"\\"}`},
		{"keys by UTF-16 code units", map[string]int{"\U0001F600": 1, "\uFB33": 2, "a": 3}, "{\"a\":3,\"\U0001F600\":1,\"\uFB33\":2}"},
		{"numbers inside strings untouched", map[string]any{"s": `x"-1.5e3 [0]`, "n": 7}, `{"n":7,"s":"x\"-1.5e3 [0]"}`},
		{"largest exact integers", []int64{MaxInteger, -MaxInteger}, `[9007199254740991,-9007199254740991]`},
		{"large values as strings", map[string]string{"f": "21888242871839275222246405745257275088548364400416034343698204186575808495616"},
			`{"f":"21888242871839275222246405745257275088548364400416034343698204186575808495616"}`},
	} {
		got, err := Marshal(c.in)
		if err != nil || string(got) != c.want {
			t.Errorf("%s: got %s, %v; want %s", c.name, got, err, c.want)
		}
	}
}

// TestNumbersRefused: an RFC 8785 implementation writes 2^53 and 2^53+1
// alike, so a hash over them would collide; Marshal refuses both, and
// every number that is not an integer.
func TestNumbersRefused(t *testing.T) {
	a, _ := jcs.Transform([]byte(`[9007199254740992]`))
	b, _ := jcs.Transform([]byte(`[9007199254740993]`))
	if string(a) != string(b) {
		t.Fatalf("JCS no longer rounds large integers (%s, %s): revisit MaxInteger", a, b)
	}
	negZero := math.Copysign(0, -1)
	for _, v := range []any{
		[]uint64{MaxInteger + 1}, []uint64{MaxInteger + 2}, []int64{-MaxInteger - 1},
		[]uint64{1<<64 - 1}, []float64{1.5}, []float64{1e300}, map[string]float64{"x": 0.1}, []float64{negZero},
	} {
		if got, err := Marshal(v); !errors.Is(err, ErrNumber) {
			t.Errorf("%v: got %s, %v; want ErrNumber", v, got, err)
		}
	}
	if got, err := Marshal([]float64{3}); err != nil || string(got) != "[3]" {
		t.Errorf("integral float: %s, %v", got, err)
	}
}
