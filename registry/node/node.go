package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/store"
)

// Defaults for Options.
const (
	DefaultInterval       = 50 * time.Millisecond
	DefaultHeartbeat      = 30 * time.Second
	DefaultMaxBlockLeaves = 16384
	DefaultMaxBlockTxs    = 2000
	DefaultMaxBlockBytes  = 4 << 20
	DefaultQueue          = 4096
)

// ErrStopped is returned by Submit when the node is not running (HTTP 503).
var ErrStopped = errors.New("registry node is not running")

// Options configure a node. The zero value is the default.
type Options struct {
	// Interval is the longest a transaction waits for its block to start
	// committing (DefaultInterval).
	Interval time.Duration
	// Heartbeat is the interval of empty blocks when nothing is submitted
	// (DefaultHeartbeat); negative disables them.
	Heartbeat time.Duration
	// MaxBlockLeaves closes a block once its transactions weigh this much
	// (registry.SignedTx.Weight: one per anchored commitment, 33 per revoked
	// leaf), which keeps a block within one badger transaction
	// (DefaultMaxBlockLeaves).
	MaxBlockLeaves int
	// MaxBlockTxs closes a block at this many transactions (DefaultMaxBlockTxs).
	MaxBlockTxs int
	// MaxBlockBytes closes a block once its transactions' payloads reach
	// this many bytes (DefaultMaxBlockBytes).
	MaxBlockBytes int
	// Queue is the number of transactions that may wait (DefaultQueue).
	Queue int
	// Now returns the block time (time.Now).
	Now func() time.Time
	// Logger logs committed blocks at debug level and failures at error level.
	Logger *slog.Logger
	// OnCommit, if set, is called after each block commits.
	OnCommit func(h *registry.Header, txs int, took time.Duration)
}

func (o *Options) defaults() {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.MaxBlockLeaves <= 0 {
		o.MaxBlockLeaves = DefaultMaxBlockLeaves
	}
	if o.MaxBlockTxs <= 0 {
		o.MaxBlockTxs = DefaultMaxBlockTxs
	}
	if o.MaxBlockBytes <= 0 {
		o.MaxBlockBytes = DefaultMaxBlockBytes
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

type pending struct {
	tx   *registry.SignedTx
	done chan result
}

type result struct {
	rc  *registry.Receipt
	err error
}

// Node produces the blocks of one store.
type Node struct {
	st   *store.Store
	key  ed25519.PrivateKey
	opts Options
	in   chan *pending

	mu      sync.Mutex
	running bool
	stop    context.CancelFunc
	done    chan struct{}
}

// New returns a node for a store; key must be the genesis producer's.
func New(st *store.Store, key ed25519.PrivateKey, opts Options) (*Node, error) {
	if !key.Public().(ed25519.PublicKey).Equal(st.Genesis().ProducerKey()) {
		return nil, errors.New("producer key does not match the genesis producer")
	}
	opts.defaults()
	return &Node{st: st, key: key, opts: opts, in: make(chan *pending, opts.Queue)}, nil
}

// Store returns the node's store.
func (n *Node) Store() *store.Store { return n.st }

// Start runs the block loop until Stop.
func (n *Node) Start() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.running {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.running, n.stop, n.done = true, cancel, make(chan struct{})
	go func() {
		defer close(n.done)
		n.loop(ctx)
	}()
}

// Stop ends the block loop after the block being built commits; waiting
// submitters get ErrStopped.
func (n *Node) Stop() {
	n.mu.Lock()
	if !n.running {
		n.mu.Unlock()
		return
	}
	n.running = false
	n.stop()
	done := n.done
	n.mu.Unlock()
	<-done
	for {
		select {
		case p := <-n.in:
			p.done <- result{err: ErrStopped}
		default:
			return
		}
	}
}

// Submit checks a transaction, queues it, and waits until the block that
// holds it has committed. The receipt names the block height and, for an
// anchor, the leaf indices. A transaction that the state machine rejects
// returns its error and is in no block.
func (n *Node) Submit(ctx context.Context, tx *registry.Tx) (*registry.Receipt, error) {
	st, err := registry.VerifyTx(n.st.Genesis().ChainID, tx)
	if err != nil {
		return nil, err
	}
	return n.SubmitSigned(ctx, st)
}

// SubmitSigned is Submit for a transaction already decoded and checked by
// registry.VerifyTx or registry.DecodeTx for this chain.
func (n *Node) SubmitSigned(ctx context.Context, st *registry.SignedTx) (*registry.Receipt, error) {
	if _, ok := st.Body.(registry.Anchor); ok {
		// hash only for a signer that may anchor; Apply decides for good
		if active, err := registry.ActiveIssuer(n.st, st); err != nil {
			return nil, err
		} else if active {
			st.PrepareLeaves()
		}
	}
	p := &pending{tx: st, done: make(chan result, 1)}
	n.mu.Lock()
	running, stopped := n.running, n.done
	n.mu.Unlock()
	if !running {
		return nil, ErrStopped
	}
	select {
	case n.in <- p:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-stopped:
		return nil, ErrStopped
	}
	select {
	case r := <-p.done:
		return r.rc, r.err
	case <-ctx.Done():
		// the transaction may still commit; the caller can look it up
		return nil, ctx.Err()
	case <-stopped:
		select {
		case r := <-p.done: // committed in the last block
			return r.rc, r.err
		default:
			return nil, ErrStopped
		}
	}
}

func (n *Node) loop(ctx context.Context) {
	var heartbeat <-chan time.Time
	var tick *time.Ticker
	if n.opts.Heartbeat > 0 {
		tick = time.NewTicker(n.opts.Heartbeat)
		defer tick.Stop()
		heartbeat = tick.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-heartbeat:
			n.block(ctx, nil)
		case p := <-n.in:
			for p != nil {
				p = n.block(ctx, p)
			}
			if tick != nil {
				tick.Reset(n.opts.Heartbeat)
			}
		}
	}
}

// block builds and commits one block starting with first (nil for an
// empty block). It returns a transaction that did not fit, to start the
// next block.
func (n *Node) block(ctx context.Context, first *pending) (next *pending) {
	start := time.Now()
	latest := n.st.Latest()
	b, err := registry.NewBuilder(n.st.Genesis(), n.st, &latest)
	if err != nil {
		n.opts.Logger.Error("start block", "err", err)
		if first != nil {
			first.done <- result{err: err}
		}
		return nil
	}
	type accepted struct {
		p  *pending
		rc *registry.Receipt
	}
	var acc []accepted
	leaves, size := 0, 0
	apply := func(p *pending) {
		rc, err := b.Apply(p.tx)
		if err != nil {
			p.done <- result{err: err}
			return
		}
		acc = append(acc, accepted{p, rc})
		leaves += p.tx.Weight()
		size += len(p.tx.Tx.Payload)
	}
	if first != nil {
		apply(first)
		deadline := time.NewTimer(n.opts.Interval)
	collect:
		for leaves < n.opts.MaxBlockLeaves && len(acc) < n.opts.MaxBlockTxs && size < n.opts.MaxBlockBytes {
			select {
			case p := <-n.in:
				if len(acc) > 0 && (leaves+p.tx.Weight() > n.opts.MaxBlockLeaves || size+len(p.tx.Tx.Payload) > n.opts.MaxBlockBytes) {
					// keep the block within its size; this one starts the next
					next = p
					break collect
				}
				apply(p)
			case <-deadline.C:
				break collect
			case <-ctx.Done():
				break collect
			}
		}
		deadline.Stop()
		if len(acc) == 0 {
			return next
		}
	}
	h, txs, w, err := b.Finish(n.opts.Now().UnixMilli())
	if err == nil {
		h.Sign(n.key)
		err = n.st.Commit(&registry.Block{Header: *h, Txs: txs}, w)
	}
	if err != nil {
		n.opts.Logger.Error("commit block", "height", b.Height(), "err", err)
		for _, a := range acc {
			a.p.done <- result{err: fmt.Errorf("block %d did not commit: %w", b.Height(), err)}
		}
		return next
	}
	for _, a := range acc {
		a.p.done <- result{rc: a.rc}
	}
	took := time.Since(start)
	n.opts.Logger.Debug("block", "height", h.Height, "txs", len(txs), "leaves", h.CredSize, "took", took)
	if n.opts.OnCommit != nil {
		n.opts.OnCommit(h, len(txs), took)
	}
	return next
}
