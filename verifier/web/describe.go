package web

import (
	"fmt"
	"strings"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/wire"
)

// RequestLink is the link the page shows and puts in the QR code: what a
// wallet opens (`zkcred wallet present <link>`). It is the OpenID4VP link
// when that is a signed request by reference (the verifier has a did:web),
// else the zkcred request URL, which every zkcred wallet reads (an
// unsigned OpenID4VP link carries the whole query: too dense a QR code, and
// wallets accept it only when told to).
func RequestLink(cr *wire.CreatedRequest) string {
	if strings.Contains(cr.OpenID4VPURI, "request_uri=") {
		return cr.OpenID4VPURI
	}
	return strings.TrimSuffix(cr.Request.SubmitURL, "/presentations")
}

// Explanation is what a request asks, in plain words.
type Explanation struct {
	Learns []string // what the verifier will learn
	Proves []string // what is only proven
}

func label(a circuits.Attribute) string {
	if a.Display != "" {
		return a.Display
	}
	return a.Name
}

func attrByName(r *wire.Request, name string) (circuits.Attribute, bool) {
	for _, a := range r.Attributes {
		if a.Name == name {
			return a, true
		}
	}
	return circuits.Attribute{}, false
}

// Explain words a request.
func Explain(r *wire.Request, schemaName string) Explanation {
	var e Explanation
	for _, name := range r.Disclose {
		a, _ := attrByName(r, name)
		if a.Name == "" {
			a.Name = name
		}
		s := "the holder's " + label(a)
		if a.Type == circuits.TypeString {
			s += " (as a hash: the verifier can confirm a value it guesses)"
		}
		e.Learns = append(e.Learns, s)
	}
	if len(e.Learns) == 0 {
		e.Learns = append(e.Learns, "no attribute values")
	}
	e.Learns = append(e.Learns, "which registry block the proof was made against")
	if r.Scope != "" {
		e.Learns = append(e.Learns, fmt.Sprintf("a pseudonym for scope %q: it recognises the same credential answering this scope again, and nothing else", r.Scope))
	}
	for _, p := range r.Predicates {
		e.Proves = append(e.Proves, predicateText(r, p))
	}
	kind := ""
	if r.TrustList.Kind != "" {
		kind = " " + r.TrustList.Kind
	}
	if n := len(r.TrustList.Issuers); n == 1 {
		e.Proves = append(e.Proves, "the credential was issued by the one accepted"+kind+" issuer (so the verifier learns which)")
	} else {
		e.Proves = append(e.Proves, fmt.Sprintf("the credential was issued by one of %d accepted%s issuers, not which one", n, kind))
	}
	what := "a credential"
	if schemaName != "" {
		what = fmt.Sprintf("a %q credential", schemaName)
	}
	e.Proves = append(e.Proves,
		what+" held by the person presenting it, anchored in the registry and not revoked",
		"it has not expired on "+time.Unix(int64(r.Now), 0).UTC().Format(time.DateOnly))
	return e
}

func predicateText(r *wire.Request, p wire.PlainPredicate) string {
	a, _ := attrByName(r, p.Attribute)
	if a.Name == "" {
		a.Name = p.Attribute
	}
	words := map[string]string{
		"eq": "is", "ne": "is not", "lt": "is below", "lte": "is at most",
		"gt": "is above", "gte": "is at least", "between": "is between",
		"in": "is one of", "nin": "is none of",
	}
	if a.Type == circuits.TypeDate || a.Type == circuits.TypeTimestamp {
		words["lt"], words["lte"], words["gt"], words["gte"] = "is before", "is on or before", "is after", "is on or after"
	}
	op := words[p.Op]
	if op == "" {
		op = p.Op
	}
	vals := make([]string, len(p.Values))
	for i, v := range p.Values {
		vals[i] = fmt.Sprint(v)
	}
	sep := ", "
	if p.Op == "between" {
		sep = " and "
	}
	s := fmt.Sprintf("the %s %s %s", label(a), op, strings.Join(vals, sep))
	if p.Helper != "" {
		s += " (" + p.Helper + ")"
	}
	return s + ", without showing it"
}

// reasons words the verifier's rejection codes for the person at the desk.
var reasons = map[string]string{
	wire.CodeReplay:              "This presentation was already used: a replayed presentation is refused.",
	wire.CodeNonceUsed:           "This request was already answered by another presentation.",
	wire.CodeWrongRequest:        "This presentation was made for another request: a copy of an earlier presentation (a replay) is refused.",
	wire.CodeRequestExpired:      "The request expired before the presentation arrived.",
	wire.CodeProofInvalid:        "The proof does not hold: the presentation was altered or does not satisfy the request.",
	wire.CodeRootTooOld:          "The proof was made against registry state older than this verifier accepts (the credential may have been revoked since).",
	wire.CodeUnknownRoot:         "The proof was made against registry state this verifier has not verified.",
	wire.CodeRootHeight:          "The proof names a registry block whose state it does not match.",
	wire.CodeDisclosure:          "The presentation disclosed other values than the request asks for.",
	wire.CodeNullifierForm:       "The presentation lacks the pseudonym this request asks for (or has one it does not ask for).",
	wire.CodeNullifierSeen:       "This credential already answered a request in this scope.",
	wire.CodeInvalidPresentation: "The presentation does not satisfy the request.",
	wire.CodeConflict:            "The presentation was already used.",
}

// Reason words a rejection.
func Reason(code, msg string) string {
	if s, ok := reasons[code]; ok {
		return s
	}
	return "The presentation was refused: " + msg
}
