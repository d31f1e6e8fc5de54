package verifier

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
)

// hashProofs is a test double for the Groth16 verifier: a "proof" is the
// SHA-256 of the public input vector it was made for, so it verifies
// exactly when the verifier rebuilds the same vector, element for element.
// It checks the verifier's part (which statement it asks about), not the
// proof system; the end-to-end tests use real proofs.
type hashProofs struct{}

func statementDigest(pub *circuits.Public) []byte {
	h := sha256.New()
	for _, e := range pub.Vector() {
		b := e.Bytes()
		h.Write(b[:])
	}
	return h.Sum(nil)
}

func (hashProofs) Verify(proof []byte, pub *circuits.Public) error {
	if !bytes.Equal(proof, statementDigest(pub)) {
		return errors.New("pairing check failed")
	}
	return nil
}

func (h hashProofs) VerifyBatch(proofs [][]byte, pubs []*circuits.Public) []error {
	errs := make([]error, len(proofs))
	for i := range proofs {
		errs[i] = h.Verify(proofs[i], pubs[i])
	}
	return errs
}

// fakeChain stands in for the registry light client.
type fakeChain struct {
	mu       sync.Mutex
	roots    map[fr.Element]rootInfo // latest block per root
	byHeight map[uint64]fr.Element
	issuers  map[string][]fr.Element
}

func (c *fakeChain) RootAt(h uint64) (fr.Element, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.byHeight[h]
	return r, ok
}

// publish adds a block at height with an existing root.
func (c *fakeChain) publish(root fr.Element, height uint64, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.roots[root] = rootInfo{height, t}
	c.byHeight[height] = root
}

type rootInfo struct {
	height uint64
	t      time.Time
}

func (c *fakeChain) RootInfo(root fr.Element) (uint64, time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ri, ok := c.roots[root]
	return ri.height, ri.t, ok
}

func (c *fakeChain) Issuers(kind string) ([]fr.Element, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids, ok := c.issuers[kind]
	if !ok {
		return nil, errors.New("no such kind")
	}
	return ids, nil
}

func (c *fakeChain) addRoot(height uint64, t time.Time) fr.Element {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := circuits.RandomElement()
	c.roots[r] = rootInfo{height, t}
	if c.byHeight == nil {
		c.byHeight = map[uint64]fr.Element{}
	}
	c.byHeight[height] = r
	return r
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const testSchemaJSON = `{"name":"diploma","version":"1","attributes":[
 {"name":"fullName","type":"string"},
 {"name":"degree","type":"enum","values":["BSc","MSc","PhD"]},
 {"name":"birthDate","type":"date"},
 {"name":"gpa","type":"decimal","scale":2},
 {"name":"graduated","type":"date"}]}`

func testSchema(t testing.TB) *circuits.Schema {
	s, err := circuits.ParseSchema([]byte(testSchemaJSON))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// env is a verifier served over loopback with fakes for the chain.
type env struct {
	t      testing.TB
	srv    *Server
	http   *httptest.Server
	chain  *fakeChain
	clock  *clock
	issuer fr.Element
	root   fr.Element // fresh root at height 100
	schema *circuits.Schema
	tokens sync.Map // request id → result token
}

// testCreateToken is the create token of every test verifier.
const testCreateToken = "test-create-token"

func testConfig(issuer fr.Element) string {
	return `{"audience":"https://verifier.test","policies":[
 {"name":"hire","schema":` + testSchemaJSON + `,
  "issuers":{"ids":["` + issuer.String() + `"]},
  "disclose":["degree","graduated"],
  "predicates":[{"attribute":"birthDate","op":"age_at_least","years":18},
                {"attribute":"gpa","op":"gte","values":["3.00"]},
                {"attribute":"degree","op":"in","values":["BSc","MSc"]}],
  "maxRootAge":"1h","requestTTL":"10m"},
 {"name":"vote","schema":` + testSchemaJSON + `,
  "issuers":{"kind":"university"},
  "scope":"student-council-2026"}]}`
}

func newEnv(t testing.TB, mutate func(*Options)) *env {
	t.Helper()
	e := &env{t: t, schema: testSchema(t), issuer: circuits.RandomElement(),
		clock: &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}}
	e.chain = &fakeChain{roots: map[fr.Element]rootInfo{}, issuers: map[string][]fr.Element{
		"university": {e.issuer, circuits.RandomElement()},
	}}
	e.root = e.chain.addRoot(100, e.clock.Now().Add(-5*time.Minute))
	cfg, err := ParseConfig([]byte(testConfig(e.issuer)))
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Options()
	o.Dir = t.TempDir()
	o.Proofs = hashProofs{}
	o.Roots = e.chain
	o.Issuers = e.chain
	o.Clock = e.clock.Now
	o.RateLimit = -1
	o.CreateToken = testCreateToken
	if mutate != nil {
		mutate(&o)
	}
	e.srv, err = New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.http = httptest.NewServer(e.srv.Handler())
	t.Cleanup(func() { e.http.Close(); e.srv.Close() })
	return e
}

// do sends a JSON body (and header name, value pairs) and decodes the
// answer into out (if not nil).
func (e *env) do(method, path string, body any, out any, hdr ...string) (int, wire.Error) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.http.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var eb wire.Error
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(raw, &eb); err != nil || eb.Code == "" || eb.Error == "" {
			e.t.Fatalf("%s %s: status %d with a body that names no error: %s", method, path, resp.StatusCode, raw)
		}
	} else if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, eb
}

// auth is the create token as a header pair for do.
var auth = []string{"Authorization", "Bearer " + testCreateToken}

// newRequest creates a request as the relying party's backend does (with
// the create token), keeps its result token, and returns what the wallet
// reads.
func (e *env) newRequest(policy string) *wire.Request {
	e.t.Helper()
	var r wire.CreatedRequest
	if st, eb := e.do("POST", "/v1/requests", map[string]string{"policy": policy}, &r, auth...); st != http.StatusCreated {
		e.t.Fatalf("create request: %d %+v", st, eb)
	}
	if r.ResultToken == "" {
		e.t.Fatal("created request without a result token")
	}
	e.tokens.Store(r.ID, r.ResultToken)
	// What the wallet reads.
	var got wire.Request
	if st, eb := e.do("GET", "/v1/requests/"+r.ID, nil, &got); st != http.StatusOK {
		e.t.Fatalf("fetch request: %d %+v", st, eb)
	}
	return &got
}

// wallet holds one credential's attribute values.
type wallet struct {
	attrs  [circuits.Slots]fr.Element
	secret fr.Element
	commit fr.Element
}

func (e *env) wallet(subject map[string]any) *wallet {
	e.t.Helper()
	a, err := e.schema.Encode(subject)
	if err != nil {
		e.t.Fatal(err)
	}
	return &wallet{attrs: a, secret: circuits.RandomElement(), commit: circuits.RandomElement()}
}

func (e *env) alice() *wallet {
	return e.wallet(map[string]any{"fullName": "Alice Example", "degree": "MSc",
		"birthDate": "1990-04-01", "gpa": "3.70", "graduated": "2014-06-30"})
}

// statement is the public statement an honest wallet derives from the
// request it fetched, the root it chose, and its credential.
func (w *wallet) statement(t testing.TB, r *wire.Request, root fr.Element, height uint64) *circuits.Public {
	q, err := r.Query.Circuit()
	if err != nil {
		t.Fatal(err)
	}
	pub := &circuits.Public{Root: root, Height: height, TrustRoot: r.TrustList.Root.El(),
		SchemaID: r.SchemaID.El(), Now: r.Now, Nonce: r.Nonce.El(), Audience: r.AudienceID.El(),
		Scope: r.ScopeID.El(), Query: q}
	if !pub.Scope.IsZero() {
		pub.Nullifier = circuits.Nullifier(w.secret, w.commit, pub.Audience, pub.Scope)
	}
	for i := range circuits.Slots {
		if q.Disclose&(1<<i) != 0 {
			pub.Disclosed[i] = w.attrs[i]
		}
	}
	return pub
}

// present makes the presentation for pub, with a hashProofs proof unless
// one is given.
func (w *wallet) present(r *wire.Request, pub *circuits.Public, proof ...[]byte) *wire.Presentation {
	p := &wire.Presentation{RequestID: r.ID, Nonce: r.Nonce, Height: pub.Height, Root: circuits.F(pub.Root),
		Proof: statementDigest(pub), Nullifier: circuits.F(pub.Nullifier)}
	if len(proof) > 0 {
		p.Proof = proof[0]
	}
	for i, a := range r.Attributes {
		if pub.Query.Disclose&(1<<i) != 0 {
			if p.Disclosed == nil {
				p.Disclosed = map[string]circuits.Field{}
			}
			p.Disclosed[a.Name] = circuits.F(pub.Disclosed[i])
		}
	}
	return p
}

func (e *env) honest(w *wallet, r *wire.Request) *wire.Presentation {
	return w.present(r, w.statement(e.t, r, e.root, 100))
}

// result reads a request's result with its result token.
func (e *env) result(r *wire.Request) (int, wire.Error, *wire.Result) {
	e.t.Helper()
	tok, _ := e.tokens.Load(r.ID)
	var res wire.Result
	st, eb := e.do("GET", "/v1/requests/"+r.ID+"/result", nil, &res, "Authorization", "Bearer "+tok.(string))
	return st, eb, &res
}

func (e *env) submit(r *wire.Request, p any) (int, wire.Error, *wire.Result) {
	e.t.Helper()
	var res wire.Result
	st, eb := e.do("POST", "/v1/requests/"+r.ID+"/presentations", p, &res)
	return st, eb, &res
}

func digestVector(v []fr.Element) []byte {
	h := sha256.New()
	for _, e := range v {
		b := e.Bytes()
		h.Write(b[:])
	}
	return h.Sum(nil)
}
