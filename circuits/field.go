package circuits

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// ErrNonCanonical is returned for a field element that is not written in its
// one canonical form: a value ≥ the BN254 scalar modulus, a sign, leading
// zeros, or anything but decimal digits. Such values are rejected, never
// reduced, so that no two encodings name the same element.
var ErrNonCanonical = errors.New("non-canonical field element")

// Modulus returns the BN254 scalar field modulus r.
func Modulus() *big.Int { return fr.Modulus() }

// ParseElement parses a canonical decimal string into a field element.
func ParseElement(s string) (fr.Element, error) {
	var e fr.Element
	if len(s) == 0 || len(s) > 78 {
		return e, fmt.Errorf("%w: %q must be 1 to 78 decimal digits", ErrNonCanonical, truncate(s))
	}
	if len(s) > 1 && s[0] == '0' {
		return e, fmt.Errorf("%w: %q has a leading zero", ErrNonCanonical, truncate(s))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return e, fmt.Errorf("%w: %q is not a decimal number", ErrNonCanonical, truncate(s))
		}
	}
	v, _ := new(big.Int).SetString(s, 10)
	if v.Cmp(fr.Modulus()) >= 0 {
		return e, fmt.Errorf("%w: %q is not below the field modulus", ErrNonCanonical, truncate(s))
	}
	e.SetBigInt(v)
	return e, nil
}

// ElementFromBytes decodes a 32-byte big-endian canonical field element.
func ElementFromBytes(b []byte) (fr.Element, error) {
	var e fr.Element
	if len(b) != fr.Bytes {
		return e, fmt.Errorf("%w: want %d bytes, got %d", ErrNonCanonical, fr.Bytes, len(b))
	}
	if err := e.SetBytesCanonical(b); err != nil {
		return e, fmt.Errorf("%w: not below the field modulus", ErrNonCanonical)
	}
	return e, nil
}

func truncate(s string) string {
	if len(s) > 90 {
		return s[:87] + "..."
	}
	return s
}

// Dec returns the canonical decimal form of e. (fr.Element's String
// abbreviates values near the modulus as negatives, which is not canonical.)
func Dec(e fr.Element) string {
	var b big.Int
	return e.BigInt(&b).String()
}

// Field is a field element that crosses JSON boundaries as a canonical
// decimal string.
type Field fr.Element

// F converts a field element to Field.
func F(e fr.Element) Field { return Field(e) }

// El returns the underlying element.
func (f Field) El() fr.Element { return fr.Element(f) }

// String returns the canonical decimal form.
func (f Field) String() string { return Dec(fr.Element(f)) }

// IsZero reports whether f is 0.
func (f Field) IsZero() bool { e := fr.Element(f); return e.IsZero() }

// MarshalJSON writes f as a decimal string.
func (f Field) MarshalJSON() ([]byte, error) {
	return json.Marshal(Dec(fr.Element(f)))
}

// UnmarshalJSON accepts only a JSON string holding a canonical decimal.
func (f *Field) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '"' {
		return fmt.Errorf("%w: field elements are decimal strings", ErrNonCanonical)
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	e, err := ParseElement(s)
	if err != nil {
		return err
	}
	*f = Field(e)
	return nil
}
