package verifier

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zkcred/zkcred/internal/didweb"
	"github.com/zkcred/zkcred/wire"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/verifier/store"
)

// ProofVerifier checks Groth16 proofs against a public statement;
// *circuits.Verifier implements it. VerifyBatch returns one verdict per
// proof (nil for a valid one).
type ProofVerifier interface {
	Verify(proof []byte, pub *circuits.Public) error
	VerifyBatch(proofs [][]byte, pubs []*circuits.Public) []error
}

// Roots is the registry light client's view of verified block headers:
// the height and block time of a credential-tree root, ok false for a root
// no verified header published.
type Roots interface {
	RootInfo(root fr.Element) (height uint64, t time.Time, ok bool)
}

// RootsAt is implemented by Roots that also know the credential root of
// the block at a height. A root often stays the same over many blocks
// (blocks without anchoring or revocation); RootInfo names the latest of
// them, and RootsAt lets a presentation name any earlier one.
type RootsAt interface {
	RootAt(height uint64) (root fr.Element, ok bool)
}

// LatestRoots is implemented by Roots that know their newest verified
// block. A request then carries that height as its minHeight, and a
// presentation must name a block at least as new: nobody can make a wallet
// prove against an older root of their choosing (which would mark the
// presentation).
type LatestRoots interface {
	LatestHeight() (height uint64, ok bool)
}

// IssuerLister lists the IDs of the active issuers of a kind (for
// policies that accept "all registered universities").
type IssuerLister interface {
	Issuers(kind string) ([]fr.Element, error)
}

// ErrUnboundDIDWeb: no active registered issuer's proven record binds the
// did:web a policy names.
var ErrUnboundDIDWeb = errors.New("no active registered issuer binds this did:web")

// DIDWebIssuers is implemented by IssuerListers that map a did:web to the
// ID of the active issuer whose registry record binds it (for policies
// naming issuers by did:web).
type DIDWebIssuers interface {
	IssuerByDIDWeb(did string) (fr.Element, error)
}

// Defaults of Options.
const (
	DefaultMaxBody   = 64 << 10 // bytes of one JSON body
	DefaultMaxBatch  = 256      // presentations per batch call
	DefaultRetention = time.Hour
	DefaultCoalesce  = 64
	DefaultRate      = 50  // calls, or batch items, per second per client
	DefaultBurst     = 256 // burst per client (so a full batch fits)
	// DefaultSuspectFor is how long a client whose proof failed has its
	// proofs checked alone instead of coalesced with other clients'.
	DefaultSuspectFor = 10 * time.Minute
	// DefaultMaxRequests bounds the stored requests (each 3–25 KB, kept
	// until expiry plus the retention).
	DefaultMaxRequests = 100_000
	// DefaultPublicQuota bounds the open requests of public policies one
	// client may hold.
	DefaultPublicQuota = 16
)

// Options configure New. Zero values take the defaults; Proofs, Roots,
// Audience and at least one policy are required, as are Issuers when a
// policy names issuers by kind, and Dir unless InMemory.
type Options struct {
	Dir      string // badger directory
	InMemory bool   // keep state in memory only (tests, load tools)
	Store    store.Options

	Policies []*Policy
	// Audience names this verifier in every request: its web origin,
	// https://host[:port] (a path is allowed and ignored by the origin
	// checks). Wallets refuse a request whose audience is not the origin
	// they fetched it from, or whose submit URL has another origin.
	Audience string
	// PublicURL is the base URL wallets reach; the submit URL of a request
	// is PublicURL/v1/requests/{id}/presentations. Default: Audience. Its
	// origin must be the audience's.
	PublicURL string

	Proofs  ProofVerifier
	Roots   Roots
	Issuers IssuerLister

	Clock  func() time.Time // default time.Now
	Logger *slog.Logger

	// Retention keeps requests and results this long after expiry, so a
	// late presentation is told "expired" rather than "unknown".
	Retention time.Duration

	// CreateToken is the bearer token ("Authorization: Bearer <token>")
	// that POST /v1/requests needs for a policy that is not public, so
	// that only the relying party's own backend issues requests (and fills
	// the store). Without it, only public policies' requests can be
	// created over HTTP; CreateRequest in process needs no token.
	CreateToken string
	// PublicQuota bounds the open (unexpired) requests of public policies
	// that one client (the rate limiter's key) may hold; default
	// DefaultPublicQuota, negative for no bound. Requests made with the
	// create token are not counted.
	PublicQuota int
	// MaxRequests bounds the requests stored at once (until their expiry
	// plus the retention), whoever made them; default DefaultMaxRequests,
	// negative for no bound.
	MaxRequests int

	// CoalesceProofs verifies the proofs of concurrent presentations
	// together in batches of up to this many (one random-linear-combination
	// check, as /v1/verify/batch does); under light load proofs are still
	// checked one at a time, at once. 0 means DefaultCoalesce; 1 or a
	// negative value verifies every proof alone.
	CoalesceProofs int

	// SigningKey is the verifier's Ed25519 key: it signs OpenID4VP request
	// objects and is published in the verifier's did:web document
	// (/.well-known/did.json; the DID is did:web of the audience's
	// origin). Nil makes a fresh key at each New: wallets resolve the key
	// per request, so that only costs the DID's stability.
	SigningKey ed25519.PrivateKey
	// EncryptResponses makes the OpenID4VP requests ask for encrypted
	// responses (response_mode direct_post.jwt, ECDH-ES P-256 / A128GCM to
	// a key derived from SigningKey and named in client_metadata.jwks),
	// and refuses unencrypted ones.
	EncryptResponses bool

	// HTTP hardening.
	MaxBody  int64 // default DefaultMaxBody; a batch may be MaxBatch times larger
	MaxBatch int   // default DefaultMaxBatch
	// TrustedProxies are CIDRs whose X-Forwarded-For is believed when
	// keying the rate limiter; with none, the peer address is the client.
	TrustedProxies []string
	// RateLimit per client per second (default DefaultRate); negative
	// disables rate limiting. Every call under /v1/ counts one, a batch
	// call one per presentation. RateBurst (default DefaultBurst) also
	// bounds the presentations of one batch call.
	RateLimit float64
	RateBurst int
	// SuspectFor is how long a client whose proof failed the pairing
	// check has its proofs checked alone, outside the coalesced batches
	// (default DefaultSuspectFor; negative: never).
	SuspectFor time.Duration
}

// Server verifies presentations against requests it issued. Create it
// with New, serve Handler, and Close it.
type Server struct {
	opts     Options
	policies map[string]*Policy
	order    []string
	db       *store.Store
	clock    func() time.Time
	log      *slog.Logger
	metrics  *metrics

	coalesce  *coalescer // known clients' proofs (and in-process calls)
	probation *coalescer // new clients' proofs, when clients are tracked
	clients   *clients
	limit     *limiter // nil without rate limiting
	book      *requestBook

	encKey *ecdsa.PrivateKey // direct_post.jwt responses are encrypted to it
	did    string            // did:web of the audience ("" if none)
	didDoc *didweb.Document  // served at /.well-known/did.json

	mu    sync.Mutex
	cache map[string]*issued
	ids   sync.Map // audience and scope strings → their field IDs
}

// issued is a request as the verifier keeps it, with its parsed query.
type issued struct {
	req       *wire.Request
	query     circuits.Query
	trust     fr.Element
	nonce     [32]byte
	scope     fr.Element
	audience  fr.Element
	tokenHash []byte // SHA-256 of the result token
}

// record is a request as the store keeps it: the request and the SHA-256
// of its result token (never the token itself).
type record struct {
	Request         *wire.Request `json:"request"`
	ResultTokenHash []byte        `json:"resultTokenHash"`
}

type idKey struct {
	tag uint64
	s   string
}

// hashID memoises AudienceID and ScopeID: a request's strings come from
// the server's options and policies, so there are few of them.
func (s *Server) hashID(tag uint64, str string) fr.Element {
	k := idKey{tag, str}
	if v, ok := s.ids.Load(k); ok {
		return v.(fr.Element)
	}
	var e fr.Element
	if tag == circuits.TagAudience {
		e = circuits.AudienceID(str)
	} else {
		e = circuits.ScopeID(str)
	}
	s.ids.Store(k, e)
	return e
}

func (s *Server) remember(r *wire.Request, tokenHash []byte) (*issued, error) {
	q, err := r.Query.Circuit()
	if err != nil {
		return nil, fmt.Errorf("stored request %s: %w", r.ID, err)
	}
	is := &issued{req: r, query: q, trust: r.TrustList.Root.El(), tokenHash: tokenHash,
		scope: s.hashID(circuits.TagScope, r.Scope), audience: s.hashID(circuits.TagAudience, r.Audience)}
	n := r.Nonce.El()
	is.nonce = n.Bytes()
	s.mu.Lock()
	if len(s.cache) >= maxCache {
		clear(s.cache)
	}
	s.cache[r.ID] = is
	s.mu.Unlock()
	return is, nil
}

const maxCache = 1 << 14

// checkAudience checks that the audience is a web origin and that the
// public URL, where wallets send presentations, has the same origin.
func checkAudience(audience, publicURL string) error {
	ao, err := wire.Origin(audience)
	if err != nil {
		return fmt.Errorf("verifier: audience must be this verifier's web origin, e.g. https://verifier.example (wallets check it against where they fetched the request): %v", err)
	}
	if publicURL == "" {
		return nil
	}
	po, err := wire.Origin(publicURL)
	if err != nil {
		return fmt.Errorf("verifier: publicUrl: %v", err)
	}
	if po != ao {
		return fmt.Errorf("verifier: publicUrl %s has origin %s but the audience is %s: wallets refuse to send a presentation to another origin than the audience's (set the audience to %s)", publicURL, po, ao, po)
	}
	return nil
}

// New checks the options, compiles the policies and opens the store.
func New(o Options) (*Server, error) {
	if o.Proofs == nil || o.Roots == nil {
		return nil, errors.New("verifier: Proofs and Roots are required")
	}
	if strings.TrimSpace(o.Audience) == "" {
		return nil, errors.New("verifier: Audience is required")
	}
	if err := checkAudience(o.Audience, o.PublicURL); err != nil {
		return nil, err
	}
	if p, ok := o.Proofs.(interface{ Prepare() }); ok {
		p.Prepare() // precomputed tables before the first request, not during it
	}
	if len(o.Policies) == 0 {
		return nil, errors.New("verifier: at least one policy is required")
	}
	s := &Server{opts: o, policies: map[string]*Policy{}, clock: o.Clock, log: o.Logger, cache: map[string]*issued{}}
	for _, p := range o.Policies {
		if err := p.validate(); err != nil {
			return nil, err
		}
		if _, dup := s.policies[p.Name]; dup {
			return nil, fmt.Errorf("%w: two policies named %q", ErrPolicy, p.Name)
		}
		if p.Issuers.Kind != "" && o.Issuers == nil {
			return nil, fmt.Errorf("%w %q: issuers by kind need an issuer lister (registry light client)", ErrPolicy, p.Name)
		}
		if _, ok := o.Issuers.(DIDWebIssuers); len(p.Issuers.DIDs) > 0 && !ok {
			return nil, fmt.Errorf("%w %q: issuers by did:web need the registry (its light client) to map them", ErrPolicy, p.Name)
		}
		s.policies[p.Name] = p
		s.order = append(s.order, p.Name)
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if err := s.setupDID(); err != nil {
		return nil, err
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.opts.Retention <= 0 {
		s.opts.Retention = DefaultRetention
	}
	if s.opts.MaxBody <= 0 {
		s.opts.MaxBody = DefaultMaxBody
	}
	if s.opts.MaxBatch <= 0 {
		s.opts.MaxBatch = DefaultMaxBatch
	}
	if s.opts.PublicURL == "" {
		s.opts.PublicURL = o.Audience
	}
	if s.opts.RateLimit >= 0 {
		if s.opts.RateLimit == 0 {
			s.opts.RateLimit = DefaultRate
		}
		if s.opts.RateBurst <= 0 {
			s.opts.RateBurst = DefaultBurst
		}
		s.limit = newLimiter(s.opts.RateLimit, s.opts.RateBurst)
	}
	if s.opts.SuspectFor == 0 {
		s.opts.SuspectFor = DefaultSuspectFor
	}
	if s.opts.SuspectFor > 0 {
		s.clients = newClients(s.opts.SuspectFor)
	}
	if s.opts.PublicQuota == 0 {
		s.opts.PublicQuota = DefaultPublicQuota
	}
	if s.opts.MaxRequests == 0 {
		s.opts.MaxRequests = DefaultMaxRequests
	}
	s.book = newRequestBook(max(s.opts.MaxRequests, 0), max(s.opts.PublicQuota, 0))
	so := o.Store
	so.InMemory = so.InMemory || o.InMemory
	if so.Logger == nil {
		so.Logger = s.log
	}
	if !so.InMemory && o.Dir == "" {
		return nil, errors.New("verifier: Dir is required unless InMemory")
	}
	db, err := store.Open(o.Dir, so)
	if err != nil {
		return nil, err
	}
	s.db = db
	// Count what the store already holds towards MaxRequests (badger's
	// expiry is wall-clock time; the book runs on the server's clock).
	wall, now := time.Now().Unix(), s.clock().Unix()
	if err := db.RequestExpiries(func(at uint64) { s.book.add(now + int64(at) - wall) }); err != nil {
		db.Close()
		return nil, err
	}
	s.metrics = newMetrics()
	if n := o.CoalesceProofs; n == 0 || n > 1 {
		if n == 0 {
			n = DefaultCoalesce
		}
		s.coalesce = newCoalescer(o.Proofs, n)
		if s.clients != nil {
			s.probation = newCoalescer(o.Proofs, n)
		}
	}
	return s, nil
}

// Close stops the proof coalescer and closes the store. Stop serving
// first (Serve returns after a graceful shutdown).
func (s *Server) Close() error {
	if s.coalesce != nil {
		s.coalesce.close()
	}
	if s.probation != nil {
		s.probation.close()
	}
	return s.db.Close()
}

// Policies returns the configured policy names in configuration order.
func (s *Server) Policies() []string { return append([]string(nil), s.order...) }

// CreateRequest issues a presentation request under a policy (the only
// policy when name is empty): fresh nonce, the verifier's clock as now,
// helpers resolved to today's thresholds, trust list resolved now. It
// returns the request with its result token, which Result needs. It is
// what the relying party's backend does with the create token: any
// policy, no per-client quota, but within MaxRequests.
func (s *Server) CreateRequest(name string) (*wire.CreatedRequest, error) {
	return s.create(name, "", true)
}

// CreateRequestFor issues a request as POST /v1/requests does for a
// client (its IP address): when authorized (the caller checked the create
// token) under any policy, else only under a public policy and within the
// client's quota. The verifier's web page creates requests with it.
func (s *Server) CreateRequestFor(name, clientIP string, authorized bool) (*wire.CreatedRequest, error) {
	return s.create(name, clientKey(clientIP), authorized)
}

// Policy returns a copy of the named policy as configured.
func (s *Server) Policy(name string) (Policy, bool) {
	p, ok := s.policies[name]
	if !ok {
		return Policy{}, false
	}
	return *p, true
}

// create issues a request for client; authorized says the caller holds the
// create token (or is in process), else the policy must be public and the
// client within its quota.
func (s *Server) create(name, client string, authorized bool) (*wire.CreatedRequest, error) {
	if name == "" && len(s.order) == 1 {
		name = s.order[0]
	}
	pol, ok := s.policies[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q (configured: %s)", ErrUnknownPolicy, truncate(name), strings.Join(s.order, ", "))
	}
	if !authorized && !pol.Public {
		return nil, fmt.Errorf("%w: policy %q is not public: creating its requests needs the verifier's create token (Authorization: Bearer)", ErrUnauthorized, pol.Name)
	}
	now := s.clock()
	expires := now.Add(time.Duration(pol.RequestTTL))
	release, full, over, wait := s.book.reserve(client, !authorized, now.Unix(), expires.Unix(), expires.Add(s.opts.Retention).Unix())
	switch {
	case full:
		return nil, &retryError{fmt.Errorf("%w: this verifier holds %d requests, as many as it stores; try again in %s", ErrStoreFull, s.opts.MaxRequests, wait), wait}
	case over:
		return nil, &retryError{fmt.Errorf("%w: client %s holds %d open requests of public policies, the most it may; one expires in %s", ErrQuotaExceeded, client, s.opts.PublicQuota, wait), wait}
	}
	r, err := s.issue(pol, now)
	if err != nil {
		release()
		return nil, err
	}
	return r, nil
}

// retryError carries how long until a refused call may succeed (the
// Retry-After of its answer).
type retryError struct {
	err  error
	wait time.Duration
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

func (s *Server) issue(pol *Policy, now time.Time) (*wire.CreatedRequest, error) {
	q, plain, err := pol.compile(now)
	if err != nil {
		return nil, err // validated at start; only a clock far off can fail here
	}
	ids := make([]fr.Element, len(pol.Issuers.IDs))
	for i, id := range pol.Issuers.IDs {
		ids[i] = id.El()
	}
	if pol.Issuers.Kind != "" {
		if ids, err = s.opts.Issuers.Issuers(pol.Issuers.Kind); err != nil {
			// The cause names the registry's address: log it, answer without it.
			s.log.Warn("list issuers", "kind", pol.Issuers.Kind, "err", err)
			return nil, fmt.Errorf("%w: the active issuers of kind %q could not be listed (the registry did not answer); try again later", ErrIssuers, pol.Issuers.Kind)
		}
	}
	for _, did := range pol.Issuers.DIDs {
		id, err := s.opts.Issuers.(DIDWebIssuers).IssuerByDIDWeb(did)
		if errors.Is(err, ErrUnboundDIDWeb) {
			return nil, fmt.Errorf("%w: %s: %w", ErrIssuers, did, err)
		}
		if err != nil {
			s.log.Warn("issuer by did:web", "did", did, "err", err)
			return nil, fmt.Errorf("%w: the issuer binding %s could not be looked up (the registry did not answer); try again later", ErrIssuers, did)
		}
		if !slices.ContainsFunc(ids, func(e fr.Element) bool { return e.Equal(&id) }) {
			ids = append(ids, id)
		}
	}
	tl, err := circuits.NewTrustList(ids)
	if err != nil {
		return nil, fmt.Errorf("%w: kind %q: %v", ErrIssuers, pol.Issuers.Kind, err)
	}
	var idb [16]byte
	var tok [32]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return nil, err
	}
	if _, err := rand.Read(tok[:]); err != nil {
		return nil, err
	}
	id := base64.RawURLEncoding.EncodeToString(idb[:])
	token := base64.RawURLEncoding.EncodeToString(tok[:])
	th := sha256.Sum256([]byte(token))
	r := &wire.Request{
		ID:         id,
		Policy:     pol.Name,
		Nonce:      circuits.F(circuits.RandomBytes31()),
		Audience:   s.opts.Audience,
		AudienceID: circuits.F(s.hashID(circuits.TagAudience, s.opts.Audience)),
		Now:        uint64(now.Unix()),
		Expires:    uint64(now.Add(time.Duration(pol.RequestTTL)).Unix()),
		SchemaID:   circuits.F(pol.schemaID),
		Attributes: pol.attrs,
		TrustList:  wire.TrustList{Kind: pol.Issuers.Kind, Root: circuits.F(tl.Root())},
		Disclose:   append([]string{}, pol.Disclose...),
		Predicates: plain,
		Query:      wire.NewQuery(q),
		Scope:      pol.Scope,
		ScopeID:    circuits.F(s.hashID(circuits.TagScope, pol.Scope)),
		MaxRootAge: uint64(time.Duration(pol.MaxRootAge) / time.Second),
		MinHeight:  s.latestHeight(),
		SubmitURL:  strings.TrimRight(s.opts.PublicURL, "/") + "/v1/requests/" + id + "/presentations",
	}
	for _, e := range tl.IDs() {
		r.TrustList.Issuers = append(r.TrustList.Issuers, circuits.F(e))
	}
	doc, err := json.Marshal(record{Request: r, ResultTokenHash: th[:]})
	if err != nil {
		return nil, err
	}
	if err := s.db.PutRequest(id, doc, s.ttl(r, now)); err != nil {
		return nil, err
	}
	cp := *r // the caller may change r; the verifier keeps its own copy
	if _, err := s.remember(&cp, th[:]); err != nil {
		return nil, err
	}
	s.metrics.created.Inc()
	link, err := s.OpenID4VPLink(id)
	if err != nil {
		s.log.Warn("openid4vp link", "request", id, "err", err)
	}
	return &wire.CreatedRequest{Request: *r, ResultToken: token, OpenID4VPURI: link}, nil
}

// ttl keeps a record until the request expires plus the retention.
func (s *Server) ttl(r *wire.Request, now time.Time) time.Duration {
	d := time.Duration(int64(r.Expires)-now.Unix())*time.Second + s.opts.Retention
	return max(d, s.opts.Retention)
}

func validID(id string) bool {
	if len(id) != 22 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil
}

// load returns a request this verifier issued.
func (s *Server) load(id string) (*issued, error) {
	if !validID(id) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownRequest, truncate(id))
	}
	s.mu.Lock()
	is, ok := s.cache[id]
	s.mu.Unlock()
	if ok {
		return is, nil
	}
	doc, err := s.db.Request(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownRequest, id)
	}
	if err != nil {
		return nil, err
	}
	var rec record
	if err := json.Unmarshal(doc, &rec); err != nil {
		return nil, fmt.Errorf("stored request %s: %w", id, err)
	}
	if rec.Request == nil {
		// Stored by a version without result tokens: the request stays
		// answerable, its result is readable by nobody.
		rec.Request = new(wire.Request)
		if err := json.Unmarshal(doc, rec.Request); err != nil {
			return nil, fmt.Errorf("stored request %s: %w", id, err)
		}
	}
	return s.remember(rec.Request, rec.ResultTokenHash)
}

func (s *Server) expired(is *issued) bool { return uint64(s.clock().Unix()) > is.req.Expires }

// Request returns an unexpired request (what a wallet fetches).
func (s *Server) Request(id string) (*wire.Request, error) {
	is, err := s.load(id)
	if err != nil {
		return nil, err
	}
	if s.expired(is) {
		return nil, fmt.Errorf("%w: %s expired at %s", ErrRequestExpired, id, time.Unix(int64(is.req.Expires), 0).UTC().Format(time.RFC3339))
	}
	cp := *is.req
	return &cp, nil
}

// Result returns the state of a request to the holder of its result
// token (CreateRequest returned it): pending, verified (with the disclosed
// values), or consumed (verified through Verify or VerifyBatch, which keep
// no result). Only a verified presentation changes it: a rejected one
// leaves the request pending, so nobody who merely knows the request's id
// can make it read otherwise.
func (s *Server) Result(id, token string) (*wire.Result, error) {
	is, err := s.load(id)
	if err != nil {
		return nil, err
	}
	th := sha256.Sum256([]byte(token))
	if token == "" || len(is.tokenHash) != len(th) || subtle.ConstantTimeCompare(th[:], is.tokenHash) != 1 {
		return nil, fmt.Errorf("%w: reading the result of request %s needs the resultToken its creation returned (Authorization: Bearer <token>, or ?token=<token>)", ErrUnauthorized, id)
	}
	doc, err := s.db.Result(id)
	if err == nil {
		var r wire.Result
		if err := json.Unmarshal(doc, &r); err != nil {
			return nil, fmt.Errorf("stored result %s: %w", id, err)
		}
		return &r, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if _, err := s.db.NonceUse(is.nonce); err == nil {
		return &wire.Result{RequestID: id, Status: wire.StatusConsumed}, nil
	}
	if s.expired(is) {
		return nil, fmt.Errorf("%w: %s expired unanswered", ErrRequestExpired, id)
	}
	return &wire.Result{RequestID: id, Status: wire.StatusPending}, nil
}

// candidate is a presentation that passed every check but the proof.
type candidate struct {
	is     *issued
	pres   *wire.Presentation
	pub    circuits.Public
	digest []byte
}

// digest identifies a presentation, to tell a replay from another use of
// a nonce (encoding/json sorts the Disclosed keys).
func digest(p *wire.Presentation) []byte {
	b, _ := json.Marshal(p)
	h := sha256.Sum256(b)
	return h[:]
}

// prepare runs every check that needs no pairing, and rebuilds the public
// statement from the verifier's own state. is is returned when the request
// is known, so that a rejection can be recorded.
func (s *Server) prepare(pathID string, p *wire.Presentation) (*issued, *candidate, error) {
	id := p.RequestID
	if pathID != "" && pathID != id {
		// Look the path's request up first: an unknown one is that error.
		is, err := s.load(pathID)
		if err != nil {
			return nil, nil, err
		}
		return is, nil, fmt.Errorf("%w: submitted for %s but names request %q", ErrWrongRequest, pathID, truncate(id))
	}
	is, err := s.load(id)
	if err != nil {
		return nil, nil, err
	}
	r := is.req
	now := s.clock()
	if uint64(now.Unix()) > r.Expires {
		return is, nil, fmt.Errorf("%w: %s expired at %s", ErrRequestExpired, id, time.Unix(int64(r.Expires), 0).UTC().Format(time.RFC3339))
	}
	c := &candidate{is: is, pres: p, digest: digest(p)}
	if err := s.checkNonce(is, c.digest); err != nil {
		return is, nil, err
	}
	if p.Nonce != r.Nonce {
		return is, nil, fmt.Errorf("%w: the presentation's nonce is not request %s's", ErrWrongRequest, id)
	}
	root := p.Root.El()
	height, t, ok := s.opts.Roots.RootInfo(root)
	if !ok {
		return is, nil, fmt.Errorf("%w: %s is not a root of any verified block", ErrUnknownRoot, p.Root)
	}
	if height != p.Height && !s.rootAt(p.Height, root) {
		return is, nil, fmt.Errorf("%w: root %s is not the root of block %d (it is block %d's)", ErrRootHeight, p.Root, p.Height, height)
	}
	// The root was the current state at t (the latest block publishing it),
	// so t is what bounds the revocation latency.
	height = p.Height
	if height < r.MinHeight {
		return is, nil, fmt.Errorf("%w: block %d is older than block %d, the newest the verifier knew when it made the request", ErrRootTooOld, height, r.MinHeight)
	}
	maxAge := time.Duration(r.MaxRootAge) * time.Second
	if age := now.Sub(t); age > maxAge {
		return is, nil, fmt.Errorf("%w: the root was last published %s ago (block %d or later), the policy accepts at most %s", ErrRootTooOld, age.Truncate(time.Second), height, maxAge)
	}
	nf := p.Nullifier.El()
	if is.scope.IsZero() != nf.IsZero() {
		if nf.IsZero() {
			return is, nil, fmt.Errorf("%w: request %s has scope %q and needs a nullifier", ErrNullifierForm, id, r.Scope)
		}
		return is, nil, fmt.Errorf("%w: request %s has no scope, the nullifier must be 0", ErrNullifierForm, id)
	}
	var disclosed [circuits.Slots]fr.Element
	want := 0
	for slot := range circuits.Slots {
		if is.query.Disclose&(1<<slot) == 0 {
			continue
		}
		want++
		if slot >= len(r.Attributes) {
			return is, nil, fmt.Errorf("%w: request discloses slot %d beyond the schema", ErrDisclosure, slot)
		}
		name := r.Attributes[slot].Name
		v, ok := p.Disclosed[name]
		if !ok {
			return is, nil, fmt.Errorf("%w: %q is missing", ErrDisclosure, name)
		}
		disclosed[slot] = v.El()
	}
	if len(p.Disclosed) != want {
		for name := range p.Disclosed {
			if !slicesContains(r.Disclose, name) {
				return is, nil, fmt.Errorf("%w: %q was not asked for", ErrDisclosure, truncate(name))
			}
		}
	}
	c.pub = circuits.Public{
		Root:      root,
		Height:    height,
		TrustRoot: is.trust,
		SchemaID:  r.SchemaID.El(),
		Now:       r.Now,
		Nonce:     r.Nonce.El(),
		Audience:  is.audience,
		Scope:     is.scope,
		Nullifier: nf,
		Query:     is.query,
		Disclosed: disclosed,
	}
	return is, c, nil
}

// latestHeight is the newest verified block height, 0 when the roots do
// not say.
func (s *Server) latestHeight() uint64 {
	if l, ok := s.opts.Roots.(LatestRoots); ok {
		if h, ok := l.LatestHeight(); ok {
			return h
		}
	}
	return 0
}

// rootAt reports whether the block at height (an earlier one than the
// latest with the same root) published root.
func (s *Server) rootAt(height uint64, root fr.Element) bool {
	ra, ok := s.opts.Roots.(RootsAt)
	if !ok {
		return false
	}
	r, ok := ra.RootAt(height)
	return ok && r == root
}

func slicesContains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// checkNonce fails with ErrReplay when this very presentation was already
// accepted, ErrNonceUsed when another one used the nonce.
func (s *Server) checkNonce(is *issued, d []byte) error {
	prev, err := s.db.NonceUse(is.nonce)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if string(prev) == string(d) {
		return fmt.Errorf("%w: this presentation for request %s was already verified", ErrReplay, is.req.ID)
	}
	return fmt.Errorf("%w: request %s was already answered by another presentation", ErrNonceUsed, is.req.ID)
}

// verifyProof checks one proof for client ("" in process): through the
// coalescer when enabled, with the proofs of other known clients (whose
// proof verified lately) or, for a client not seen lately, of other new
// ones; a suspect's (whose proof failed lately) alone, so that invalid
// proofs cannot spoil other clients' batches. A panic on hostile bytes
// becomes a rejection.
func (s *Server) verifyProof(client string, c *candidate) error {
	return s.checkProof(client, c.pres.Proof, &c.pub)
}

func (s *Server) checkProof(client string, proof []byte, pub *circuits.Public) error {
	var err error
	lane := s.clients.lane(client, s.clock())
	switch {
	case s.coalesce == nil || lane == laneSuspect:
		err = safeVerify(s.opts.Proofs, proof, pub)
	case lane == laneNew:
		err = s.probation.verify(proof, pub)
	default:
		err = s.coalesce.verify(proof, pub)
	}
	if errors.Is(err, errClosed) {
		return fmt.Errorf("%w: %v", ErrProofInvalid, err) // no verdict on the client
	}
	if err != nil {
		s.clients.failed(client, s.clock())
		return fmt.Errorf("%w: %v", ErrProofInvalid, err)
	}
	s.clients.verified(client, s.clock())
	return nil
}

// verifyBatch checks the candidates of one batch call together (one
// client's batch: a bad item costs that client's call the bisection).
func (s *Server) verifyBatch(client string, cs []*candidate) []error {
	proofs := make([][]byte, len(cs))
	pubs := make([]*circuits.Public, len(cs))
	for i, c := range cs {
		proofs[i], pubs[i] = c.pres.Proof, &c.pub
	}
	out, ok := safeVerifyBatch(s.opts.Proofs, proofs, pubs)
	errs := make([]error, len(cs))
	failed := false
	for i := range cs {
		if !ok {
			// A single hostile proof must not fail the others.
			if err := safeVerify(s.opts.Proofs, proofs[i], pubs[i]); err != nil {
				errs[i] = fmt.Errorf("%w: %v", ErrProofInvalid, err)
				failed = true
			}
			continue
		}
		if out[i] != nil {
			errs[i] = fmt.Errorf("%w: %v", ErrProofInvalid, out[i])
			failed = true
		}
	}
	if failed {
		s.clients.failed(client, s.clock())
	} else {
		s.clients.verified(client, s.clock())
	}
	return errs
}

// accept records a verified presentation: nonce used, nullifier seen,
// result stored when record is set.
func (s *Server) accept(c *candidate, record bool) (*wire.Result, error) {
	r := c.is.req
	res := &wire.Result{RequestID: r.ID, Status: wire.StatusVerified, Height: c.pub.Height, At: s.clock().Unix()}
	if !c.is.scope.IsZero() {
		nf := circuits.F(c.pub.Nullifier)
		res.Nullifier = &nf
	}
	if c.is.query.Disclose != 0 {
		res.Disclosed = map[string]any{}
		for slot, a := range r.Attributes {
			if c.is.query.Disclose&(1<<slot) == 0 {
				continue
			}
			v, err := a.Decode(c.pub.Disclosed[slot])
			if err != nil {
				v = c.pub.Disclosed[slot].String() // proven, but not a value of its type
			}
			res.Disclosed[a.Name] = v
		}
	}
	a := store.Acceptance{
		RequestID:    r.ID,
		Nonce:        c.is.nonce,
		Digest:       c.digest,
		TTL:          s.ttl(r, s.clock()),
		UseNullifier: !c.is.scope.IsZero(),
		Scope:        c.is.scope.Bytes(),
		Nullifier:    c.pub.Nullifier.Bytes(),
	}
	if record {
		doc, err := json.Marshal(res)
		if err != nil {
			return nil, err
		}
		a.Result = doc
	}
	switch err := s.db.Accept(a); {
	case errors.Is(err, store.ErrNonceUsed):
		return nil, s.checkNonce(c.is, c.digest)
	case errors.Is(err, store.ErrNullifierSeen):
		return nil, fmt.Errorf("%w: scope %q", ErrNullifierSeen, r.Scope)
	case err != nil:
		return nil, err
	}
	return res, nil
}

// Submit verifies a presentation for request id and records the result
// of a verified one (the nonce is used up). A rejected presentation
// changes nothing: the request stays pending and answerable until it
// expires, and the submitter is told why.
func (s *Server) Submit(id string, p *wire.Presentation) (*wire.Result, error) {
	return s.submitFrom("", id, p)
}

func (s *Server) submitFrom(client, id string, p *wire.Presentation) (*wire.Result, error) {
	start := time.Now()
	res, err := s.submit(client, id, p)
	s.metrics.observe("submit", err, time.Since(start))
	return res, err
}

func (s *Server) submit(client, id string, p *wire.Presentation) (*wire.Result, error) {
	_, c, err := s.prepare(id, p)
	if err != nil {
		return nil, err
	}
	if err := s.verifyProof(client, c); err != nil {
		return nil, err
	}
	return s.accept(c, true)
}

// Verify checks a presentation against the request it names, a request
// this verifier issued. It keeps no result: a verified presentation only
// uses up the request's nonce (and its nullifier, when the policy has a
// scope, since otherwise one credential could answer a scope twice); a
// rejected one changes nothing.
func (s *Server) Verify(p *wire.Presentation) (*wire.Result, error) {
	return s.verifyFrom("", p)
}

func (s *Server) verifyFrom(client string, p *wire.Presentation) (*wire.Result, error) {
	start := time.Now()
	res, err := s.verify(client, p)
	s.metrics.observe("verify", err, time.Since(start))
	return res, err
}

func (s *Server) verify(client string, p *wire.Presentation) (*wire.Result, error) {
	_, c, err := s.prepare("", p)
	if err != nil {
		return nil, err
	}
	if err := s.verifyProof(client, c); err != nil {
		return nil, err
	}
	return s.accept(c, false)
}

// VerifyBatch verifies many presentations with one batched pairing check
// and the semantics of Verify for each. Verdicts are per item and in
// order; an item that fails any check fails alone. Of the items that
// answer one request only the first is checked: a later one is then a
// replay or nonce_used if the first was verified, else duplicate_request.
// Nil items (rejected by the caller, e.g. unparsable) get a zero Result
// for the caller to fill.
func (s *Server) VerifyBatch(ps []*wire.Presentation) []wire.Result {
	return s.verifyBatchFrom("", ps)
}

func (s *Server) verifyBatchFrom(client string, ps []*wire.Presentation) []wire.Result {
	start := time.Now()
	out := make([]wire.Result, len(ps))
	var cands []*candidate
	var idx []int
	first := map[string]int{} // request id → index of the item checked for it
	type dup struct {
		i, of int
		c     *candidate
	}
	var dups []dup
	for i, p := range ps {
		if p == nil {
			continue // already rejected by the caller
		}
		out[i].RequestID = p.RequestID
		_, c, err := s.prepare("", p)
		if err != nil {
			out[i] = rejection(p.RequestID, err)
			continue
		}
		if j, ok := first[c.is.req.ID]; ok {
			dups = append(dups, dup{i, j, c})
			continue
		}
		first[c.is.req.ID] = i
		cands = append(cands, c)
		idx = append(idx, i)
	}
	var errs []error
	if len(cands) > 0 {
		errs = s.verifyBatch(client, cands)
	}
	for j, c := range cands {
		i := idx[j]
		err := errs[j]
		var res *wire.Result
		if err == nil {
			res, err = s.accept(c, false)
		}
		if err != nil {
			out[i] = rejection(c.pres.RequestID, err)
			continue
		}
		out[i] = *res
	}
	for _, d := range dups {
		err := s.checkNonce(d.c.is, d.c.digest)
		if err == nil {
			err = fmt.Errorf("%w: item %d answers request %s too, and was not verified; only the first item per request is checked", ErrDuplicateRequest, d.of, d.c.is.req.ID)
		}
		out[d.i] = rejection(d.c.pres.RequestID, err)
	}
	s.metrics.batch(len(ps), time.Since(start))
	for i := range out {
		if ps[i] == nil {
			continue // counted by the caller that rejected it
		}
		var err error
		if out[i].Status != wire.StatusVerified {
			err = errors.New(out[i].Code)
		}
		s.metrics.count("batch", out[i].Code, err)
	}
	return out
}

// rejection is a per-item verdict for err.
func rejection(id string, err error) wire.Result {
	_, code, _ := Code(err)
	return wire.Result{RequestID: id, Status: wire.StatusRejected, Code: code, Reason: err.Error()}
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}
