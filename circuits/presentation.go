package circuits

import (
	"github.com/consensys/gnark/frontend"
)

// PredicateVars is one predicate of the circuit's public query.
type PredicateVars struct {
	Slot   frontend.Variable
	Kind   frontend.Variable
	Values [SetSize]frontend.Variable
}

// PresentationCircuit is the universal presentation statement of variant
// s16-d32-t8 (16 slots, depth-32 credential tree, trust list of 256, 4
// predicates of up to 8 values). In one Groth16 proof it shows that the
// holder knows a credential C = H(schemaID, holderCommit, expiry, salt,
// attrs) whose leaf H(issuerID, C) is in the tree under Root (which proves
// issuance and non-revocation), that issuerID is in the trust list under
// TrustRoot, that it knows the holder secret, that Disclosed opens exactly
// the slots of Disclose, that each predicate holds, that Now ≤ expiry, and
// that Nullifier is H(secret, C, Audience, Scope), or 0 when Scope is 0.
// Height and Nonce are bound by the proof.
//
// Public inputs, in this order, are SPEC.md's; Public.Vector mirrors them.
type PresentationCircuit struct {
	HolderSecret frontend.Variable
	Salt         frontend.Variable
	Expiry       frontend.Variable
	Attrs        [Slots]frontend.Variable
	IssuerID     frontend.Variable
	LeafIndex    frontend.Variable
	Path         [Depth]frontend.Variable
	TrustIndex   frontend.Variable
	TrustPath    [TrustDepth]frontend.Variable

	Root       frontend.Variable            `gnark:",public"`
	Height     frontend.Variable            `gnark:",public"`
	TrustRoot  frontend.Variable            `gnark:",public"`
	SchemaID   frontend.Variable            `gnark:",public"`
	Now        frontend.Variable            `gnark:",public"`
	Nonce      frontend.Variable            `gnark:",public"`
	Audience   frontend.Variable            `gnark:",public"`
	Scope      frontend.Variable            `gnark:",public"`
	Nullifier  frontend.Variable            `gnark:",public"`
	Disclose   frontend.Variable            `gnark:",public"`
	Disclosed  [Slots]frontend.Variable     `gnark:",public"`
	Predicates [MaxPredicates]PredicateVars `gnark:",public"`
}

// Define implements frontend.Circuit.
func (c *PresentationCircuit) Define(api frontend.API) error {
	h, err := newHasher(api)
	if err != nil {
		return err
	}

	// Credential, leaf and membership under the published root.
	holder := h.HashOne(TagHolder, c.HolderSecret)
	in := append([]frontend.Variable{c.SchemaID, holder, c.Expiry, c.Salt}, c.Attrs[:]...)
	commitment := h.Sponge(TagCredential, in...)
	api.AssertIsDifferent(c.IssuerID, 0) // 0 is the empty trust-list leaf
	leaf := h.Sponge(TagLeaf, c.IssuerID, commitment)
	api.AssertIsEqual(h.MerkleRoot(leaf, c.LeafIndex, c.Path[:]), c.Root)

	// Issuer in the verifier's trust list.
	api.AssertIsEqual(h.MerkleRoot(c.IssuerID, c.TrustIndex, c.TrustPath[:]), c.TrustRoot)

	// Not expired: expiry - now ∈ [0, 2^64). The verifier's Now is below
	// 2^64, so this is expiry ≥ now over the integers.
	api.ToBinary(api.Sub(c.Expiry, c.Now), 64)

	// Scoped nullifier, 0 without a scope. The audience is hashed in, so a
	// verifier cannot reuse another verifier's scope to link presentations.
	nf := h.Sponge(TagNullifier, c.HolderSecret, commitment, c.Audience, c.Scope)
	api.AssertIsEqual(c.Nullifier, api.Select(api.IsZero(c.Scope), 0, nf))

	// Selective disclosure: Disclosed[i] = bit i of Disclose · attr i.
	mask := api.ToBinary(c.Disclose, Slots)
	for i := range c.Attrs {
		api.AssertIsEqual(c.Disclosed[i], api.Mul(mask[i], c.Attrs[i]))
	}

	for i := range c.Predicates {
		predicate(api, &c.Predicates[i], c.Attrs[:])
	}

	// Inputs that no other constraint uses would not be bound by the
	// proof: square each in a constraint of its own.
	// (Audience is bound by the nullifier hash.)
	for _, v := range []frontend.Variable{c.Height, c.Nonce} {
		api.Mul(v, v)
	}
	return nil
}

// predicate enforces one query predicate over attrs:
//
//	kind 0: nothing; 1: v0 ≤ x ≤ v1 (two 64-bit range checks, so x, v0 and
//	v1 need no checks of their own: see SPEC.md); 2: ∏(x - vj) = 0;
//	3: ∏(x - vj) ≠ 0.
func predicate(api frontend.API, p *PredicateVars, attrs []frontend.Variable) {
	x := mux(api, api.ToBinary(p.Slot, 4), attrs)
	k := api.ToBinary(p.Kind, 2)
	isRange := api.Mul(k[0], api.Sub(1, k[1]))
	isIn := api.Mul(k[1], api.Sub(1, k[0]))
	isNotIn := api.Mul(k[0], k[1])

	api.ToBinary(api.Mul(isRange, api.Sub(x, p.Values[0])), 64)
	api.ToBinary(api.Mul(isRange, api.Sub(p.Values[1], x)), 64)

	prod := api.Sub(x, p.Values[0])
	for _, v := range p.Values[1:] {
		prod = api.Mul(prod, api.Sub(x, v))
	}
	api.AssertIsEqual(api.Mul(isIn, prod), 0)
	api.AssertIsEqual(api.Mul(isNotIn, api.IsZero(prod)), 0)
}
