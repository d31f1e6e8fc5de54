package circuits

import (
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/poseidon2"
)

// Domain tags. Every hash that zkcred computes starts from one of these, so
// that a digest made for one purpose can never be taken for another. The
// values are normative (SPEC.md, "Domain tags").
const (
	TagString     uint64 = 1  // UTF-8 string attribute: sponge over (len, 31-byte chunks)
	TagHolder     uint64 = 2  // holderCommit = compress(TagHolder, holderSecret)
	TagCredential uint64 = 3  // C = sponge16(TagCredential; schemaID, holderCommit, expiry, salt, attrs[16])
	TagLeaf       uint64 = 4  // leaf = sponge4(TagLeaf; issuerID, C)
	TagNullifier  uint64 = 5  // nf = sponge8(TagNullifier; holderSecret, C, audience, scope)
	TagSchema     uint64 = 6  // schemaID = bytes hash of the schema's canonical JSON
	TagIssuer     uint64 = 7  // issuerID = bytes hash of the issuer's ed25519 public key
	TagAudience   uint64 = 8  // audience = bytes hash of the verifier's audience string
	TagScope      uint64 = 9  // scope = bytes hash of the nullifier scope string
	TagBytes      uint64 = 10 // generic bytes (transaction ids, request ids)
)

// Sponge widths allowed by DESIGN.md, with rounds fixed by gnark-crypto.
var spongeRounds = map[int][2]int{4: {8, 56}, 8: {8, 57}, 12: {8, 57}, 16: {8, 57}}

// Width-2 compression parameters: the round numbers of the Poseidon2 paper
// (Grassi, Khovratovich, Schofnegger, eprint 2023/323) for t = 2, x^5 and a
// 254-bit prime at 128-bit security with its security margin (two extra full
// rounds, 7.5 % more partial rounds): rf 8, rp 56. gnark-crypto's default
// 6/50 has no margin. Round keys come from gnark-crypto's NewParameters for
// these numbers (SPEC.md, "Hashes").
const (
	compressFullRounds    = 8
	compressPartialRounds = 56
)

var (
	compressPerm = sync.OnceValue(func() *poseidon2.Permutation {
		return poseidon2.NewPermutation(2, compressFullRounds, compressPartialRounds)
	})
	spongePerms = sync.OnceValue(func() map[int]*poseidon2.Permutation {
		m := make(map[int]*poseidon2.Permutation, len(spongeRounds))
		for w, r := range spongeRounds {
			m[w] = poseidon2.NewPermutation(w, r[0], r[1])
		}
		return m
	})
)

// Compress is the width-2 Poseidon2 compression used for Merkle nodes and
// one-input hashes: P(l, r)[1] + r, exactly gnark-crypto's Compress.
func Compress(l, r fr.Element) fr.Element {
	x := [2]fr.Element{l, r}
	if err := compressPerm().Permutation(x[:]); err != nil {
		panic(err) // width is fixed at 2
	}
	var out fr.Element
	out.Add(&x[1], &r)
	return out
}

// widthFor returns the smallest allowed permutation width whose rate
// (width-1) covers n inputs, or 16 when n exceeds 15 (several blocks).
func widthFor(n int) int {
	for _, w := range []int{4, 8, 12} {
		if n <= w-1 {
			return w
		}
	}
	return 16
}

// Sponge hashes a fixed-arity input under a domain tag: the capacity element
// (state[0]) starts as the tag, inputs are added into state[1:] one rate-sized
// block at a time with a permutation after each block (the last block is
// zero-padded), and the digest is state[1]. Width is widthFor(len(in)).
func Sponge(tag uint64, in ...fr.Element) fr.Element {
	return spongeAt(widthFor(len(in)), tag, in)
}

func spongeAt(w int, tag uint64, in []fr.Element) fr.Element {
	perm := spongePerms()[w]
	state := make([]fr.Element, w)
	state[0].SetUint64(tag)
	rate := w - 1
	for start := 0; ; start += rate {
		end := min(start+rate, len(in))
		for i := start; i < end; i++ {
			state[1+i-start].Add(&state[1+i-start], &in[i])
		}
		if err := perm.Permutation(state); err != nil {
			panic(err)
		}
		if end == len(in) {
			return state[1]
		}
	}
}

// HashOne is the tagged one-input hash: Compress(tag, x).
func HashOne(tag uint64, x fr.Element) fr.Element {
	var t fr.Element
	t.SetUint64(tag)
	return Compress(t, x)
}

// HashBytes hashes a byte string under a tag: the input is the byte length
// followed by the bytes in 31-byte big-endian chunks (each below the
// modulus), absorbed by the width-16 sponge whatever the length. The length
// prefix makes the encoding injective across lengths.
func HashBytes(tag uint64, b []byte) fr.Element {
	in := make([]fr.Element, 0, 1+(len(b)+30)/31)
	in = append(in, U64(uint64(len(b))))
	for i := 0; i < len(b); i += 31 {
		var e fr.Element
		e.SetBytes(b[i:min(i+31, len(b))])
		in = append(in, e)
	}
	return spongeAt(16, tag, in)
}

// HolderCommit returns H(TagHolder, secret).
func HolderCommit(secret fr.Element) fr.Element { return HashOne(TagHolder, secret) }

// Nullifier returns H(TagNullifier, secret, C, audience, scope), or 0 when
// scope is 0. The audience (AudienceID of the verifier) is hashed in, so two
// verifiers that use one scope name still see unrelated nullifiers, and the
// circuit takes it from the public Audience input, which the verifier
// recomputes from its own identity.
func Nullifier(secret, commitment, audience, scope fr.Element) fr.Element {
	if scope.IsZero() {
		return fr.Element{}
	}
	return Sponge(TagNullifier, secret, commitment, audience, scope)
}

// LeafHash returns the registry leaf H(TagLeaf, issuerID, C).
func LeafHash(issuerID, commitment fr.Element) fr.Element {
	return Sponge(TagLeaf, issuerID, commitment)
}

// IssuerID derives an issuer's field identifier from its ed25519 public key.
func IssuerID(pub []byte) fr.Element { return HashBytes(TagIssuer, pub) }

// AudienceID maps a verifier's audience string to the field.
func AudienceID(aud string) fr.Element { return HashBytes(TagAudience, []byte(aud)) }

// ScopeID maps a nullifier scope string to the field; the empty scope is 0
// (no nullifier).
func ScopeID(scope string) fr.Element {
	if scope == "" {
		return fr.Element{}
	}
	return HashBytes(TagScope, []byte(scope))
}

// StringValue encodes a string attribute.
func StringValue(s string) fr.Element { return HashBytes(TagString, []byte(s)) }

// U64 returns x as a field element.
func U64(x uint64) fr.Element {
	var e fr.Element
	e.SetUint64(x)
	return e
}
