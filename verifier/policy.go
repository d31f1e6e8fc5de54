package verifier

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"time"

	"github.com/zkcred/zkcred/internal/strictjson"
	"github.com/zkcred/zkcred/wire"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/didweb"
)

// Policy defaults.
const (
	DefaultMaxRootAge = time.Hour        // the revocation latency bound
	DefaultRequestTTL = 10 * time.Minute // how long a wallet has to answer
)

// Helper operators, turned into plain comparisons at request time.
const (
	OpAgeAtLeast = "age_at_least" // date ≤ today − years
	OpAgeUnder   = "age_under"    // date > today − years
	OpWithinDays = "within_days"  // date (or timestamp) ≥ today − days
)

// Policy is what a verifier asks of every presentation under one name: a
// schema, accepted issuers, attributes to disclose and predicates. It is
// read from the configuration file (ParseConfig) and compiled into a
// circuits.Query each time a request is created, so that date helpers use
// the day of the request.
type Policy struct {
	Name string `json:"name"`
	// Schema is the schema itself; or give SchemaID and Attributes.
	Schema     *circuits.Schema     `json:"schema,omitempty"`
	SchemaID   *circuits.Field      `json:"schemaId,omitempty"`
	Attributes []circuits.Attribute `json:"attributes,omitempty"`
	Issuers    IssuerSpec           `json:"issuers"`
	Disclose   []string             `json:"disclose,omitempty"`
	Predicates []PredicateSpec      `json:"predicates,omitempty"`
	// MaxRootAge bounds the age of the root a proof uses (default 1h).
	MaxRootAge Duration `json:"maxRootAge,omitempty"`
	// Scope, when set, asks for a nullifier in this scope: a credential
	// can answer at most one request per scope.
	Scope string `json:"scope,omitempty"`
	// RequestTTL is how long a request stays answerable (default 10m).
	RequestTTL Duration `json:"requestTTL,omitempty"`
	// Public lets anyone create requests under this policy over HTTP,
	// without the create token, within the per-client quota (a kiosk, a
	// public web page). Other policies' requests need the token.
	Public bool `json:"public,omitempty"`

	schemaID fr.Element
	attrs    []circuits.Attribute
}

// IssuerSpec names the accepted issuers: explicit issuer IDs, or a kind
// whose active issuers the registry lists at request time. The set becomes
// the request's trust-list root.
type IssuerSpec struct {
	IDs  []circuits.Field `json:"ids,omitempty"`
	Kind string           `json:"kind,omitempty"`
	// DIDs names accepted issuers by did:web (did:web:uni.example): each
	// stands for the issuer whose proven registry record binds it
	// (registry Issuer.DIDWeb), looked up for every request; the verifier
	// never contacts the issuer. They may be given with IDs.
	DIDs []string `json:"dids,omitempty"`
}

// PredicateSpec is one predicate as a person writes it: values in the
// attribute's own JSON form ("2008-11-24" for a date, "12.50" for a
// decimal, a string for a string), or a helper (age_at_least, age_under
// with years; within_days with days).
type PredicateSpec struct {
	Attribute string            `json:"attribute"`
	Op        string            `json:"op"`
	Values    []json.RawMessage `json:"values,omitempty"`
	Years     int               `json:"years,omitempty"`
	Days      int               `json:"days,omitempty"`
}

// Duration is a time.Duration written in JSON as a Go duration string
// ("1h", "10m30s").
type Duration time.Duration

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string; negative durations are rejected.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`durations are strings such as "1h" or "10m"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a non-negative duration such as \"1h\"", s)
	}
	*d = Duration(v)
	return nil
}

func policyErr(name, format string, a ...any) error {
	return fmt.Errorf("%w %q: %s", ErrPolicy, name, fmt.Sprintf(format, a...))
}

// validate checks everything that does not depend on the request time and
// fills the derived fields; Compile calls it.
func (p *Policy) validate() error {
	if strings.TrimSpace(p.Name) == "" {
		return fmt.Errorf("%w: a policy has no name", ErrPolicy)
	}
	switch {
	case p.Schema != nil:
		if err := p.Schema.Validate(); err != nil {
			return policyErr(p.Name, "%v", err)
		}
		p.schemaID = p.Schema.ID()
		if id := p.SchemaID; id != nil && circuits.Field(p.schemaID) != *id {
			return policyErr(p.Name, "schemaId %s is not the ID of the given schema (%s)", p.SchemaID, p.schemaID.String())
		}
		if len(p.Attributes) != 0 {
			return policyErr(p.Name, "give either schema or schemaId with attributes, not both")
		}
		p.attrs = p.Schema.Attributes
	case p.SchemaID != nil:
		s := circuits.Schema{Name: p.Name, Attributes: p.Attributes}
		if err := s.Validate(); err != nil {
			return policyErr(p.Name, "attributes: %v", err)
		}
		p.schemaID = p.SchemaID.El()
		p.attrs = p.Attributes
	default:
		return policyErr(p.Name, "needs a schema (or schemaId and attributes)")
	}
	if (len(p.Issuers.IDs)+len(p.Issuers.DIDs) == 0) == (p.Issuers.Kind == "") {
		return policyErr(p.Name, "issuers needs either ids (and/or dids) or kind")
	}
	for _, d := range p.Issuers.DIDs {
		if err := didweb.CheckOrigin(d); err != nil {
			return policyErr(p.Name, "issuers: dids: not a did:web such as did:web:uni.example in canonical form: %v", err)
		}
	}
	if len(p.Issuers.IDs) > 0 {
		ids := make([]fr.Element, len(p.Issuers.IDs))
		for i, id := range p.Issuers.IDs {
			ids[i] = id.El()
		}
		if _, err := circuits.NewTrustList(ids); err != nil {
			return policyErr(p.Name, "issuers: %v", err)
		}
	}
	if _, err := p.discloseMask(); err != nil {
		return err
	}
	if len(p.Predicates) > circuits.MaxPredicates {
		return policyErr(p.Name, "%d predicates, at most %d fit in a presentation", len(p.Predicates), circuits.MaxPredicates)
	}
	if p.MaxRootAge == 0 {
		p.MaxRootAge = Duration(DefaultMaxRootAge)
	}
	if p.RequestTTL == 0 {
		p.RequestTTL = Duration(DefaultRequestTTL)
	}
	if time.Duration(p.MaxRootAge) < time.Second || time.Duration(p.RequestTTL) < time.Second {
		return policyErr(p.Name, "maxRootAge and requestTTL must be at least 1s")
	}
	// Check the predicates once at a fixed time; request time recompiles.
	_, _, err := p.compile(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	return err
}

func (p *Policy) attr(name string) (int, *circuits.Attribute, bool) {
	for i := range p.attrs {
		if p.attrs[i].Name == name {
			return i, &p.attrs[i], true
		}
	}
	return 0, nil, false
}

func (p *Policy) discloseMask() (uint16, error) {
	var mask uint16
	for _, n := range p.Disclose {
		i, _, ok := p.attr(n)
		if !ok {
			return 0, policyErr(p.Name, "disclose: %q is not an attribute of the schema", n)
		}
		if mask&(1<<i) != 0 {
			return 0, policyErr(p.Name, "disclose: %q listed twice", n)
		}
		mask |= 1 << i
	}
	return mask, nil
}

// compile turns the policy into the circuit query and its plain form, with
// helpers resolved against the calendar date of now (UTC).
func (p *Policy) compile(now time.Time) (circuits.Query, []wire.PlainPredicate, error) {
	var q circuits.Query
	mask, err := p.discloseMask()
	if err != nil {
		return q, nil, err
	}
	q.Disclose = mask
	plain := make([]wire.PlainPredicate, 0, len(p.Predicates))
	for i, ps := range p.Predicates {
		pp, pred, err := p.compilePredicate(ps, now.UTC())
		if err != nil {
			return q, nil, policyErr(p.Name, "predicate %d (%s %s): %v", i, ps.Attribute, ps.Op, err)
		}
		q.Predicates[i] = pred
		plain = append(plain, pp)
	}
	return q, plain, nil
}

func (p *Policy) compilePredicate(ps PredicateSpec, now time.Time) (wire.PlainPredicate, circuits.Predicate, error) {
	pp := wire.PlainPredicate{Attribute: ps.Attribute, Op: ps.Op}
	slot, a, ok := p.attr(ps.Attribute)
	if !ok {
		return pp, circuits.Predicate{}, fmt.Errorf("%q is not an attribute of the schema", ps.Attribute)
	}
	switch ps.Op {
	case OpAgeAtLeast, OpAgeUnder, OpWithinDays:
		return p.compileHelper(ps, slot, a, now)
	}
	if ps.Years != 0 || ps.Days != 0 {
		return pp, circuits.Predicate{}, errors.New("years and days apply only to the helpers age_at_least, age_under and within_days")
	}
	if circuits.RangeOp(ps.Op) && !a.Type.Numeric() {
		return pp, circuits.Predicate{}, fmt.Errorf("%s compares order, but %q is a %s (only eq, ne, in, nin apply)", ps.Op, a.Name, a.Type)
	}
	vals := make([]fr.Element, len(ps.Values))
	for i, raw := range ps.Values {
		v, err := decodeValue(raw)
		if err != nil {
			return pp, circuits.Predicate{}, fmt.Errorf("value %d: %v", i, err)
		}
		e, err := a.Encode(v)
		if err != nil {
			return pp, circuits.Predicate{}, fmt.Errorf("value %d: %v", i, err)
		}
		vals[i] = e
		pp.Values = append(pp.Values, v)
	}
	pred, err := circuits.NewPredicate(slot, ps.Op, vals...)
	if err != nil {
		return pp, pred, err
	}
	return pp, pred, nil
}

func (p *Policy) compileHelper(ps PredicateSpec, slot int, a *circuits.Attribute, now time.Time) (wire.PlainPredicate, circuits.Predicate, error) {
	pp := wire.PlainPredicate{Attribute: ps.Attribute}
	if len(ps.Values) != 0 {
		return pp, circuits.Predicate{}, fmt.Errorf("%s takes years or days, not values", ps.Op)
	}
	var threshold uint64
	var plainValue any
	switch ps.Op {
	case OpAgeAtLeast, OpAgeUnder:
		if a.Type != circuits.TypeDate {
			return pp, circuits.Predicate{}, fmt.Errorf("%s applies to date attributes, %q is a %s", ps.Op, a.Name, a.Type)
		}
		if ps.Years < 1 || ps.Years > 200 || ps.Days != 0 {
			return pp, circuits.Predicate{}, fmt.Errorf("%s needs years between 1 and 200 (and no days)", ps.Op)
		}
		// Born on or before this day is at least Years old today.
		d := now.AddDate(-ps.Years, 0, 0)
		threshold = circuits.DateValue(d)
		plainValue = d.Format(time.DateOnly)
		pp.Op = "lte"
		if ps.Op == OpAgeUnder {
			pp.Op = "gt"
		}
		pp.Helper = fmt.Sprintf("%s %d years", ps.Op, ps.Years)
	case OpWithinDays:
		if ps.Days < 1 || ps.Days > 100000 || ps.Years != 0 {
			return pp, circuits.Predicate{}, fmt.Errorf("%s needs days between 1 and 100000 (and no years)", ps.Op)
		}
		d := now.AddDate(0, 0, -ps.Days)
		switch a.Type {
		case circuits.TypeDate:
			threshold = circuits.DateValue(d)
			plainValue = d.Format(time.DateOnly)
		case circuits.TypeTimestamp:
			if d.Unix() < 0 {
				return pp, circuits.Predicate{}, fmt.Errorf("%d days reach before 1970", ps.Days)
			}
			threshold = uint64(d.Unix())
			plainValue = d.Format(time.RFC3339)
		default:
			return pp, circuits.Predicate{}, fmt.Errorf("%s applies to date and timestamp attributes, %q is a %s", ps.Op, a.Name, a.Type)
		}
		pp.Op = "gte"
		pp.Helper = fmt.Sprintf("%s %d", ps.Op, ps.Days)
	}
	pp.Values = []any{plainValue}
	pred, err := circuits.NewPredicate(slot, pp.Op, circuits.U64(threshold))
	return pp, pred, err
}

// decodeValue reads one predicate value with numbers kept exact.
func decodeValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	switch v.(type) {
	case string, bool, json.Number:
		return v, nil
	}
	return nil, fmt.Errorf("want a string, number or boolean, got %s", bytes.TrimSpace(raw))
}

// strictDecode decodes exactly one JSON value from b into v, rejecting
// unknown fields and trailing data. Errors wrap ErrMalformed.
func strictDecode(b []byte, v any) error {
	if err := strictjson.Unmarshal(b, v); err != nil {
		if errors.Is(err, strictjson.ErrTrailing) {
			return fmt.Errorf("%w: trailing data after the JSON value", ErrMalformed)
		}
		return fmt.Errorf("%w: %v", ErrMalformed, strictjson.Describe(err))
	}
	return nil
}

// popcount16 counts disclosed slots.
func popcount16(x uint16) int { return bits.OnesCount16(x) }
