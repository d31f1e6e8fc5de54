package verifier

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/zkcred/zkcred/circuits"
)

// coalescer verifies the proofs of concurrent requests together: a worker
// takes one proof, then every proof already waiting (up to max), and checks
// them with one VerifyBatch call. Under light load a proof is checked
// alone, at once; under heavy load proofs queue while a batch runs and the
// next batch grows, with no timer and no added latency. A batch whose
// combined check fails is resolved by bisection (circuits.VerifyBatch):
// halves are checked again, the other half's value follows from the
// first's, and only the parts holding a bad proof are split further, so
// one bad proof in a batch of n costs about log₂ n combined checks of
// shrinking halves instead of n single ones. The server keeps a client
// whose proof failed out of the coalescer for a while (Options.SuspectFor),
// so that its next proofs cost only itself.
type coalescer struct {
	pv   ProofVerifier
	max  int
	jobs chan *proofJob // unbuffered: a job is only taken by a worker that will answer it
	done chan struct{}
	once sync.Once
}

type proofJob struct {
	proof []byte
	pub   *circuits.Public
	err   chan error // buffered 1
}

var errClosed = errors.New("verifier is shutting down")

func newCoalescer(pv ProofVerifier, max int) *coalescer {
	c := &coalescer{pv: pv, max: max, jobs: make(chan *proofJob), done: make(chan struct{})}
	for range runtime.GOMAXPROCS(0) {
		go c.loop()
	}
	return c
}

func (c *coalescer) close() { c.once.Do(func() { close(c.done) }) }

// verify queues one proof and waits for its verdict.
func (c *coalescer) verify(proof []byte, pub *circuits.Public) error {
	j := &proofJob{proof: proof, pub: pub, err: make(chan error, 1)}
	select {
	case c.jobs <- j:
	case <-c.done:
		return errClosed
	}
	return <-j.err
}

func (c *coalescer) loop() {
	for {
		var j *proofJob
		select {
		case j = <-c.jobs:
		case <-c.done:
			return
		}
		batch := []*proofJob{j}
	drain:
		for len(batch) < c.max {
			select {
			case j := <-c.jobs:
				batch = append(batch, j)
			default:
				break drain
			}
		}
		c.run(batch)
	}
}

func (c *coalescer) run(batch []*proofJob) {
	if len(batch) == 1 {
		batch[0].err <- safeVerify(c.pv, batch[0].proof, batch[0].pub)
		return
	}
	proofs := make([][]byte, len(batch))
	pubs := make([]*circuits.Public, len(batch))
	for i, j := range batch {
		proofs[i], pubs[i] = j.proof, j.pub
	}
	errs, ok := safeVerifyBatch(c.pv, proofs, pubs)
	for i, j := range batch {
		if !ok {
			j.err <- safeVerify(c.pv, j.proof, j.pub)
			continue
		}
		j.err <- errs[i]
	}
}

// safeVerify calls Verify, turning a panic on hostile bytes into an error.
func safeVerify(pv ProofVerifier, proof []byte, pub *circuits.Public) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("verifier failed on the proof bytes: %v", r)
		}
	}()
	return pv.Verify(proof, pub)
}

// safeVerifyBatch calls VerifyBatch; ok is false if it panicked or
// answered with the wrong number of verdicts.
func safeVerifyBatch(pv ProofVerifier, proofs [][]byte, pubs []*circuits.Public) (errs []error, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			errs, ok = nil, false
		}
	}()
	errs = pv.VerifyBatch(proofs, pubs)
	return errs, len(errs) == len(proofs)
}
