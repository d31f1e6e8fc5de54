package circuits

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/backend/solidity"
	"golang.org/x/crypto/sha3"
)

// SnarkJSVerifyingKey is a verifying key in snarkjs's JSON format.
type SnarkJSVerifyingKey struct {
	Protocol string       `json:"protocol"`
	Curve    string       `json:"curve"`
	NPublic  int          `json:"nPublic"`
	Alpha1   [3]string    `json:"vk_alpha_1"`
	Beta2    [3][2]string `json:"vk_beta_2"`
	Gamma2   [3][2]string `json:"vk_gamma_2"`
	Delta2   [3][2]string `json:"vk_delta_2"`
	IC       [][3]string  `json:"IC"`
}

// SnarkJSProof is a proof in snarkjs's JSON format.
type SnarkJSProof struct {
	A        [3]string    `json:"pi_a"`
	B        [3][2]string `json:"pi_b"`
	C        [3]string    `json:"pi_c"`
	Protocol string       `json:"protocol"`
	Curve    string       `json:"curve"`
}

func g1JSON(p *bn254.G1Affine) [3]string {
	return [3]string{fpDec(&p.X), fpDec(&p.Y), "1"}
}

func g2JSON(p *bn254.G2Affine) [3][2]string {
	return [3][2]string{
		{fpDec(&p.X.A0), fpDec(&p.X.A1)},
		{fpDec(&p.Y.A0), fpDec(&p.Y.A1)},
		{"1", "0"},
	}
}

// SnarkJS returns the verifying key in snarkjs's format.
func (v *Verifier) SnarkJS() *SnarkJSVerifyingKey {
	out := &SnarkJSVerifyingKey{
		Protocol: "groth16", Curve: "bn128", NPublic: v.NbPublic(),
		Alpha1: g1JSON(&v.vk.G1.Alpha),
		Beta2:  g2JSON(&v.vk.G2.Beta), Gamma2: g2JSON(&v.vk.G2.Gamma), Delta2: g2JSON(&v.vk.G2.Delta),
	}
	for i := range v.vk.G1.K {
		out.IC = append(out.IC, g1JSON(&v.vk.G1.K[i]))
	}
	return out
}

// SnarkJSProofOf converts a zkcred proof to snarkjs's format.
func SnarkJSProofOf(id string, proof []byte) (*SnarkJSProof, error) {
	p, err := decodeProof(id, proof)
	if err != nil {
		return nil, err
	}
	return &SnarkJSProof{A: g1JSON(&p.Ar), B: g2JSON(&p.Bs), C: g1JSON(&p.Krs), Protocol: "groth16", Curve: "bn128"}, nil
}

// SnarkJSPublic returns public inputs as snarkjs's public.json array.
func SnarkJSPublic(inputs []fr.Element) []string {
	out := make([]string, len(inputs))
	for i := range inputs {
		out[i] = Dec(inputs[i])
	}
	return out
}

// SolidityPragma is the compiler range of the exported contract: gnark's
// template uses assembly ("memory-safe"), which solc accepts from 0.8.13.
const SolidityPragma = "^0.8.13"

// ExportSolidity writes a Solidity contract that verifies the circuit's
// proofs (gnark's template; plain Groth16 with the EVM pairing precompile).
// Its verifyProof(bytes proof, uint256[N] input) reverts unless the proof
// holds; SolidityCalldataOf gives its arguments.
func (v *Verifier) ExportSolidity(w io.Writer) error {
	return v.vk.ExportSolidity(w, solidity.WithPragmaVersion(SolidityPragma))
}

// SolidityCalldata is a call of the exported contract's
// verifyProof(bytes proof, uint256[N] input) (calldata.json).
type SolidityCalldata struct {
	// Function is the Solidity signature, e.g. verifyProof(bytes,uint256[66]).
	Function string `json:"function"`
	// Proof is the 256-byte proof argument in hex: A.x, A.y, B.x.c1,
	// B.x.c0, B.y.c1, B.y.c0, C.x, C.y as 32-byte big-endian words. B's
	// halves come imaginary part first (EIP-197's order), the reverse of
	// snarkjs's pi_b, which lists [c0, c1].
	Proof string `json:"proof"`
	// Input is the public inputs in circuit order, as decimal strings.
	Input []string `json:"input"`
	// Calldata is the whole ABI-encoded call (selector, then the two
	// arguments), ready for eth_call.
	Calldata string `json:"calldata"`
}

// SolidityCalldataOf converts a zkcred proof and its public inputs to the
// arguments of the exported contract's verifyProof.
func SolidityCalldataOf(id string, proof []byte, inputs []fr.Element) (*SolidityCalldata, error) {
	p, err := decodeProof(id, proof)
	if err != nil {
		return nil, err
	}
	raw := p.MarshalSolidity() // A | B (c1, c0 per coordinate) | C, 256 bytes
	if len(raw) != 256 {
		return nil, fmt.Errorf("solidity proof of %d bytes, want 256", len(raw))
	}
	out := &SolidityCalldata{Proof: "0x" + hex.EncodeToString(raw)}
	for i := range inputs {
		out.Input = append(out.Input, Dec(inputs[i]))
	}
	var cd []byte
	out.Function, cd = solidityCall(raw, inputs)
	out.Calldata = "0x" + hex.EncodeToString(cd)
	return out, nil
}

// solidityCall ABI-encodes verifyProof(raw, inputs): the selector, the
// offset of the dynamic bytes (after the head: one word for it and one per
// input of the static array), the array, then the bytes' length and
// content (padded to a multiple of 32).
func solidityCall(raw []byte, inputs []fr.Element) (fn string, calldata []byte) {
	fn = fmt.Sprintf("verifyProof(bytes,uint256[%d])", len(inputs))
	k := sha3.NewLegacyKeccak256()
	k.Write([]byte(fn))
	var cd bytes.Buffer
	cd.Write(k.Sum(nil)[:4])
	word := func(x *big.Int) {
		var w [32]byte
		x.FillBytes(w[:])
		cd.Write(w[:])
	}
	word(big.NewInt(int64(32 * (1 + len(inputs)))))
	for i := range inputs {
		var x big.Int
		inputs[i].BigInt(&x)
		word(&x)
	}
	word(big.NewInt(int64(len(raw))))
	cd.Write(raw)
	cd.Write(make([]byte, (32-len(raw)%32)%32))
	return fn, cd.Bytes()
}

// VerifySnarkJS checks a Groth16 proof given entirely in snarkjs's JSON
// formats, with nothing but curve arithmetic: it parses the points, checks
// they lie on the curve and in the subgroup, and evaluates
// e(−A, B)·e(α, β)·e(L, γ)·e(C, δ) = 1 with L = IC₀ + Σ xᵢ·ICᵢ. It shares no
// code with gnark's Groth16 verifier, so it checks the export as an outside
// verifier would.
func VerifySnarkJS(vkJSON, proofJSON, publicJSON []byte) error {
	var vk SnarkJSVerifyingKey
	var pr SnarkJSProof
	var pub []string
	for _, x := range []struct {
		b []byte
		v any
	}{{vkJSON, &vk}, {proofJSON, &pr}, {publicJSON, &pub}} {
		if err := json.Unmarshal(x.b, x.v); err != nil {
			return err
		}
	}
	if vk.Protocol != "groth16" || vk.Curve != "bn128" || pr.Protocol != "groth16" {
		return errors.New("not a bn128 groth16 key and proof")
	}
	if len(pub) != vk.NPublic || len(vk.IC) != vk.NPublic+1 {
		return fmt.Errorf("%d public inputs for a key of %d", len(pub), vk.NPublic)
	}
	a, err := parseG1(pr.A)
	if err != nil {
		return err
	}
	b, err := parseG2(pr.B)
	if err != nil {
		return err
	}
	c, err := parseG1(pr.C)
	if err != nil {
		return err
	}
	alpha, err := parseG1(vk.Alpha1)
	if err != nil {
		return err
	}
	var g2s [3]bn254.G2Affine
	for i, s := range [][3][2]string{vk.Beta2, vk.Gamma2, vk.Delta2} {
		if g2s[i], err = parseG2(s); err != nil {
			return err
		}
	}
	var acc bn254.G1Jac
	ic0, err := parseG1(vk.IC[0])
	if err != nil {
		return err
	}
	acc.FromAffine(&ic0)
	for i, s := range pub {
		x, err := ParseElement(s)
		if err != nil {
			return err
		}
		icI, err := parseG1(vk.IC[i+1])
		if err != nil {
			return err
		}
		var t bn254.G1Jac
		var xb big.Int
		x.BigInt(&xb)
		t.FromAffine(&icI)
		t.ScalarMultiplication(&t, &xb)
		acc.AddAssign(&t)
	}
	var l bn254.G1Affine
	l.FromJacobian(&acc)
	a.Neg(&a)
	ok, err := bn254.PairingCheck([]bn254.G1Affine{a, alpha, l, c}, []bn254.G2Affine{b, g2s[0], g2s[1], g2s[2]})
	if err != nil {
		return err
	}
	if !ok {
		return ErrInvalidProof
	}
	return nil
}

// fpDec writes a base-field element in canonical decimal (fp's String
// abbreviates values near the modulus as negatives).
func fpDec(e *fp.Element) string {
	var b big.Int
	return e.BigInt(&b).String()
}

func parseFp(s string) (fp.Element, error) {
	var e fp.Element
	v, ok := new(big.Int).SetString(s, 10)
	if !ok || v.Sign() < 0 || v.Cmp(fp.Modulus()) >= 0 {
		return e, fmt.Errorf("coordinate %q is not a canonical base-field element", s)
	}
	e.SetBigInt(v)
	return e, nil
}

func parseG1(s [3]string) (bn254.G1Affine, error) {
	var p bn254.G1Affine
	if s[2] != "1" {
		return p, errors.New("G1 point not in affine form")
	}
	var err error
	if p.X, err = parseFp(s[0]); err != nil {
		return p, err
	}
	if p.Y, err = parseFp(s[1]); err != nil {
		return p, err
	}
	if !p.IsOnCurve() || !p.IsInSubGroup() {
		return p, errors.New("G1 point not on the curve")
	}
	return p, nil
}

func parseG2(s [3][2]string) (bn254.G2Affine, error) {
	var p bn254.G2Affine
	if s[2] != [2]string{"1", "0"} {
		return p, errors.New("G2 point not in affine form")
	}
	var err error
	for _, c := range []struct {
		dst *fp.Element
		src string
	}{{&p.X.A0, s[0][0]}, {&p.X.A1, s[0][1]}, {&p.Y.A0, s[1][0]}, {&p.Y.A1, s[1][1]}} {
		if *c.dst, err = parseFp(c.src); err != nil {
			return p, err
		}
	}
	if !p.IsOnCurve() || !p.IsInSubGroup() {
		return p, errors.New("G2 point not on the curve or outside the subgroup")
	}
	return p, nil
}
