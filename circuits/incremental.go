package circuits

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	groth16 "github.com/consensys/gnark/backend/groth16/bn254"
)

// ProverState lets a holder prove the same credential again at a fraction
// of a full proof's cost. A Groth16 proof is, apart from the quotient H and
// the fresh blinding r and s, four multi-exponentiations that are linear in
// the solved wire vector; the state keeps that vector and the four sums, so
// that the next proof computes only Σ (w′ᵢ − wᵢ)·Pᵢ over the wires that
// changed (a new request changes about 2 % of them) and recomputes H in
// full. Proofs made from a state are distributed exactly as full proofs.
//
// A state belongs to one credential and one proving key. It holds the
// holder secret, the salt, the attributes and the Merkle path in the clear:
// store it only encrypted, like the credentials themselves. The zero value
// is the empty state, from which ProveFrom makes a full proof.
type ProverState struct {
	key   [32]byte   // keyDigest of the proving key
	cred  fr.Element // credential commitment
	wires []fr.Element
	sums  wireSums
}

// Reasons a prover state is not used. ProveFrom then makes a full proof and
// reports the reason in ProveInfo.Fallback.
var (
	ErrProverState          = errors.New("prover state unusable")
	ErrStateEmpty           = fmt.Errorf("%w: empty", ErrProverState)
	ErrStateOtherKey        = fmt.Errorf("%w: made with another proving key", ErrProverState)
	ErrStateOtherCredential = fmt.Errorf("%w: made for another credential", ErrProverState)
	ErrStateCorrupt         = fmt.Errorf("%w: corrupt", ErrProverState)
)

// ProveInfo says how ProveFrom made its proof.
type ProveInfo struct {
	Incremental bool  // from the state
	Changed     int   // wires that differed from the state's (all nonzero wires for a full proof)
	Fallback    error // why the state was not used, wrapping ErrProverState; nil if it was
}

// lazyProver derives the prover's tables from the presentation key once.
type lazyProver struct {
	once sync.Once
	k    *proverKey
	err  error
}

func (k *Keys) prover() (*proverKey, error) {
	k.inc.once.Do(func() { k.inc.k, k.inc.err = newProverKey(k.pres.ccs, k.pres.pk) })
	return k.inc.k, k.inc.err
}

// usable returns why st cannot be used for a witness of the credential
// with commitment cred, or nil.
func (st *ProverState) usable(k *proverKey, cred *fr.Element) error {
	switch {
	case st == nil || st.wires == nil:
		return ErrStateEmpty
	case st.key != k.digest || len(st.wires) != k.nbWires:
		return ErrStateOtherKey
	case !st.cred.Equal(cred):
		return ErrStateOtherCredential
	}
	return nil
}

// UpdateState sets st to the witness w: its wire vector and sums, computed
// from st's by difference when st is usable, in full otherwise. It makes no
// proof. The wallet calls it when it receives a credential and whenever the
// root or path changes, so that presenting costs only the request's part.
func (k *Keys) UpdateState(st *ProverState, w *Witness) error {
	if err := w.Check(); err != nil {
		return err
	}
	pk, err := k.prover()
	if err != nil {
		return err
	}
	s, err := pk.solve(w.assignment())
	if err != nil {
		return err
	}
	cred := w.Credential.Commitment()
	var base wireSums
	var old []fr.Element
	if st.usable(pk, &cred) == nil {
		base, old = st.sums, st.wires
	}
	var ds wireSums
	if err := pk.sums(pk.newDelta(old, s.w), &ds); err != nil {
		return err
	}
	base.add(&ds)
	*st = ProverState{key: pk.digest, cred: cred, wires: s.w, sums: base}
	return nil
}

// ProveFrom proves a presentation like Prove, from the prover state st
// (which it does not change). When st is usable (for this credential and
// key, at any earlier witness: an older root or request only makes the
// difference larger) it computes only the difference to st's witness, and
// falls back to a full proof when the proof fails the verifying key (a
// corrupted state); when st is nil, empty or for another credential or key
// it makes a full proof. Every proof is checked with the verifying key
// before it is returned (about 1.5 ms): a full proof that fails means a
// proving key of another setup, and is an error.
// Either way the proof has the distribution of gnark's: fresh r and s
// every time.
func (k *Keys) ProveFrom(st *ProverState, w *Witness) ([]byte, *Public, ProveInfo, error) {
	var info ProveInfo
	if err := w.Check(); err != nil {
		return nil, nil, info, err
	}
	pk, err := k.prover()
	if err != nil {
		return nil, nil, info, err
	}
	pub := w.Public()
	s, err := pk.solve(w.assignmentFor(pub))
	if err != nil {
		return nil, nil, info, err
	}
	cred := w.Credential.Commitment()
	if info.Fallback = st.usable(pk, &cred); info.Fallback == nil {
		d := pk.newDelta(st.wires, s.w)
		p, _, err := pk.prove(&st.sums, d, s)
		if err != nil {
			return nil, nil, info, err
		}
		if k.pres.v.checkPlain(p, pub.Vector()) == nil {
			info.Incremental, info.Changed = true, d.changed
			return encodeProof(k.pres.id, p), pub, info, nil
		}
		info.Fallback = ErrStateCorrupt
	}
	d := pk.newDelta(nil, s.w)
	p, _, err := pk.prove(&wireSums{}, d, s)
	if err != nil {
		return nil, nil, info, err
	}
	// A full proof that fails the check means keys that do not belong
	// together (a proving key of another setup than the verifying key):
	// nothing to send.
	if err := k.pres.v.checkPlain(p, pub.Vector()); err != nil {
		return nil, nil, info, fmt.Errorf("the proving and verifying keys do not match: %w", err)
	}
	info.Changed = d.changed
	return encodeProof(k.pres.id, p), pub, info, nil
}

// checkPlain is Verifier.check without the fixed-base tables, whose build
// (0.4 s) a wallet, proving once per process, should not pay for.
func (v *Verifier) checkPlain(p *groth16.Proof, inputs []fr.Element) error {
	if len(inputs) != v.NbPublic() {
		return fmt.Errorf("%w: %d public inputs, want %d", ErrInvalidProof, len(inputs), v.NbPublic())
	}
	var l bn254.G1Jac
	if _, err := l.MultiExp(v.vk.G1.K[1:], inputs, ecc.MultiExpConfig{}); err != nil {
		return err
	}
	l.AddMixed(&v.vk.G1.K[0])
	var negL, negC bn254.G1Affine
	negL.FromJacobian(&l)
	negL.Neg(&negL)
	negC.Neg(&p.Krs)
	lines := [][2][len(bn254.LoopCounter)]bn254.LineEvaluationAff{v.lines[0], v.lines[1]}
	fixed, err := bn254.MillerLoopFixedQ([]bn254.G1Affine{negL, negC}, lines)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidProof, err)
	}
	ml, err := bn254.MillerLoop([]bn254.G1Affine{p.Ar}, []bn254.G2Affine{p.Bs})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidProof, err)
	}
	ml.Mul(&ml, &fixed)
	if res := bn254.FinalExponentiation(&ml); !res.Equal(&v.eAlphaBeta) {
		return fmt.Errorf("%w: pairing check failed", ErrInvalidProof)
	}
	return nil
}

// keyDigest is the SHA-256 of everything in a proving key that the wire
// sums depend on: the wire counts, the infinity maps and the A, B (G1 and
// G2) and K points, as their coordinates' limbs.
func keyDigest(pk *groth16.ProvingKey, nbPublic int) [32]byte {
	h := sha256.New()
	var buf []byte
	u64 := func(x uint64) { buf = binary.LittleEndian.AppendUint64(buf, x) }
	fpE := func(e *fp.Element) {
		for _, l := range e {
			u64(l)
		}
	}
	flush := func() {
		if len(buf) >= 1<<16 {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	buf = append(buf, "zkcred prover key v1"...)
	u64(uint64(nbPublic))
	for _, inf := range [][]bool{pk.InfinityA, pk.InfinityB} {
		u64(uint64(len(inf)))
		for _, b := range inf {
			if b {
				buf = append(buf, 1)
			} else {
				buf = append(buf, 0)
			}
		}
		flush()
	}
	for _, pts := range [][]bn254.G1Affine{pk.G1.A, pk.G1.B, pk.G1.K} {
		u64(uint64(len(pts)))
		for i := range pts {
			fpE(&pts[i].X)
			fpE(&pts[i].Y)
			flush()
		}
	}
	u64(uint64(len(pk.G2.B)))
	for i := range pk.G2.B {
		p := &pk.G2.B[i]
		fpE(&p.X.A0)
		fpE(&p.X.A1)
		fpE(&p.Y.A0)
		fpE(&p.Y.A1)
		flush()
	}
	h.Write(buf)
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// kindProverState is the header kind of a serialised prover state.
const kindProverState byte = 4

// maxStateWires bounds the wire count a serialised state may claim.
const maxStateWires = 1 << 20

// MarshalBinary encodes the state: a zkcred header, the key digest, the
// credential commitment, the wire vector (each wire as a length byte and
// its minimal big-endian bytes: bits and small values take one or two
// bytes), the four sums compressed, and a SHA-256 of all of it. The empty
// state cannot be encoded. The encoding holds the holder's secrets.
func (st *ProverState) MarshalBinary() ([]byte, error) {
	if st.wires == nil {
		return nil, ErrStateEmpty
	}
	var b bytes.Buffer
	b.Grow(len(st.wires)*33 + 512)
	writeHeader(&b, kindProverState, PresentationID)
	b.Write(st.key[:])
	c := st.cred.Bytes()
	b.Write(c[:])
	binary.Write(&b, binary.BigEndian, uint32(len(st.wires)))
	for i := range st.wires {
		v := st.wires[i].Bytes()
		j := 0
		for j < len(v) && v[j] == 0 {
			j++
		}
		b.WriteByte(byte(len(v) - j))
		b.Write(v[j:])
	}
	var a, b1, k bn254.G1Affine
	var b2 bn254.G2Affine
	a.FromJacobian(&st.sums.a)
	b1.FromJacobian(&st.sums.b1)
	k.FromJacobian(&st.sums.k)
	b2.FromJacobian(&st.sums.b2)
	for _, p := range []*bn254.G1Affine{&a, &b1, &k} {
		x := p.Bytes()
		b.Write(x[:])
	}
	x := b2.Bytes()
	b.Write(x[:])
	sum := sha256.Sum256(b.Bytes())
	b.Write(sum[:])
	return b.Bytes(), nil
}

// UnmarshalBinary decodes a state written by MarshalBinary (by this gnark
// version). It rejects a state whose checksum, encoding or points are
// wrong with ErrStateCorrupt, and one for another circuit with
// ErrWrongCircuit.
func (st *ProverState) UnmarshalBinary(data []byte) error {
	corrupt := func(what string) error { return fmt.Errorf("%w: %s", ErrStateCorrupt, what) }
	if len(data) < sha256.Size {
		return corrupt("too short")
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return corrupt("checksum mismatch")
	}
	r := bytes.NewReader(body)
	id, err := readHeader(r, kindProverState)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStateCorrupt, err)
	}
	if id != PresentationID {
		return ErrWrongCircuit
	}
	var out ProverState
	var fixed [32 + 32 + 4]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return corrupt("truncated")
	}
	copy(out.key[:], fixed[:32])
	if err := out.cred.SetBytesCanonical(fixed[32:64]); err != nil {
		return corrupt("credential commitment not canonical")
	}
	n := binary.BigEndian.Uint32(fixed[64:])
	if n == 0 || n > maxStateWires || int(n) > r.Len() {
		return corrupt("wire count")
	}
	out.wires = make([]fr.Element, n)
	var v [fr.Bytes]byte
	for i := range out.wires {
		l, err := r.ReadByte()
		if err != nil || l > fr.Bytes || int(l) > r.Len() {
			return corrupt("truncated wires")
		}
		clear(v[:])
		io.ReadFull(r, v[fr.Bytes-int(l):]) // length checked above
		if l > 0 && v[fr.Bytes-int(l)] == 0 {
			return corrupt("wire not minimally encoded")
		}
		if err := out.wires[i].SetBytesCanonical(v[:]); err != nil {
			return corrupt("wire not canonical")
		}
	}
	rest := body[len(body)-r.Len():]
	if len(rest) != 3*bn254.SizeOfG1AffineCompressed+bn254.SizeOfG2AffineCompressed {
		return corrupt("wire sums")
	}
	for i, p := range []*bn254.G1Jac{&out.sums.a, &out.sums.b1, &out.sums.k} {
		var q bn254.G1Affine
		if _, err := q.SetBytes(rest[i*32 : (i+1)*32]); err != nil {
			return corrupt("wire sum not on the curve")
		}
		p.FromAffine(&q)
	}
	var q bn254.G2Affine
	if _, err := q.SetBytes(rest[96:]); err != nil {
		return corrupt("wire sum not on the curve")
	}
	out.sums.b2.FromAffine(&q)
	// One encoding per state: anything else (another gnark version in the
	// header, a non-canonical point) is refused too.
	if again, err := out.MarshalBinary(); err != nil || !bytes.Equal(again, data) {
		return corrupt("not the canonical encoding")
	}
	*st = out
	return nil
}
