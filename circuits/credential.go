package circuits

import (
	"crypto/rand"
	"math"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// NoExpiry is the expiry of a credential that never expires.
const NoExpiry uint64 = math.MaxUint64

// Credential is the private content behind a credential commitment: what the
// wallet keeps and the circuit opens.
type Credential struct {
	SchemaID     fr.Element
	HolderCommit fr.Element
	Expiry       uint64 // Unix seconds; NoExpiry for none
	Salt         fr.Element
	Attrs        [Slots]fr.Element
}

// Commitment returns C = H(TagCredential, schemaID, holderCommit, expiry,
// salt, attrs[0..15]): 20 inputs, the width-16 sponge, two permutations.
func (c *Credential) Commitment() fr.Element {
	in := make([]fr.Element, 0, 4+Slots)
	in = append(in, c.SchemaID, c.HolderCommit, U64(c.Expiry), c.Salt)
	in = append(in, c.Attrs[:]...)
	return Sponge(TagCredential, in...)
}

// RandomElement returns a uniformly random nonzero field element.
func RandomElement() fr.Element {
	for {
		var e fr.Element
		if _, err := e.SetRandom(); err != nil {
			panic(err) // crypto/rand failure
		}
		if !e.IsZero() {
			return e
		}
	}
}

// RandomBytes31 returns a random field element below 2^248, for nonces.
func RandomBytes31() fr.Element {
	var b [31]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	var e fr.Element
	e.SetBytes(b[:])
	return e
}
