package verifier

import (
	"testing"
	"time"
)

// latestChain is fakeChain with LatestRoots: requests carry its newest
// height as minHeight.
type latestChain struct{ *fakeChain }

func (c latestChain) LatestHeight() (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var h uint64
	for k := range c.byHeight {
		h = max(h, k)
	}
	return h, len(c.byHeight) > 0
}

// A request names the newest block the verifier knew when it made it, and
// a presentation at an older block is refused, even one with a root well
// within the policy's maximum age: a registry (or anyone between the
// wallet and it) cannot make the wallet prove against an older root of
// its choosing.
func TestPresentationBelowMinHeight(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Roots = latestChain{o.Roots.(*fakeChain)} })
	newer := e.chain.addRoot(101, e.clock.Now().Add(-time.Minute))
	r := e.newRequest("hire")
	if r.MinHeight != 101 {
		t.Fatalf("request minHeight %d, want 101 (the newest verified block)", r.MinHeight)
	}
	alice := e.alice()
	// The root of block 100 is 5 minutes old (the policy accepts 1 h),
	// but older than the request.
	if st, eb, _ := e.submit(r, e.honest(alice, r)); st != 422 || eb.Code != "root_too_old" {
		t.Fatalf("presentation at block 100 below minHeight 101: %d %+v", st, eb)
	}
	r2 := e.newRequest("hire")
	if st, eb, res := e.submit(r2, alice.present(r2, alice.statement(t, r2, newer, 101))); st != 200 || res.Status != "verified" {
		t.Fatalf("presentation at minHeight: %d %+v %+v", st, eb, res)
	}
}
