package circuits

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	gnark "github.com/consensys/gnark"
	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	groth16 "github.com/consensys/gnark/backend/groth16/bn254"
	cs "github.com/consensys/gnark/constraint/bn254"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
)

// Circuit identifiers, written in every key and proof header.
const (
	PresentationID = "zkcred/presentation/2-s16-d32-t8-p4-v8"
	HolderID       = "zkcred/holder-2"
)

// File kinds and the header format version (SPEC.md, "Key and proof files").
const (
	kindProvingKey   byte = 1
	kindVerifyingKey byte = 2
	kindProof        byte = 3
	formatVersion    byte = 2
	magic                 = "ZKCRED"
)

// proofSize is the size of a proof body: A (G1), B (G2), C (G1), compressed.
const proofSize = 32 + 64 + 32

// Errors reading keys and proofs.
var (
	ErrFormat         = errors.New("not a zkcred key or proof, or another format version")
	ErrWrongCircuit   = errors.New("key or proof is for another circuit")
	ErrInvalidProof   = errors.New("proof does not verify")
	ErrMalformedProof = fmt.Errorf("malformed proof: %w", ErrInvalidProof)
)

func writeHeader(w io.Writer, kind byte, circuit string) error {
	var b bytes.Buffer
	b.WriteString(magic)
	b.WriteByte(kind)
	b.WriteByte(formatVersion)
	writeString := func(s string) {
		binary.Write(&b, binary.BigEndian, uint16(len(s)))
		b.WriteString(s)
	}
	writeString(circuit)
	writeString(gnark.Version.String())
	_, err := w.Write(b.Bytes())
	return err
}

// readHeader checks the header and returns the circuit id.
func readHeader(r io.Reader, kind byte) (string, error) {
	id, _, err := readHeaderVersion(r, kind)
	return id, err
}

// readHeaderVersion checks the header and returns the circuit id and the
// gnark version that wrote the file.
func readHeaderVersion(r io.Reader, kind byte) (id, version string, err error) {
	var fixed [len(magic) + 2]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return "", "", fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if string(fixed[:len(magic)]) != magic || fixed[len(magic)] != kind || fixed[len(magic)+1] != formatVersion {
		return "", "", ErrFormat
	}
	readString := func() (string, error) {
		var n uint16
		if err := binary.Read(r, binary.BigEndian, &n); err != nil {
			return "", fmt.Errorf("%w: %v", ErrFormat, err)
		}
		if n > 256 {
			return "", ErrFormat
		}
		s := make([]byte, n)
		if _, err := io.ReadFull(r, s); err != nil {
			return "", fmt.Errorf("%w: %v", ErrFormat, err)
		}
		return string(s), nil
	}
	if id, err = readString(); err != nil {
		return "", "", err
	}
	if version, err = readString(); err != nil {
		return "", "", err
	}
	return id, version, nil
}

// circuitKeys are one circuit's constraint system and keys.
type circuitKeys struct {
	id  string
	ccs *cs.R1CS
	pk  *groth16.ProvingKey
	vk  *groth16.VerifyingKey
	v   *Verifier
}

// Keys hold the proving and verifying keys of zkcred's circuits.
type Keys struct {
	pres, holder circuitKeys
	inc          lazyProver // the presentation prover's tables (incremental.go)
}

// compiles counts compilations, for the tests of the constraint cache.
var compiles atomic.Int64

func compile(c frontend.Circuit) (*cs.R1CS, error) {
	compiles.Add(1)
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
	if err != nil {
		return nil, err
	}
	return ccs.(*cs.R1CS), nil
}

// UnsafeSetupWarning is printed whenever development keys are made.
const UnsafeSetupWarning = `WARNING: these Groth16 keys were made by one process, which knew the setup's
toxic waste. Anyone holding it can forge proofs. Use them for development only;
production keys come from a multi-party ceremony.`

func setupCircuit(id string, c frontend.Circuit) (circuitKeys, error) {
	ccs, err := compile(c)
	if err != nil {
		return circuitKeys{}, fmt.Errorf("compile %s: %w", id, err)
	}
	var pk groth16.ProvingKey
	var vk groth16.VerifyingKey
	if err := groth16.Setup(ccs, &pk, &vk); err != nil {
		return circuitKeys{}, fmt.Errorf("setup %s: %w", id, err)
	}
	return circuitKeys{id: id, ccs: ccs, pk: &pk, vk: &vk, v: newVerifier(id, &vk)}, nil
}

// Setup makes fresh development keys in memory (single party: unsafe).
func Setup() (*Keys, error) {
	pres, err := setupCircuit(PresentationID, &PresentationCircuit{})
	if err != nil {
		return nil, err
	}
	holder, err := setupCircuit(HolderID, &HolderCircuit{})
	if err != nil {
		return nil, err
	}
	return &Keys{pres: pres, holder: holder}, nil
}

// LoadOrSetup loads cached keys from dir, or makes development keys, caches
// them there and prints UnsafeSetupWarning and progress to progress (which
// may be nil).
func LoadOrSetup(dir string, progress io.Writer) (*Keys, error) {
	if progress == nil {
		progress = io.Discard
	}
	if k, err := LoadKeysDir(dir); err == nil {
		return k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(progress, "cached keys in %s unusable (%v); making new ones\n", dir, err)
	}
	fmt.Fprintf(progress, "making development keys for %s and %s...\n", PresentationID, HolderID)
	start := time.Now()
	k, err := Setup()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "keys made in %v\n%s\n", time.Since(start).Round(time.Millisecond), UnsafeSetupWarning)
	if err := WriteKeysDir(dir, k); err != nil {
		return nil, err
	}
	return k, nil
}

// decodeProvingKey reads a proving key of circuit id (from path) from r.
func decodeProvingKey(r io.Reader, path, id string) (*groth16.ProvingKey, error) {
	got, err := readHeader(r, kindProvingKey)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if got != id {
		return nil, fmt.Errorf("%s: %w", path, ErrWrongCircuit)
	}
	var pk groth16.ProvingKey
	if err := pk.ReadDump(r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &pk, nil
}

// Constraints returns the presentation circuit's constraint count.
func (k *Keys) Constraints() int { return k.pres.ccs.GetNbConstraints() }

// Verifier returns the presentation verifier.
func (k *Keys) Verifier() *Verifier { return k.pres.v }

// HolderVerifier returns the verifier of holder proofs.
func (k *Keys) HolderVerifier() *Verifier { return k.holder.v }

// ProvingKeyBytes returns the size of the presentation proving key as saved.
func (k *Keys) ProvingKeyBytes() int64 {
	var n countWriter
	k.pres.pk.WriteDump(&n)
	return int64(n)
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

// Prove proves a presentation. It checks the witness natively first and
// returns that error (wrapping ErrUnprovable) instead of a failed proof.
func (k *Keys) Prove(w *Witness) ([]byte, *Public, error) {
	proof, pub, _, err := k.ProveFrom(nil, w) // the empty state: a full proof
	return proof, pub, err
}

func (c *circuitKeys) prove(assignment frontend.Circuit) ([]byte, error) {
	wit, err := frontend.NewWitness(assignment, ecc.BN254.ScalarField())
	if err != nil {
		return nil, err
	}
	p, err := groth16.Prove(c.ccs, c.pk, wit)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnprovable, err)
	}
	return encodeProof(c.id, p), nil
}

func encodeProof(id string, p *groth16.Proof) []byte {
	var b bytes.Buffer
	writeHeader(&b, kindProof, id)
	a, bb, c := p.Ar.Bytes(), p.Bs.Bytes(), p.Krs.Bytes()
	b.Write(a[:])
	b.Write(bb[:])
	b.Write(c[:])
	return b.Bytes()
}

// decodeProof parses a proof for the circuit id, checking every point is on
// the curve and in the right subgroup (gnark-crypto's SetBytes checks both).
func decodeProof(id string, b []byte) (*groth16.Proof, error) {
	r := bytes.NewReader(b)
	got, err := readHeader(r, kindProof)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedProof, err)
	}
	if got != id {
		return nil, fmt.Errorf("%w: %w", ErrMalformedProof, ErrWrongCircuit)
	}
	rest := b[len(b)-r.Len():]
	if len(rest) != proofSize {
		return nil, fmt.Errorf("%w: body is %d bytes, want %d", ErrMalformedProof, len(rest), proofSize)
	}
	var p groth16.Proof
	if _, err := p.Ar.SetBytes(rest[:32]); err != nil {
		return nil, fmt.Errorf("%w: A: %v", ErrMalformedProof, err)
	}
	if _, err := p.Bs.SetBytes(rest[32:96]); err != nil {
		return nil, fmt.Errorf("%w: B: %v", ErrMalformedProof, err)
	}
	if _, err := p.Krs.SetBytes(rest[96:]); err != nil {
		return nil, fmt.Errorf("%w: C: %v", ErrMalformedProof, err)
	}
	return &p, nil
}

// Verifier checks proofs of one circuit against its verifying key.
type Verifier struct {
	id string
	vk *groth16.VerifyingKey

	// Precomputed: e(α, β), and the Miller-loop lines of the fixed G2
	// points γ and δ.
	eAlphaBeta bn254.GT
	lines      [][2][len(bn254.LoopCounter)]bn254.LineEvaluationAff
	fixed      func() *fixedBase // tables for K, built on first use
}

func newVerifier(id string, vk *groth16.VerifyingKey) *Verifier {
	v := &Verifier{id: id, vk: vk}
	var err error
	if v.eAlphaBeta, err = bn254.Pair([]bn254.G1Affine{vk.G1.Alpha}, []bn254.G2Affine{vk.G2.Beta}); err != nil {
		panic(err) // only for points off the curve, which decoding refuses
	}
	v.lines = [][2][len(bn254.LoopCounter)]bn254.LineEvaluationAff{
		bn254.PrecomputeLines(vk.G2.Gamma), bn254.PrecomputeLines(vk.G2.Delta),
	}
	v.fixed = sync.OnceValue(func() *fixedBase { return newFixedBase(vk.G1.K) })
	return v
}

// ReadVerifyingKey reads a verifying key file written by Verifier.Write.
func ReadVerifyingKey(r io.Reader) (*Verifier, error) {
	id, err := readHeader(r, kindVerifyingKey)
	if err != nil {
		return nil, err
	}
	var vk groth16.VerifyingKey
	if _, err := vk.ReadFrom(r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if len(vk.CommitmentKeys) != 0 {
		return nil, fmt.Errorf("%w: verifying key uses gnark commitments", ErrFormat)
	}
	return newVerifier(id, &vk), nil
}

// Write writes the verifying key behind a zkcred header.
func (v *Verifier) Write(w io.Writer) error {
	if err := writeHeader(w, kindVerifyingKey, v.id); err != nil {
		return err
	}
	_, err := v.vk.WriteTo(w)
	return err
}

// Prepare builds the verifier's precomputed tables now rather than on the
// first Verify (about 0.4 s and 34 MB for the presentation circuit), so
// that a server's first requests are as fast as the rest.
func (v *Verifier) Prepare() { v.fixed() }

// CircuitID returns the circuit the key belongs to.
func (v *Verifier) CircuitID() string { return v.id }

// Hash returns the hex SHA-256 of the verifying key in gnark's compressed
// encoding (no header): the value published on the chain.
func (v *Verifier) Hash() string {
	h := sha256.New()
	v.vk.WriteTo(h)
	return hex.EncodeToString(h.Sum(nil))
}

// NbPublic returns the number of public inputs.
func (v *Verifier) NbPublic() int { return len(v.vk.G1.K) - 1 }

// Verify checks a presentation proof against its public statement.
func (v *Verifier) Verify(proof []byte, pub *Public) error {
	if v.id != PresentationID {
		return ErrWrongCircuit
	}
	return v.verifyVector(proof, pub.Vector())
}

func (v *Verifier) verifyVector(proof []byte, inputs []fr.Element) error {
	p, err := decodeProof(v.id, proof)
	if err != nil {
		return err
	}
	if len(inputs) != v.NbPublic() {
		return fmt.Errorf("%w: %d public inputs, want %d", ErrInvalidProof, len(inputs), v.NbPublic())
	}
	return v.check(p, inputs)
}

// check evaluates e(A, B)·e(−L, γ)·e(−C, δ) = e(α, β), L = K₀ + Σ xᵢ·Kᵢ₊₁,
// with fixed-base tables for L and precomputed Miller-loop lines for γ and
// δ. The Miller loop of (A, B) runs beside the rest, on the second core.
func (v *Verifier) check(p *groth16.Proof, inputs []fr.Element) error {
	type result struct {
		ml  bn254.GT
		err error
	}
	ch := make(chan result, 1)
	go func() {
		ml, err := bn254.MillerLoop([]bn254.G1Affine{p.Ar}, []bn254.G2Affine{p.Bs})
		ch <- result{ml, err}
	}()
	negL := v.fixed().eval(inputs)
	var negC bn254.G1Affine
	negL.Neg(&negL)
	negC.Neg(&p.Krs)
	// MillerLoopFixedQ scales the lines it is given in place: give it a copy.
	lines := [][2][len(bn254.LoopCounter)]bn254.LineEvaluationAff{v.lines[0], v.lines[1]}
	fixed, err := bn254.MillerLoopFixedQ([]bn254.G1Affine{negL, negC}, lines)
	r := <-ch
	if err == nil {
		err = r.err
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidProof, err)
	}
	ml := r.ml
	ml.Mul(&ml, &fixed)
	if res := bn254.FinalExponentiation(&ml); !res.Equal(&v.eAlphaBeta) {
		return fmt.Errorf("%w: pairing check failed", ErrInvalidProof)
	}
	return nil
}
