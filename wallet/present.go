package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
)

// Reasons a presentation is not made. ErrRevoked and ErrExpired are found
// before any proof is made, so nothing doomed is submitted.
var (
	ErrCannotPresent = errors.New("cannot present")
	ErrBadRequest    = fmt.Errorf("%w: the presentation request is malformed", ErrCannotPresent)
	ErrRevoked       = fmt.Errorf("%w: the credential was revoked by its issuer", ErrCannotPresent)
	ErrExpired       = fmt.Errorf("%w: the credential has expired", ErrCannotPresent)
	ErrStaleRegistry = fmt.Errorf("%w: the registry's latest root is older than the verifier accepts", ErrCannotPresent)
	// ErrAudience is a request whose audience (the verifier it names) is
	// not the origin it was fetched from, or not where the presentation
	// would go: a request relayed by another site, whose proof would reach
	// someone else than the verifier the holder is shown.
	ErrAudience = fmt.Errorf("%w: the request does not come from, or answer to, the verifier it names", ErrCannotPresent)
)

// NoMatchError says why no stored credential satisfies a request: for each
// credential, the first requirement it does not meet.
type NoMatchError struct {
	Reasons []Mismatch
}

// Mismatch is why one credential does not satisfy a request.
type Mismatch struct {
	ID     string // wallet ID
	Name   string // credential name
	Reason string
}

func (e *NoMatchError) Error() string {
	if len(e.Reasons) == 0 {
		return "no credential satisfies the request: the wallet holds no credentials"
	}
	var b strings.Builder
	b.WriteString("no credential satisfies the request:")
	for _, m := range e.Reasons {
		fmt.Fprintf(&b, "\n  %s (%s): %s", m.ID, m.Name, m.Reason)
	}
	return b.String()
}

func (e *NoMatchError) Unwrap() error { return ErrCannotPresent }

// ReadRequest reads a presentation request from a URL (http or https) or a
// file, and checks that its derived fields agree with it (the audience and
// scope IDs, and the trust-list root) and that it names the verifier it
// comes from and answers to: the audience is a web origin, the URL it was
// fetched from has that origin, and so has its submitUrl. Otherwise it
// fails with ErrAudience, so that a site serving another verifier's
// request cannot collect the presentation.
func (w *Wallet) ReadRequest(ctx context.Context, src string) (*wire.Request, error) {
	var b []byte
	var err error
	fetched := isURL(src)
	if fetched {
		b, err = w.httpDo(ctx, "GET", src, nil)
	} else {
		b, err = os.ReadFile(src)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the request: %w", err)
	}
	return w.parseRequest(b, src, fetched)
}

// parseRequest reads and checks a zkcred request read from src (fetched:
// an http(s) URL).
func (w *Wallet) parseRequest(b []byte, src string, fetched bool) (*wire.Request, error) {
	req, err := wire.ParseRequest(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if req.AudienceID.El() != circuits.AudienceID(req.Audience) {
		return nil, fmt.Errorf("%w: audienceId is not the hash of audience %q", ErrBadRequest, req.Audience)
	}
	if req.ScopeID.El() != circuits.ScopeID(req.Scope) {
		return nil, fmt.Errorf("%w: scopeId is not the hash of scope %q", ErrBadRequest, req.Scope)
	}
	if _, err := trustList(req); err != nil {
		return nil, err
	}
	if req.SubmitURL == "" {
		return nil, fmt.Errorf("%w: no submitUrl", ErrBadRequest)
	}
	// A verifier without a public URL names a path: resolve it against
	// the request's own URL.
	if base, err := url.Parse(src); err == nil && base.Scheme != "" {
		if ref, err := url.Parse(req.SubmitURL); err == nil {
			req.SubmitURL = base.ResolveReference(ref).String()
		}
	}
	if u, err := url.Parse(req.SubmitURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("%w: submitUrl %q is not an http(s) URL", ErrBadRequest, req.SubmitURL)
	}
	if err := checkAudience(req, src, fetched); err != nil {
		return nil, err
	}
	return req, nil
}

// checkAudience holds the request's audience to the origin it was fetched
// from (when fetched) and to the origin of its submit URL.
func checkAudience(req *wire.Request, src string, fetched bool) error {
	aud, err := wire.Origin(req.Audience)
	if err != nil {
		return fmt.Errorf("%w: its audience %q is not a web origin (https://host), so the wallet cannot tell who asks", ErrAudience, truncate(req.Audience))
	}
	if fetched {
		from, err := wire.Origin(src)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
		if from != aud {
			return fmt.Errorf("%w: it names verifier %s but was served by %s (another site relaying it would receive the presentation); open the request on %s itself", ErrAudience, aud, from, aud)
		}
	}
	to, err := wire.Origin(req.SubmitURL)
	if err != nil {
		return fmt.Errorf("%w: submitUrl: %v", ErrBadRequest, err)
	}
	if to != aud {
		return fmt.Errorf("%w: it names verifier %s but the presentation would go to %s", ErrAudience, aud, to)
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

func trustList(req *wire.Request) (*circuits.TrustList, error) {
	ids := make([]fr.Element, len(req.TrustList.Issuers))
	for i, id := range req.TrustList.Issuers {
		ids[i] = id.El()
	}
	tl, err := circuits.NewTrustList(ids)
	if err != nil {
		return nil, fmt.Errorf("%w: trust list: %v", ErrBadRequest, err)
	}
	if tl.Root() != req.TrustList.Root.El() {
		return nil, fmt.Errorf("%w: the trust list's issuers do not make its root", ErrBadRequest)
	}
	return tl, nil
}

// Plan is a credential chosen for a request, with what presenting it
// discloses and proves.
type Plan struct {
	Request *wire.Request
	Entry   *Entry
	// Verifier names the verifier as authenticated (an OpenID4VP request
	// signed by its did:web key); empty for a zkcred request, whose
	// verifier is its audience.
	Verifier string
	// Disclose lists the attributes whose values the verifier learns.
	Disclose []Disclosure
	// Proves lists, in plain words, every other fact the proof shows.
	Proves []string
	query  circuits.Query
	trust  *circuits.TrustList
}

// Disclosure is one disclosed attribute.
type Disclosure struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	Value string `json:"value"`
}

// PresentOptions say which credential Present presents and how.
type PresentOptions struct {
	// CredentialID names the credential to present (its wallet ID or a
	// prefix of it). Empty: the oldest stored credential that satisfies
	// the request and is not revoked.
	CredentialID string
	// Keys are the proving keys; nil means LoadKeys(ctx, KeysDir), after
	// Confirm.
	Keys    *circuits.Keys
	KeysDir string
	// Confirm, if set, is shown the chosen plan before anything is proved;
	// an error stops Present and is returned as it is.
	Confirm func(*Plan) error
	// Skipped, if set, is told of each candidate passed over because its
	// issuer revoked it, when the request has other candidates.
	Skipped func(e *Entry, err error)
	// ProveOnly makes the presentation without submitting it.
	ProveOnly bool
}

// Presented is what Present did: the plan it chose, the presentation it
// made, and the verifier's verdict (nil with ProveOnly).
type Presented struct {
	Plan         *Plan
	Presentation *wire.Presentation
	Result       *wire.Result
}

// Present answers a request: it selects a credential (the one named, or the
// oldest that satisfies the request, skipping expired ones and those whose
// leaf the registry's latest verified root shows revoked), lets Confirm
// see what will be disclosed, proves, and submits the presentation to the
// request's submitUrl. It fails with a *NoMatchError when no credential
// satisfies the request, ErrRevoked or ErrExpired when the ones that do
// cannot be presented (before any proof is made, so the verifier hears
// nothing), and a *RemoteError when the verifier refuses the presentation.
// What was done before an error is returned with it.
func (w *Wallet) Present(ctx context.Context, req *wire.Request, o PresentOptions) (*Presented, error) {
	plans, err := w.candidates(req, o.CredentialID)
	if err != nil {
		return nil, err
	}
	out := &Presented{}
	for _, p := range plans {
		err := w.CheckStatus(ctx, p.Entry)
		if (errors.Is(err, ErrRevoked) || errors.Is(err, ErrRefused)) && len(plans) > 1 {
			if o.Skipped != nil {
				o.Skipped(p.Entry, err)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("credential %s: %w", p.Entry.ID, err)
		}
		out.Plan = p
		break
	}
	if out.Plan == nil {
		return nil, fmt.Errorf("%w: every credential that satisfies the request was revoked", ErrRevoked)
	}
	if o.Confirm != nil {
		if err := o.Confirm(out.Plan); err != nil {
			return out, err
		}
	}
	keys := o.Keys
	if keys == nil {
		if keys, err = w.LoadKeys(ctx, o.KeysDir); err != nil {
			return out, err
		}
	}
	if out.Presentation, err = w.prove(ctx, out.Plan, keys); err != nil {
		return out, err
	}
	if o.ProveOnly {
		return out, nil
	}
	out.Result, err = w.Submit(ctx, req, out.Presentation)
	return out, err
}

// candidates returns a plan for every stored credential that satisfies the
// request (or for the one named by credentialID), oldest first. If none
// does, the error is a *NoMatchError naming, per credential, the
// requirement it fails. Revocation is not known here: see CheckStatus.
func (w *Wallet) candidates(req *wire.Request, credentialID string) ([]*Plan, error) {
	q, err := req.Query.Circuit()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	tl, err := trustList(req)
	if err != nil {
		return nil, err
	}
	cands := w.f.Credentials
	if credentialID != "" {
		e, err := w.Credential(credentialID)
		if err != nil {
			return nil, err
		}
		if e.Private().Expiry < req.Now {
			return nil, fmt.Errorf("%w: %s expired on %s", ErrExpired, e.ID, time.Unix(int64(e.Private().Expiry), 0).UTC().Format(time.DateOnly))
		}
		cands = []*Entry{e}
	}
	nm := &NoMatchError{}
	var out []*Plan
	for _, e := range cands {
		if reason := mismatch(e, req, q, tl); reason != "" {
			nm.Reasons = append(nm.Reasons, Mismatch{ID: e.ID, Name: e.cred.Name, Reason: reason})
			continue
		}
		out = append(out, newPlan(e, req, q, tl))
	}
	if len(out) == 0 {
		return nil, nm
	}
	return out, nil
}

// CheckStatus reports whether a stored credential is still anchored under
// the registry's latest verified root: nil, or ErrRevoked when its leaf
// has been overwritten with 0. A credential stored unchecked gets the
// chain checks of Receive first (the wallet is saved with the outcome; one
// the chain refuses is removed and the error wraps ErrRefused).
func (w *Wallet) CheckStatus(ctx context.Context, e *Entry) error {
	if err := w.settleStored(ctx, e); err != nil {
		return err
	}
	if w.ready[e.ID] != nil {
		return nil // anchored under the root Prepare verified for this presentation
	}
	_, leaf, _, err := w.verifiedBucket(ctx, e.Private().LeafIndex)
	if err != nil {
		return err
	}
	p := e.Private()
	if want := circuits.LeafHash(p.IssuerID.El(), p.Commitment.El()); !leaf.Equal(&want) {
		return ErrRevoked
	}
	return nil
}

// mismatch returns the first requirement of req that e does not meet, or "".
func mismatch(e *Entry, req *wire.Request, q circuits.Query, tl *circuits.TrustList) string {
	p := e.Private()
	if p.SchemaID != req.SchemaID {
		return fmt.Sprintf("it is a %q credential; the verifier asks for another schema (%s)", e.Schema().Name, short(req.SchemaID.String()))
	}
	if _, _, ok := tl.Path(p.IssuerID.El()); !ok {
		return fmt.Sprintf("its issuer %s is not among the %d issuers the verifier accepts", e.cred.Issuer, len(req.TrustList.Issuers))
	}
	if p.Expiry < req.Now {
		return fmt.Sprintf("it expired on %s", time.Unix(int64(p.Expiry), 0).UTC().Format(time.DateOnly))
	}
	for i, pr := range q.Predicates {
		if pr.Kind == circuits.PredNone {
			continue
		}
		if pr.Slot >= len(e.Schema().Attributes) {
			return fmt.Sprintf("the verifier asks about slot %d, which its schema does not have", pr.Slot)
		}
		x := p.Slots[pr.Slot].El()
		if !pr.Holds(x) {
			a := e.Schema().Attributes[pr.Slot]
			return fmt.Sprintf("%s is %s, which does not satisfy: %s", label(a), valueString(a, x, e), predicateText(req, i, a, pr))
		}
	}
	for i := range circuits.Slots {
		if q.Disclose&(1<<i) != 0 && i >= len(e.Schema().Attributes) {
			return fmt.Sprintf("the verifier asks to disclose slot %d, which its schema does not have", i)
		}
	}
	return ""
}

func short(s string) string {
	if len(s) > 16 {
		return s[:8] + "…" + s[len(s)-6:]
	}
	return s
}

func label(a circuits.Attribute) string {
	if a.Display != "" {
		return a.Display
	}
	return a.Name
}

// valueString shows a slot's value as the holder knows it: the claim as
// issued for strings (whose slot is a hash), else the decoded value.
func valueString(a circuits.Attribute, x fr.Element, e *Entry) string {
	if a.Type == circuits.TypeString {
		if v, ok := e.cred.CredentialSubject.Claims[a.Name]; ok {
			return fmt.Sprintf("%q", fmt.Sprint(v))
		}
	}
	v, err := a.Decode(x)
	if err != nil {
		return circuits.Dec(x)
	}
	return fmt.Sprint(v)
}

// predicateText words predicate i of a request.
func predicateText(req *wire.Request, i int, a circuits.Attribute, pr circuits.Predicate) string {
	if i < len(req.Predicates) && req.Predicates[i].Attribute == a.Name {
		pp := req.Predicates[i]
		vals := make([]string, len(pp.Values))
		for j, v := range pp.Values {
			vals[j] = fmt.Sprint(v)
		}
		words := map[string]string{
			"eq": "is", "ne": "is not", "lt": "is below", "lte": "is at most",
			"gt": "is above", "gte": "is at least", "between": "is between",
			"in": "is one of", "nin": "is none of",
		}
		if a.Type == circuits.TypeDate || a.Type == circuits.TypeTimestamp {
			words["lt"], words["lte"], words["gt"], words["gte"] = "is before", "is on or before", "is after", "is on or after"
		}
		op := words[pp.Op]
		if op == "" {
			op = pp.Op
		}
		s := fmt.Sprintf("%s %s %s", label(a), op, strings.Join(vals, " and "))
		if pp.Helper != "" {
			s += " (" + pp.Helper + ")"
		}
		return s
	}
	// No plain form: word the circuit predicate.
	dec := func(e fr.Element) string {
		if v, err := a.Decode(e); err == nil && a.Type != circuits.TypeString {
			return fmt.Sprint(v)
		}
		return short(circuits.Dec(e))
	}
	switch pr.Kind {
	case circuits.PredRange:
		return fmt.Sprintf("%s is between %s and %s", label(a), dec(pr.Values[0]), dec(pr.Values[1]))
	case circuits.PredIn:
		return fmt.Sprintf("%s is one of the values the verifier names (e.g. %s)", label(a), dec(pr.Values[0]))
	case circuits.PredNotIn:
		return fmt.Sprintf("%s is none of the values the verifier names (e.g. %s)", label(a), dec(pr.Values[0]))
	}
	return label(a)
}

func newPlan(e *Entry, req *wire.Request, q circuits.Query, tl *circuits.TrustList) *Plan {
	p := &Plan{Request: req, Entry: e, query: q, trust: tl}
	attrs := e.Schema().Attributes
	for i := range circuits.Slots {
		if q.Disclose&(1<<i) == 0 || i >= len(attrs) {
			continue
		}
		a := attrs[i]
		v := valueString(a, e.Private().Slots[i].El(), e)
		if a.Type == circuits.TypeString {
			v += " (sent as its hash: anyone who guesses the text can confirm it)"
		}
		p.Disclose = append(p.Disclose, Disclosure{Name: a.Name, Label: label(a), Value: v})
	}
	for i, pr := range q.Predicates {
		if pr.Kind != circuits.PredNone && pr.Slot < len(attrs) {
			p.Proves = append(p.Proves, predicateText(req, i, attrs[pr.Slot], pr))
		}
	}
	n := len(req.TrustList.Issuers)
	if n == 1 {
		p.Proves = append(p.Proves, fmt.Sprintf("the credential was issued by %s (the verifier accepts only this issuer, so it learns who issued it)", e.cred.Issuer))
	} else {
		kind := ""
		if req.TrustList.Kind != "" {
			kind = " " + req.TrustList.Kind
		}
		p.Proves = append(p.Proves, fmt.Sprintf("the credential was issued by one of %d accepted%s issuers (not which one)", n, kind))
	}
	p.Proves = append(p.Proves,
		fmt.Sprintf("the credential is a %q credential, is yours, is not revoked, and has not expired on %s",
			e.Schema().Name, time.Unix(int64(req.Now), 0).UTC().Format(time.DateOnly)))
	if req.Scope != "" {
		p.Proves = append(p.Proves, fmt.Sprintf("a pseudonym for scope %q, the same every time this credential answers that scope (it is unlinkable to other scopes)", req.Scope))
	}
	return p
}

// Describe writes in plain words what presenting discloses and proves.
func (p *Plan) Describe(out io.Writer) {
	r := p.Request
	if p.Verifier != "" {
		fmt.Fprintf(out, "Verifier %s asks (policy %q).\n", p.Verifier, r.Policy)
	} else {
		fmt.Fprintf(out, "Verifier %s asks (policy %q).\n", r.Audience, r.Policy)
	}
	fmt.Fprintf(out, "The presentation goes to %s\n", r.SubmitURL)
	fmt.Fprintf(out, "Credential: %s %s, issued by %s\n", p.Entry.ID, p.Entry.cred.Name, p.Entry.cred.Issuer)
	if len(p.Disclose) == 0 {
		fmt.Fprintln(out, "\nIt will learn no attribute values.")
	} else {
		fmt.Fprintln(out, "\nIt will learn these values:")
		for _, d := range p.Disclose {
			fmt.Fprintf(out, "  %s: %s\n", d.Label, d.Value)
		}
	}
	fmt.Fprintln(out, "\nThe proof shows, without revealing anything else:")
	for _, s := range p.Proves {
		fmt.Fprintf(out, "  - %s\n", s)
	}
	var hidden []string
	for i, a := range p.Entry.Schema().Attributes {
		if p.query.Disclose&(1<<i) == 0 {
			hidden = append(hidden, label(a))
		}
	}
	sort.Strings(hidden)
	if len(hidden) > 0 {
		fmt.Fprintf(out, "\nNot disclosed: %s.\n", strings.Join(hidden, ", "))
	}
}

// prove makes the presentation of a plan: it fetches the witness bucket of
// the credential's leaf (never the index itself) for the newest root the
// light client verified (never an older one a server picked), builds both
// paths, checks the statement natively (a
// revoked or expired credential is reported as ErrRevoked or ErrExpired,
// and no proof is made) and proves.
func (w *Wallet) prove(ctx context.Context, p *Plan, keys *circuits.Keys) (*wire.Presentation, error) {
	e, r := p.Entry, p.Request
	priv := e.Private()
	// The newest verified root, at a block no older than the newest the
	// verifier knew when it made the request.
	root, height, path, err := w.provingRoot(ctx, e, r.MinHeight) // prover.go
	if err != nil {
		return nil, err
	}
	if h, ok := w.lc.Header(height); ok && r.MaxRootAge > 0 {
		age := int64(r.Now) - h.Time/1000
		if age > int64(r.MaxRootAge) {
			return nil, fmt.Errorf("%w (block %d is %ds old, the verifier accepts %ds)", ErrStaleRegistry, height, age, r.MaxRootAge)
		}
	}
	ti, tpath, ok := p.trust.Path(priv.IssuerID.El())
	if !ok {
		return nil, fmt.Errorf("%w: issuer not in the trust list", ErrCannotPresent)
	}
	wit := &circuits.Witness{
		Credential:   priv.CircuitCredential(),
		HolderSecret: w.f.Secret.El(),
		IssuerID:     priv.IssuerID.El(),
		LeafIndex:    priv.LeafIndex,
		Path:         path,
		TrustIndex:   ti,
		TrustPath:    tpath,
		Root:         root,
		Height:       height,
		TrustRoot:    p.trust.Root(),
		Now:          r.Now,
		Nonce:        r.Nonce.El(),
		Audience:     r.AudienceID.El(),
		Scope:        r.ScopeID.El(),
		Query:        p.query,
	}
	if err := wit.Check(); err != nil {
		switch {
		case errors.Is(err, circuits.ErrNotInTree):
			return nil, fmt.Errorf("%w (%v)", ErrRevoked, err)
		case errors.Is(err, circuits.ErrExpired):
			return nil, ErrExpired
		}
		return nil, fmt.Errorf("%w: %w", ErrCannotPresent, err)
	}
	// Prove from the credential's prover state (prover.go); ProveFrom
	// checks a proof made from the state before returning it, and makes a
	// full proof instead when the state is missing or fails.
	st := w.stateFor(keys, e, wit)
	proof, pub, info, err := keys.ProveFrom(st, wit)
	if err != nil {
		return nil, fmt.Errorf("proving: %w", err)
	}
	w.lastProve = info
	if info.Fallback != nil && !errors.Is(info.Fallback, circuits.ErrStateEmpty) {
		w.removeState(e) // corrupt, or for other keys: rebuilt by the next refresh
	}
	pres := &wire.Presentation{
		RequestID: r.ID, Nonce: r.Nonce, Height: pub.Height, Root: circuits.F(pub.Root),
		Proof: proof, Nullifier: circuits.F(pub.Nullifier),
	}
	for i, a := range e.Schema().Attributes {
		if p.query.Disclose&(1<<i) != 0 {
			if pres.Disclosed == nil {
				pres.Disclosed = map[string]circuits.Field{}
			}
			pres.Disclosed[a.Name] = circuits.F(pub.Disclosed[i])
		}
	}
	return pres, nil
}

// Submit posts a presentation to the request's submit URL and returns the
// verifier's verdict. A rejection the verifier answers with an HTTP error
// is a *RemoteError.
func (w *Wallet) Submit(ctx context.Context, r *wire.Request, pres *wire.Presentation) (*wire.Result, error) {
	body, err := json.Marshal(pres)
	if err != nil {
		return nil, err
	}
	b, err := w.httpDo(ctx, "POST", r.SubmitURL, body)
	if err != nil {
		return nil, err
	}
	var res wire.Result
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("verifier's answer: %w", err)
	}
	return &res, nil
}
