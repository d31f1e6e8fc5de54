// Package dcql parses and validates queries of the Digital Credentials
// Query Language (OpenID for Verifiable Presentations 1.0, section 6), the
// dcql_query of an authorization request.
//
// Parse is strict: besides the rules of the specification (a non-empty
// credentials list, ids of letters, digits, "_" and "-" unique in their
// scope, meta present in every credential query, claim_sets only with
// claims that have ids, non-empty paths of strings, nulls and non-negative
// integers, values of strings, integers and booleans, credential_sets
// naming only known credential queries), it refuses unknown members,
// repeated members and nulls where the specification allows none. Each
// error names the place (credentials[0].claims[1].path[0]) and the rule.
// Format-specific meta is left to the format (json.RawMessage).
package dcql

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/zkcred/zkcred/internal/strictjson"
)

// ErrQuery is wrapped by every error of Parse and Validate.
var ErrQuery = errors.New("invalid DCQL query")

// MaxQuery bounds the size of a query Parse reads.
const MaxQuery = 64 << 10

// Query is a DCQL query.
type Query struct {
	Credentials    []CredentialQuery    `json:"credentials"`
	CredentialSets []CredentialSetQuery `json:"credential_sets,omitempty"`
}

// CredentialQuery asks for one credential (or several, with Multiple).
type CredentialQuery struct {
	ID       string `json:"id"`
	Format   string `json:"format"`
	Multiple *bool  `json:"multiple,omitempty"`
	// Meta is required (an object, possibly empty); its members are the
	// format's.
	Meta                              json.RawMessage    `json:"meta"`
	TrustedAuthorities                []TrustedAuthority `json:"trusted_authorities,omitempty"`
	RequireCryptographicHolderBinding *bool              `json:"require_cryptographic_holder_binding,omitempty"`
	Claims                            []ClaimQuery       `json:"claims,omitempty"`
	ClaimSets                         [][]string         `json:"claim_sets,omitempty"`
}

// TrustedAuthority names issuers a credential may come from, in a way
// the type defines (aki, etsi_tl, openid_federation, or a format's own).
type TrustedAuthority struct {
	Type   string   `json:"type"`
	Values []string `json:"values"`
}

// ClaimQuery asks for one claim, at Path, optionally with one of Values.
type ClaimQuery struct {
	ID string `json:"id,omitempty"`
	// Path elements are a string (an object member), nil (every element
	// of an array) or a non-negative integer (json.Number, an array index).
	Path []any `json:"path"`
	// Values are strings, integers (json.Number) or booleans.
	Values []any `json:"values,omitempty"`
	// IntentToRetain is mso_mdoc's.
	IntentToRetain *bool `json:"intent_to_retain,omitempty"`
}

// CredentialSetQuery says which combinations of credential queries answer.
type CredentialSetQuery struct {
	Options  [][]string `json:"options"`
	Required *bool      `json:"required,omitempty"`
}

// Parse reads and validates a query.
func Parse(b []byte) (*Query, error) {
	if len(b) > MaxQuery {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrQuery, len(b), MaxQuery)
	}
	var q Query
	if err := strictjson.UnmarshalNumbers(b, &q); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrQuery, strictjson.Describe(err))
	}
	if err := exactNames(b); err != nil {
		return nil, err
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	for i := range q.Credentials {
		var buf bytes.Buffer
		if json.Compact(&buf, q.Credentials[i].Meta) == nil {
			q.Credentials[i].Meta = buf.Bytes()
		}
	}
	return &q, nil
}

// Member names of each object, exactly (encoding/json would also take
// them in another letter case).
var (
	queryNames      = []string{"credentials", "credential_sets"}
	credentialNames = []string{"id", "format", "multiple", "meta", "trusted_authorities", "require_cryptographic_holder_binding", "claims", "claim_sets"}
	authorityNames  = []string{"type", "values"}
	claimNames      = []string{"id", "path", "values", "intent_to_retain"}
	setNames        = []string{"options", "required"}
)

// exactNames checks the member names of a query that strictjson already
// read into a Query, so the shapes are known to be right.
func exactNames(b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return fmt.Errorf("%w: %v", ErrQuery, err)
	}
	objs := func(raw json.RawMessage) []map[string]json.RawMessage {
		var out []map[string]json.RawMessage
		_ = json.Unmarshal(raw, &out)
		return out
	}
	check := func(where string, m map[string]json.RawMessage, names []string) error {
		for k := range m {
			if !slices.Contains(names, k) {
				return errAt(where, "unknown member %q (members are %s)", k, strings.Join(names, ", "))
			}
		}
		return nil
	}
	if err := check("query", top, queryNames); err != nil {
		return err
	}
	for i, c := range objs(top["credentials"]) {
		w := fmt.Sprintf("credentials[%d]", i)
		if err := check(w, c, credentialNames); err != nil {
			return err
		}
		for j, a := range objs(c["trusted_authorities"]) {
			if err := check(fmt.Sprintf("%s.trusted_authorities[%d]", w, j), a, authorityNames); err != nil {
				return err
			}
		}
		for j, cl := range objs(c["claims"]) {
			if err := check(fmt.Sprintf("%s.claims[%d]", w, j), cl, claimNames); err != nil {
				return err
			}
		}
	}
	for i, s := range objs(top["credential_sets"]) {
		if err := check(fmt.Sprintf("credential_sets[%d]", i), s, setNames); err != nil {
			return err
		}
	}
	return nil
}

func errAt(where, format string, a ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrQuery, where, fmt.Sprintf(format, a...))
}

// validID reports whether s is a non-empty string of ASCII letters,
// digits, "_" and "-".
func validID(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Validate checks the rules of the specification on a query built in Go.
func (q *Query) Validate() error {
	if len(q.Credentials) == 0 {
		return errAt("credentials", "must be a non-empty array")
	}
	ids := map[string]bool{}
	for i := range q.Credentials {
		c := &q.Credentials[i]
		where := fmt.Sprintf("credentials[%d]", i)
		if !validID(c.ID) {
			return errAt(where+".id", "%q must be a non-empty string of letters, digits, _ and -", c.ID)
		}
		if ids[c.ID] {
			return errAt(where+".id", "%q is the id of an earlier credential query", c.ID)
		}
		ids[c.ID] = true
		if err := c.validate(where); err != nil {
			return err
		}
	}
	if q.CredentialSets != nil && len(q.CredentialSets) == 0 {
		return errAt("credential_sets", "must be a non-empty array when present")
	}
	for i, s := range q.CredentialSets {
		where := fmt.Sprintf("credential_sets[%d].options", i)
		if len(s.Options) == 0 {
			return errAt(where, "must be a non-empty array")
		}
		for j, opt := range s.Options {
			if len(opt) == 0 {
				return errAt(fmt.Sprintf("%s[%d]", where, j), "must name at least one credential query")
			}
			for k, id := range opt {
				if !ids[id] {
					return errAt(fmt.Sprintf("%s[%d][%d]", where, j, k), "%q is not the id of a credential query", id)
				}
			}
		}
	}
	return nil
}

func (c *CredentialQuery) validate(where string) error {
	if strings.TrimSpace(c.Format) == "" {
		return errAt(where+".format", "is required")
	}
	if len(c.Meta) == 0 {
		return errAt(where+".meta", "is required (an object; {} when the format defines no members)")
	}
	var meta map[string]json.RawMessage
	if err := json.Unmarshal(c.Meta, &meta); err != nil || meta == nil {
		return errAt(where+".meta", "must be a JSON object")
	}
	if c.TrustedAuthorities != nil && len(c.TrustedAuthorities) == 0 {
		return errAt(where+".trusted_authorities", "must be a non-empty array when present")
	}
	for i, ta := range c.TrustedAuthorities {
		w := fmt.Sprintf("%s.trusted_authorities[%d]", where, i)
		if ta.Type == "" {
			return errAt(w+".type", "is required")
		}
		if len(ta.Values) == 0 {
			return errAt(w+".values", "must be a non-empty array")
		}
		for j, v := range ta.Values {
			if v == "" {
				return errAt(fmt.Sprintf("%s.values[%d]", w, j), "must be a non-empty string")
			}
		}
	}
	if c.Claims != nil && len(c.Claims) == 0 {
		return errAt(where+".claims", "must be a non-empty array when present")
	}
	claimIDs := map[string]bool{}
	for i := range c.Claims {
		cl := &c.Claims[i]
		w := fmt.Sprintf("%s.claims[%d]", where, i)
		if cl.ID != "" || c.ClaimSets != nil {
			if !validID(cl.ID) {
				return errAt(w+".id", "%q must be a non-empty string of letters, digits, _ and - (required with claim_sets)", cl.ID)
			}
			if claimIDs[cl.ID] {
				return errAt(w+".id", "%q is the id of an earlier claim", cl.ID)
			}
			claimIDs[cl.ID] = true
		}
		if err := validPath(w+".path", cl.Path); err != nil {
			return err
		}
		if cl.Values != nil && len(cl.Values) == 0 {
			return errAt(w+".values", "must be a non-empty array when present")
		}
		for j, v := range cl.Values {
			if err := validValue(fmt.Sprintf("%s.values[%d]", w, j), v); err != nil {
				return err
			}
		}
	}
	if c.ClaimSets != nil {
		if len(c.Claims) == 0 {
			return errAt(where+".claim_sets", "needs claims")
		}
		if len(c.ClaimSets) == 0 {
			return errAt(where+".claim_sets", "must be a non-empty array when present")
		}
		for i, set := range c.ClaimSets {
			if len(set) == 0 {
				return errAt(fmt.Sprintf("%s.claim_sets[%d]", where, i), "must name at least one claim")
			}
			for j, id := range set {
				if !claimIDs[id] {
					return errAt(fmt.Sprintf("%s.claim_sets[%d][%d]", where, i, j), "%q is not the id of a claim", id)
				}
			}
		}
	}
	return nil
}

func validPath(where string, path []any) error {
	if len(path) == 0 {
		return errAt(where, "must be a non-empty array")
	}
	for i, e := range path {
		switch v := e.(type) {
		case nil, string:
		case json.Number:
			if _, ok := index(v); !ok {
				return errAt(fmt.Sprintf("%s[%d]", where, i), "%s is not a non-negative integer index", v)
			}
		case int:
			if v < 0 {
				return errAt(fmt.Sprintf("%s[%d]", where, i), "%d is negative", v)
			}
		default:
			return errAt(fmt.Sprintf("%s[%d]", where, i), "must be a string, null or a non-negative integer")
		}
	}
	return nil
}

func index(n json.Number) (int64, bool) {
	i, err := n.Int64()
	if err != nil || i < 0 || strings.ContainsAny(n.String(), ".eE+-") {
		return 0, false
	}
	return i, true
}

func validValue(where string, v any) error {
	switch x := v.(type) {
	case string, bool:
		return nil
	case json.Number:
		if _, err := x.Int64(); err != nil || strings.ContainsAny(x.String(), ".eE") {
			return errAt(where, "%s is not an integer (values are strings, integers or booleans)", x)
		}
		return nil
	case int, int64, uint64:
		return nil
	case float64:
		if x == math.Trunc(x) {
			return nil
		}
	}
	return errAt(where, "must be a string, an integer or a boolean")
}

// Credential returns the credential query with the given id.
func (q *Query) Credential(id string) (*CredentialQuery, bool) {
	for i := range q.Credentials {
		if q.Credentials[i].ID == id {
			return &q.Credentials[i], true
		}
	}
	return nil, false
}
