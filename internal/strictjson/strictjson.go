// Package strictjson decodes exactly one JSON value, rejecting unknown
// fields and trailing data: the decoding every zkcred file and message
// format uses.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
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
