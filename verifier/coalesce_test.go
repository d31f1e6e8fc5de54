package verifier

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/zkcred/zkcred/circuits"
)

// slowProofs is hashProofs that takes a while, and records batch sizes.
type slowProofs struct {
	hashProofs
	mu      sync.Mutex
	batches []int
}

func (s *slowProofs) Verify(p []byte, pub *circuits.Public) error {
	time.Sleep(2 * time.Millisecond)
	return s.hashProofs.Verify(p, pub)
}

func (s *slowProofs) VerifyBatch(ps [][]byte, pubs []*circuits.Public) []error {
	s.mu.Lock()
	s.batches = append(s.batches, len(ps))
	s.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
	return s.hashProofs.VerifyBatch(ps, pubs)
}

// TestCoalescedVerdicts: concurrent presentations, some with broken
// proofs, verified through the coalescer: each gets its own verdict.
func TestCoalescedVerdicts(t *testing.T) {
	sp := &slowProofs{}
	// One client sends them all: keep it coalesced although it sends bad
	// proofs (TestSuspectsCheckedAlone covers the isolation).
	e := newEnv(t, func(o *Options) { o.Proofs = sp; o.CoalesceProofs = 16; o.SuspectFor = -1 })
	alice := e.alice()
	const n = 48
	type item struct {
		r   *wire.Request
		p   *wire.Presentation
		bad bool
	}
	items := make([]item, n)
	for i := range items {
		r := e.newRequest("hire")
		p := e.honest(alice, r)
		bad := i%3 == 0
		if bad {
			p.Proof[0] ^= 1
		}
		items[i] = item{r, p, bad}
	}
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, eb, _ := e.submit(it.r, it.p)
			if it.bad && (st != 422 || eb.Code != "proof_invalid") || !it.bad && st != http.StatusOK {
				t.Errorf("bad=%v: %d %+v", it.bad, st, eb)
			}
		}()
	}
	wg.Wait()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	largest := 0
	for _, b := range sp.batches {
		largest = max(largest, b)
	}
	if largest < 2 || largest > 16 {
		t.Fatalf("batch sizes %v: want some coalescing, none above 16", sp.batches)
	}
}
