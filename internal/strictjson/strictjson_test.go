package strictjson

import (
	"errors"
	"testing"
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
