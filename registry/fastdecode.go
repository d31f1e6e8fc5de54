package registry

import (
	"bytes"
	"encoding/binary"
	"math/bits"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
)

// An anchor of 10,000 commitments is about 800 kB of JSON, and the general
// decoder (strict JSON with the key checks, then each commitment through
// math/big) reads it a dozen times over; every validator decodes every
// transaction. The functions here read the one encoding that NewTx and
// json.Marshal produce for an anchor — compact, members in struct order,
// no approvals, no escapes — in one pass, and report false for anything
// else, which then takes the general path. Every byte string they accept
// is the canonical encoding of what they return (each commitment is a
// canonical decimal, the nonce has no leading zero), so the general
// decoder would return exactly the same for it: the fast path changes no
// outcome, only the cost.

const (
	fastTxHead      = `{"payload":`
	fastTxSigHead   = `,"signature":"`
	fastPayloadHead = `{"type":"anchor","signer":"`
	fastNonceHead   = `","nonce":`
	fastBodyHead    = `,"body":{"commitments":[`
	fastBodyTail    = `]}}`
)

// fastAnchorTx splits the encoding of an anchor transaction without
// approvals into its parts.
func fastAnchorTx(b []byte) (*Tx, *txPayload, *Anchor, bool) {
	b = bytes.TrimRight(b, " \t\r\n")
	sigLen := 2 * 64
	tail := len(fastTxSigHead) + sigLen + len(`"}`)
	if len(b) < len(fastTxHead)+tail || !bytes.HasPrefix(b, []byte(fastTxHead)) || !bytes.HasSuffix(b, []byte(`"}`)) {
		return nil, nil, nil, false
	}
	rest := b[len(b)-tail:]
	if !bytes.HasPrefix(rest, []byte(fastTxSigHead)) {
		return nil, nil, nil, false
	}
	sig := rest[len(fastTxSigHead) : len(fastTxSigHead)+sigLen]
	if !lowerHex(sig) {
		return nil, nil, nil, false
	}
	payload := b[len(fastTxHead) : len(b)-tail]
	p, an, ok := fastAnchorPayload(payload)
	if !ok {
		return nil, nil, nil, false
	}
	return &Tx{Payload: payload, Signature: string(sig)}, p, an, true
}

// fastAnchorPayload reads the compact payload of an anchor.
func fastAnchorPayload(b []byte) (*txPayload, *Anchor, bool) {
	if !bytes.HasPrefix(b, []byte(fastPayloadHead)) || !bytes.HasSuffix(b, []byte(fastBodyTail)) {
		return nil, nil, false
	}
	b = b[len(fastPayloadHead):]
	end := bytes.IndexByte(b, '"')
	if end < 0 || !lowerHex(b[:end]) {
		return nil, nil, false
	}
	signer := string(b[:end])
	b = b[end:]
	if !bytes.HasPrefix(b, []byte(fastNonceHead)) {
		return nil, nil, false
	}
	b = b[len(fastNonceHead):]
	end = 0
	for end < len(b) && b[end] >= '0' && b[end] <= '9' {
		end++
	}
	nonce, ok := canonicalUint(b[:end])
	if !ok {
		return nil, nil, false
	}
	b = b[end:]
	if !bytes.HasPrefix(b, []byte(fastBodyHead)) || len(b) < len(fastBodyHead)+len(fastBodyTail) {
		return nil, nil, false
	}
	body := b[len(`,"body":`) : len(b)-1]
	b = b[len(fastBodyHead) : len(b)-len(fastBodyTail)]
	// "d","d",...,"d": count the commitments first, so that a body over
	// the limit is refused by the general path with its own error
	n := bytes.Count(b, []byte(`","`)) + 1
	if len(b) < 3 || n > MaxAnchor {
		return nil, nil, false
	}
	cs := make([]circuits.Field, 0, n)
	for len(b) > 0 {
		if b[0] != '"' {
			return nil, nil, false
		}
		end := bytes.IndexByte(b[1:], '"')
		if end < 0 {
			return nil, nil, false
		}
		e, ok := parseDecimal(b[1 : 1+end])
		if !ok {
			return nil, nil, false
		}
		cs = append(cs, circuits.F(e))
		b = b[end+2:]
		if len(b) > 0 {
			if b[0] != ',' || len(b) == 1 {
				return nil, nil, false
			}
			b = b[1:]
		}
	}
	return &txPayload{Type: TypeAnchor, Signer: signer, Nonce: nonce, Body: body}, &Anchor{Commitments: cs}, true
}

func lowerHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return len(b) > 0 && len(b)%2 == 0
}

// canonicalUint parses decimal digits without a leading zero that fit in
// a uint64.
func canonicalUint(d []byte) (uint64, bool) {
	if len(d) == 0 || len(d) > 20 || (len(d) > 1 && d[0] == '0') {
		return 0, false
	}
	var v uint64
	for _, c := range d {
		x := uint64(c - '0')
		if v > (1<<64-1-x)/10 {
			return 0, false
		}
		v = v*10 + x
	}
	return v, true
}

// modulusBE is the field modulus as four big-endian 64-bit words.
var modulusBE = func() (w [4]uint64) {
	var b [32]byte
	fr.Modulus().FillBytes(b[:])
	for i := range w {
		w[i] = binary.BigEndian.Uint64(b[8*i:])
	}
	return w
}()

// parseDecimal is circuits.ParseElement without math/big: it accepts
// exactly what ParseElement accepts (1 to 78 digits, no leading zero, below
// the modulus) and returns the same element; false means ParseElement
// would refuse it.
func parseDecimal(d []byte) (fr.Element, bool) {
	var e fr.Element
	if len(d) == 0 || len(d) > 78 || (len(d) > 1 && d[0] == '0') {
		return e, false
	}
	var w [4]uint64 // big-endian words
	for len(d) > 0 {
		// up to 19 digits at a time: w = w*10^k + chunk, refusing a
		// value of 2^256 or more
		k := min(len(d), 19)
		chunk, mul := uint64(0), uint64(1)
		for _, c := range d[:k] {
			if c < '0' || c > '9' {
				return e, false
			}
			chunk, mul = chunk*10+uint64(c-'0'), mul*10
		}
		d = d[k:]
		carry := chunk
		for i := 3; i >= 0; i-- {
			hi, lo := bits.Mul64(w[i], mul)
			var c2 uint64
			lo, c2 = bits.Add64(lo, carry, 0)
			w[i], carry = lo, hi+c2
		}
		if carry != 0 {
			return e, false
		}
	}
	for i := range w { // below the modulus
		if w[i] != modulusBE[i] {
			if w[i] > modulusBE[i] {
				return e, false
			}
			break
		}
		if i == 3 {
			return e, false // equal
		}
	}
	var b [32]byte
	for i := range w {
		binary.BigEndian.PutUint64(b[8*i:], w[i])
	}
	e.SetBytes(b[:])
	return e, true
}
