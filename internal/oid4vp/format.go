package oid4vp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/dcql"
	"github.com/zkcred/zkcred/internal/strictjson"
	"github.com/zkcred/zkcred/wire"
)

// Format is the credential format identifier of zkcred presentations
// (SPEC.md, "OpenID4VP credential format"): a Groth16 proof on BN254 over
// a credential anchored in the registry chain.
const Format = "zkcred_groth16_bn254"

// CredentialQueryID is the id of the credential query zkcred verifiers
// send, and so the member of the vp_token holding the presentation.
const CredentialQueryID = "zkcred"

// TrustedAuthorityType is the trusted_authorities type whose values are
// the decimal issuer IDs (circuits.IssuerID) the verifier accepts.
const TrustedAuthorityType = "zkcred_issuer_id"

// ErrFormat is wrapped by every error about a credential query of the
// zkcred format that cannot be compiled into a presentation statement.
var ErrFormat = errors.New("zkcred credential query")

// Ops are the predicate operators of the format's meta.predicates.
var Ops = []string{"eq", "ne", "lt", "lte", "gt", "gte", "between", "in", "nin"}

// Meta is the meta of a zkcred credential query: everything of the public
// statement a proof binds that the claims and trusted_authorities do not
// say.
type Meta struct {
	// SchemaID is the schema's ID (circuits.Schema.ID), decimal.
	SchemaID circuits.Field `json:"schema_id"`
	// TrustListRoot is the root of the accepted issuers' trust list (the
	// trusted_authorities values), which the proof uses.
	TrustListRoot circuits.Field `json:"trust_list_root"`
	// IssuerKind names the kind of the accepted issuers when the verifier
	// accepts a kind ("university"), for people.
	IssuerKind string `json:"issuer_kind,omitempty"`
	// Predicates are proved without disclosing their attribute, in order;
	// the claims' values come after them.
	Predicates []Predicate `json:"predicates,omitempty"`
	// Audience is the verifier's audience: its web origin, which must be
	// the origin of the response_uri.
	Audience string `json:"audience"`
	// Now is the verifier's clock at request time (Unix seconds): the
	// credential must not expire before it.
	Now uint64 `json:"now"`
	// Expires is the last second at which the verifier accepts an answer.
	Expires uint64 `json:"expires"`
	// MinHeight is the newest registry block the verifier knew; the proof
	// must use a block at least as new.
	MinHeight uint64 `json:"min_height"`
	// MaxRootAge is the oldest root (seconds) the verifier accepts.
	MaxRootAge uint64 `json:"max_root_age"`
	// Scope, when set, asks for a nullifier in that scope.
	Scope string `json:"scope,omitempty"`
	// Policy names the verifier's policy, for people.
	Policy string `json:"policy,omitempty"`
}

// Predicate is one predicate of Meta: the attribute (a one-element claims
// path), an operator of Ops and its values in the attribute's JSON form.
// Helper says which helper of the verifier's policy it came from
// ("age_at_least 18"), for people; the values are what is proved.
type Predicate struct {
	Path   []string `json:"path"`
	Op     string   `json:"op"`
	Values []any    `json:"values"`
	Helper string   `json:"helper,omitempty"`
}

// ParseMeta reads the meta of a zkcred credential query strictly.
func ParseMeta(b []byte) (*Meta, error) {
	var m Meta
	if err := strictjson.UnmarshalNumbers(b, &m); err != nil {
		return nil, fmt.Errorf("%w: meta: %s", ErrFormat, strictjson.Describe(err))
	}
	return &m, nil
}

// Statement is what a zkcred credential query asks, compiled against the
// schema: the parts of a wire.Request that the proof binds.
type Statement struct {
	Meta       *Meta
	Disclose   []string
	Predicates []wire.PlainPredicate
	Query      circuits.Query
	TrustList  wire.TrustList
}

// Compile checks a credential query of the zkcred format against the
// attributes of its schema and compiles it: claims name disclosed
// attributes (path [name]); a claim's values ask that the attribute is one
// of them (in); meta.predicates come first, then the claims' values, in
// order. Unknown attributes, paths of more than one element, operators
// other than Ops, claim_sets and multiple are refused.
func Compile(cq *dcql.CredentialQuery, attrs []circuits.Attribute) (*Statement, error) {
	if cq.Format != Format {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrFormat, cq.Format, Format)
	}
	m, err := ParseMeta(cq.Meta)
	if err != nil {
		return nil, err
	}
	if cq.Multiple != nil && *cq.Multiple {
		return nil, fmt.Errorf("%w: multiple: a zkcred presentation answers with one credential", ErrFormat)
	}
	if cq.ClaimSets != nil {
		return nil, fmt.Errorf("%w: claim_sets: not supported by %s (every claim listed is disclosed)", ErrFormat, Format)
	}
	st := &Statement{Meta: m}
	slot := func(where string, path []any) (int, *circuits.Attribute, error) {
		if len(path) != 1 {
			return 0, nil, fmt.Errorf("%w: %s: a path is one attribute name, got %d elements", ErrFormat, where, len(path))
		}
		name, ok := path[0].(string)
		if !ok {
			return 0, nil, fmt.Errorf("%w: %s: a path is one attribute name (a string)", ErrFormat, where)
		}
		for i := range attrs {
			if attrs[i].Name == name {
				return i, &attrs[i], nil
			}
		}
		return 0, nil, fmt.Errorf("%w: %s: the schema has no attribute %q", ErrFormat, where, name)
	}
	var preds []circuits.Predicate
	add := func(where string, s int, a *circuits.Attribute, op string, values []any, helper string) error {
		if !slices.Contains(Ops, op) {
			return fmt.Errorf("%w: %s: operator %q is not supported by %s (one of %v)", ErrFormat, where, op, Format, Ops)
		}
		if circuits.RangeOp(op) && !a.Type.Numeric() {
			return fmt.Errorf("%w: %s: %s compares order, but %q is a %s", ErrFormat, where, op, a.Name, a.Type)
		}
		vals := make([]fr.Element, len(values))
		for i, v := range values {
			e, err := a.Encode(v)
			if err != nil {
				return fmt.Errorf("%w: %s: value %d: %v", ErrFormat, where, i, err)
			}
			vals[i] = e
		}
		p, err := circuits.NewPredicate(s, op, vals...)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrFormat, where, err)
		}
		preds = append(preds, p)
		st.Predicates = append(st.Predicates, wire.PlainPredicate{Attribute: a.Name, Op: op, Values: values, Helper: helper})
		return nil
	}
	for i, p := range m.Predicates {
		where := fmt.Sprintf("meta.predicates[%d]", i)
		path := make([]any, len(p.Path))
		for j, e := range p.Path {
			path[j] = e
		}
		s, a, err := slot(where+".path", path)
		if err != nil {
			return nil, err
		}
		if err := add(where, s, a, p.Op, p.Values, p.Helper); err != nil {
			return nil, err
		}
	}
	for i, c := range cq.Claims {
		where := fmt.Sprintf("claims[%d]", i)
		s, a, err := slot(where+".path", c.Path)
		if err != nil {
			return nil, err
		}
		if st.Query.Disclose&(1<<s) != 0 {
			return nil, fmt.Errorf("%w: %s: %q is asked for twice", ErrFormat, where, a.Name)
		}
		st.Query.Disclose |= 1 << s
		st.Disclose = append(st.Disclose, a.Name)
		if c.Values != nil {
			if err := add(where+".values", s, a, "in", c.Values, ""); err != nil {
				return nil, err
			}
		}
	}
	if len(preds) > circuits.MaxPredicates {
		return nil, fmt.Errorf("%w: %d predicates, a presentation proves at most %d", ErrFormat, len(preds), circuits.MaxPredicates)
	}
	copy(st.Query.Predicates[:], preds)
	if err := st.Query.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	// The trust list: the trusted authority of zkcred's type.
	var ids []circuits.Field
	for i, ta := range cq.TrustedAuthorities {
		if ta.Type != TrustedAuthorityType {
			return nil, fmt.Errorf("%w: trusted_authorities[%d]: type %q is not supported by %s (use %q)", ErrFormat, i, ta.Type, Format, TrustedAuthorityType)
		}
		if ids != nil {
			return nil, fmt.Errorf("%w: trusted_authorities[%d]: one %s list only", ErrFormat, i, TrustedAuthorityType)
		}
		for j, v := range ta.Values {
			var f circuits.Field
			if err := json.Unmarshal([]byte(`"`+v+`"`), &f); err != nil {
				return nil, fmt.Errorf("%w: trusted_authorities[%d].values[%d]: %v", ErrFormat, i, j, err)
			}
			ids = append(ids, f)
		}
	}
	if ids == nil {
		return nil, fmt.Errorf("%w: trusted_authorities: a %s list of accepted issuers is required", ErrFormat, TrustedAuthorityType)
	}
	els := make([]fr.Element, len(ids))
	for i, id := range ids {
		els[i] = id.El()
	}
	tl, err := circuits.NewTrustList(els)
	if err != nil {
		return nil, fmt.Errorf("%w: trusted_authorities: %v", ErrFormat, err)
	}
	if tl.Root() != m.TrustListRoot.El() {
		return nil, fmt.Errorf("%w: meta.trust_list_root is not the root of the trusted_authorities' issuers", ErrFormat)
	}
	st.TrustList = wire.TrustList{Kind: m.IssuerKind, Issuers: ids, Root: m.TrustListRoot}
	return st, nil
}

// CredentialQuery returns the DCQL credential query of a request: its
// disclosed attributes as claims, a trailing run of "in" predicates over
// disclosed attributes as the claims' values, every other predicate in
// meta, the trust list as trusted_authorities. It checks that the query
// compiles back to the request's own circuit query.
func CredentialQuery(r *wire.Request) (*dcql.CredentialQuery, error) {
	q, err := r.Query.Circuit()
	if err != nil {
		return nil, err
	}
	if len(r.Predicates) != countPredicates(q) {
		return nil, fmt.Errorf("%w: request %s has %d plain predicates for %d circuit predicates", ErrFormat, r.ID, len(r.Predicates), countPredicates(q))
	}
	// Try with the trailing "in" predicates over disclosed attributes as
	// claim values; fall back to every predicate in meta.
	for _, moveIn := range []bool{true, false} {
		cq, err := credentialQuery(r, moveIn)
		if err != nil {
			return nil, err
		}
		st, err := Compile(cq, r.Attributes)
		if err != nil {
			if moveIn {
				continue
			}
			return nil, err
		}
		if reflect.DeepEqual(wire.NewQuery(st.Query), r.Query) {
			return cq, nil
		}
	}
	return nil, fmt.Errorf("%w: request %s: its DCQL query does not compile back to its circuit query", ErrFormat, r.ID)
}

func countPredicates(q circuits.Query) int {
	n := 0
	for _, p := range q.Predicates {
		if p.Kind != circuits.PredNone {
			n++
		}
	}
	return n
}

func credentialQuery(r *wire.Request, moveIn bool) (*dcql.CredentialQuery, error) {
	m := Meta{
		SchemaID: r.SchemaID, TrustListRoot: r.TrustList.Root, IssuerKind: r.TrustList.Kind,
		Audience: r.Audience, Now: r.Now, Expires: r.Expires, MinHeight: r.MinHeight,
		MaxRootAge: r.MaxRootAge, Scope: r.Scope, Policy: r.Policy,
	}
	claimValues := map[string][]any{}
	preds := r.Predicates
	if moveIn {
		for len(preds) > 0 {
			p := preds[len(preds)-1]
			if p.Op != "in" || p.Helper != "" || !slices.Contains(r.Disclose, p.Attribute) || claimValues[p.Attribute] != nil {
				break
			}
			claimValues[p.Attribute] = p.Values
			preds = preds[:len(preds)-1]
		}
	}
	for _, p := range preds {
		m.Predicates = append(m.Predicates, Predicate{Path: []string{p.Attribute}, Op: p.Op, Values: p.Values, Helper: p.Helper})
	}
	meta, err := marshal(m)
	if err != nil {
		return nil, err
	}
	cq := &dcql.CredentialQuery{ID: CredentialQueryID, Format: Format, Meta: meta}
	for _, name := range r.Disclose {
		cq.Claims = append(cq.Claims, dcql.ClaimQuery{Path: []any{name}, Values: claimValues[name]})
	}
	ta := dcql.TrustedAuthority{Type: TrustedAuthorityType}
	for _, id := range r.TrustList.Issuers {
		ta.Values = append(ta.Values, id.String())
	}
	cq.TrustedAuthorities = []dcql.TrustedAuthority{ta}
	return cq, nil
}

// marshal writes JSON without HTML escaping.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
