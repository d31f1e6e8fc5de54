// Package canonjson encodes values as RFC 8785 canonical JSON (the JSON
// Canonicalization Scheme, JCS), the form every zkcred hash over JSON is
// computed on: schema IDs, the genesis hash and issuer-tree leaves.
//
// The value is first encoded with encoding/json (so struct tags apply) and
// then canonicalised with github.com/gowebpki/jcs: object keys sorted by
// their UTF-16 code units, no insignificant whitespace, strings in UTF-8
// with only the escapes JCS requires (so `&`, `<`, `>`, U+2028 and U+2029
// appear as themselves, unlike encoding/json's output).
//
// JCS writes numbers as IEEE 754 doubles do, which cannot hold every
// integer above 2^53; two documents that differ only in such a number
// would share one canonical form and so one hash. Marshal therefore
// accepts only integers in ±MaxInteger and refuses every other number;
// zkcred carries field elements and 64-bit values that may exceed it as
// decimal strings.
package canonjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gowebpki/jcs"
)

// MaxInteger is the largest magnitude of a number that canonical JSON
// carries exactly: 2^53 − 1.
const MaxInteger = 1<<53 - 1

// ErrNumber is returned for a number that is not an integer in
// ±MaxInteger (or is written "-0").
var ErrNumber = errors.New("canonical JSON holds only integers from -(2^53-1) to 2^53-1")

// Marshal returns the RFC 8785 canonical JSON of v.
func Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if err := checkNumbers(b); err != nil {
		return nil, err
	}
	out, err := jcs.Transform(b)
	if err != nil {
		return nil, fmt.Errorf("canonical JSON: %w", err)
	}
	return out, nil
}

// checkNumbers refuses every number of the JSON text b that is not a plain
// integer literal within ±MaxInteger. encoding/json writes Go integers in
// that form; floats, exponents and integers beyond 2^53 are refused. b is
// encoding/json's output, so valid JSON: outside strings, a number starts
// with '-' or a digit and runs to the next ',', ']', '}' or whitespace.
func checkNumbers(b []byte) error {
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case c == '-' || (c >= '0' && c <= '9'):
			j := i
			for j < len(b) && !strings.ContainsRune(",]} \t\r\n", rune(b[j])) {
				j++
			}
			if err := checkInteger(string(b[i:j])); err != nil {
				return err
			}
			i = j - 1
		}
	}
	return nil
}

func checkInteger(s string) error {
	digits := strings.TrimPrefix(s, "-")
	x, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || x > MaxInteger || s == "-0" || (len(digits) > 1 && digits[0] == '0') {
		return fmt.Errorf("%w: %s", ErrNumber, s)
	}
	return nil
}
