package circuits

import (
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/frontend"
)

// HolderCircuit proves knowledge of the secret behind a holder commitment,
// bound to a challenge (an issuer's claim offer) so that the proof cannot be
// replayed for another offer.
type HolderCircuit struct {
	HolderSecret frontend.Variable

	HolderCommit frontend.Variable `gnark:",public"`
	Challenge    frontend.Variable `gnark:",public"`
}

// Define implements frontend.Circuit.
func (c *HolderCircuit) Define(api frontend.API) error {
	h, err := newHasher(api)
	if err != nil {
		return err
	}
	api.AssertIsEqual(h.HashOne(TagHolder, c.HolderSecret), c.HolderCommit)
	api.Mul(c.Challenge, c.Challenge) // bind the challenge
	return nil
}

// ProveHolder proves knowledge of secret for HolderCommit(secret) under a
// challenge.
func (k *Keys) ProveHolder(secret, challenge fr.Element) ([]byte, error) {
	return k.holder.prove(&HolderCircuit{
		HolderSecret: secret,
		HolderCommit: HolderCommit(secret),
		Challenge:    challenge,
	})
}

// VerifyHolder checks a holder proof.
func (v *Verifier) VerifyHolder(holderCommit, challenge fr.Element, proof []byte) error {
	if v.id != HolderID {
		return ErrWrongCircuit
	}
	return v.verifyVector(proof, []fr.Element{holderCommit, challenge})
}
