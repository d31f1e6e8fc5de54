package abci

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/store"
)

// Defaults for Options.
const (
	DefaultMaxBlockTxs    = 2000
	DefaultMaxBlockBytes  = 4 << 20
	DefaultMaxBlockLeaves = 16384
	// DefaultPrepared bounds the decoded transactions (anchors with their
	// leaves hashed) kept between CheckTx and FinalizeBlock.
	DefaultPrepared = 4096
)

// Result codes of CheckTx and of a transaction in FinalizeBlock; 0 is OK.
// They follow the registry's error groups.
const (
	CodeOK uint32 = iota
	CodeInvalid
	CodeForbidden
	CodeConflict
	CodeNotFound
	CodeTooLarge
	CodeInternal
)

// Code returns the result code of a registry error.
func Code(err error) uint32 {
	switch {
	case err == nil:
		return CodeOK
	case errors.Is(err, registry.ErrInvalidTx):
		return CodeInvalid
	case errors.Is(err, registry.ErrForbidden):
		return CodeForbidden
	case errors.Is(err, registry.ErrConflict):
		return CodeConflict
	case errors.Is(err, registry.ErrNotFound):
		return CodeNotFound
	case errors.Is(err, registry.ErrTooLarge):
		return CodeTooLarge
	}
	return CodeInternal
}

// Options configure an App. The zero value is the default. Every validator
// of a chain must use the same block limits: ProcessProposal refuses a
// block beyond them.
type Options struct {
	MaxBlockTxs    int // transactions per block (DefaultMaxBlockTxs)
	MaxBlockBytes  int // encoded transactions per block (DefaultMaxBlockBytes)
	MaxBlockLeaves int // registry.SignedTx.Weight per block (DefaultMaxBlockLeaves)
	Prepared       int // DefaultPrepared
	// OnCommit, if set, is called after each block is durable, with the
	// outcome of each of its transactions in block order.
	OnCommit func(h *registry.Header, outcomes []Outcome)
}

func (o *Options) defaults() {
	if o.MaxBlockTxs <= 0 {
		o.MaxBlockTxs = DefaultMaxBlockTxs
	}
	if o.MaxBlockBytes <= 0 {
		o.MaxBlockBytes = DefaultMaxBlockBytes
	}
	if o.MaxBlockLeaves <= 0 {
		o.MaxBlockLeaves = DefaultMaxBlockLeaves
	}
	if o.Prepared <= 0 {
		o.Prepared = DefaultPrepared
	}
}

// Outcome is what one transaction of a committed block did: its receipt,
// or the error that kept it from changing the state.
type Outcome struct {
	TxHash  registry.Hash
	Receipt *registry.Receipt
	Err     error
}

// finalized is a block that FinalizeBlock applied and Commit has to write.
type finalized struct {
	block    *registry.Block
	writes   map[string][]byte
	outcomes []Outcome
}

// App is the registry's ABCI application over one store.
type App struct {
	abcitypes.BaseApplication
	st   *store.Store
	g    *registry.Genesis
	opts Options

	mu      sync.Mutex // consensus calls (FinalizeBlock, Commit, InitChain)
	pending *finalized

	pmu      sync.Mutex
	prepared map[[32]byte]*prepared // by SHA-256 of the tx bytes
	weight   int                    // of the kept transactions
	hashq    []*prepared            // anchors for the background hashers
	hashers  int
}

var _ abcitypes.Application = (*App)(nil)

// New returns the application for a store.
func New(st *store.Store, opts Options) *App {
	opts.defaults()
	return &App{st: st, g: st.Genesis(), opts: opts, prepared: map[[32]byte]*prepared{}}
}

// Store returns the app's store.
func (a *App) Store() *store.Store { return a.st }

// Info reports the last committed height and its app hash.
func (a *App) Info(context.Context, *abcitypes.InfoRequest) (*abcitypes.InfoResponse, error) {
	h := a.st.Latest()
	return &abcitypes.InfoResponse{
		Data:             "zkcred registry",
		Version:          "1",
		AppVersion:       1,
		LastBlockHeight:  int64(h.Height),
		LastBlockAppHash: AppHash(&h),
	}, nil
}

// InitChain checks CometBFT's genesis against the store's and returns the
// app hash of registry block 0. It may run again after a restart before
// the first block; it changes nothing.
func (a *App) InitChain(_ context.Context, req *abcitypes.InitChainRequest) (*abcitypes.InitChainResponse, error) {
	if req.ChainId != a.g.ChainID {
		return nil, fmt.Errorf("CometBFT chain %q, registry genesis %q", req.ChainId, a.g.ChainID)
	}
	if req.InitialHeight > 1 {
		return nil, fmt.Errorf("CometBFT initial height %d: the registry starts at 1", req.InitialHeight)
	}
	if len(req.AppStateBytes) > 0 {
		g, err := registry.ParseGenesis(req.AppStateBytes)
		if err != nil {
			return nil, fmt.Errorf("CometBFT app state: %w", err)
		}
		if g.Hash() != a.g.Hash() {
			return nil, errors.New("CometBFT app state is not this registry's genesis")
		}
	}
	h := a.st.Latest()
	if h.Height != 0 {
		return nil, fmt.Errorf("InitChain on a registry at height %d", h.Height)
	}
	return &abcitypes.InitChainResponse{AppHash: AppHash(&h)}, nil
}

// CheckTx decodes a transaction (strict JSON, signature for this chain)
// and dry-runs it on the committed state, so that the mempool holds only
// transactions that would apply now. The decoded transaction is kept for
// the later calls; an admitted anchor's leaves are hashed in the
// background, not on the caller's goroutine (for a transaction from a
// peer, that is the peer connection's receive routine).
func (a *App) CheckTx(_ context.Context, req *abcitypes.CheckTxRequest) (*abcitypes.CheckTxResponse, error) {
	p, err := a.check(req.Tx)
	if err != nil {
		return &abcitypes.CheckTxResponse{Code: Code(err), Log: err.Error(), Codespace: "zkcred"}, nil
	}
	a.hashLater(p)
	return &abcitypes.CheckTxResponse{Code: CodeOK, GasWanted: int64(p.st.Weight())}, nil
}

// Check is CheckTx for a caller in the same process: it returns the
// decoded transaction, an anchor's leaves hashed on the caller's
// goroutine, or the registry error that refuses it.
func (a *App) Check(b []byte) (*registry.SignedTx, error) {
	p, err := a.check(b)
	if err != nil {
		return nil, err
	}
	p.hashLeaves()
	return p.signed(), nil
}

// CheckSigned is Check for a transaction the caller has decoded already
// (registry.DecodeTx or registry.VerifyTx for this chain): it spares
// decoding the bytes again. It returns the transaction's bytes for the
// mempool, encoded here by registry.EncodeTx so that they hold the payload
// exactly as signed. The signatures are verified once more for this chain,
// so that a transaction checked for another chain is refused.
func (a *App) CheckSigned(st *registry.SignedTx) ([]byte, *registry.SignedTx, error) {
	if err := registry.VerifySignatures(a.g.ChainID, st); err != nil {
		return nil, nil, err
	}
	b, err := registry.EncodeTx(st.Tx)
	if err != nil {
		return nil, nil, err
	}
	c := *st
	c.Leaves = nil // hashed here, never taken from the caller
	p := newPrepared(&c)
	if err := a.dryRun(p, len(b)); err != nil {
		return nil, nil, err
	}
	p = a.keep(sha256Sum(b), p)
	p.hashLeaves()
	return b, p.signed(), nil
}

// check decodes and dry-runs tx bytes, keeping only what passes: a
// refused transaction holds no memory.
func (a *App) check(b []byte) (*prepared, error) {
	p, key, kept, err := a.lookup(b)
	if err != nil {
		return nil, err
	}
	if err := a.dryRun(p, len(b)); err != nil {
		return nil, err
	}
	if !kept {
		p = a.keep(key, p)
	}
	return p, nil
}

// dryRun applies the transaction to the committed state and discards the
// result.
func (a *App) dryRun(p *prepared, size int) error {
	if p.st.Weight() > a.opts.MaxBlockLeaves || size > a.opts.MaxBlockBytes {
		return fmt.Errorf("%w: weight %d, %d bytes: beyond a block's limits", registry.ErrTxTooLarge, p.st.Weight(), size)
	}
	latest := a.st.Latest()
	bl, err := registry.NewBuilder(a.g, a.st, &latest)
	if err != nil {
		return err
	}
	_, err = bl.Apply(p.dryRunCopy())
	return err
}

// limits keeps the leading transactions of txs that fit a block: decodable,
// within the count, bytes (also maxBytes from CometBFT, if positive) and
// weight limits. It reports whether it dropped any.
func (a *App) limits(txs [][]byte, maxBytes int64) (kept [][]byte, dropped bool) {
	n, size, weight := 0, 0, 0
	maxB := a.opts.MaxBlockBytes
	if maxBytes > 0 && maxBytes < int64(maxB) {
		maxB = int(maxBytes)
	}
	for _, b := range txs {
		p, err := a.entry(b) // kept for FinalizeBlock
		if err != nil {
			dropped = true
			continue
		}
		st := p.st
		if n+1 > a.opts.MaxBlockTxs || size+len(b) > maxB || weight+st.Weight() > a.opts.MaxBlockLeaves {
			dropped = true
			continue
		}
		n, size, weight = n+1, size+len(b), weight+st.Weight()
		kept = append(kept, b)
	}
	return kept, dropped
}

// PrepareProposal keeps the mempool's transactions that fit the block
// limits, in the mempool's order.
func (a *App) PrepareProposal(_ context.Context, req *abcitypes.PrepareProposalRequest) (*abcitypes.PrepareProposalResponse, error) {
	kept, _ := a.limits(req.Txs, req.MaxTxBytes)
	return &abcitypes.PrepareProposalResponse{Txs: kept}, nil
}

// ProcessProposal refuses a proposed block beyond the limits or holding a
// transaction that does not decode or whose signature does not verify.
// Whether a transaction applies is decided in FinalizeBlock (a refused one
// changes nothing), so this check is the same on every honest validator.
func (a *App) ProcessProposal(_ context.Context, req *abcitypes.ProcessProposalRequest) (*abcitypes.ProcessProposalResponse, error) {
	if _, dropped := a.limits(req.Txs, 0); dropped {
		return &abcitypes.ProcessProposalResponse{Status: abcitypes.PROCESS_PROPOSAL_STATUS_REJECT}, nil
	}
	return &abcitypes.ProcessProposalResponse{Status: abcitypes.PROCESS_PROPOSAL_STATUS_ACCEPT}, nil
}

// FinalizeBlock applies a decided block with a Builder at its BFT time. It
// keeps the result in memory for Commit and returns the app hash.
func (a *App) FinalizeBlock(_ context.Context, req *abcitypes.FinalizeBlockRequest) (*abcitypes.FinalizeBlockResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	latest := a.st.Latest()
	if req.Height != int64(latest.Height)+1 {
		return nil, fmt.Errorf("FinalizeBlock at height %d, registry at %d", req.Height, latest.Height)
	}
	bl, err := registry.NewBuilder(a.g, a.st, &latest)
	if err != nil {
		return nil, err
	}
	ps := make([]*prepared, len(req.Txs))
	errs := make([]error, len(req.Txs))
	for i, b := range req.Txs {
		ps[i], _, _, errs[i] = a.lookup(b)
	}
	a.prepareLeaves(ps)
	sts := make([]*registry.SignedTx, len(req.Txs))
	for i, p := range ps {
		if p != nil {
			sts[i] = p.signed()
		}
	}
	res := make([]*abcitypes.ExecTxResult, len(req.Txs))
	outs := make([]Outcome, len(req.Txs))
	for i, st := range sts {
		var rc *registry.Receipt
		err := errs[i]
		if err == nil {
			outs[i].TxHash = st.Hash
			rc, err = bl.Apply(st)
		}
		outs[i].Receipt, outs[i].Err = rc, err
		if err != nil {
			res[i] = &abcitypes.ExecTxResult{Code: Code(err), Log: err.Error(), Codespace: "zkcred"}
			continue
		}
		data, _ := json.Marshal(rc)
		res[i] = &abcitypes.ExecTxResult{Code: CodeOK, Data: data}
	}
	h, txs, w, err := bl.Finish(req.Time.UnixMilli())
	if err != nil {
		return nil, err
	}
	a.pending = &finalized{block: &registry.Block{Header: *h, Txs: txs}, writes: w, outcomes: outs}
	a.forget(req.Txs)
	return &abcitypes.FinalizeBlockResponse{TxResults: res, AppHash: AppHash(h), ValidatorUpdates: validatorUpdates(bl)}, nil
}

// validatorUpdates translates the block's governance changes of the
// validator set (update_validators) for CometBFT; power 0 removes.
func validatorUpdates(bl *registry.Builder) []abcitypes.ValidatorUpdate {
	var out []abcitypes.ValidatorUpdate
	for _, v := range bl.ValidatorUpdates() {
		pub, err := registry.ParsePubKey(v.PubKey)
		if err != nil {
			continue // Apply admitted only well-formed keys
		}
		// CometBFT's ed25519 key type; the bytes are the raw 32-byte key
		out = append(out, abcitypes.ValidatorUpdate{Power: v.Power, PubKeyType: "ed25519", PubKeyBytes: pub})
	}
	return out
}

// Commit writes the finalized block and its state changes in one synced
// badger transaction, then reports the outcomes.
func (a *App) Commit(context.Context, *abcitypes.CommitRequest) (*abcitypes.CommitResponse, error) {
	a.mu.Lock()
	p := a.pending
	a.pending = nil
	a.mu.Unlock()
	if p == nil {
		return nil, errors.New("commit without a finalized block")
	}
	if err := a.st.Commit(p.block, p.writes); err != nil {
		return nil, err
	}
	if a.opts.OnCommit != nil {
		a.opts.OnCommit(&p.block.Header, p.outcomes)
	}
	return &abcitypes.CommitResponse{}, nil
}

// Query answers "height" with the latest committed height; the registry's
// answers are served by its HTTP API.
func (a *App) Query(_ context.Context, req *abcitypes.QueryRequest) (*abcitypes.QueryResponse, error) {
	h := a.st.Latest()
	if req.Path != "height" {
		return &abcitypes.QueryResponse{Code: CodeNotFound, Log: "unknown query path; the registry's HTTP API serves its state", Height: int64(h.Height)}, nil
	}
	return &abcitypes.QueryResponse{Value: []byte(fmt.Sprint(h.Height)), Height: int64(h.Height)}, nil
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

// AppHash returns the app hash CometBFT records for the state after block
// h: the header's AppHash, which the state machine computes
// (registry.AppHash over the credential root and size and the state-map
// root; docs/registry.md, "App hash and proofs"). It commits to the state
// only, not to the block's height or time, so that an empty block keeps it
// and CometBFT makes no further empty block (create_empty_blocks off).
func AppHash(h *registry.Header) []byte {
	return append([]byte(nil), h.AppHash[:]...)
}
