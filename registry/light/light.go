package light

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/zkcred/zkcred/circuits"
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
)

// DefaultInterval is the sync interval of Run.
const DefaultInterval = 2 * time.Second

// Options configure a light client. The zero value is the default.
type Options struct {
	// HTTP is the HTTP client (client's default when nil).
	HTTP *http.Client
	// Path, if set, is a file that keeps the verified headers across restarts.
	Path string
}

type rootEntry struct {
	height uint64
	time   int64
}

// Client follows one registry chain.
type Client struct {
	g   *registry.Genesis
	api *client.Client
	opt Options

	syncMu sync.Mutex // one sync at a time
	mu     sync.RWMutex
	hs     []registry.Header // hs[i].Height == i
	roots  map[circuits.Field]rootEntry
	file   *os.File
}

// New returns a light client for the chain of genesis g served at url.
func New(g *registry.Genesis, url string, opts Options) (*Client, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	api, err := client.New(url, client.Options{HTTP: opts.HTTP})
	if err != nil {
		return nil, err
	}
	c := &Client{g: g, api: api, opt: opts, roots: map[circuits.Field]rootEntry{}}
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
		var h registry.Header
		if err := json.Unmarshal(b[:i], &h); err != nil {
			return fmt.Errorf("light client file %s: %w", c.opt.Path, err)
		}
		if err := c.verify(&h); err != nil {
			return fmt.Errorf("light client file %s: %w", c.opt.Path, err)
		}
		c.add(h)
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
	return nil
}

// Close closes the header file.
func (c *Client) Close() error {
	if c.file != nil {
		return c.file.Close()
	}
	return nil
}

// verify checks h as the next header. Callers hold no lock or syncMu.
func (c *Client) verify(h *registry.Header) error {
	c.mu.RLock()
	n := uint64(len(c.hs))
	var prev *registry.Header
	if n > 0 {
		p := c.hs[n-1]
		prev = &p
	}
	c.mu.RUnlock()
	if h.Height != n {
		return fmt.Errorf("%w: got height %d, want %d", ErrInvalidHeader, h.Height, n)
	}
	if h.ChainID != c.g.ChainID {
		return fmt.Errorf("%w: block %d is on chain %q, not %q", ErrInvalidHeader, h.Height, h.ChainID, c.g.ChainID)
	}
	if prev == nil {
		if h.PrevHash != c.g.Hash() {
			return fmt.Errorf("%w: block 0 does not name the trusted genesis", ErrInvalidHeader)
		}
	} else if err := h.VerifyLink(prev); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidHeader, err)
	}
	if err := h.VerifySignature(c.g.ProducerKey()); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidHeader, err)
	}
	if err := h.CheckAppHash(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidHeader, err)
	}
	return nil
}

func (c *Client) add(h registry.Header) {
	c.mu.Lock()
	c.hs = append(c.hs, h)
	c.roots[h.CredRoot] = rootEntry{h.Height, h.Time}
	c.mu.Unlock()
}

// Sync fetches and verifies every header up to the registry's latest and
// returns the latest verified header.
func (c *Client) Sync(ctx context.Context) (*registry.Header, error) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	latest, err := c.api.Latest(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.RLock()
	n := uint64(len(c.hs))
	var known registry.Header
	if n > 0 {
		known = c.hs[n-1]
	}
	c.mu.RUnlock()
	if n > 0 && latest.Height < known.Height {
		return nil, fmt.Errorf("%w: registry is at %d, verified up to %d", ErrRollback, latest.Height, known.Height)
	}
	if n > 0 && latest.Height == known.Height && latest.Hash() != known.Hash() {
		return nil, fmt.Errorf("%w: block %d", ErrFork, known.Height)
	}
	from := n
	if n > 0 {
		from = n - 1 // fetch the last verified header again to detect a fork
	}
	for from <= latest.Height {
		hs, err := c.api.Headers(ctx, from, latest.Height)
		if err != nil {
			return nil, err
		}
		if len(hs) == 0 {
			return nil, fmt.Errorf("%w: registry returned no headers from %d", ErrInvalidHeader, from)
		}
		var lines bytes.Buffer
		for i := range hs {
			h := &hs[i]
			if n > 0 && h.Height == n-1 {
				if h.Hash() != known.Hash() {
					return nil, fmt.Errorf("%w: block %d", ErrFork, h.Height)
				}
				continue
			}
			if err := c.verify(h); err != nil {
				return nil, err
			}
			c.add(*h)
			if c.file != nil {
				j, _ := json.Marshal(h)
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
		}
		c.mu.RLock()
		n = uint64(len(c.hs))
		known = c.hs[n-1]
		c.mu.RUnlock()
		from = n
	}
	if known.Hash() != latest.Hash() {
		return nil, fmt.Errorf("%w: block %d", ErrFork, latest.Height)
	}
	return &known, nil
}

// Run syncs every interval (DefaultInterval if ≤ 0) until ctx ends or a
// fork or rollback is seen; network errors are passed to onErr (if set)
// and retried.
func (c *Client) Run(ctx context.Context, interval time.Duration, onErr func(error)) error {
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := c.Sync(ctx); err != nil {
			if errors.Is(err, ErrFork) || errors.Is(err, ErrRollback) || errors.Is(err, ErrInvalidHeader) {
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
// and its time.
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
	if height >= uint64(len(c.hs)) {
		return nil, false
	}
	h := c.hs[height]
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
// checks answers against it).
func (c *Client) VerifiedAppHash(ctx context.Context, height uint64) (registry.Hash, error) {
	if h, ok := c.Header(height); ok {
		return h.AppHash, nil
	}
	if _, err := c.Sync(ctx); err != nil {
		return registry.Hash{}, err
	}
	if h, ok := c.Header(height); ok {
		return h.AppHash, nil
	}
	return registry.Hash{}, fmt.Errorf("%w: block %d is beyond the verified chain", ErrInvalidHeader, height)
}

// Registry returns the API client the light client uses.
func (c *Client) Registry() *client.Client { return c.api }
