package ceremony

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	gnark "github.com/consensys/gnark"
)

// Magic starts every ceremony file.
const Magic = "ZKCRDMPC"

// FormatVersion is the version of the ceremony file format.
const FormatVersion byte = 1

// Kind is what a ceremony file holds.
type Kind byte

// File kinds.
const (
	// KindPhase1 is one step of a natively contributed phase 1 (index 0 is
	// the starting point, made by the coordinator).
	KindPhase1 Kind = 1
	// KindSRS is the sealed phase-1 result (powers of τ, α, β), imported from
	// a .ptau file or sealed from a native phase 1.
	KindSRS Kind = 2
	// KindPhase2 is one step of a circuit's phase 2 (index 0 is the
	// coordinator's init, which also carries the circuit's evaluations).
	KindPhase2 Kind = 3
	// KindFinal seals a circuit's phase 2 with the beacon and names the keys.
	KindFinal Kind = 4
)

func (k Kind) String() string {
	switch k {
	case KindPhase1:
		return "phase-1 contribution"
	case KindSRS:
		return "phase-1 result"
	case KindPhase2:
		return "phase-2 contribution"
	case KindFinal:
		return "final record"
	}
	return fmt.Sprintf("kind %d", byte(k))
}

// MaxFileBytes bounds every ceremony file read.
const MaxFileBytes = 256 << 20

// Hash is a SHA-256 digest of a whole ceremony file.
type Hash [32]byte

// String returns lowercase hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash reads 64 hex digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("want 64 hex digits, got %q", s)
	}
	copy(h[:], b)
	return h, nil
}

// HashFile returns the hash of a ceremony file's bytes: the contribution
// hash members announce, and the link the next file names.
func HashFile(b []byte) Hash { return sha256.Sum256(b) }

// Errors reading ceremony files.
var (
	// ErrFormat: not a ceremony file, another format version, or a
	// malformed body.
	ErrFormat = errors.New("not a zkcred ceremony file of this version")
	// ErrWrongCircuit: the file belongs to another circuit.
	ErrWrongCircuit = errors.New("file is for another circuit")
)

// header is the start of every ceremony file.
type header struct {
	Kind    Kind
	Circuit string // empty for phase-1 files
}

func (h header) append(b []byte) []byte {
	b = append(b, Magic...)
	b = append(b, FormatVersion, byte(h.Kind))
	b = appendString(b, h.Circuit)
	return appendString(b, gnark.Version.String())
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// reader walks a file's bytes; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, a ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, a...))
	}
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail("truncated")
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u8() byte {
	b := r.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) u32() uint32 {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (r *reader) u64() uint64 {
	b := r.take(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func (r *reader) hash() (h Hash) {
	copy(h[:], r.take(len(h)))
	return h
}

func (r *reader) str(max int) string {
	n := 0
	if b := r.take(2); b != nil {
		n = int(binary.BigEndian.Uint16(b))
	}
	if r.err == nil && n > max {
		r.fail("string of %d bytes, at most %d", n, max)
	}
	return string(r.take(n))
}

func (r *reader) rest() []byte { return r.take(len(r.b)) }

// readHeader parses and checks the header: the kind must be want.
func readHeader(b []byte, want Kind) (header, *reader, error) {
	r := &reader{b: b}
	if m := r.take(len(Magic)); r.err != nil || string(m) != Magic {
		return header{}, nil, ErrFormat
	}
	if v := r.u8(); v != FormatVersion {
		return header{}, nil, fmt.Errorf("%w: format version %d, this zkcred reads %d", ErrFormat, v, FormatVersion)
	}
	h := header{Kind: Kind(r.u8())}
	h.Circuit = r.str(256)
	r.str(256) // gnark version, informative
	if r.err != nil {
		return header{}, nil, r.err
	}
	if h.Kind != want {
		return header{}, nil, fmt.Errorf("%w: file is a %s, want a %s", ErrFormat, h.Kind, want)
	}
	return h, r, nil
}

// FileInfo describes a ceremony file from its header alone.
type FileInfo struct {
	Kind    Kind
	Circuit string
	Index   int // contribution index for phase-1 and phase-2 files
}

// Inspect reads a ceremony file's header (and index, for contributions).
func Inspect(b []byte) (FileInfo, error) {
	r := &reader{b: b}
	if m := r.take(len(Magic)); r.err != nil || string(m) != Magic {
		return FileInfo{}, ErrFormat
	}
	if v := r.u8(); v != FormatVersion {
		return FileInfo{}, fmt.Errorf("%w: format version %d, this zkcred reads %d", ErrFormat, v, FormatVersion)
	}
	fi := FileInfo{Kind: Kind(r.u8())}
	fi.Circuit = r.str(256)
	r.str(256)
	if fi.Kind == KindPhase1 || fi.Kind == KindPhase2 {
		fi.Index = int(r.u32())
	}
	return fi, r.err
}

// ReadAll reads a whole ceremony file from r, refusing more than
// MaxFileBytes.
func ReadAll(r io.Reader) ([]byte, error) {
	var b bytes.Buffer
	n, err := io.Copy(&b, io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if n > MaxFileBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrFormat, MaxFileBytes)
	}
	return b.Bytes(), nil
}
