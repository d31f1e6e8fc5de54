// Package qr draws QR codes for the links zkcred hands to phones: claim
// links and credential offers, presentation requests. It wraps rsc.io/qr,
// a small encoder with no dependencies, and fixes the choices every caller
// would otherwise repeat: error-correction level M (15 % of the symbol may be
// lost, which a phone camera on a screen never needs more than) and a PNG
// with the four-module quiet zone scanners require.
package qr

import (
	"errors"
	"fmt"

	"rsc.io/qr"
)

// MaxLen is the longest text PNG accepts: a version-40 symbol at level M
// holds 2,331 bytes in byte mode, and links longer than a few hundred bytes
// make symbols too dense to scan from a screen anyway.
const MaxLen = 2331

// ErrTooLong is returned for text a QR code cannot hold.
var ErrTooLong = errors.New("qr: text too long for a QR code")

// PNG returns a PNG image of a QR code holding text, eight pixels per module.
func PNG(text string) ([]byte, error) {
	if len(text) > MaxLen {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLong, len(text), MaxLen)
	}
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	c.Scale = 8
	return c.PNG(), nil
}
