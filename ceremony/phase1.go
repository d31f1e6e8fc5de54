package ceremony

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"unicode"
	"unicode/utf8"

	curve "github.com/consensys/gnark-crypto/ecc/bn254"
	cmpc "github.com/consensys/gnark-crypto/ecc/bn254/mpcsetup"
	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
)

// A native phase-1 file: header (KindPhase1, no circuit), index (u32),
// previous file's hash, the announced beacon height (u64), the
// contributor's name, then gnark's Phase1 encoding.
type phase1File struct {
	Index        int
	Prev         Hash
	BeaconHeight uint64
	Name         string
	P            *mpcsetup.Phase1
}

const maxNameLen = 200

// printableName reports whether a contributor name is valid UTF-8 without
// control characters (names are printed to people).
func printableName(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func (f *phase1File) marshal() []byte {
	b := header{Kind: KindPhase1}.append(nil)
	b = binary.BigEndian.AppendUint32(b, uint32(f.Index))
	b = append(b, f.Prev[:]...)
	b = binary.BigEndian.AppendUint64(b, f.BeaconHeight)
	b = appendString(b, f.Name)
	var buf bytes.Buffer
	if _, err := f.P.WriteTo(&buf); err != nil {
		panic(err)
	}
	return append(b, buf.Bytes()...)
}

// phase1ProofsLen is the size of Phase1's three update proofs (a G1 and a
// G2 point each, compressed), which precede its parameters.
const phase1ProofsLen = 3 * (32 + 64)

func readPhase1File(b []byte) (*phase1File, error) {
	_, r, err := readHeader(b, KindPhase1)
	if err != nil {
		return nil, err
	}
	f := &phase1File{Index: int(r.u32()), Prev: r.hash(), BeaconHeight: r.u64(), Name: r.str(maxNameLen)}
	body := r.rest()
	if r.err != nil {
		return nil, r.err
	}
	if !printableName(f.Name) {
		return nil, fmt.Errorf("%w: contributor name is not printable text", ErrFormat)
	}
	// Check the size before gnark allocates it.
	if len(body) < phase1ProofsLen+8 {
		return nil, fmt.Errorf("%w: truncated phase-1 body", ErrFormat)
	}
	n := binary.BigEndian.Uint64(body[phase1ProofsLen:])
	if n < 2 || n > 1<<MaxPower || n&(n-1) != 0 {
		return nil, fmt.Errorf("%w: phase-1 size %d (want a power of two up to 2^%d)", ErrFormat, n, MaxPower)
	}
	commons := 8 + 64 + (2*n-2)*32 + (n-1)*64 + 2*n*32
	if l := uint64(len(body)); l != phase1ProofsLen+commons+1 && l != phase1ProofsLen+commons+1+32 {
		return nil, fmt.Errorf("%w: phase-1 body of %d bytes for size %d", ErrFormat, l, n)
	}
	f.P = new(mpcsetup.Phase1)
	rd := bytes.NewReader(body)
	if _, err := f.P.ReadFrom(rd); err != nil || rd.Len() != 0 {
		return nil, fmt.Errorf("%w: phase-1 body: %v", ErrFormat, err)
	}
	return f, nil
}

// NewPhase1 returns the starting file of a native phase 1 of 2^power
// powers, to be sealed with the beacon of the registry block at
// beaconHeight (announced now, before any contribution).
func NewPhase1(power int, beaconHeight uint64) ([]byte, error) {
	if power < 1 || power > MaxPower {
		return nil, fmt.Errorf("phase-1 power %d: want 1 to %d", power, MaxPower)
	}
	f := &phase1File{BeaconHeight: beaconHeight, P: mpcsetup.NewPhase1(1 << power)}
	return f.marshal(), nil
}

// ContributePhase1 adds one contribution to a native phase 1: it reads the
// latest file, draws fresh randomness from crypto/rand (inside gnark's
// Contribute; it never leaves memory), and returns the next file and its
// hash. When prev (the file before latest) is given, latest is first
// verified against it.
func ContributePhase1(prev, latest []byte, name string) ([]byte, Hash, error) {
	if len(name) > maxNameLen || !printableName(name) {
		return nil, Hash{}, fmt.Errorf("contributor name must be printable text of at most %d bytes", maxNameLen)
	}
	f, err := readPhase1File(latest)
	if err != nil {
		return nil, Hash{}, err
	}
	if prev != nil {
		if _, err := verifyPhase1([][]byte{prev, latest}, f.Index-1); err != nil {
			return nil, Hash{}, err
		}
		// verifyPhase1 consumed a decoded copy; decode latest again.
		if f, err = readPhase1File(latest); err != nil {
			return nil, Hash{}, err
		}
	}
	f.P.Contribute()
	next := &phase1File{Index: f.Index + 1, Prev: HashFile(latest), BeaconHeight: f.BeaconHeight, Name: name, P: f.P}
	out := next.marshal()
	return out, HashFile(out), nil
}

// verifyPhase1 checks consecutive phase-1 files whose first has index
// first: each names the one before it and its update proofs verify
// against it (gnark's Phase1.Verify). When first is 0, files[0] must be
// exactly the starting file. It returns the decoded last file.
func verifyPhase1(files [][]byte, first int) (*phase1File, error) {
	var prev *phase1File
	for i, b := range files {
		idx := first + i
		f, err := readPhase1File(b)
		if err != nil {
			return nil, &ContributionError{Phase: 1, Index: idx, Err: err}
		}
		if f.Index != idx {
			return nil, &ContributionError{Phase: 1, Index: idx, Err: fmt.Errorf("file says it is contribution %d", f.Index)}
		}
		if prev == nil {
			if idx == 0 {
				n := len(f.P.Challenge) // a fresh start has no challenge
				start := &phase1File{BeaconHeight: f.BeaconHeight, P: mpcsetup.NewPhase1(uint64(phase1Size(f.P)))}
				if n != 0 || f.Prev != (Hash{}) || f.Name != "" || !bytes.Equal(start.marshal(), b) {
					return nil, &ContributionError{Phase: 1, Index: 0, Err: fmt.Errorf("not a fresh phase-1 start")}
				}
			}
			prev = f
			continue
		}
		if err := linkCheck(f.Prev, files[i-1], f.BeaconHeight, prev.BeaconHeight); err != nil {
			return nil, &ContributionError{Phase: 1, Index: idx, Err: err}
		}
		if err := prev.P.Verify(f.P); err != nil {
			return nil, &ContributionError{Phase: 1, Index: idx, Err: err}
		}
		prev = f
	}
	return prev, nil
}

// phase1Size returns N of a decoded Phase1 (the number of its G2 powers),
// read back from its encoding.
func phase1Size(p *mpcsetup.Phase1) int {
	var buf bytes.Buffer
	p.WriteTo(&buf)
	return int(binary.BigEndian.Uint64(buf.Bytes()[phase1ProofsLen:]))
}

func linkCheck(named Hash, prevFile []byte, height, prevHeight uint64) error {
	if h := HashFile(prevFile); named != h {
		return fmt.Errorf("does not build on the previous contribution: it names %s, the previous file is %s", named, h)
	}
	if height != prevHeight {
		return fmt.Errorf("announces beacon height %d, the transcript announced %d", height, prevHeight)
	}
	return nil
}

// SealPhase1 verifies a whole native phase 1 (files in order from index
// 0) and seals it with the beacon, which must be at the height the start
// file announced. Anyone re-running it gets the same SRS.
func SealPhase1(files [][]byte, beacon Beacon) (*SRS, error) {
	if len(files) < 2 {
		return nil, fmt.Errorf("phase 1 has no contribution")
	}
	last, err := verifyPhase1(files, 0)
	if err != nil {
		return nil, err
	}
	if beacon.Height != last.BeaconHeight {
		return nil, &BeaconError{Phase: 1, Announced: last.BeaconHeight, Got: beacon}
	}
	c := last.P.Seal(beacon.Hash[:])
	return &SRS{Commons: c, Source: SourceNative, LastPhase1: HashFile(files[len(files)-1]), Beacon: beacon}, nil
}

// checkSeal checks that srs is the seal of the last native phase-1 file
// with srs's beacon, without re-running the seal (2^14·5 serial scalar
// multiplications): gnark's Seal multiplies τ, α and β by beacon-derived
// t, a and b (mpcsetup.BeaconContributions over the last file's hash). Both
// parameter sets are consistent powers (the last by Phase1.Verify, srs by
// ReadSRS), so [τ]₁, [τ]₂, [α]₁, [β]₁ and [β]₂ scaled by t, a, b are enough
// to fix every point.
func checkSeal(last []byte, srs *SRS) error {
	f, err := readPhase1File(last)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	f.P.WriteTo(&buf)
	body := buf.Bytes()
	n := binary.BigEndian.Uint64(body[phase1ProofsLen:])
	commons := 8 + 64 + (2*n-2)*32 + (n-1)*64 + 2*n*32
	prev, err := readCommons(body[phase1ProofsLen : phase1ProofsLen+commons])
	if err != nil {
		return err
	}
	if len(prev.G2.Tau) != len(srs.Commons.G2.Tau) {
		return fmt.Errorf("phase-1 result has %d powers, the phase-1 transcript %d", len(srs.Commons.G2.Tau), len(prev.G2.Tau))
	}
	h := sha256.Sum256(body)
	s := cmpc.BeaconContributions(h[:], []byte("Groth16 MPC Setup - Phase 1"), srs.Beacon.Hash[:], 3)
	var t, a, b big.Int
	s[0].BigInt(&t)
	s[1].BigInt(&a)
	s[2].BigInt(&b)
	c := &srs.Commons
	var g1 curve.G1Affine
	var g2 curve.G2Affine
	if !g1.ScalarMultiplication(&prev.G1.Tau[1], &t).Equal(&c.G1.Tau[1]) ||
		!g2.ScalarMultiplication(&prev.G2.Tau[1], &t).Equal(&c.G2.Tau[1]) ||
		!g1.ScalarMultiplication(&prev.G1.AlphaTau[0], &a).Equal(&c.G1.AlphaTau[0]) ||
		!g1.ScalarMultiplication(&prev.G1.BetaTau[0], &b).Equal(&c.G1.BetaTau[0]) ||
		!g2.ScalarMultiplication(&prev.G2.Beta, &b).Equal(&c.G2.Beta) {
		return errors.New("the phase-1 result is not the seal of the last phase-1 contribution with its beacon")
	}
	return nil
}
