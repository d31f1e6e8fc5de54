package abci

import (
	"crypto/sha256"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/registry"
)

// A validator meets each transaction several times: in CheckTx when it
// arrives (from a submitter or a peer), on every mempool recheck after a
// block, in PrepareProposal or ProcessProposal, and in FinalizeBlock.
// Decoding (strict JSON, signatures) depends on the bytes only, so it is
// done once and kept here by the SHA-256 of the bytes: same bytes, same
// result. An anchor's leaves depend on the bytes only too; they are hashed
// once per validator, off CometBFT's goroutines where possible (by the
// submitter's request, or by background hashers for transactions that came
// from peers, whose CheckTx runs on the peer connection's receive routine),
// and FinalizeBlock hashes what is left on every core.

// prepared is one decoded transaction. st never changes once cached; the
// leaves are set once, by whichever of hashLeaves' callers comes first.
type prepared struct {
	st     *registry.SignedTx
	once   sync.Once
	done   atomic.Bool
	leaves []fr.Element
	queued bool // given to the background hashers (App.pmu)
}

func newPrepared(st *registry.SignedTx) *prepared {
	p := &prepared{st: st}
	if an, ok := st.Body.(registry.Anchor); ok && len(st.Leaves) == len(an.Commitments) {
		p.leaves = st.Leaves
		p.once.Do(func() {})
		p.done.Store(true)
	}
	return p
}

// anchor reports whether the transaction is an anchor.
func (p *prepared) anchor() bool {
	_, ok := p.st.Body.(registry.Anchor)
	return ok
}

// hashLeaves computes the anchor's leaves, at most once.
func (p *prepared) hashLeaves() {
	p.once.Do(func() {
		c := *p.st
		c.Leaves = nil
		c.PrepareLeaves()
		p.leaves = c.Leaves
		p.done.Store(true)
	})
}

// signed returns a copy of the transaction for one caller, with the
// anchor's leaves if they are hashed already.
func (p *prepared) signed() *registry.SignedTx {
	c := *p.st
	if p.done.Load() {
		c.Leaves = p.leaves
	}
	return &c
}

// zeroLeaves stands in for the leaves of an anchor in a dry run: whether
// an anchor applies depends on its signer and the tree's size, not on the
// leaf values, so CheckTx need not hash them. Apply only reads them.
var zeroLeaves = make([]fr.Element, registry.MaxAnchor)

// dryRunCopy returns a copy of the transaction for a dry run, with
// stand-in leaves where they are not hashed yet.
func (p *prepared) dryRunCopy() *registry.SignedTx {
	c := p.signed()
	if an, ok := c.Body.(registry.Anchor); ok && len(c.Leaves) != len(an.Commitments) && len(an.Commitments) <= len(zeroLeaves) {
		c.Leaves = zeroLeaves[:len(an.Commitments)]
	}
	return c
}

// DefaultPreparedWeight bounds the commitments held by the kept
// transactions (SignedTx.Weight, each with its leaf: 64 bytes): 1M is
// about 64 MB. A transaction evicted early is decoded again when needed.
const DefaultPreparedWeight = 1 << 20

// lookup returns the prepared transaction of tx bytes: the kept one, or a
// new decoding that is not kept yet (keep keeps it).
func (a *App) lookup(b []byte) (p *prepared, key [32]byte, kept bool, err error) {
	key = sha256.Sum256(b)
	a.pmu.Lock()
	p, ok := a.prepared[key]
	a.pmu.Unlock()
	if ok {
		return p, key, true, nil
	}
	st, err := registry.DecodeTx(a.g.ChainID, b)
	if err != nil {
		return nil, key, false, err
	}
	return newPrepared(st), key, false, nil
}

// entry is lookup, keeping a new decoding.
func (a *App) entry(b []byte) (*prepared, error) {
	p, key, kept, err := a.lookup(b)
	if err != nil || kept {
		return p, err
	}
	return a.keep(key, p), nil
}

// keep caches p under key unless an entry is there already, which it
// returns instead. Arbitrary entries make room beyond the count
// (Options.Prepared) or weight (DefaultPreparedWeight) limits.
func (a *App) keep(key [32]byte, p *prepared) *prepared {
	a.pmu.Lock()
	defer a.pmu.Unlock()
	if old, ok := a.prepared[key]; ok {
		return old
	}
	w := p.st.Weight()
	for k, old := range a.prepared {
		if len(a.prepared) < a.opts.Prepared && a.weight+w <= DefaultPreparedWeight {
			break
		}
		a.weight -= old.st.Weight()
		delete(a.prepared, k)
	}
	a.prepared[key] = p
	a.weight += w
	return p
}

func (a *App) forget(txs [][]byte) {
	a.pmu.Lock()
	defer a.pmu.Unlock()
	for _, b := range txs {
		k := sha256.Sum256(b)
		if p, ok := a.prepared[k]; ok {
			a.weight -= p.st.Weight()
			delete(a.prepared, k)
		}
	}
}

// hashLater gives an anchor that CheckTx admitted to the background
// hashers, which exit when nothing is left. There is one fewer than the
// CPUs (at least one), so that consensus keeps a core while they hash.
func (a *App) hashLater(p *prepared) {
	if !p.anchor() || p.done.Load() {
		return
	}
	a.pmu.Lock()
	if p.queued || len(a.hashq) >= a.opts.Prepared {
		a.pmu.Unlock()
		return
	}
	p.queued = true
	a.hashq = append(a.hashq, p)
	start := a.hashers < max(1, runtime.GOMAXPROCS(0)-1)
	if start {
		a.hashers++
	}
	a.pmu.Unlock()
	if start {
		go a.hasher()
	}
}

func (a *App) hasher() {
	for {
		a.pmu.Lock()
		if len(a.hashq) == 0 {
			a.hashq = nil
			a.hashers--
			a.pmu.Unlock()
			return
		}
		p := a.hashq[0]
		a.hashq[0] = nil
		a.hashq = a.hashq[1:]
		a.pmu.Unlock()
		p.hashLeaves()
	}
}

// prepareLeaves hashes, on every core, the leaves of the block's anchors
// that are not hashed yet and whose signers are active issuers in the
// committed state (Apply hashes the others if they may anchor at all).
func (a *App) prepareLeaves(ps []*prepared) {
	work := make(chan *prepared)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				p.hashLeaves()
			}
		}()
	}
	for _, p := range ps {
		if p == nil || !p.anchor() || p.done.Load() {
			continue
		}
		if ok, err := registry.ActiveIssuer(a.st, p.st); err == nil && ok {
			work <- p
		}
	}
	close(work)
	wg.Wait()
}
