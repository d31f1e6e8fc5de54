package verifier

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/zkcred/zkcred/circuits"
)

// countingProofs is hashProofs that counts the proofs it checks and
// remembers which statements (by nonce) it saw in batches of two or more.
type countingProofs struct {
	hashProofs
	delay time.Duration

	mu      sync.Mutex
	checked int
	batched map[circuits.Field]bool
	batches [][]circuits.Field // nonces of each batch of two or more
}

func (c *countingProofs) Verify(p []byte, pub *circuits.Public) error {
	c.mu.Lock()
	c.checked++
	c.mu.Unlock()
	time.Sleep(c.delay)
	return c.hashProofs.Verify(p, pub)
}

func (c *countingProofs) VerifyBatch(ps [][]byte, pubs []*circuits.Public) []error {
	c.mu.Lock()
	c.checked += len(ps)
	if len(ps) > 1 {
		if c.batched == nil {
			c.batched = map[circuits.Field]bool{}
		}
		var b []circuits.Field
		for _, p := range pubs {
			c.batched[circuits.F(p.Nonce)] = true
			b = append(b, circuits.F(p.Nonce))
		}
		c.batches = append(c.batches, b)
	}
	c.mu.Unlock()
	time.Sleep(c.delay)
	return c.hashProofs.VerifyBatch(ps, pubs)
}

func (c *countingProofs) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.checked }

// TestRateLimitCountsItems: a batch call takes one rate-limit token per
// presentation, before any is checked, so batching does not multiply what
// a client may make the verifier do; a batch larger than the burst is
// refused as such.
func TestRateLimitCountsItems(t *testing.T) {
	cp := &countingProofs{}
	e := newEnv(t, func(o *Options) {
		o.Proofs = cp
		o.RateLimit, o.RateBurst = 0.001, 10
		o.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
	})
	alice := e.alice()
	var reqs []*wire.Request
	for range 12 {
		r, err := e.srv.CreateRequest("hire") // in process: no token taken
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, &r.Request)
	}
	batch := func(rs []*wire.Request) (int, wire.Error, http.Header) {
		var items []any
		for _, r := range rs {
			items = append(items, e.honest(alice, r))
		}
		b, _ := json.Marshal(map[string]any{"presentations": items})
		req, _ := http.NewRequest("POST", e.http.URL+"/v1/verify/batch", strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", "203.0.113.5")
		resp, err := e.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var eb wire.Error
		if resp.StatusCode != 200 {
			json.NewDecoder(resp.Body).Decode(&eb)
		}
		return resp.StatusCode, eb, resp.Header
	}
	if st, eb, _ := batch(reqs[:11]); st != 400 || !strings.Contains(eb.Error, "want 1 to 10") {
		t.Fatalf("batch above the burst: %d %+v", st, eb)
	}
	// That refused call took one token: nine left. Eight items take eight.
	if st, eb, _ := batch(reqs[:8]); st != 200 {
		t.Fatalf("batch of 8: %d %+v", st, eb)
	}
	before := cp.count()
	st, eb, h := batch(reqs[8:11])
	if st != 429 || eb.Code != "rate_limited" || h.Get("Retry-After") == "" {
		t.Fatalf("a batch of 3 with one token left: %d %+v %v", st, eb, h)
	}
	if cp.count() != before {
		t.Fatalf("the refused batch had %d proofs checked", cp.count()-before)
	}
}

// TestBatchOneItemPerRequest: of the items of a batch that answer one
// request, only the first reaches the proof check.
func TestBatchOneItemPerRequest(t *testing.T) {
	cp := &countingProofs{}
	e := newEnv(t, func(o *Options) { o.Proofs = cp })
	alice := e.alice()
	r := e.newRequest("hire")
	bad := e.honest(alice, r)
	bad.Proof[0] ^= 1
	items := make([]any, 100)
	for i := range items {
		items[i] = bad
	}
	var out wire.BatchResponse
	if st, eb := e.do("POST", "/v1/verify/batch", map[string]any{"presentations": items}, &out); st != 200 {
		t.Fatalf("batch: %d %+v", st, eb)
	}
	if n := cp.count(); n != 1 {
		t.Fatalf("%d proofs checked for 100 items answering one request", n)
	}
	if out.Results[0].Code != "proof_invalid" {
		t.Fatalf("first item: %+v", out.Results[0])
	}
	for i, res := range out.Results[1:] {
		if res.Status != wire.StatusRejected || res.Code != "duplicate_request" {
			t.Fatalf("item %d: %+v", i+1, res)
		}
	}
	// The first item verified: the others are replays or nonce_used, still
	// without a proof check.
	good := e.honest(alice, r)
	other := alice.present(r, alice.statement(t, r, e.chain.addRoot(101, e.clock.Now()), 101))
	out = wire.BatchResponse{}
	e.do("POST", "/v1/verify/batch", map[string]any{"presentations": []any{good, good, other, good}}, &out)
	want := []string{"", "replay", "nonce_used", "replay"}
	for i, res := range out.Results {
		if res.Code != want[i] {
			t.Fatalf("item %d: %+v, want %q", i, res, want[i])
		}
	}
	if n := cp.count(); n != 2 {
		t.Fatalf("%d proofs checked in all, want 2", n)
	}
}

// TestSuspectsCheckedAlone: once a client's proof fails, its proofs are
// checked on their own, never in a coalesced batch with other clients'
// proofs, until SuspectFor has passed; they still verify.
func TestSuspectsCheckedAlone(t *testing.T) {
	cp := &countingProofs{delay: 2 * time.Millisecond}
	e := newEnv(t, func(o *Options) {
		o.Proofs = cp
		o.CoalesceProofs = 16
		o.SuspectFor = time.Minute
		o.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
	})
	alice := e.alice()
	submit := func(client string, p *wire.Presentation) (int, wire.Error) {
		b, _ := json.Marshal(p)
		req, _ := http.NewRequest("POST", e.http.URL+"/v1/verify", strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", client)
		resp, err := e.http.Client().Do(req)
		if err != nil {
			t.Error(err)
			return 0, wire.Error{}
		}
		defer resp.Body.Close()
		var eb wire.Error
		json.NewDecoder(resp.Body).Decode(&eb)
		return resp.StatusCode, eb
	}
	r0 := e.newRequest("hire")
	bad := e.honest(alice, r0)
	bad.Proof[0] ^= 1
	if st, eb := submit("203.0.113.66", bad); st != 422 || eb.Code != "proof_invalid" {
		t.Fatalf("bad proof: %d %+v", st, eb)
	}
	round := func() (suspect []*wire.Request) {
		var reqs []*wire.Request
		for range 40 {
			r, err := e.srv.CreateRequest("hire")
			if err != nil {
				t.Fatal(err)
			}
			reqs = append(reqs, &r.Request)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, r := range reqs {
			client := fmt.Sprintf("10.0.0.%d", i)
			if i%4 == 0 {
				client = "203.0.113.66"
				suspect = append(suspect, r)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if st, eb := submit(client, e.honest(alice, r)); st != 200 {
					t.Errorf("%s: %d %+v", client, st, eb)
				}
			}()
		}
		close(start)
		wg.Wait()
		return suspect
	}
	inBatch := func(rs []*wire.Request) int {
		cp.mu.Lock()
		defer cp.mu.Unlock()
		n := 0
		for _, r := range rs {
			if cp.batched[r.Nonce] {
				n++
			}
		}
		return n
	}
	suspect := round()
	if n := inBatch(suspect); n != 0 {
		t.Fatalf("%d of the suspect client's proofs were coalesced with others", n)
	}
	if cp.batched == nil {
		t.Fatal("nothing was coalesced: the test shows nothing")
	}
	// After SuspectFor the client is coalesced again.
	e.clock.Add(2 * time.Minute)
	later := round()
	if n := inBatch(later); n == 0 {
		t.Fatalf("the client is still checked alone after SuspectFor")
	}
}

// TestNewClientsBatchedApart: proofs of clients not seen before are
// coalesced only with each other, never with those of clients whose proofs
// verified lately, so that invalid proofs from ever new addresses cannot
// spoil the known clients' batches.
func TestNewClientsBatchedApart(t *testing.T) {
	cp := &countingProofs{delay: 2 * time.Millisecond}
	e := newEnv(t, func(o *Options) {
		o.Proofs = cp
		o.CoalesceProofs = 16
		o.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
	})
	alice := e.alice()
	verify := func(client string, r *wire.Request) {
		b, _ := json.Marshal(e.honest(alice, r))
		req, _ := http.NewRequest("POST", e.http.URL+"/v1/verify", strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", client)
		resp, err := e.http.Client().Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", client, resp.StatusCode)
		}
	}
	create := func() *wire.Request {
		r, err := e.srv.CreateRequest("hire")
		if err != nil {
			t.Fatal(err)
		}
		return &r.Request
	}
	// Ten known clients: each had a proof verified.
	for i := range 10 {
		verify(fmt.Sprintf("10.0.0.%d", i), create())
	}
	known := map[circuits.Field]bool{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 60 {
		r := create()
		client := fmt.Sprintf("198.18.0.%d", i) // new
		if i%2 == 0 {
			client = fmt.Sprintf("10.0.0.%d", i%10)
			known[r.Nonce] = true
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			verify(client, r)
		}()
	}
	close(start)
	wg.Wait()
	cp.mu.Lock()
	defer cp.mu.Unlock()
	mixed, sawKnown, sawNew := 0, false, false
	for _, b := range cp.batches {
		k := 0
		for _, n := range b {
			if known[n] {
				k++
			}
		}
		sawKnown = sawKnown || k > 0
		sawNew = sawNew || k < len(b)
		if k > 0 && k < len(b) {
			mixed++
		}
	}
	if mixed > 0 {
		t.Fatalf("%d batches mixed known and new clients' proofs", mixed)
	}
	if !sawKnown || !sawNew {
		t.Fatalf("no coalescing of known (%v) or new (%v) clients: the test shows nothing", sawKnown, sawNew)
	}
}

// TestIPv6ClientsByNetwork: an IPv6 client is known by its /64, so that a
// host cannot escape its rate limit (or its suspect mark) by changing its
// address within the network it was given.
func TestIPv6ClientsByNetwork(t *testing.T) {
	for ip, want := range map[string]string{
		"2001:db8:1:2::5":      "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
		"203.0.113.7":          "203.0.113.7",
		"::ffff:203.0.113.7":   "::ffff:203.0.113.7",
		"not an address":       "not an address",
	} {
		if got := clientKey(ip); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", ip, got, want)
		}
	}
	e := newEnv(t, func(o *Options) {
		o.RateLimit, o.RateBurst = 0.001, 2
		o.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
	})
	get := func(xff string) int {
		req, _ := http.NewRequest("GET", e.http.URL+"/v1/requests/AAAAAAAAAAAAAAAAAAAAAA", nil)
		req.Header.Set("X-Forwarded-For", xff)
		resp, err := e.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	get("2001:db8:1:2::1")
	get("2001:db8:1:2::2")
	if st := get("2001:db8:1:2:abcd::3"); st != 429 {
		t.Fatalf("a third address of the same /64: %d, want 429", st)
	}
	if st := get("2001:db8:1:3::1"); st != 404 {
		t.Fatalf("another /64: %d", st)
	}
}
