package circuits

import (
	"errors"
	"fmt"
	"slices"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// Size of the presentation circuit's query (variant "s16-d32-t8").
const (
	MaxPredicates = 4 // predicates per presentation
	SetSize       = 8 // values per in/nin predicate
	TrustDepth    = 8 // trust list of up to 256 issuers
)

// PredKind is the circuit-level form of a predicate. Every operator a
// verifier can ask for maps onto one of these (NewPredicate).
type PredKind uint8

const (
	PredNone  PredKind = 0 // unused predicate slot
	PredRange PredKind = 1 // Values[0] ≤ x ≤ Values[1], all below 2^64
	PredIn    PredKind = 2 // x ∈ Values (unused values repeat Values[0])
	PredNotIn PredKind = 3 // x ∉ Values (unused values repeat Values[0])
)

// Predicate is one statement about the attribute in slot Slot.
type Predicate struct {
	Slot   int
	Kind   PredKind
	Values [SetSize]fr.Element
}

// Query is what a verifier asks for: which slots to disclose (bit i of
// Disclose is slot i) and up to MaxPredicates predicates.
type Query struct {
	Disclose   uint16
	Predicates [MaxPredicates]Predicate
}

// ErrPredicate is wrapped by every predicate construction error.
var ErrPredicate = errors.New("invalid predicate")

// operators accepted by NewPredicate.
var operators = []string{"eq", "ne", "lt", "lte", "gt", "gte", "between", "in", "nin"}

// RangeOp reports whether op compares order, so that it applies only to
// numeric (64-bit) attributes.
func RangeOp(op string) bool {
	switch op {
	case "lt", "lte", "gt", "gte", "between":
		return true
	}
	return false
}

// NewPredicate maps an operator on slot to its circuit form:
//
//	eq v        → in {v}          ne v  → nin {v}
//	lt v        → range [0, v-1]  lte v → range [0, v]
//	gt v        → range [v+1, max] gte v → range [v, max]
//	between a b → range [a, b]    in / nin → up to SetSize values
//
// where max = 2^64-1. Range operands must be below 2^64, and a range that
// no value can satisfy (lt 0, gt max, between a b with a > b) is rejected.
func NewPredicate(slot int, op string, values ...fr.Element) (Predicate, error) {
	p := Predicate{Slot: slot}
	if slot < 0 || slot >= Slots {
		return p, fmt.Errorf("%w: slot %d outside 0..%d", ErrPredicate, slot, Slots-1)
	}
	want := map[string]int{"eq": 1, "ne": 1, "lt": 1, "lte": 1, "gt": 1, "gte": 1, "between": 2}
	if n, ok := want[op]; ok && len(values) != n {
		return p, fmt.Errorf("%w: %s takes %d value(s), got %d", ErrPredicate, op, n, len(values))
	}
	var u [2]uint64
	if RangeOp(op) {
		for i, v := range values {
			if !v.IsUint64() {
				return p, fmt.Errorf("%w: %s operand %s does not fit in 64 bits", ErrPredicate, op, Dec(v))
			}
			u[i] = v.Uint64()
		}
	}
	const maxU = ^uint64(0)
	setRange := func(lo, hi uint64) (Predicate, error) {
		if lo > hi {
			return p, fmt.Errorf("%w: %s can never hold (empty range %d..%d)", ErrPredicate, op, lo, hi)
		}
		p.Kind = PredRange
		p.Values[0], p.Values[1] = U64(lo), U64(hi)
		return p, nil
	}
	switch op {
	case "lt":
		if u[0] == 0 {
			return setRange(1, 0)
		}
		return setRange(0, u[0]-1)
	case "lte":
		return setRange(0, u[0])
	case "gt":
		if u[0] == maxU {
			return setRange(1, 0)
		}
		return setRange(u[0]+1, maxU)
	case "gte":
		return setRange(u[0], maxU)
	case "between":
		return setRange(u[0], u[1])
	case "eq", "in":
		p.Kind = PredIn
	case "ne", "nin":
		p.Kind = PredNotIn
	default:
		return p, fmt.Errorf("%w: unknown operator %q (one of %v)", ErrPredicate, op, operators)
	}
	if len(values) == 0 || len(values) > SetSize {
		return p, fmt.Errorf("%w: %s takes 1 to %d values, got %d", ErrPredicate, op, SetSize, len(values))
	}
	for i := range p.Values {
		p.Values[i] = values[0]
	}
	copy(p.Values[:], values)
	return p, nil
}

// Holds evaluates the predicate natively on x (the wallet checks before it
// proves, and tests compare with the circuit).
func (p *Predicate) Holds(x fr.Element) bool {
	switch p.Kind {
	case PredNone:
		return true
	case PredRange:
		return x.IsUint64() && p.Values[0].Uint64() <= x.Uint64() && x.Uint64() <= p.Values[1].Uint64()
	case PredIn, PredNotIn:
		in := slices.ContainsFunc(p.Values[:], func(v fr.Element) bool { return v.Equal(&x) })
		return in == (p.Kind == PredIn)
	}
	return false
}

// Public is the public statement of a presentation, in circuit order
// (Vector). The verifier rebuilds it from its own state; nothing in it is
// taken from the holder except the disclosed values and the nullifier, which
// the proof binds.
type Public struct {
	Root      fr.Element // credential-tree root of block Height
	Height    uint64     // block height whose root was used
	TrustRoot fr.Element // root of the verifier's trust list
	SchemaID  fr.Element
	Now       uint64 // Unix seconds; the credential's expiry must be ≥ Now
	Nonce     fr.Element
	Audience  fr.Element
	Scope     fr.Element // 0: no nullifier
	Nullifier fr.Element // 0 when Scope is 0
	Query     Query
	Disclosed [Slots]fr.Element // value of each disclosed slot, 0 elsewhere
}

// NbPublic is the number of public inputs of the presentation circuit.
const NbPublic = 9 + 1 + Slots + MaxPredicates*(2+SetSize)

// Vector returns the public inputs in the order of SPEC.md: Root, Height,
// TrustRoot, SchemaID, Now, Nonce, Audience, Scope, Nullifier, Disclose,
// Disclosed[0..15], then per predicate Slot, Kind, Values[0..7].
func (p *Public) Vector() []fr.Element {
	v := make([]fr.Element, 0, NbPublic)
	v = append(v, p.Root, U64(p.Height), p.TrustRoot, p.SchemaID, U64(p.Now),
		p.Nonce, p.Audience, p.Scope, p.Nullifier, U64(uint64(p.Query.Disclose)))
	v = append(v, p.Disclosed[:]...)
	for _, pr := range p.Query.Predicates {
		v = append(v, U64(uint64(pr.Slot)), U64(uint64(pr.Kind)))
		v = append(v, pr.Values[:]...)
	}
	return v
}

// TrustList is the verifier's set of accepted issuers as a depth-8 Merkle
// tree. Leaves are the issuer IDs in ascending order, so that verifier and
// wallet build the same root from the same set.
type TrustList struct {
	ids  []fr.Element
	tree *Tree
}

// NewTrustList builds the tree from issuer IDs (deduplicated, sorted, none 0).
func NewTrustList(ids []fr.Element) (*TrustList, error) {
	s := slices.Clone(ids)
	slices.SortFunc(s, func(a, b fr.Element) int { return a.Cmp(&b) })
	s = slices.CompactFunc(s, func(a, b fr.Element) bool { return a.Equal(&b) })
	if len(s) == 0 || len(s) > 1<<TrustDepth {
		return nil, fmt.Errorf("trust list of %d issuers, want 1 to %d", len(s), 1<<TrustDepth)
	}
	if s[0].IsZero() {
		return nil, errors.New("trust list holds issuer ID 0")
	}
	t := NewTree(TrustDepth)
	if _, err := t.Append(s...); err != nil {
		return nil, err
	}
	return &TrustList{ids: s, tree: t}, nil
}

// Root returns the trust-list root.
func (l *TrustList) Root() fr.Element { return l.tree.Root() }

// IDs returns the sorted issuer IDs.
func (l *TrustList) IDs() []fr.Element { return slices.Clone(l.ids) }

// Path returns the index and siblings of an issuer, or ok false.
func (l *TrustList) Path(id fr.Element) (index uint64, siblings []fr.Element, ok bool) {
	i, found := slices.BinarySearchFunc(l.ids, id, func(a, b fr.Element) int { return a.Cmp(&b) })
	if !found {
		return 0, nil, false
	}
	return uint64(i), l.tree.Path(uint64(i)), true
}
