package verifier

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a token bucket per client (the address the rate limit keys
// on). Every call under /v1/ takes one token, and a batch call one more
// per item beyond the first, so that the limit counts presentations to
// check, not HTTP calls.
type limiter struct {
	rate  rate.Limit
	burst int

	mu      sync.Mutex
	clients map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// idleExpiry drops the bucket of a client idle this long (it is full
// again by then at any rate of at least burst/idleExpiry).
const idleExpiry = 3 * time.Minute

func newLimiter(r float64, burst int) *limiter {
	return &limiter{rate: rate.Limit(r), burst: burst, clients: map[string]*bucket{}}
}

// allow takes n tokens from client's bucket, or none if it holds fewer;
// it returns how long until n tokens would be there.
func (l *limiter) allow(client string, n int, now time.Time) (ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > idleExpiry {
		for k, b := range l.clients {
			if now.Sub(b.seen) > idleExpiry {
				delete(l.clients, k)
			}
		}
		l.swept = now
	}
	b, found := l.clients[client]
	if !found {
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.clients[client] = b
	}
	b.seen = now
	if n > l.burst {
		return false, 0
	}
	r := b.lim.ReserveN(now, n)
	if !r.OK() {
		return false, 0
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// clientKey is the key a client is known by (rate limit, quota,
// suspects): its IPv4 address, or the /64 network of an IPv6 address,
// since one host commonly holds a whole /64.
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() || a.Is4In6() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// Lanes a client's proofs take.
const (
	laneKnown   = iota // coalesced with other known clients' proofs
	laneNew            // coalesced with other new clients' proofs only
	laneSuspect        // checked alone
)

// clients remembers, for SuspectFor, which clients sent a proof that
// verified (known) and which sent one that failed the pairing check
// (suspects). A suspect's proofs are checked alone rather than in a batch
// with others, so that a client sending invalid proofs pays for them
// itself and cannot make every batch it lands in fall back to bisection;
// a client not seen before is batched only with other new clients, so
// that an attacker sending each invalid proof from a new address spoils
// no batch of the clients already known.
type clients struct {
	window time.Duration

	mu    sync.Mutex
	state map[string]clientState
}

type clientState struct {
	until   time.Time
	suspect bool
}

// maxClients bounds the table; when it is full of unexpired entries it is
// cleared, which at worst gives each suspect one more batch to spoil.
const maxClients = 1 << 16

func newClients(window time.Duration) *clients {
	return &clients{window: window, state: map[string]clientState{}}
}

// lane says how client's next proof is checked. Without a table (SuspectFor
// negative) and for in-process callers (client ""), every proof is
// coalesced with every other.
func (c *clients) lane(client string, now time.Time) int {
	if c == nil || client == "" {
		return laneKnown
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.state[client]
	switch {
	case !ok:
		return laneNew
	case now.After(st.until):
		delete(c.state, client)
		return laneNew
	case st.suspect:
		return laneSuspect
	}
	return laneKnown
}

// failed marks client a suspect for the window.
func (c *clients) failed(client string, now time.Time) { c.set(client, now, true) }

// verified marks client known for the window, unless it is a suspect.
func (c *clients) verified(client string, now time.Time) {
	if c == nil || client == "" {
		return
	}
	c.mu.Lock()
	st, ok := c.state[client]
	c.mu.Unlock()
	if ok && st.suspect && !now.After(st.until) {
		return
	}
	c.set(client, now, false)
}

func (c *clients) set(client string, now time.Time, suspect bool) {
	if c == nil || client == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.state[client]; !ok && len(c.state) >= maxClients {
		for k, st := range c.state {
			if now.After(st.until) {
				delete(c.state, k)
			}
		}
		if len(c.state) >= maxClients {
			clear(c.state)
		}
	}
	c.state[client] = clientState{until: now.Add(c.window), suspect: suspect}
}

// requestBook counts what request creation may add: all stored requests
// (bounded by Options.MaxRequests; a request is stored until its expiry
// plus the retention) and, per client, the open requests of public
// policies it created (bounded by Options.PublicQuota; a request is open
// until it expires).
type requestBook struct {
	maxStored, quota int

	mu      sync.Mutex
	stored  map[int64]int // store expiry, rounded up to the minute → requests
	total   int
	clients map[string][]int64 // client → expiry (Unix seconds) of each open public request
	swept   int64
}

func newRequestBook(maxStored, quota int) *requestBook {
	return &requestBook{maxStored: maxStored, quota: quota, stored: map[int64]int{}, clients: map[string][]int64{}}
}

// add counts one stored request that the store keeps until storeExpiry
// (Unix seconds).
func (b *requestBook) add(storeExpiry int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stored[(storeExpiry+59)/60]++
	b.total++
}

func (b *requestBook) prune(now int64) {
	for m, n := range b.stored {
		if m*60 <= now {
			delete(b.stored, m)
			b.total -= n
		}
	}
	if now-b.swept >= 60 {
		for c, exp := range b.clients {
			if live := openAt(exp, now); len(live) == 0 {
				delete(b.clients, c)
			} else {
				b.clients[c] = live
			}
		}
		b.swept = now
	}
}

func openAt(exp []int64, now int64) []int64 {
	live := exp[:0]
	for _, e := range exp {
		if e >= now {
			live = append(live, e)
		}
	}
	return live
}

// reserve makes room for one request before it is made: it fails with
// ErrStoreFull or (for a public request of client) ErrQuotaExceeded, and
// otherwise counts the request; release undoes that if the request is
// then not stored. The returned wait says when room is expected.
func (b *requestBook) reserve(client string, public bool, now, expires, storeExpiry int64) (release func(), full bool, overQuota bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prune(now)
	if b.maxStored > 0 && b.total >= b.maxStored {
		next := int64(-1)
		for m := range b.stored {
			if next < 0 || m < next {
				next = m
			}
		}
		return nil, true, false, time.Duration(max(next*60-now, 1)) * time.Second
	}
	counted := public && b.quota > 0
	if counted {
		live := openAt(b.clients[client], now)
		b.clients[client] = live
		if len(live) >= b.quota {
			first := live[0]
			for _, e := range live {
				first = min(first, e)
			}
			return nil, false, true, time.Duration(max(first-now+1, 1)) * time.Second
		}
		b.clients[client] = append(live, expires)
	}
	m := (storeExpiry + 59) / 60
	b.stored[m]++
	b.total++
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.stored[m] > 0 {
			b.stored[m]--
			b.total--
		}
		if counted {
			exp := b.clients[client]
			for i, e := range exp {
				if e == expires {
					b.clients[client] = append(exp[:i], exp[i+1:]...)
					break
				}
			}
		}
	}, false, false, 0
}
