// Package strictjson decodes exactly one JSON value, rejecting unknown
// fields and trailing data: the decoding every zkcred file and message
// format uses.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrTrailing is returned for data after the JSON value.
var ErrTrailing = errors.New("trailing data after JSON value")

// Unmarshal decodes b into v.
func Unmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ErrTrailing
	}
	return nil
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
