package ceremony

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	curve "github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
	"github.com/consensys/gnark/constraint"
)

// A phase-2 file: header (KindPhase2, circuit ID), index (u32), previous
// file's hash (zero for the start), the SRS file's hash, the constraint
// system's hash (csHash), the announced beacon height (u64), the
// contributor's name, gnark's Phase2 encoding, and, in the start file
// only, the circuit's evaluations at τ: A, B (G1) and B (G2) for every
// wire, then the verifying key's K for every public wire, as compressed
// points without length prefixes.
type phase2File struct {
	Circuit      string
	Index        int
	Prev         Hash
	SRS          Hash
	CS           Hash
	BeaconHeight uint64
	Name         string
	P            *mpcsetup.Phase2
	Evals        *mpcsetup.Phase2Evaluations // start file only
}

func (f *phase2File) marshal() []byte {
	b := header{Kind: KindPhase2, Circuit: f.Circuit}.append(nil)
	b = binary.BigEndian.AppendUint32(b, uint32(f.Index))
	b = append(b, f.Prev[:]...)
	b = append(b, f.SRS[:]...)
	b = append(b, f.CS[:]...)
	b = binary.BigEndian.AppendUint64(b, f.BeaconHeight)
	b = appendString(b, f.Name)
	var buf bytes.Buffer
	if _, err := f.P.WriteTo(&buf); err != nil {
		panic(err)
	}
	b = append(b, buf.Bytes()...)
	if f.Evals != nil {
		for _, s := range [][]curve.G1Affine{f.Evals.G1.A, f.Evals.G1.B} {
			for i := range s {
				p := s[i].Bytes()
				b = append(b, p[:]...)
			}
		}
		for i := range f.Evals.G2.B {
			p := f.Evals.G2.B[i].Bytes()
			b = append(b, p[:]...)
		}
		for i := range f.Evals.G1.VKK {
			p := f.Evals.G1.VKK[i].Bytes()
			b = append(b, p[:]...)
		}
	}
	return b
}

// readPhase2File parses a phase-2 file of circuit c, checking the sizes of
// gnark's vectors against the circuit before anything is allocated.
func readPhase2File(c *Circuit, b []byte) (*phase2File, error) {
	h, r, err := readHeader(b, KindPhase2)
	if err != nil {
		return nil, err
	}
	if h.Circuit != c.ID {
		return nil, fmt.Errorf("%w: the file is for circuit %s, not %s", ErrWrongCircuit, h.Circuit, c.ID)
	}
	f := &phase2File{Circuit: h.Circuit, Index: int(r.u32()), Prev: r.hash(), SRS: r.hash(), CS: r.hash(), BeaconHeight: r.u64(), Name: r.str(maxNameLen)}
	body := r.rest()
	if r.err != nil {
		return nil, r.err
	}
	if !printableName(f.Name) {
		return nil, fmt.Errorf("%w: contributor name is not printable text", ErrFormat)
	}
	if f.CS != c.hash {
		return nil, fmt.Errorf("%w: the file is for other constraints of %s (constraint hash %s, this zkcred compiles %s)", ErrWrongCircuit, c.ID, f.CS, c.hash)
	}
	nbInternal, nbSecret, nbPublic := c.CS.GetNbVariables()
	nPKK, nZ := nbInternal+nbSecret, c.DomainSize()-1
	// nbCommitments (u16) = 0, [δ]₁, then PKK and Z with u32 lengths.
	pr := &reader{b: body}
	if nc := pr.take(2); pr.err == nil && binary.BigEndian.Uint16(nc) != 0 {
		return nil, fmt.Errorf("%w: phase 2 with gnark commitments", ErrFormat)
	}
	pr.take(32)
	if l := pr.u32(); pr.err == nil && int(l) != nPKK {
		return nil, fmt.Errorf("%w: %d private-wire points, the circuit has %d", ErrFormat, l, nPKK)
	}
	pr.take(32 * nPKK)
	if l := pr.u32(); pr.err == nil && int(l) != nZ {
		return nil, fmt.Errorf("%w: %d Z points, the circuit needs %d", ErrFormat, l, nZ)
	}
	if pr.err != nil {
		return nil, pr.err
	}
	f.P = new(mpcsetup.Phase2)
	rd := bytes.NewReader(body)
	if _, err := f.P.ReadFrom(rd); err != nil {
		return nil, fmt.Errorf("%w: phase-2 body: %v", ErrFormat, err)
	}
	rest := body[len(body)-rd.Len():]
	if f.Index != 0 {
		if len(rest) != 0 {
			return nil, fmt.Errorf("%w: %d bytes after the phase-2 body", ErrFormat, len(rest))
		}
		return f, nil
	}
	nW := nbInternal + nbSecret + nbPublic
	if want := nW*(32+32+64) + nbPublic*32; len(rest) != want {
		return nil, fmt.Errorf("%w: start file carries %d bytes of evaluations, want %d", ErrFormat, len(rest), want)
	}
	var ev mpcsetup.Phase2Evaluations
	ev.G1.A = make([]curve.G1Affine, nW)
	ev.G1.B = make([]curve.G1Affine, nW)
	ev.G2.B = make([]curve.G2Affine, nW)
	ev.G1.VKK = make([]curve.G1Affine, nbPublic)
	ci := c.CS.CommitmentInfo.(constraint.Groth16Commitments)
	ev.PublicAndCommitmentCommitted = ci.GetPublicAndCommitmentCommitted(ci.CommitmentIndexes(), nbPublic)
	ev.G1.CKK = [][]curve.G1Affine{}
	g1 := func(dst []curve.G1Affine, src []byte) error {
		return parallel(len(dst), func(i int) error {
			if _, err := dst[i].SetBytes(src[32*i : 32*i+32]); err != nil {
				return fmt.Errorf("%w: evaluation point: %v", ErrFormat, err)
			}
			return nil
		})
	}
	o := 0
	if err := g1(ev.G1.A, rest[o:]); err != nil {
		return nil, err
	}
	o += 32 * nW
	if err := g1(ev.G1.B, rest[o:]); err != nil {
		return nil, err
	}
	o += 32 * nW
	g2 := rest[o:]
	if err := parallel(nW, func(i int) error {
		if _, err := ev.G2.B[i].SetBytes(g2[64*i : 64*i+64]); err != nil {
			return fmt.Errorf("%w: evaluation point: %v", ErrFormat, err)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	o += 64 * nW
	if err := g1(ev.G1.VKK, rest[o:]); err != nil {
		return nil, err
	}
	f.Evals = &ev
	return f, nil
}

// Init starts a circuit's phase 2 from the SRS (what gnark's
// Phase2.Initialize computes, see initialize; run once by the
// coordinator) and returns the start file. beaconHeight is the
// registry block whose hash will seal the phase: announce it now, and pick
// it far enough ahead that every contribution is in before it exists.
func Init(c *Circuit, srsFile []byte, beaconHeight uint64) ([]byte, error) {
	srs, err := ReadSRS(srsFile)
	if err != nil {
		return nil, err
	}
	commons, err := truncate(&srs.Commons, c.DomainSize())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.ID, err)
	}
	p, evals := initialize(c, commons)
	f := &phase2File{Circuit: c.ID, SRS: HashFile(srsFile), CS: c.hash, BeaconHeight: beaconHeight, P: &p, Evals: &evals}
	return f.marshal(), nil
}

// Contribute adds one member's contribution to a circuit's phase 2: it
// reads the latest file, draws fresh randomness from crypto/rand (inside
// gnark's Contribute: δ is never written anywhere and is dropped when it
// returns), and returns the next file and its hash, which the member
// announces. When prev (the file before latest) is given, latest is first
// verified against it, so that nothing builds on a bad contribution.
func Contribute(c *Circuit, prev, latest []byte, name string) ([]byte, Hash, error) {
	if len(name) > maxNameLen || !printableName(name) {
		return nil, Hash{}, fmt.Errorf("contributor name must be printable text of at most %d bytes", maxNameLen)
	}
	f, err := readPhase2File(c, latest)
	if err != nil {
		return nil, Hash{}, err
	}
	if prev != nil {
		if f.Index == 0 {
			return nil, Hash{}, errors.New("the start file has no previous file")
		}
		pf, err := readPhase2File(c, prev)
		if err != nil {
			return nil, Hash{}, &ContributionError{Phase: 2, Circuit: c.ID, Index: f.Index - 1, Err: err}
		}
		if err := checkLink(c, pf, prev, f); err != nil {
			return nil, Hash{}, err
		}
	}
	f.P.Contribute()
	next := &phase2File{Circuit: c.ID, Index: f.Index + 1, Prev: HashFile(latest), SRS: f.SRS, CS: f.CS, BeaconHeight: f.BeaconHeight, Name: name, P: f.P}
	out := next.marshal()
	return out, HashFile(out), nil
}

// checkLink verifies f against the file before it (pf, whose bytes are
// prevBytes): index, hash link, same SRS, constraints and beacon height,
// and gnark's proof that f's δ update is a multiple of pf's by a secret
// f's contributor knows, made for exactly pf's hash.
func checkLink(c *Circuit, pf *phase2File, prevBytes []byte, f *phase2File) error {
	fail := func(err error) error {
		return &ContributionError{Phase: 2, Circuit: c.ID, Index: pf.Index + 1, Err: err}
	}
	if f.Index != pf.Index+1 {
		return fail(fmt.Errorf("file says it is contribution %d", f.Index))
	}
	if err := linkCheck(f.Prev, prevBytes, f.BeaconHeight, pf.BeaconHeight); err != nil {
		return fail(err)
	}
	if f.SRS != pf.SRS {
		return fail(fmt.Errorf("names another phase 1 (%s, the transcript uses %s)", f.SRS, pf.SRS))
	}
	if err := pf.P.Verify(f.P); err != nil {
		return fail(err)
	}
	return nil
}

// Phase2Result is a verified phase 2: its start, its contributions, and
// what a seal needs.
type Phase2Result struct {
	Circuit       *Circuit
	Contributions []Contribution // index 1..n
	BeaconHeight  uint64
	Last          Hash // hash of the last file

	commons *mpcsetup.SrsCommons
	evals   *mpcsetup.Phase2Evaluations
	last    *mpcsetup.Phase2
}

// Contribution is one verified contribution.
type Contribution struct {
	Index int
	Hash  Hash
	Name  string // as the contributor gave it; not authenticated
}

// VerifyPhase2 verifies a circuit's phase 2 in order: files[0] is the
// start, checked against the SRS and the constraint system (checkStart),
// and every later file against the one before it (checkLink). The SRS is
// checked for consistency (ReadSRS). The first bad file is named in a
// *ContributionError.
func VerifyPhase2(c *Circuit, srsFile []byte, files [][]byte) (*Phase2Result, error) {
	srs, err := ReadSRS(srsFile)
	if err != nil {
		return nil, fmt.Errorf("phase-1 result: %w", err)
	}
	commons, err := truncate(&srs.Commons, c.DomainSize())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.ID, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no phase-2 files", c.ID)
	}
	res := &Phase2Result{Circuit: c, commons: commons}
	var prev *phase2File
	for i, b := range files {
		f, err := readPhase2File(c, b)
		if err != nil {
			return nil, &ContributionError{Phase: 2, Circuit: c.ID, Index: i, Err: err}
		}
		if i == 0 {
			if f.Index != 0 || f.Prev != (Hash{}) || f.Evals == nil {
				return nil, &ContributionError{Phase: 2, Circuit: c.ID, Index: 0, Err: fmt.Errorf("not a start file (it says it is contribution %d)", f.Index)}
			}
			if h := HashFile(srsFile); f.SRS != h {
				return nil, &ContributionError{Phase: 2, Circuit: c.ID, Index: 0, Err: fmt.Errorf("starts from another phase 1 (%s; the phase-1 file given is %s)", f.SRS, h)}
			}
			if err := checkStart(c, commons, f.P, f.Evals); err != nil {
				return nil, &ContributionError{Phase: 2, Circuit: c.ID, Index: 0, Err: err}
			}
			res.evals, res.BeaconHeight = f.Evals, f.BeaconHeight
		} else {
			if err := checkLink(c, prev, files[i-1], f); err != nil {
				return nil, err
			}
			res.Contributions = append(res.Contributions, Contribution{Index: i, Hash: HashFile(b), Name: f.Name})
		}
		prev = f
	}
	res.last, res.Last = prev.P, HashFile(files[len(files)-1])
	return res, nil
}
