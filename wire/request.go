package wire

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/zkcred/zkcred/circuits"
)

// Request is a presentation request as the wallet reads it (GET
// /v1/requests/{id}). The verifier keeps its own copy and rebuilds the
// public statement from that copy only.
type Request struct {
	ID     string `json:"id"`
	Policy string `json:"policy"`
	// Nonce is fresh and random per request (below 2^248), single use.
	Nonce circuits.Field `json:"nonce"`
	// Audience names this verifier: its web origin (https://host[:port]),
	// which a wallet checks against the origin it fetched the request from
	// and the origin of SubmitURL. AudienceID = circuits.AudienceID(Audience).
	Audience   string         `json:"audience"`
	AudienceID circuits.Field `json:"audienceId"`
	// Now is the verifier's clock at request time (Unix seconds); the
	// credential must not expire before it.
	Now uint64 `json:"now"`
	// Expires is the last second (Unix) at which a presentation is accepted.
	Expires    uint64               `json:"expires"`
	SchemaID   circuits.Field       `json:"schemaId"`
	Attributes []circuits.Attribute `json:"attributes"`
	TrustList  TrustList            `json:"trustList"`
	Disclose   []string             `json:"disclose"`
	// Predicates in plain form (helpers resolved), for people.
	Predicates []PlainPredicate `json:"predicates"`
	// Query is the circuit form of Disclose and Predicates: what the proof binds.
	Query Query `json:"query"`
	// Scope is the nullifier scope ("" for none); ScopeID its field form.
	Scope   string         `json:"scope,omitempty"`
	ScopeID circuits.Field `json:"scopeId"`
	// MaxRootAge in seconds: the oldest root the verifier accepts.
	MaxRootAge uint64 `json:"maxRootAge"`
	// MinHeight is the newest block height the verifier had verified when
	// it made the request (0 if none): a presentation must name a block at
	// least as new, so that nobody can make the wallet prove against an
	// older root of their choosing.
	MinHeight uint64 `json:"minHeight"`
	// SubmitURL is where the wallet POSTs its Presentation; its origin is
	// the audience's.
	SubmitURL string `json:"submitUrl"`
}

// CreatedRequest is the answer to POST /v1/requests: the request (what a
// wallet later reads at GET /v1/requests/{id}, flattened into the same
// object) and ResultToken, the capability to read the request's result.
// Only the creator receives it; GET /v1/requests/{id}/result needs it as
// "Authorization: Bearer <token>" or "?token=<token>".
type CreatedRequest struct {
	Request
	ResultToken string `json:"resultToken"`
	// OpenID4VPURI is the request as an OpenID4VP 1.0 openid4vp:// link
	// (docs/openid.md), for wallets that speak the standard.
	OpenID4VPURI string `json:"openid4vpUri,omitempty"`
}

// Origin returns the web origin of an http(s) URL: scheme://host[:port],
// lowercase, without the scheme's default port (RFC 6454's serialisation
// for http and https). A request's audience, the URL a wallet fetched it
// from and its submitUrl must have the same origin.
func Origin(u string) (string, error) {
	p, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	scheme := strings.ToLower(p.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("%q is not an http(s) URL", u)
	}
	if p.Host == "" || p.User != nil || p.Opaque != "" {
		return "", fmt.Errorf("%q has no host, or has user information", u)
	}
	host, port := strings.ToLower(p.Hostname()), p.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}

// PlainPredicate is a predicate after the policy's helpers are resolved,
// in the attribute's JSON form: what a wallet shows the holder. Only the
// request's Query is proved; a wallet words predicates from here and
// decides from Query.
type PlainPredicate struct {
	Attribute string `json:"attribute"`
	Op        string `json:"op"`
	Values    []any  `json:"values"`
	// Helper describes the policy helper this comes from, if any.
	Helper string `json:"helper,omitempty"`
}

// TrustList is the request's trust list: the sorted issuer IDs (from
// which the wallet builds its path) and their root.
type TrustList struct {
	Kind    string           `json:"kind,omitempty"`
	Issuers []circuits.Field `json:"issuers"`
	Root    circuits.Field   `json:"root"`
}

// Query is circuits.Query in JSON: the disclose bit mask (bit i is slot
// i) and always MaxPredicates predicates (kind 0 for unused ones).
type Query struct {
	Disclose   uint16                            `json:"disclose"`
	Predicates [circuits.MaxPredicates]Predicate `json:"predicates"`
}

// Predicate is circuits.Predicate in JSON.
type Predicate struct {
	Slot   int                              `json:"slot"`
	Kind   circuits.PredKind                `json:"kind"`
	Values [circuits.SetSize]circuits.Field `json:"values"`
}

// NewQuery converts a circuit query to its JSON form.
func NewQuery(q circuits.Query) Query {
	w := Query{Disclose: q.Disclose}
	for i, p := range q.Predicates {
		w.Predicates[i].Slot = p.Slot
		w.Predicates[i].Kind = p.Kind
		for j, v := range p.Values {
			w.Predicates[i].Values[j] = circuits.F(v)
		}
	}
	return w
}

// Circuit converts back, checking slots and kinds.
func (w Query) Circuit() (circuits.Query, error) {
	q := circuits.Query{Disclose: w.Disclose}
	for i, p := range w.Predicates {
		if p.Slot < 0 || p.Slot >= circuits.Slots {
			return q, fmt.Errorf("%w: predicate %d: slot %d outside 0..%d", ErrMalformed, i, p.Slot, circuits.Slots-1)
		}
		if p.Kind > circuits.PredNotIn {
			return q, fmt.Errorf("%w: predicate %d: unknown kind %d", ErrMalformed, i, p.Kind)
		}
		q.Predicates[i].Slot = p.Slot
		q.Predicates[i].Kind = p.Kind
		for j, v := range p.Values {
			q.Predicates[i].Values[j] = v.El()
		}
	}
	return q, nil
}

// ParseRequest decodes a request strictly (what a wallet calls).
func ParseRequest(b []byte) (*Request, error) {
	var r Request
	if err := decode(b, &r); err != nil {
		return nil, err
	}
	if _, err := r.Query.Circuit(); err != nil {
		return nil, err
	}
	return &r, nil
}

// MaxProofBytes bounds the proof of a presentation (Groth16 on BN254 is
// 128 to 256 bytes; the bound leaves room for a format header).
const MaxProofBytes = 1024

// Presentation is the holder's answer to a request (POST to SubmitURL).
// Only Disclosed and Nullifier enter the public statement from here; the
// root is checked against the light client, and Nonce and RequestID only
// name the request being answered.
type Presentation struct {
	RequestID string `json:"requestId"`
	// Nonce echoes the request's nonce, so that a proof made for another
	// request is named as such; the proof binds the verifier's own copy.
	Nonce  circuits.Field `json:"nonce"`
	Height uint64         `json:"height"`
	Root   circuits.Field `json:"root"`
	// Proof is the Groth16 proof, base64 (standard alphabet, padded).
	Proof     []byte                    `json:"proof"`
	Nullifier circuits.Field            `json:"nullifier"`
	Disclosed map[string]circuits.Field `json:"disclosed,omitempty"`
}

// ParsePresentation decodes a presentation strictly.
func ParsePresentation(b []byte) (*Presentation, error) {
	var p Presentation
	if err := decode(b, &p); err != nil {
		return nil, err
	}
	if p.RequestID == "" {
		return nil, fmt.Errorf("%w: requestId is missing", ErrMalformed)
	}
	if len(p.Proof) == 0 || len(p.Proof) > MaxProofBytes {
		return nil, fmt.Errorf("%w: proof of %d bytes, want 1 to %d", ErrMalformed, len(p.Proof), MaxProofBytes)
	}
	return &p, nil
}

// Result statuses. A request's result (GET /v1/requests/{id}/result) is
// pending, verified or consumed: only a verified presentation changes it,
// so a rejected attempt (by anyone who knows the request's id) leaves it
// pending. StatusRejected is the verdict on one presentation of a batch.
const (
	StatusPending  = "pending"  // no verified presentation yet
	StatusVerified = "verified" // a presentation was verified
	StatusRejected = "rejected" // this presentation (a batch item) was rejected: Code and Reason say why
	StatusConsumed = "consumed" // verified through /v1/verify or /v1/verify/batch, which keep no result
)

// Result is the outcome for a request (GET /v1/requests/{id}/result) or
// for one presentation (stateless and batch verification).
type Result struct {
	RequestID string `json:"requestId"`
	Status    string `json:"status"`
	// Code and Reason say why a presentation was rejected.
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Disclosed values decoded to their schema types (dates "YYYY-MM-DD",
	// decimals as strings, string attributes as their field hash).
	Disclosed map[string]any  `json:"disclosed,omitempty"`
	Height    uint64          `json:"height,omitempty"`
	Nullifier *circuits.Field `json:"nullifier,omitempty"`
	// At is when the result was reached (Unix seconds).
	At int64 `json:"at,omitempty"`
}

// BatchRequest is the body of POST /v1/verify/batch. Each item is parsed on
// its own, so a malformed item is rejected alone.
type BatchRequest struct {
	Presentations []json.RawMessage `json:"presentations"`
}

// BatchResponse holds one Result per presentation, in order.
type BatchResponse struct {
	Results []Result `json:"results"`
}

// CreateRequestBody is the body of POST /v1/requests.
type CreateRequestBody struct {
	// Policy names the policy; may be empty when only one is configured.
	Policy string `json:"policy"`
}
