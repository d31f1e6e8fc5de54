package ceremony

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/constraint"
	cs "github.com/consensys/gnark/constraint/bn254"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"
	"github.com/zkcred/zkcred/circuits"
)

// Circuit is a compiled circuit a ceremony makes keys for.
type Circuit struct {
	ID string
	CS *cs.R1CS

	hash Hash // of the constraint system, see csHash
}

// Compile compiles a circuit for the ceremony. Circuits that use gnark's
// commitment extension are refused: zkcred's proofs are plain Groth16.
func Compile(id string, c frontend.Circuit) (*Circuit, error) {
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", id, err)
	}
	r := ccs.(*cs.R1CS)
	if cm, ok := r.CommitmentInfo.(constraint.Groth16Commitments); ok && len(cm) != 0 {
		return nil, fmt.Errorf("circuit %s uses gnark commitments; zkcred's keys are plain Groth16", id)
	}
	return &Circuit{ID: id, CS: r, hash: csHash(r)}, nil
}

// Shipped compiles every circuit zkcred ships: presentation and holder.
func Shipped() ([]*Circuit, error) {
	pres, err := Compile(circuits.PresentationID, &circuits.PresentationCircuit{})
	if err != nil {
		return nil, err
	}
	holder, err := Compile(circuits.HolderID, &circuits.HolderCircuit{})
	if err != nil {
		return nil, err
	}
	return []*Circuit{pres, holder}, nil
}

// DomainSize is the size of the circuit's evaluation domain: the number
// of powers of τ (in G2) its phase 2 needs.
func (c *Circuit) DomainSize() int {
	return int(ecc.NextPowerOfTwo(uint64(c.CS.GetNbConstraints())))
}

// Power is log₂ of DomainSize: the smallest Powers of Tau file power that
// fits the circuit.
func (c *Circuit) Power() int { return log2(c.DomainSize()) }

func log2(n int) int {
	p := 0
	for 1<<p < n {
		p++
	}
	return p
}

// Name is the circuit's short name in file names ("presentation",
// "holder-2"): the first path element after "zkcred/".
func (c *Circuit) Name() string { return ShortName(c.ID) }

// ShortName returns the short name of a circuit ID.
func ShortName(id string) string {
	s := strings.TrimPrefix(id, "zkcred/")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	return s
}

// csHash hashes the constraint system in a canonical encoding of our own,
// so that every file of a circuit's transcript names exactly the
// constraints the keys are for: the variable counts, then each constraint's
// L, R and O as (wire ID, coefficient) lists.
func csHash(r *cs.R1CS) Hash {
	h := sha256.New()
	nbInternal, nbSecret, nbPublic := r.GetNbVariables()
	var b []byte
	b = append(b, "zkcred-ceremony-r1cs/v1\x00"...)
	for _, n := range []int{nbPublic, nbSecret, nbInternal, r.GetNbConstraints()} {
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	h.Write(b)
	it := r.GetR1CIterator()
	for c := it.Next(); c != nil; c = it.Next() {
		b = b[:0]
		for _, lc := range [][]constraint.Term{c.L, c.R, c.O} {
			b = binary.BigEndian.AppendUint32(b, uint32(len(lc)))
			for _, t := range lc {
				b = binary.BigEndian.AppendUint32(b, t.VID)
				co := r.Coefficients[t.CID].Bytes()
				b = append(b, co[:]...)
			}
		}
		h.Write(b)
	}
	var out Hash
	h.Sum(out[:0])
	return out
}
