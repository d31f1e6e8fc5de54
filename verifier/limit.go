package verifier

import (
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

// suspects are clients that sent a proof that failed its pairing check
// recently. Their proofs are checked alone rather than in a batch with
// other clients' proofs, so that a client sending invalid proofs pays for
// them itself and cannot make every batch it lands in fall back to
// bisection.
type suspects struct {
	window time.Duration

	mu    sync.Mutex
	until map[string]time.Time
}

// maxSuspects bounds the table; when it is full of unexpired entries it
// is cleared, which at worst gives each of those clients one more batch
// to spoil.
const maxSuspects = 1 << 16

func newSuspects(window time.Duration) *suspects {
	return &suspects{window: window, until: map[string]time.Time{}}
}

func (s *suspects) is(client string, now time.Time) bool {
	if s == nil || client == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.until[client]
	if ok && now.After(t) {
		delete(s.until, client)
		return false
	}
	return ok
}

func (s *suspects) mark(client string, now time.Time) {
	if s == nil || client == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.until) >= maxSuspects {
		for k, t := range s.until {
			if now.After(t) {
				delete(s.until, k)
			}
		}
		if len(s.until) >= maxSuspects {
			clear(s.until)
		}
	}
	s.until[client] = now.Add(s.window)
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
