package ceremony

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"runtime"
	"sync"

	curve "github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fp"
	"golang.org/x/crypto/blake2b"
)

// Errors importing a .ptau file.
var (
	// ErrPtau: the file is not a usable BN254 .ptau file; the message says
	// why.
	ErrPtau = errors.New("unusable .ptau file")
	// ErrPtauTooSmall: the file's power is below what the circuits need.
	ErrPtauTooSmall = fmt.Errorf("%w: too small", ErrPtau)
)

// ptau section types (snarkjs's binfileutils layout).
const (
	ptauHeader     = 1
	ptauTauG1      = 2
	ptauTauG2      = 3
	ptauAlphaTauG1 = 4
	ptauBetaTauG1  = 5
	ptauBetaG2     = 6
)

type ptauSection struct{ pos, size int64 }

// ImportPtau reads a snarkjs / Powers of Tau .ptau file of BN254 (snarkjs's
// "bn128") and returns the first n powers as an SRS, after checking every
// point (on the curve, in its subgroup, not zero) and the powers' internal
// consistency with pairings (checkCommons). A file of power below log₂ n
// is refused with ErrPtauTooSmall. The file's BLAKE2b-512, which the
// public ceremonies publish, is recorded in the SRS.
//
// Format: "ptau", version (u32 LE, 1), section count (u32 LE), then
// sections (type u32 LE, size u64 LE, body). Header (1): n8 = 32, the base
// field modulus (32 bytes LE), power, ceremony power (u32 LE). Sections 2–6
// hold [τⁱ]₁ (2·2^power − 1 points), [τⁱ]₂, [ατⁱ]₁, [βτⁱ]₁ (2^power each)
// and [β]₂, every coordinate 32 bytes little-endian in Montgomery form, G2
// coordinates as c0 then c1. Later sections (contributions, Lagrange
// forms from "prepare phase2") are not needed.
func ImportPtau(f io.ReaderAt, size int64, n int) (*SRS, error) {
	if n < 2 || n&(n-1) != 0 || n > 1<<MaxPower {
		return nil, fmt.Errorf("domain size %d is not a power of two up to 2^%d", n, MaxPower)
	}
	h, _ := blake2b.New512(nil)
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, size)); err != nil {
		return nil, fmt.Errorf("%w: reading: %v", ErrPtau, err)
	}
	s := &SRS{Source: SourcePtau}
	h.Sum(s.PtauBlake2b[:0])

	read := func(pos, n int64) ([]byte, error) {
		if pos < 0 || n < 0 || pos+n > size {
			return nil, fmt.Errorf("%w: truncated", ErrPtau)
		}
		b := make([]byte, n)
		if _, err := f.ReadAt(b, pos); err != nil {
			return nil, fmt.Errorf("%w: reading: %v", ErrPtau, err)
		}
		return b, nil
	}
	head, err := read(0, 12)
	if err != nil {
		return nil, err
	}
	if string(head[:4]) != "ptau" {
		return nil, fmt.Errorf("%w: no \"ptau\" magic", ErrPtau)
	}
	if v := binary.LittleEndian.Uint32(head[4:]); v != 1 {
		return nil, fmt.Errorf("%w: version %d, want 1", ErrPtau, v)
	}
	nSections := binary.LittleEndian.Uint32(head[8:])
	if nSections > 64 {
		return nil, fmt.Errorf("%w: %d sections", ErrPtau, nSections)
	}
	sections := map[uint32]ptauSection{}
	pos := int64(12)
	for i := uint32(0); i < nSections; i++ {
		sh, err := read(pos, 12)
		if err != nil {
			return nil, err
		}
		typ, sz := binary.LittleEndian.Uint32(sh), binary.LittleEndian.Uint64(sh[4:])
		pos += 12
		if sz > uint64(size-pos) {
			return nil, fmt.Errorf("%w: section %d runs past the end of the file", ErrPtau, typ)
		}
		if _, dup := sections[typ]; dup {
			return nil, fmt.Errorf("%w: section %d appears twice", ErrPtau, typ)
		}
		sections[typ] = ptauSection{pos, int64(sz)}
		pos += int64(sz)
	}
	for t := uint32(ptauHeader); t <= ptauBetaG2; t++ {
		if _, ok := sections[t]; !ok {
			return nil, fmt.Errorf("%w: section %d missing", ErrPtau, t)
		}
	}
	hs := sections[ptauHeader]
	if hs.size != 4+32+4+4 {
		return nil, fmt.Errorf("%w: header section of %d bytes", ErrPtau, hs.size)
	}
	hb, err := read(hs.pos, hs.size)
	if err != nil {
		return nil, err
	}
	if n8 := binary.LittleEndian.Uint32(hb); n8 != 32 {
		return nil, fmt.Errorf("%w: field elements of %d bytes: not BN254", ErrPtau, n8)
	}
	q := new(big.Int).SetBytes(reverse(hb[4:36]))
	if q.Cmp(fp.Modulus()) != 0 {
		return nil, fmt.Errorf("%w: the file is for another curve (base field %s), not BN254", ErrPtau, q)
	}
	power := int(binary.LittleEndian.Uint32(hb[36:]))
	if power < 1 || power > 28 {
		return nil, fmt.Errorf("%w: power %d", ErrPtau, power)
	}
	s.PtauPower = power
	if 1<<power < n {
		return nil, fmt.Errorf("%w: the file has power %d (%d powers); the circuits need power %d", ErrPtauTooSmall, power, 1<<power, log2(n))
	}
	N := int64(1) << power
	for _, c := range []struct {
		typ  uint32
		want int64
	}{{ptauTauG1, (2*N - 1) * 64}, {ptauTauG2, N * 128}, {ptauAlphaTauG1, N * 64}, {ptauBetaTauG1, N * 64}, {ptauBetaG2, 128}} {
		if got := sections[c.typ].size; got != c.want {
			return nil, fmt.Errorf("%w: section %d has %d bytes, want %d for power %d", ErrPtau, c.typ, got, c.want, power)
		}
	}
	g1s := func(typ uint32, count int) ([]curve.G1Affine, error) {
		b, err := read(sections[typ].pos, int64(count)*64)
		if err != nil {
			return nil, err
		}
		out := make([]curve.G1Affine, count)
		err = parallel(count, func(i int) error {
			p := &out[i]
			if err := lemG1(b[i*64:], p); err != nil {
				return fmt.Errorf("%w: section %d, point %d: %v", ErrPtau, typ, i, err)
			}
			return nil
		})
		return out, err
	}
	g2s := func(typ uint32, count int) ([]curve.G2Affine, error) {
		b, err := read(sections[typ].pos, int64(count)*128)
		if err != nil {
			return nil, err
		}
		out := make([]curve.G2Affine, count)
		err = parallel(count, func(i int) error {
			if err := lemG2(b[i*128:], &out[i]); err != nil {
				return fmt.Errorf("%w: section %d, point %d: %v", ErrPtau, typ, i, err)
			}
			return nil
		})
		return out, err
	}
	c := &s.Commons
	if c.G1.Tau, err = g1s(ptauTauG1, 2*n-1); err != nil {
		return nil, err
	}
	if c.G2.Tau, err = g2s(ptauTauG2, n); err != nil {
		return nil, err
	}
	if c.G1.AlphaTau, err = g1s(ptauAlphaTauG1, n); err != nil {
		return nil, err
	}
	if c.G1.BetaTau, err = g1s(ptauBetaTauG1, n); err != nil {
		return nil, err
	}
	beta, err := g2s(ptauBetaG2, 1)
	if err != nil {
		return nil, err
	}
	c.G2.Beta = beta[0]
	if err := checkCommons(c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPtau, err)
	}
	return s, nil
}

func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[len(b)-1-i] = b[i]
	}
	return out
}

var modulusLimbs = func() [4]uint64 {
	var l [4]uint64
	m := fp.Modulus().Bits()
	for i := range l {
		l[i] = uint64(m[i])
	}
	return l
}()

// lemElement reads a field element stored little-endian in Montgomery
// form, which is gnark-crypto's own limb layout, refusing values ≥ q.
func lemElement(b []byte, e *fp.Element) error {
	for i := range e {
		e[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	for i := 3; i >= 0; i-- {
		if e[i] != modulusLimbs[i] {
			if e[i] > modulusLimbs[i] {
				return errors.New("coordinate not below the field modulus")
			}
			return nil
		}
	}
	return errors.New("coordinate equals the field modulus")
}

func lemG1(b []byte, p *curve.G1Affine) error {
	if err := lemElement(b, &p.X); err != nil {
		return err
	}
	if err := lemElement(b[32:], &p.Y); err != nil {
		return err
	}
	if p.X.IsZero() && p.Y.IsZero() {
		return errors.New("point at infinity")
	}
	if !p.IsOnCurve() { // G1 has cofactor 1: on the curve is in the group
		return errors.New("point not on the curve")
	}
	return nil
}

func lemG2(b []byte, p *curve.G2Affine) error {
	for i, e := range []*fp.Element{&p.X.A0, &p.X.A1, &p.Y.A0, &p.Y.A1} {
		if err := lemElement(b[32*i:], e); err != nil {
			return err
		}
	}
	if p.X.IsZero() && p.Y.IsZero() {
		return errors.New("point at infinity")
	}
	if !p.IsOnCurve() {
		return errors.New("point not on the curve")
	}
	if !p.IsInSubGroup() {
		return errors.New("point not in the G2 subgroup")
	}
	return nil
}

// parallel runs f(0..n-1) on every core and returns the first error.
func parallel(n int, f func(i int) error) error {
	workers := runtime.GOMAXPROCS(0)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	chunk := (n + workers - 1) / workers
	for start := 0; start < n; start += chunk {
		end := min(start+chunk, n)
		wg.Add(1)
		go func(start, end int) {
			defer wg.Done()
			for i := start; i < end; i++ {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}(start, end)
	}
	wg.Wait()
	return first
}
