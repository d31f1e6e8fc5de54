package light

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/atomicfile"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
)

// Errors.
var (
	// ErrInvalidHeader: a header's signature, chain or hash link is wrong.
	ErrInvalidHeader = errors.New("invalid header")
	// ErrFork: the registry serves a different block at a height already
	// verified.
	ErrFork = errors.New("registry forked: different block at a verified height")
	// ErrRollback: the registry's latest height is below one already verified.
	ErrRollback = errors.New("registry rolled back below a verified height")
	// ErrInsufficientPower: a commit is not signed by more than two thirds
	// of the trusted validators' voting power.
	ErrInsufficientPower = fmt.Errorf("commit not signed by +2/3 of the trusted voting power: %w", ErrInvalidHeader)
	// ErrFutureHeader: a header's BFT time is ahead of the local clock by
	// more than the allowed skew.
	ErrFutureHeader = fmt.Errorf("header time is in the future beyond the allowed clock skew: %w", ErrInvalidHeader)
	// ErrNoCommit: the registry has no commit yet for any state (a chain
	// that has just started); retry.
	ErrNoCommit = errors.New("registry has no committed header yet")
	// ErrTrustExpired: the newest header the client trusts is older than
	// the trust period, so the validators that signed it no longer vouch
	// for the chain; trust must be re-anchored at a recent header
	// (Options.TrustHeight and TrustHash, or Client.Trust).
	ErrTrustExpired = errors.New("the newest trusted header is older than the trust period")
)

// DefaultTrustPeriod is how long a verified header vouches for the
// validator set that signed it: two weeks, two thirds of the three weeks
// for which a consortium's members should keep a retired validator key out
// of anyone's reach (docs/registry.md, "Trust period").
const DefaultTrustPeriod = 14 * 24 * time.Hour

// DefaultInterval is the sync interval of Run.
const DefaultInterval = 2 * time.Second

// DefaultMaxClockSkew is how far a header's time may be ahead of the local
// clock.
const DefaultMaxClockSkew = 5 * time.Second

// Options configure a light client. The zero value is the default.
type Options struct {
	// HTTP is the HTTP client (client's default when nil).
	HTTP *http.Client
	// Path, if set, is a file that keeps the verified headers across restarts.
	Path string
	// MaxClockSkew bounds how far a header's BFT time may be ahead of Now
	// (DefaultMaxClockSkew).
	MaxClockSkew time.Duration
	// Now is the local clock (time.Now).
	Now func() time.Time
	// History bounds the verified headers kept, in memory and in the file
	// (DefaultHistory); older ones are dropped with their roots.
	History int
	// TrustPeriod is how long a verified header vouches for the validator
	// set that signed it (DefaultTrustPeriod): a client whose newest
	// trusted header is older refuses to go on until trust is re-anchored.
	TrustPeriod time.Duration
	// TrustHeight and TrustHash, if set, re-anchor trust at CometBFT's
	// block TrustHeight, whose header hash must be TrustHash ('zkcred
	// registry status' prints both): the client's next Sync starts from
	// that block unless it already trusts a later one. The block signs the
	// state after registry block TrustHeight-1.
	TrustHeight int64
	TrustHash   []byte
	// SkipGap is how far behind the registry's latest header the client
	// must be for Sync to skip (SkipGap when 0); it then verifies the
	// newest min(MaxBatch, SkipGap/2) headers only.
	SkipGap int
}

// DefaultHistory is the number of verified headers a client keeps.
const DefaultHistory = 10000

// SkipGap is how far behind the registry's latest header a client must be
// for Sync to skip: it then verifies only the newest MaxBatch headers, the
// first of them skipping from the trusted one (with bisection when the
// validators changed), instead of every header in between.
const SkipGap = 10 * MaxBatch

type rootEntry struct {
	height uint64
	time   int64
}

// entry is a verified header as the file keeps it: the registry header and
// the BFT time of the CometBFT header whose commit verified its state.
type entry struct {
	Header registry.Header `json:"header"`
	Time   int64           `json:"verified_time"` // Unix milliseconds
}

// TrustSuffix names the file, next to Options.Path, that keeps the newest
// CometBFT light block the client verified (in CometBFT's JSON), from which
// the next Sync verifies.
const TrustSuffix = ".trust"

// Client follows one registry chain.
type Client struct {
	g    *registry.Genesis
	vals *cmttypes.ValidatorSet // the genesis validators: the root of trust
	api  *client.Client
	opt  Options

	syncMu sync.Mutex // one sync at a time
	mu     sync.RWMutex
	base   uint64            // height of hs[0]
	hs     []registry.Header // hs[i].Height == base+i
	times  []int64           // verified BFT time of hs[i]
	roots  map[circuits.Field]rootEntry
	file   *os.File

	// Guarded by syncMu: the newest verified CometBFT light block (nil: trust
	// starts at the genesis validators), the height saved in the trust
	// file, and whether Options.TrustHeight was considered.
	trusted  *cmttypes.LightBlock
	saved    int64
	anchored bool
}

// ValidatorSet returns the CometBFT validator set that a registry genesis
// names.
func ValidatorSet(g *registry.Genesis) (*cmttypes.ValidatorSet, error) {
	if len(g.Validators) == 0 {
		return nil, errors.New("genesis names no validators")
	}
	var vs []*cmttypes.Validator
	for _, v := range g.Validators {
		pub, err := registry.ParsePubKey(v.PubKey)
		if err != nil {
			return nil, err
		}
		vs = append(vs, cmttypes.NewValidator(cmted25519.PubKey(pub), v.Power))
	}
	set := cmttypes.NewValidatorSet(vs)
	return set, set.ValidateBasic()
}

// New returns a light client for the chain of genesis g served at url.
func New(g *registry.Genesis, url string, opts Options) (*Client, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	vals, err := ValidatorSet(g)
	if err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	if opts.MaxClockSkew <= 0 {
		opts.MaxClockSkew = DefaultMaxClockSkew
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.History <= 0 {
		opts.History = DefaultHistory
	}
	if opts.SkipGap <= 0 {
		opts.SkipGap = SkipGap
	}
	if opts.TrustPeriod <= 0 {
		opts.TrustPeriod = DefaultTrustPeriod
	}
	if opts.TrustHeight != 0 || len(opts.TrustHash) > 0 {
		if err := CheckAnchor(opts.TrustHeight, opts.TrustHash); err != nil {
			return nil, err
		}
	}
	api, err := client.New(url, client.Options{HTTP: opts.HTTP})
	if err != nil {
		return nil, err
	}
	c := &Client{g: g, vals: vals, api: api, opt: opts, roots: map[circuits.Field]rootEntry{}}
	if opts.Path != "" {
		if err := c.load(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Client) load() error {
	b, err := os.ReadFile(c.opt.Path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	good := 0
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break // a torn last line: dropped
		}
		var e entry
		if err := json.Unmarshal(b[:i], &e); err != nil {
			return fmt.Errorf("light client file %s: %w", c.opt.Path, err)
		}
		if len(c.hs) == 0 && e.Header.Height > 0 {
			// the file starts after a skip or a prune: its first header
			// was verified against a commit when it was written
			c.base = e.Header.Height
		}
		if err := c.verifyLink(&e.Header); err != nil {
			return fmt.Errorf("light client file %s: %w", c.opt.Path, err)
		}
		c.add(e.Header, e.Time)
		good += i + 1
		b = b[i+1:]
	}
	f, err := os.OpenFile(c.opt.Path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err := f.Truncate(int64(good)); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Seek(int64(good), 0); err != nil {
		f.Close()
		return err
	}
	c.file = f
	return c.loadTrust()
}

// loadTrust reads the trust file: the light block it holds must be a
// well-formed commit of this chain, and sign the app hash of the registry
// header it names if that header is kept.
func (c *Client) loadTrust() error {
	path := c.opt.Path + TrustSuffix
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		// a new client, or a file written before the trust file existed:
		// trust starts again at the genesis validators
		return nil
	}
	if err != nil {
		return err
	}
	lb, err := parseLightBlock(c.g.ChainID, b)
	if err == nil {
		if err = lb.ValidatorSet.VerifyCommitLight(c.g.ChainID, lb.Commit.BlockID, lb.Height, lb.Commit); err != nil {
			err = fmt.Errorf("%w: %v", ErrInvalidHeader, err)
		}
	}
	if err == nil {
		if h, ok := c.Header(uint64(lb.Height - 1)); ok {
			err = signs(lb, h)
		}
	}
	if err != nil {
		return fmt.Errorf("light client file %s: %w", path, err)
	}
	if last, ok := c.Latest(); !ok || uint64(lb.Height-1) > last.Height {
		// the headers it signs are lost: verify them again from the
		// genesis validators
		return nil
	}
	c.trusted, c.saved = lb, lb.Height
	return nil
}

// saveTrust writes the trusted light block to the trust file (temporary
// file, synced, renamed, directory synced) when it changed.
func (c *Client) saveTrust() error {
	if c.file == nil || c.trusted == nil || c.trusted.Height == c.saved {
		return nil
	}
	b, err := cmtjson.Marshal(c.trusted)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(c.opt.Path+TrustSuffix, 0o600, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}); err != nil {
		return err
	}
	c.saved = c.trusted.Height
	return nil
}

// Close closes the header file.
func (c *Client) Close() error {
	if c.file != nil {
		return c.file.Close()
	}
	return nil
}

// verifyLink checks h as the next header: height, chain, hash link to the
// previous verified header (or the genesis). Callers hold no lock.
func (c *Client) verifyLink(h *registry.Header) error {
	c.mu.RLock()
	n := c.base + uint64(len(c.hs))
	var prev *registry.Header
	if len(c.hs) > 0 {
		p := c.hs[len(c.hs)-1]
		prev = &p
	}
	c.mu.RUnlock()
	if h.Height != n {
		return fmt.Errorf("%w: got height %d, want %d", ErrInvalidHeader, h.Height, n)
	}
	if h.ChainID != c.g.ChainID {
		return fmt.Errorf("%w: block %d is on chain %q, not %q", ErrInvalidHeader, h.Height, h.ChainID, c.g.ChainID)
	}
	if prev == nil && n > 0 {
		// the first header after a skip: its commit vouches for it
	} else if prev == nil {
		if h.PrevHash != c.g.Hash() {
			return fmt.Errorf("%w: block 0 does not name the trusted genesis", ErrInvalidHeader)
		}
	} else if err := h.VerifyLink(prev); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidHeader, err)
	}
	if err := h.CheckAppHash(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidHeader, err)
	}
	return nil
}

// parseLightBlock decodes CometBFT's JSON of a light block and checks its
// shape: a signed header of chain chainID whose commit is for that header,
// and the validator set the header names.
func parseLightBlock(chainID string, raw []byte) (*cmttypes.LightBlock, error) {
	var lb cmttypes.LightBlock
	if err := cmtjson.Unmarshal(raw, &lb); err != nil {
		return nil, fmt.Errorf("%w: light block: %v", ErrInvalidHeader, err)
	}
	if lb.SignedHeader == nil || lb.SignedHeader.Header == nil || lb.SignedHeader.Commit == nil || lb.ValidatorSet == nil {
		return nil, fmt.Errorf("%w: light block is incomplete", ErrInvalidHeader)
	}
	if err := lb.ValidateBasic(chainID); err != nil {
		return nil, fmt.Errorf("%w: light block %d: %v", ErrInvalidHeader, lb.Height, err)
	}
	return &lb, nil
}

// signing decodes the light block raw that signs the state after registry
// header h (signs).
func signing(chainID string, h *registry.Header, raw []byte) (*cmttypes.LightBlock, error) {
	lb, err := parseLightBlock(chainID, raw)
	if err != nil {
		return nil, fmt.Errorf("commit for block %d: %w", h.Height, err)
	}
	return lb, signs(lb, h)
}

// signs checks that lb is the light block that signs the state after
// registry header h: CometBFT's block h+1, whose app hash is h's (the
// caller checks that h's app hash is the hash of its roots:
// Header.CheckAppHash).
func signs(lb *cmttypes.LightBlock, h *registry.Header) error {
	if lb.Height != int64(h.Height)+1 {
		return fmt.Errorf("%w: commit for block %d is at CometBFT height %d, want %d", ErrInvalidHeader, h.Height, lb.Height, h.Height+1)
	}
	if !bytes.Equal(lb.AppHash, h.AppHash[:]) {
		return fmt.Errorf("%w: the signed app hash at height %d is not the hash of block %d's roots", ErrInvalidHeader, lb.Height, h.Height)
	}
	return nil
}

// verifyGenesis checks CometBFT's first block against the root of trust,
// the genesis validators vals: it names them and more than two thirds of
// their voting power signed it.
func verifyGenesis(chainID string, vals *cmttypes.ValidatorSet, lb *cmttypes.LightBlock, now time.Time, period time.Duration) error {
	if lb.Height != 1 {
		return fmt.Errorf("%w: trust starts at CometBFT block 1, not %d", ErrInvalidHeader, lb.Height)
	}
	if !bytes.Equal(lb.ValidatorsHash, vals.Hash()) {
		return fmt.Errorf("%w: CometBFT block 1 names validators other than the genesis's", ErrInvalidHeader)
	}
	if err := vals.VerifyCommitLight(chainID, lb.Commit.BlockID, lb.Height, lb.Commit); err != nil {
		return powerError(err, lb.Height)
	}
	if headerExpired(lb.SignedHeader, period, now) {
		return expired(lb, period)
	}
	return nil
}

func powerError(err error, height int64) error {
	var np cmttypes.ErrNotEnoughVotingPowerSigned
	if errors.As(err, &np) {
		return fmt.Errorf("%w: CometBFT block %d: %v", ErrInsufficientPower, height, err)
	}
	return fmt.Errorf("%w: commit of CometBFT block %d: %v", ErrInvalidHeader, height, err)
}

func expired(lb *cmttypes.LightBlock, period time.Duration) error {
	return fmt.Errorf("%w: CometBFT block %d, dated %s, is more than %s old: re-anchor trust at a recent block "+
		"(its height and header hash, from 'zkcred registry status' on a registry node you trust)",
		ErrTrustExpired, lb.Height, lb.Time.UTC().Format(time.RFC3339), period)
}

// verifyFrom verifies lb from the trusted light block (or the genesis
// validators when trusted is nil) with CometBFT's light-client rules
// (cmtverify.go): the next block against the validators the trusted one
// names for it (VerifyAdjacent), a later one directly when at least
// TrustLevel of the trusted validators signed it, otherwise by bisection,
// verifying a block halfway first (VerifyNonAdjacent, as CometBFT's light
// client skips). Every block must be signed by more than two thirds of its
// own validators, dated after the trusted one and at most MaxClockSkew
// ahead of now, and the trusted block must be within the trust period.
func (c *Client) verifyFrom(ctx context.Context, trusted, lb *cmttypes.LightBlock, now time.Time) error {
	if lb.Time.After(now.Add(c.opt.MaxClockSkew)) {
		return fmt.Errorf("%w: CometBFT block %d is dated %s, %s ahead of the local clock", ErrFutureHeader, lb.Height,
			lb.Time.UTC().Format(time.RFC3339), lb.Time.Sub(now).Round(time.Millisecond))
	}
	if trusted == nil {
		return verifyGenesis(c.g.ChainID, c.vals, lb, now, c.opt.TrustPeriod)
	}
	switch {
	case lb.Height == trusted.Height:
		if !bytes.Equal(lb.Hash(), trusted.Hash()) {
			return fmt.Errorf("%w: CometBFT block %d differs from the verified one", ErrFork, lb.Height)
		}
		return nil
	case lb.Height < trusted.Height:
		return fmt.Errorf("%w: CometBFT block %d is below the trusted block %d", ErrInvalidHeader, lb.Height, trusted.Height)
	}
	verified := trusted
	pending := []*cmttypes.LightBlock{lb} // pending[0] is lb; later ones lie halfway
	for depth := 0; ; {
		next := pending[depth]
		err := cometVerify(verified.SignedHeader, verified.ValidatorSet, next.SignedHeader, next.ValidatorSet,
			c.opt.TrustPeriod, now, c.opt.MaxClockSkew, TrustLevel)
		var cant errNewValSetCantBeTrusted
		switch {
		case err == nil:
			if depth == 0 {
				return nil
			}
			verified, pending, depth = next, pending[:depth], 0
		case errors.As(err, &cant):
			if depth == len(pending)-1 {
				mid, err := c.fetchLightBlock(ctx, verified.Height+(next.Height-verified.Height)/2)
				if err != nil {
					return err
				}
				pending = append(pending, mid)
			}
			depth++
		default:
			return c.verifyError(verified, next, err)
		}
	}
}

// verifyError names the reason CometBFT's light package gives for refusing
// block next from verified.
func (c *Client) verifyError(verified, next *cmttypes.LightBlock, err error) error {
	var old errOldHeaderExpired
	if errors.As(err, &old) {
		return expired(verified, c.opt.TrustPeriod)
	}
	var bad errInvalidCometHeader
	if errors.As(err, &bad) {
		var np cmttypes.ErrNotEnoughVotingPowerSigned
		if errors.As(bad.reason, &np) {
			return fmt.Errorf("%w: CometBFT block %d: %v", ErrInsufficientPower, next.Height, bad.reason)
		}
		err = bad.reason
	}
	return fmt.Errorf("%w: CometBFT block %d does not verify from trusted block %d: %v", ErrInvalidHeader, next.Height, verified.Height, err)
}

// fetchLightBlock fetches CometBFT's light block at a height (the commit
// of the state after registry block height-1).
func (c *Client) fetchLightBlock(ctx context.Context, height int64) (*cmttypes.LightBlock, error) {
	cs, err := c.api.Commits(ctx, uint64(height-1), uint64(height-1))
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("%w: no light block at CometBFT height %d", ErrNoCommit, height)
	}
	lb, err := parseLightBlock(c.g.ChainID, cs[0])
	if err != nil {
		return nil, err
	}
	if lb.Height != height {
		return nil, fmt.Errorf("%w: registry answered CometBFT block %d for %d", ErrInvalidHeader, lb.Height, height)
	}
	return lb, nil
}

// anchor makes sure the client trusts a light block: the one that
// Options.TrustHeight names if it is later than the trusted one, or else,
// for a client that trusts none, CometBFT's block 1 verified against the
// genesis validators.
func (c *Client) anchor(ctx context.Context) error {
	if !c.anchored && c.opt.TrustHeight > 0 && (c.trusted == nil || c.trusted.Height < c.opt.TrustHeight) {
		if _, err := c.trust(ctx, c.opt.TrustHeight, c.opt.TrustHash); err != nil {
			return err
		}
	}
	c.anchored = true
	if c.trusted != nil {
		return nil
	}
	lb, err := c.fetchLightBlock(ctx, 1)
	if err != nil {
		return err
	}
	if err := c.verifyFrom(ctx, nil, lb, c.opt.Now()); err != nil {
		return err
	}
	c.trusted = lb
	return nil
}

// Trust re-anchors the client's trust at CometBFT's block height, whose
// header hash must be hash (as 'zkcred registry status' prints them from a
// registry node one trusts): its commit must be signed by more than two
// thirds of its validators and it must be within the trust period. The
// kept headers are replaced by the registry header that block signs
// (height-1), which it returns; later Syncs verify from there.
func (c *Client) Trust(ctx context.Context, height int64, hash []byte) (*registry.Header, error) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	return c.trust(ctx, height, hash)
}

// CheckAnchor checks the form of a trust anchor (Options.TrustHeight and
// TrustHash, Client.Trust): a CometBFT height of 1 or more and a 32-byte
// header hash.
func CheckAnchor(height int64, hash []byte) error {
	if height < 1 || len(hash) != 32 {
		return errors.New("a trust anchor needs a CometBFT height of 1 or more and its 32-byte header hash (64 hex digits)")
	}
	return nil
}

func (c *Client) trust(ctx context.Context, height int64, hash []byte) (*registry.Header, error) {
	if err := CheckAnchor(height, hash); err != nil {
		return nil, err
	}
	lb, err := c.fetchLightBlock(ctx, height)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(lb.Hash(), hash) {
		return nil, fmt.Errorf("%w: CometBFT block %d has hash %X, not the trusted %X", ErrInvalidHeader, height, lb.Hash(), hash)
	}
	if err := lb.ValidatorSet.VerifyCommitLight(c.g.ChainID, lb.Commit.BlockID, lb.Height, lb.Commit); err != nil {
		return nil, powerError(err, height)
	}
	now := c.opt.Now()
	if lb.Time.After(now.Add(c.opt.MaxClockSkew)) {
		return nil, fmt.Errorf("%w: CometBFT block %d is dated %s", ErrFutureHeader, height, lb.Time.UTC().Format(time.RFC3339))
	}
	if headerExpired(lb.SignedHeader, c.opt.TrustPeriod, now) {
		return nil, expired(lb, c.opt.TrustPeriod)
	}
	h, err := c.api.Header(ctx, uint64(height-1))
	if err != nil {
		return nil, err
	}
	if h.Height != uint64(height-1) || h.ChainID != c.g.ChainID {
		return nil, fmt.Errorf("%w: registry answered block %d of chain %q for block %d", ErrInvalidHeader, h.Height, h.ChainID, height-1)
	}
	if err := h.CheckAppHash(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidHeader, err)
	}
	if err := signs(lb, h); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.base, c.hs, c.times = h.Height, []registry.Header{*h}, []int64{lb.Time.UnixMilli()}
	c.roots = map[circuits.Field]rootEntry{h.CredRoot: {h.Height, lb.Time.UnixMilli()}}
	c.mu.Unlock()
	c.trusted, c.anchored = lb, true
	return h, c.rewrite()
}

// Trusted returns the height and header hash of the newest CometBFT block
// the client verified (false before the first Sync).
func (c *Client) Trusted() (height int64, hash []byte, ok bool) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	if c.trusted == nil {
		return 0, nil, false
	}
	return c.trusted.Height, c.trusted.Hash(), true
}

func (c *Client) add(h registry.Header, t int64) {
	c.mu.Lock()
	c.hs = append(c.hs, h)
	c.times = append(c.times, t)
	c.roots[h.CredRoot] = rootEntry{h.Height, t}
	c.mu.Unlock()
}

// prune drops the oldest headers beyond the history bound (in batches of a
// tenth of it) and their roots; it reports whether it dropped any.
func (c *Client) prune() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.hs) <= c.opt.History+c.opt.History/10 {
		return false
	}
	k := len(c.hs) - c.opt.History
	c.hs = append([]registry.Header(nil), c.hs[k:]...)
	c.times = append([]int64(nil), c.times[k:]...)
	c.base += uint64(k)
	for r, e := range c.roots {
		if e.height < c.base {
			delete(c.roots, r)
		}
	}
	return true
}

// rewrite replaces the file with the headers kept (after a skip or a
// prune): written to a temporary file, synced, renamed, then reopened
// for appending.
func (c *Client) rewrite() error {
	if c.file == nil {
		return nil
	}
	c.mu.RLock()
	var buf bytes.Buffer
	for i, h := range c.hs {
		j, _ := json.Marshal(entry{Header: h, Time: c.times[i]})
		buf.Write(j)
		buf.WriteByte('\n')
	}
	c.mu.RUnlock()
	if err := atomicfile.Write(c.opt.Path, 0o600, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	}); err != nil {
		return err
	}
	f, err := os.OpenFile(c.opt.Path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	c.file.Close()
	c.file = f
	return c.saveTrust()
}

// skip verifies the newest headers up to latest: the light block that
// signs the first of them from the trusted one (skipping, with bisection
// when the validators changed too much), each later one from the one
// before, and replaces the kept headers with them. It reports false,
// changing nothing, when the registry has no commit for them yet.
func (c *Client) skip(ctx context.Context, latest uint64) (bool, error) {
	from := latest + 1 - min(latest+1, uint64(max(1, min(MaxBatch, c.opt.SkipGap/2))))
	var hs []registry.Header
	for f := from; f <= latest; {
		page, err := c.api.Headers(ctx, f, latest)
		if err != nil {
			return false, err
		}
		if len(page) == 0 {
			break
		}
		hs = append(hs, page...)
		f = page[len(page)-1].Height + 1
	}
	var cs []json.RawMessage
	for f := from; f <= latest; {
		page, err := c.api.Commits(ctx, f, latest)
		if err != nil {
			return false, err
		}
		if len(page) == 0 {
			break
		}
		cs = append(cs, page...)
		f += uint64(len(page))
	}
	now := c.opt.Now()
	trusted := c.trusted
	var keep []registry.Header
	var times []int64
	for i := range hs {
		h := &hs[i]
		if i >= len(cs) {
			break
		}
		if h.Height != from+uint64(i) || h.ChainID != c.g.ChainID {
			return false, fmt.Errorf("%w: registry returned block %d where %d belongs", ErrInvalidHeader, h.Height, from+uint64(i))
		}
		if err := h.CheckAppHash(); err != nil {
			return false, fmt.Errorf("%w: %v", ErrInvalidHeader, err)
		}
		if i > 0 {
			if err := h.VerifyLink(&keep[i-1]); err != nil {
				return false, fmt.Errorf("%w: %v", ErrInvalidHeader, err)
			}
		}
		lb, err := signing(c.g.ChainID, h, cs[i])
		if err != nil {
			return false, err
		}
		if err := c.verifyFrom(ctx, trusted, lb, now); err != nil {
			return false, err
		}
		trusted = lb
		keep = append(keep, *h)
		times = append(times, lb.Time.UnixMilli())
	}
	if len(keep) == 0 {
		return false, nil
	}
	c.mu.Lock()
	if len(c.hs) > 0 && keep[len(keep)-1].Height < c.hs[len(c.hs)-1].Height {
		c.mu.Unlock()
		return false, fmt.Errorf("%w: registry at %d, verified up to %d", ErrRollback, latest, c.hs[len(c.hs)-1].Height)
	}
	c.base, c.hs, c.times = from, keep, times
	c.roots = map[circuits.Field]rootEntry{}
	for i, h := range keep {
		c.roots[h.CredRoot] = rootEntry{h.Height, times[i]}
	}
	c.mu.Unlock()
	c.trusted = trusted
	return true, c.rewrite()
}

// Sync fetches and verifies every header up to the registry's latest that
// has a commit (the state after block h is signed in CometBFT's block
// h+1), and returns the latest verified header. Far behind (SkipGap or
// more), it verifies only the newest MaxBatch headers, skipping to them.
func (c *Client) Sync(ctx context.Context) (*registry.Header, error) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	latest, err := c.api.Latest(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.RLock()
	n := c.base + uint64(len(c.hs)) // the next height to verify
	have := len(c.hs) > 0
	var known registry.Header
	if have {
		known = c.hs[len(c.hs)-1]
	}
	c.mu.RUnlock()
	if have && latest.Height < known.Height {
		return nil, fmt.Errorf("%w: registry is at %d, verified up to %d", ErrRollback, latest.Height, known.Height)
	}
	if have && latest.Height == known.Height && latest.Hash() != known.Hash() {
		return nil, fmt.Errorf("%w: block %d", ErrFork, known.Height)
	}
	if have && latest.Height == known.Height && (c.opt.TrustHeight == 0 || c.anchored) {
		return &known, nil // nothing new
	}
	if err := c.anchor(ctx); err != nil {
		return nil, err
	}
	c.mu.RLock()
	n = c.base + uint64(len(c.hs)) // anchoring may have replaced the headers
	have = len(c.hs) > 0
	if have {
		known = c.hs[len(c.hs)-1]
	}
	c.mu.RUnlock()
	if latest.Height >= n+uint64(c.opt.SkipGap) {
		// far behind (a wallet offline for long): verify the newest
		// headers alone
		if ok, err := c.skip(ctx, latest.Height); err != nil {
			return nil, err
		} else if ok {
			c.mu.RLock()
			last := c.hs[len(c.hs)-1]
			c.mu.RUnlock()
			return &last, nil
		}
	}
	from := n
	if have {
		from = n - 1 // fetch the last verified header again to detect a fork
	}
	for from <= latest.Height {
		to := min(latest.Height, from+MaxBatch-1)
		hs, err := c.api.Headers(ctx, from, to)
		if err != nil {
			return nil, err
		}
		if len(hs) == 0 {
			return nil, fmt.Errorf("%w: registry returned no headers from %d", ErrInvalidHeader, from)
		}
		cs, err := c.api.Commits(ctx, from, hs[len(hs)-1].Height)
		if err != nil {
			return nil, err
		}
		var lines bytes.Buffer
		now := c.opt.Now()
		for i := range hs {
			h := &hs[i]
			if h.Height != from+uint64(i) {
				return nil, fmt.Errorf("%w: registry returned block %d where %d belongs", ErrInvalidHeader, h.Height, from+uint64(i))
			}
			if have && h.Height == n-1 {
				if h.Hash() != known.Hash() {
					return nil, fmt.Errorf("%w: block %d", ErrFork, h.Height)
				}
				continue
			}
			if i >= len(cs) {
				break // no commit yet
			}
			if err := c.verifyLink(h); err != nil {
				return nil, err
			}
			lb, err := signing(c.g.ChainID, h, cs[i])
			if err != nil {
				return nil, err
			}
			if err := c.verifyFrom(ctx, c.trusted, lb, now); err != nil {
				return nil, err
			}
			c.trusted = lb
			c.add(*h, lb.Time.UnixMilli())
			if c.file != nil {
				j, _ := json.Marshal(entry{Header: *h, Time: lb.Time.UnixMilli()})
				lines.Write(j)
				lines.WriteByte('\n')
			}
		}
		if c.file != nil && lines.Len() > 0 {
			if _, err := c.file.Write(lines.Bytes()); err != nil {
				return nil, err
			}
			if err := c.file.Sync(); err != nil {
				return nil, err
			}
			// the headers first: a trust file older than them is
			// verified forward from on the next Sync
			if err := c.saveTrust(); err != nil {
				return nil, err
			}
		}
		c.mu.RLock()
		nn := c.base + uint64(len(c.hs))
		have = len(c.hs) > 0
		if have {
			known = c.hs[len(c.hs)-1]
		}
		c.mu.RUnlock()
		if !have {
			return nil, ErrNoCommit
		}
		if len(cs) < len(hs) || nn == n {
			break // the rest has no commit yet
		}
		n = nn
		from = n
	}
	if c.prune() {
		if err := c.rewrite(); err != nil {
			return nil, err
		}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(c.hs) == 0 {
		return nil, ErrNoCommit
	}
	last := c.hs[len(c.hs)-1]
	if last.Height == latest.Height && last.Hash() != latest.Hash() {
		return nil, fmt.Errorf("%w: block %d", ErrFork, latest.Height)
	}
	return &last, nil
}

// MaxBatch is the most headers one round trip of Sync verifies.
const MaxBatch = 100

// Run syncs every interval (DefaultInterval if ≤ 0) until ctx ends, a
// fork, rollback or invalid header is seen, or trust expires; network
// errors are passed to onErr (if set) and retried.
func (c *Client) Run(ctx context.Context, interval time.Duration, onErr func(error)) error {
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := c.Sync(ctx); err != nil {
			if errors.Is(err, ErrFork) || errors.Is(err, ErrRollback) || errors.Is(err, ErrInvalidHeader) || errors.Is(err, ErrTrustExpired) {
				return err
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if onErr != nil {
				onErr(err)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// RootInfo returns the latest verified block whose credential root is root,
// and the BFT time of the commit that verified it (a root's age is measured
// from it).
func (c *Client) RootInfo(root fr.Element) (height uint64, t time.Time, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.roots[circuits.F(root)]
	if !ok {
		return 0, time.Time{}, false
	}
	return e.height, time.UnixMilli(e.time).UTC(), true
}

// Header returns the verified header at a height.
func (c *Client) Header(height uint64) (*registry.Header, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if height < c.base || height-c.base >= uint64(len(c.hs)) {
		return nil, false
	}
	h := c.hs[height-c.base]
	return &h, true
}

// Latest returns the latest verified header, or false before the first sync.
func (c *Client) Latest() (*registry.Header, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(c.hs) == 0 {
		return nil, false
	}
	h := c.hs[len(c.hs)-1]
	return &h, true
}

// LatestHeight returns the height of the latest verified header.
func (c *Client) LatestHeight() (uint64, bool) {
	h, ok := c.Latest()
	if !ok {
		return 0, false
	}
	return h.Height, true
}

// VerifiedAppHash returns the app hash of block height from a verified
// header, syncing first if that block is not verified yet (registry/proof
// checks answers against it). A block after the newest verified one is
// accepted when the headers up to it link to the verified chain and keep
// its app hash: an idle chain's newest blocks, whose commits do not exist
// yet, hold the verified state.
func (c *Client) VerifiedAppHash(ctx context.Context, height uint64) (registry.Hash, error) {
	if h, ok := c.Header(height); ok {
		return h.AppHash, nil
	}
	// A block that has just committed is signed by the next block's
	// commit within moments: wait a little for it.
	deadline := time.Now().Add(commitWait)
	for try := 1; ; try++ {
		app, err := c.verifiedAppHash(ctx, height)
		if !errors.Is(err, errNotSigned) || time.Now().After(deadline) {
			return app, err
		}
		select {
		case <-ctx.Done():
			return registry.Hash{}, ctx.Err()
		case <-time.After(time.Duration(try) * 20 * time.Millisecond):
		}
	}
}

// commitWait bounds how long VerifiedAppHash waits for the commit that
// signs a block's state.
const commitWait = 5 * time.Second

var errNotSigned = fmt.Errorf("%w: state not signed by any commit yet", ErrInvalidHeader)

func (c *Client) verifiedAppHash(ctx context.Context, height uint64) (registry.Hash, error) {
	if _, err := c.Sync(ctx); err != nil {
		return registry.Hash{}, err
	}
	if h, ok := c.Header(height); ok {
		return h.AppHash, nil
	}
	// The newest blocks of an idle chain are signed by no later commit
	// yet. Headers that link to the verified chain and name its newest
	// verified app hash are in that verified state.
	last, ok := c.Latest()
	if !ok || height < last.Height || height-last.Height > MaxBatch {
		return registry.Hash{}, fmt.Errorf("%w: block %d is beyond the verified chain", ErrInvalidHeader, height)
	}
	hs, err := c.api.Headers(ctx, last.Height+1, height)
	if err != nil {
		return registry.Hash{}, err
	}
	prev := last
	for i := range hs {
		h := &hs[i]
		if h.Height != prev.Height+1 || h.VerifyLink(prev) != nil || h.CheckAppHash() != nil || h.ChainID != c.g.ChainID {
			return registry.Hash{}, fmt.Errorf("%w: block %d does not follow the verified chain", ErrInvalidHeader, h.Height)
		}
		if h.AppHash != last.AppHash {
			return registry.Hash{}, fmt.Errorf("%w: block %d", errNotSigned, h.Height)
		}
		prev = h
	}
	if prev.Height != height {
		return registry.Hash{}, fmt.Errorf("%w: block %d is beyond the verified chain", ErrInvalidHeader, height)
	}
	return last.AppHash, nil
}

// Registry returns the API client the light client uses.
func (c *Client) Registry() *client.Client { return c.api }
