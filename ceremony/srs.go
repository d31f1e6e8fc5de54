package ceremony

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	curve "github.com/consensys/gnark-crypto/ecc/bn254"
	cmpc "github.com/consensys/gnark-crypto/ecc/bn254/mpcsetup"
	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
)

// MaxPower bounds the phase-1 size zkcred reads (2^MaxPower powers).
const MaxPower = 20

// Source says where a phase-1 result came from.
type Source byte

// Phase-1 sources.
const (
	// SourcePtau: imported from a snarkjs / Powers of Tau .ptau file.
	SourcePtau Source = 1
	// SourceNative: sealed from a phase 1 contributed with zkcred.
	SourceNative Source = 2
)

// SRS is the phase-1 result every circuit's phase 2 starts from: powers of
// τ in G1 and G2, α·τⁱ and β·τⁱ in G1, β in G2.
type SRS struct {
	Commons mpcsetup.SrsCommons
	Source  Source

	// SourcePtau: the .ptau file's BLAKE2b-512 (as b2sum prints it, the
	// hash Powers of Tau ceremonies publish) and its power.
	PtauBlake2b [64]byte
	PtauPower   int

	// SourceNative: the last phase-1 contribution and the beacon that
	// sealed it.
	LastPhase1 Hash
	Beacon     Beacon
}

// Size returns the number of powers in G2 (the largest domain it serves).
func (s *SRS) Size() int { return len(s.Commons.G2.Tau) }

// Beacon is the public randomness that seals a phase: the hash of the
// registry block at a height announced before the last contribution.
type Beacon struct {
	Height uint64
	Hash   Hash
}

func (b Beacon) String() string { return fmt.Sprintf("block %d (hash %s)", b.Height, b.Hash) }

// ErrBadSRS: a phase-1 result that is not a consistent set of powers.
var ErrBadSRS = errors.New("phase-1 parameters are not consistent powers of tau")

// checkCommons checks that c is a well-formed, internally consistent
// phase-1 result: sizes, generators at index 0, non-zero τ, α, β, every
// vector a geometric sequence of the same ratio τ (one randomised pairing
// check, gnark-crypto's SameRatioMany), and [β]₁ and [β]₂ the same β.
// Points must already be on the curve and in their subgroups (decoding
// checks both).
func checkCommons(c *mpcsetup.SrsCommons) error {
	n := len(c.G2.Tau)
	if n < 2 || n&(n-1) != 0 {
		return fmt.Errorf("%w: %d powers in G2, want a power of two ≥ 2", ErrBadSRS, n)
	}
	if len(c.G1.Tau) != 2*n-1 || len(c.G1.AlphaTau) != n || len(c.G1.BetaTau) != n {
		return fmt.Errorf("%w: vector sizes %d/%d/%d/%d do not match", ErrBadSRS, len(c.G1.Tau), n, len(c.G1.AlphaTau), len(c.G1.BetaTau))
	}
	_, _, g1, g2 := curve.Generators()
	if !c.G1.Tau[0].Equal(&g1) || !c.G2.Tau[0].Equal(&g2) {
		return fmt.Errorf("%w: τ⁰ is not the generator", ErrBadSRS)
	}
	if c.G1.Tau[1].IsInfinity() || c.G2.Tau[1].IsInfinity() || c.G1.AlphaTau[0].IsInfinity() || c.G1.BetaTau[0].IsInfinity() || c.G2.Beta.IsInfinity() {
		return fmt.Errorf("%w: τ, α or β is zero", ErrBadSRS)
	}
	if err := cmpc.SameRatioMany(c.G1.Tau, c.G2.Tau, c.G1.AlphaTau, c.G1.BetaTau); err != nil {
		return fmt.Errorf("%w: powers are not of one τ: %v", ErrBadSRS, err)
	}
	var nb curve.G1Affine
	nb.Neg(&c.G1.BetaTau[0])
	ok, err := curve.PairingCheck([]curve.G1Affine{nb, g1}, []curve.G2Affine{g2, c.G2.Beta})
	if err != nil || !ok {
		return fmt.Errorf("%w: [β]₁ and [β]₂ differ", ErrBadSRS)
	}
	return nil
}

// truncate returns the first powers of c for a domain of size n (c's own
// slices, not copies).
func truncate(c *mpcsetup.SrsCommons, n int) (*mpcsetup.SrsCommons, error) {
	if n > len(c.G2.Tau) {
		return nil, fmt.Errorf("phase 1 has %d powers (power %d); the circuit needs %d (power %d)", len(c.G2.Tau), log2(len(c.G2.Tau)), n, log2(n))
	}
	var t mpcsetup.SrsCommons
	t.G1.Tau = c.G1.Tau[:2*n-1]
	t.G1.AlphaTau = c.G1.AlphaTau[:n]
	t.G1.BetaTau = c.G1.BetaTau[:n]
	t.G2.Tau = c.G2.Tau[:n]
	t.G2.Beta = c.G2.Beta
	return &t, nil
}

// commonsBytes returns gnark's encoding of c.
func commonsBytes(c *mpcsetup.SrsCommons) []byte {
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		panic(err) // writing to memory
	}
	return b.Bytes()
}

// readCommons decodes gnark's encoding of SrsCommons, refusing a size
// above 2^MaxPower before allocating, and checks it (checkCommons).
func readCommons(b []byte) (*mpcsetup.SrsCommons, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: truncated phase-1 parameters", ErrFormat)
	}
	n := binary.BigEndian.Uint64(b)
	if n < 2 || n > 1<<MaxPower || n&(n-1) != 0 {
		return nil, fmt.Errorf("%w: phase-1 size %d (want a power of two up to 2^%d)", ErrFormat, n, MaxPower)
	}
	// 2N-2 + N-1 + 2N compressed points after N and [β]₂.
	if want := 8 + 64 + (2*n-2)*32 + (n-1)*64 + 2*n*32; uint64(len(b)) != want {
		return nil, fmt.Errorf("%w: phase-1 parameters are %d bytes, want %d for size %d", ErrFormat, len(b), want, n)
	}
	var c mpcsetup.SrsCommons
	if _, err := c.ReadFrom(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("%w: phase-1 parameters: %v", ErrFormat, err)
	}
	if err := checkCommons(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Marshal returns the SRS file.
func (s *SRS) Marshal() []byte {
	b := header{Kind: KindSRS}.append(nil)
	b = append(b, byte(s.Source))
	switch s.Source {
	case SourcePtau:
		b = append(b, s.PtauBlake2b[:]...)
		b = append(b, byte(s.PtauPower))
	case SourceNative:
		b = append(b, s.LastPhase1[:]...)
		b = binary.BigEndian.AppendUint64(b, s.Beacon.Height)
		b = append(b, s.Beacon.Hash[:]...)
	}
	return append(b, commonsBytes(&s.Commons)...)
}

// ReadSRS parses an SRS file and checks its parameters (checkCommons).
func ReadSRS(b []byte) (*SRS, error) {
	_, r, err := readHeader(b, KindSRS)
	if err != nil {
		return nil, err
	}
	s := &SRS{Source: Source(r.u8())}
	switch s.Source {
	case SourcePtau:
		copy(s.PtauBlake2b[:], r.take(64))
		s.PtauPower = int(r.u8())
	case SourceNative:
		s.LastPhase1 = r.hash()
		s.Beacon.Height = r.u64()
		s.Beacon.Hash = r.hash()
	default:
		r.fail("unknown phase-1 source %d", s.Source)
	}
	rest := r.rest()
	if r.err != nil {
		return nil, r.err
	}
	c, err := readCommons(rest)
	if err != nil {
		return nil, err
	}
	s.Commons = *c
	return s, nil
}

// Describe says where the SRS came from, for people.
func (s *SRS) Describe() string {
	switch s.Source {
	case SourcePtau:
		return fmt.Sprintf("imported from a power-%d .ptau file, BLAKE2b-512 %x, %d powers used", s.PtauPower, s.PtauBlake2b, s.Size())
	case SourceNative:
		return fmt.Sprintf("native phase 1 of %d powers ending in contribution %s, sealed with the beacon of %s", s.Size(), s.LastPhase1, s.Beacon)
	}
	return "unknown source"
}
