package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"
	cmtcfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/mempool"
	cmtnode "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	"github.com/cometbft/cometbft/rpc/client/local"
	rpccore "github.com/cometbft/cometbft/rpc/core"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/abci"
	"github.com/zkcred/zkcred/registry/store"
)

// Defaults for Options.
const (
	// DefaultInterval is how long CometBFT waits after a block commits
	// for the precommits of validators that have not sent theirs yet
	// (timeout_commit); with every precommit in, the next height starts
	// at once.
	DefaultInterval = 50 * time.Millisecond
	// DefaultHeartbeat is the interval of empty blocks when nothing is
	// submitted, so verifiers always see a recent root.
	DefaultHeartbeat = 30 * time.Second
	// DefaultProposeTimeout is how long validators wait for a proposal
	// before they move to the next round (another proposer).
	DefaultProposeTimeout = 1 * time.Second
	// DefaultVoteTimeout is how long they wait for straggling votes.
	DefaultVoteTimeout    = 200 * time.Millisecond
	DefaultMaxBlockLeaves = abci.DefaultMaxBlockLeaves
	DefaultMaxBlockTxs    = abci.DefaultMaxBlockTxs
	DefaultMaxBlockBytes  = abci.DefaultMaxBlockBytes
	// DefaultMempool is the number of transactions that may wait.
	DefaultMempool = 4096
	// DefaultPeerRate bounds the bytes per second sent to and received
	// from each peer (CometBFT's send_rate and recv_rate).
	DefaultPeerRate = 128 << 20
)

// Errors of Submit.
var (
	// ErrStopped is returned when the node is not running (HTTP 503).
	ErrStopped = errors.New("registry node is not running")
	// ErrNotCommitted is returned when a submitted transaction's block has
	// not committed within the caller's deadline: the chain lacks a quorum
	// of validators, or is busy (HTTP 503). The transaction may still
	// commit later; its signer's next nonce tells.
	ErrNotCommitted = errors.New("transaction not committed in time: the chain is not making progress (are more than a third of the validators down?)")
	// ErrBusy is returned when the mempool is full (HTTP 503).
	ErrBusy = errors.New("registry mempool is full, retry later")
	// ErrCatchingUp is returned while the validator is still fetching
	// blocks it missed (HTTP 503); another validator may take the
	// transaction.
	ErrCatchingUp = errors.New("this validator is catching up with the chain, retry shortly or use another")
	// ErrDuplicate is returned for a transaction that is already waiting
	// in the mempool or was seen recently (HTTP 409).
	ErrDuplicate = fmt.Errorf("transaction already submitted: %w", registry.ErrConflict)
)

// Options configure a node. The zero value is the default. The block
// limits must be the same on every validator of a chain.
type Options struct {
	Interval       time.Duration // DefaultInterval
	Heartbeat      time.Duration // DefaultHeartbeat; negative: no empty blocks
	ProposeTimeout time.Duration // DefaultProposeTimeout
	VoteTimeout    time.Duration // DefaultVoteTimeout
	MaxBlockLeaves int           // registry.SignedTx.Weight per block (DefaultMaxBlockLeaves)
	MaxBlockTxs    int           // DefaultMaxBlockTxs
	MaxBlockBytes  int           // DefaultMaxBlockBytes
	Mempool        int           // DefaultMempool
	// Logger receives CometBFT's errors at warn level and our own logs;
	// CometBFT's info and debug lines are dropped unless Verbose.
	Logger  *slog.Logger
	Verbose bool
	// OnCommit, if set, is called after each block commits.
	OnCommit func(h *registry.Header, txs int)
	// WrapApp, if set, wraps the ABCI application that CometBFT drives
	// (tests run a validator with another state machine this way).
	WrapApp func(abcitypes.Application) abcitypes.Application
}

func (o *Options) defaults() {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.ProposeTimeout <= 0 {
		o.ProposeTimeout = DefaultProposeTimeout
	}
	if o.VoteTimeout <= 0 {
		o.VoteTimeout = DefaultVoteTimeout
	}
	if o.Mempool <= 0 {
		o.Mempool = DefaultMempool
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Node is one CometBFT validator running the registry's ABCI application
// in the same process (a local client), over the registry's badger store.
type Node struct {
	st   *store.Store
	app  *abci.App
	cmt  *cmtnode.Node
	rpc  *local.Local
	opts Options

	mu      sync.Mutex
	waiters map[registry.Hash][]chan abci.Outcome
	held    []abci.Outcome // applied in the latest block, acknowledged with the next
	lastApp []byte         // app hash after the latest block
	done    chan struct{}
	stopped bool
}

// config returns CometBFT's configuration for a node home directory.
func config(home string, nc *NodeConfig, o *Options) *cmtcfg.Config {
	cfg := cmtcfg.DefaultConfig()
	cfg.SetRoot(home)
	cfg.Moniker = nc.Name
	cfg.LogLevel = "error"
	cfg.P2P.ListenAddress = "tcp://" + nc.P2PAddr
	cfg.P2P.ExternalAddress = ""
	cfg.P2P.PersistentPeers = joinPeers(nc.Peers)
	cfg.P2P.PexReactor = false
	cfg.P2P.AddrBookStrict = false
	cfg.P2P.AllowDuplicateIP = true
	cfg.P2P.MaxNumInboundPeers = 16
	cfg.P2P.MaxNumOutboundPeers = 16
	cfg.P2P.PersistentPeersMaxDialPeriod = 2 * time.Second
	cfg.P2P.DialTimeout = time.Second
	cfg.P2P.HandshakeTimeout = 5 * time.Second
	// A block of 16,384 commitments is about 1.4 MB, and every anchor is
	// gossiped to each peer before it: CometBFT's 5 MB/s per peer would
	// take a quarter of a second per hop. A consortium's validators are a
	// few known peers, so the limit only guards against a runaway one.
	cfg.P2P.SendRate = DefaultPeerRate
	cfg.P2P.RecvRate = DefaultPeerRate
	cfg.P2P.FlushThrottleTimeout = 2 * time.Millisecond
	cfg.P2P.MaxPacketMsgPayloadSize = 16 << 10
	cfg.RPC.ListenAddress = ""
	if nc.RPCAddr != "" {
		cfg.RPC.ListenAddress = "tcp://" + nc.RPCAddr
	}
	cfg.RPC.MaxOpenConnections = 64
	cfg.RPC.MaxSubscriptionClients = 4
	cfg.TxIndex.Indexer = "null"
	cfg.Instrumentation.Prometheus = false
	cfg.Mempool.Size = o.Mempool
	cfg.Mempool.CacheSize = 4 * o.Mempool
	cfg.Mempool.MaxTxBytes = registry.MaxTxBytes
	cfg.Mempool.MaxTxsBytes = 256 << 20
	cfg.Consensus.TimeoutPropose = o.ProposeTimeout
	cfg.Consensus.TimeoutProposeDelta = o.ProposeTimeout / 4
	cfg.Consensus.TimeoutPrevote = o.VoteTimeout
	cfg.Consensus.TimeoutPrevoteDelta = o.VoteTimeout / 2
	cfg.Consensus.TimeoutPrecommit = o.VoteTimeout
	cfg.Consensus.TimeoutPrecommitDelta = o.VoteTimeout / 2
	cfg.Consensus.TimeoutCommit = o.Interval
	// Once every validator's precommit is in, nothing is gained by
	// waiting: the next height starts at once, and the block that signs
	// the state of the one before (which an acknowledgement waits for)
	// follows without a pause. Interval is then the longest wait for
	// straggling precommits.
	cfg.Consensus.SkipTimeoutCommit = true
	cfg.Consensus.PeerGossipSleepDuration = 20 * time.Millisecond
	cfg.Consensus.PeerQueryMaj23SleepDuration = 500 * time.Millisecond
	if o.Heartbeat > 0 {
		cfg.Consensus.CreateEmptyBlocks = true
		cfg.Consensus.CreateEmptyBlocksInterval = o.Heartbeat
	} else {
		cfg.Consensus.CreateEmptyBlocks = false
	}
	return cfg
}

// newNode opens the store of a node directory and starts its CometBFT
// node; CometBFT's handshake first brings the app up to its block store.
func newNode(d *Dir, o Options, so store.Options) (*Node, error) {
	o.defaults()
	st, err := store.Open(d.DataPath(), so)
	if err != nil {
		return nil, err
	}
	if st.Genesis().Hash() != d.Genesis.Hash() {
		st.Close()
		return nil, fmt.Errorf("%s does not match the genesis in the database", GenesisFile)
	}
	n := &Node{st: st, opts: o, waiters: map[registry.Hash][]chan abci.Outcome{}, done: make(chan struct{})}
	n.app = abci.New(st, abci.Options{MaxBlockTxs: o.MaxBlockTxs, MaxBlockBytes: o.MaxBlockBytes, MaxBlockLeaves: o.MaxBlockLeaves, OnCommit: n.committed})
	cfg := config(d.CometHome(), &d.Config, &o)
	if err := cfg.ValidateBasic(); err != nil {
		st.Close()
		return nil, fmt.Errorf("CometBFT config: %w", err)
	}
	pv := privval.LoadFilePV(cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile())
	nk, err := p2p.LoadNodeKey(cfg.NodeKeyFile())
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("node key: %w", err)
	}
	var logger cmtlog.Logger = cmtLogger{l: o.Logger, verbose: o.Verbose}
	var app abcitypes.Application = n.app
	if o.WrapApp != nil {
		app = o.WrapApp(app)
	}
	cmt, err := cmtnode.NewNode(context.Background(), cfg, pv, nk, proxy.NewConnSyncLocalClientCreator(app),
		cmtnode.DefaultGenesisDocProviderFunc(cfg), closeSafeDBProvider,
		cmtnode.DefaultMetricsProvider(cfg.Instrumentation), logger)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("CometBFT node: %w", err)
	}
	if err := cmt.Start(); err != nil {
		st.Close()
		return nil, fmt.Errorf("CometBFT start: %w", err)
	}
	n.cmt = cmt
	n.rpc = local.New(cmt)
	return n, nil
}

// Store returns the node's store.
func (n *Node) Store() *store.Store { return n.st }

// App returns the node's ABCI application.
func (n *Node) App() *abci.App { return n.app }

// CometBFT returns the CometBFT node.
func (n *Node) CometBFT() *cmtnode.Node { return n.cmt }

// Stop stops CometBFT, answers waiting submitters with ErrStopped and
// closes the store.
func (n *Node) Stop() error {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return nil
	}
	n.stopped = true
	for _, o := range n.held { // committed: their receipts stand
		n.deliver(o)
	}
	n.held = nil
	close(n.done)
	n.mu.Unlock()
	var err error
	if n.cmt.IsRunning() {
		err = n.cmt.Stop()
		n.cmt.Wait()
	}
	if cerr := n.st.Close(); err == nil {
		err = cerr
	}
	return err
}

// committed acknowledges the transactions of the block before h, whose
// state h's CometBFT header signs, so that a light client can verify an
// acknowledged anchor at once; refused transactions of h are answered now,
// and so are those of a block that left the app hash as it was (its state
// is signed already).
func (n *Node) committed(h *registry.Header, outs []abci.Outcome) {
	n.mu.Lock()
	ready := n.held
	n.held = nil
	same := n.lastApp != nil && string(n.lastApp) == string(abci.AppHash(h))
	n.lastApp = abci.AppHash(h)
	for _, o := range outs {
		if o.Err != nil || same {
			n.deliver(o)
		} else {
			n.held = append(n.held, o)
		}
	}
	for _, o := range ready {
		n.deliver(o)
	}
	n.mu.Unlock()
	if n.opts.OnCommit != nil {
		n.opts.OnCommit(h, len(outs))
	}
}

// deliver answers the waiters of one transaction; n.mu is held.
func (n *Node) deliver(o abci.Outcome) {
	for _, ch := range n.waiters[o.TxHash] {
		ch <- o
	}
	delete(n.waiters, o.TxHash)
}

// Submit checks a transaction, hands it to CometBFT's mempool, and waits
// until the block that holds it has committed on this node.
func (n *Node) Submit(ctx context.Context, tx *registry.Tx) (*registry.Receipt, error) {
	st, err := registry.VerifyTx(n.st.Genesis().ChainID, tx)
	if err != nil {
		return nil, err
	}
	return n.SubmitSigned(ctx, st)
}

// SubmitSigned is Submit for a transaction already decoded and checked by
// registry.VerifyTx or registry.DecodeTx for this chain. The receipt names
// the block height and, for an anchor, the leaf indices. It comes once the
// block after the transaction's has committed too, whose CometBFT header
// signs the state, so light clients can verify it at once. A transaction that
// the state machine refuses returns its error (registry.Err…) and changes
// nothing; one whose block does not commit before ctx ends returns
// ErrNotCommitted.
func (n *Node) SubmitSigned(ctx context.Context, st *registry.SignedTx) (*registry.Receipt, error) {
	b, _, err := n.app.CheckSigned(st)
	if err != nil {
		return nil, err
	}
	ch := make(chan abci.Outcome, 1)
	key := registry.Hash(st.Hash)
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return nil, ErrStopped
	}
	n.waiters[key] = append(n.waiters[key], ch)
	n.mu.Unlock()
	defer n.unwait(key, ch)
	res, err := n.rpc.BroadcastTxSync(ctx, b)
	switch {
	case errors.Is(err, mempool.ErrTxInCache):
		return nil, ErrDuplicate
	case errors.As(err, new(mempool.ErrMempoolIsFull)):
		return nil, ErrBusy
	case errors.Is(err, rpccore.ErrEndpointClosedCatchingUp):
		return nil, ErrCatchingUp
	case err != nil:
		if n.isStopped() {
			return nil, ErrStopped
		}
		return nil, fmt.Errorf("mempool: %w", err)
	case res.Code != abci.CodeOK:
		return nil, codeError(res.Code, res.Log)
	}
	select {
	case o := <-ch:
		return o.Receipt, o.Err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w (%v)", ErrNotCommitted, ctx.Err())
	case <-n.done:
		select {
		case o := <-ch:
			return o.Receipt, o.Err
		default:
			return nil, ErrStopped
		}
	}
}

func (n *Node) isStopped() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stopped
}

func (n *Node) unwait(key registry.Hash, ch chan abci.Outcome) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ws := n.waiters[key]
	for i, w := range ws {
		if w == ch {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(n.waiters, key)
	} else {
		n.waiters[key] = ws
	}
}

// codeError turns a CheckTx result code back into the registry's error
// group.
func codeError(code uint32, log string) error {
	group := map[uint32]error{abci.CodeInvalid: registry.ErrInvalidTx, abci.CodeForbidden: registry.ErrForbidden,
		abci.CodeConflict: registry.ErrConflict, abci.CodeNotFound: registry.ErrNotFound, abci.CodeTooLarge: registry.ErrTooLarge}[code]
	if group == nil {
		return fmt.Errorf("refused by the registry (code %d): %s", code, log)
	}
	return fmt.Errorf("%w: %s", group, log)
}

// LightBlock returns CometBFT's signed header and validator set at a
// CometBFT height. The header at height h+1 carries the app hash of the
// state after registry block h.
func (n *Node) LightBlock(ctx context.Context, height int64) (*cmttypes.LightBlock, error) {
	if height < 1 || height > n.cmt.BlockStore().Height() {
		return nil, fmt.Errorf("%w: CometBFT block %d", registry.ErrNotFound, height)
	}
	c, err := n.rpc.Commit(ctx, &height)
	if err != nil {
		return nil, fmt.Errorf("%w: commit %d: %v", registry.ErrNotFound, height, err)
	}
	page, per := 1, 100
	v, err := n.rpc.Validators(ctx, &height, &page, &per)
	if err != nil {
		return nil, fmt.Errorf("validators at %d: %w", height, err)
	}
	vs := cmttypes.NewValidatorSet(v.Validators)
	return &cmttypes.LightBlock{SignedHeader: &c.SignedHeader, ValidatorSet: vs}, nil
}

// CatchingUp reports whether the validator is still fetching blocks it
// missed (block sync) rather than taking part in consensus.
func (n *Node) CatchingUp() bool {
	st, err := n.rpc.Status(context.Background())
	return err != nil || st.SyncInfo.CatchingUp
}

// Height returns CometBFT's latest committed height.
func (n *Node) Height() int64 { return n.cmt.BlockStore().Height() }

// cmtLogger passes CometBFT's errors to slog at warn level, and its info
// and debug lines only when verbose.
type cmtLogger struct {
	l       *slog.Logger
	verbose bool
}

func (c cmtLogger) Debug(msg string, kv ...any) {
	if c.verbose {
		c.l.Debug(msg, kv...)
	}
}

func (c cmtLogger) Info(msg string, kv ...any) {
	if c.verbose {
		c.l.Info(msg, kv...)
	}
}

func (c cmtLogger) Error(msg string, kv ...any) { c.l.Warn(msg, kv...) }

func (c cmtLogger) With(kv ...any) cmtlog.Logger {
	return cmtLogger{l: c.l.With(kv...), verbose: c.verbose}
}
