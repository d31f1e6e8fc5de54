package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/zkcred/zkcred/registry"
)

// DefaultTimeout bounds each request when Options.HTTP is nil.
const DefaultTimeout = 45 * time.Second

// MaxResponseBytes bounds a response body.
const MaxResponseBytes = 64 << 20

// Options configure a client. The zero value is the default.
type Options struct {
	// HTTP is the client to use (an http.Client with DefaultTimeout).
	HTTP *http.Client
}

// Client is a registry API client.
type Client struct {
	base string
	hc   *http.Client
}

// APIError is an error answer of the registry. It wraps the registry error
// group matching its status, so errors.Is(err, registry.ErrForbidden) works.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("registry: %s (%d %s)", e.Message, e.Status, e.Code)
}

// Unwrap returns the registry error group for the status.
func (e *APIError) Unwrap() error {
	switch e.Status {
	case http.StatusBadRequest:
		if e.Code == "invalid_tx" {
			return registry.ErrInvalidTx
		}
	case http.StatusForbidden:
		if e.Code == "below_threshold" {
			return registry.ErrBelowThreshold
		}
		return registry.ErrForbidden
	case http.StatusConflict:
		return registry.ErrConflict
	case http.StatusNotFound:
		return registry.ErrNotFound
	case http.StatusRequestEntityTooLarge:
		return registry.ErrTooLarge
	}
	return nil
}

// New returns a client for a registry base URL such as http://127.0.0.1:8700.
func New(baseURL string, opts Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("registry URL %q must be http(s)://host[:port]", baseURL)
	}
	hc := opts.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), hc: hc}, nil
}

// URL returns the base URL.
func (c *Client) URL() string { return c.base }

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
			Code  string `json:"code"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error, e.Code = strings.TrimSpace(string(b)), http.StatusText(resp.StatusCode)
		}
		return &APIError{Status: resp.StatusCode, Code: e.Code, Message: e.Error}
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decoding answer: %w", method, path, err)
	}
	return nil
}

// Submit sends a transaction and waits for its receipt (after its block
// committed).
func (c *Client) Submit(ctx context.Context, tx *registry.Tx) (*registry.Receipt, error) {
	b, err := registry.EncodeTx(tx)
	if err != nil {
		return nil, err
	}
	var rc registry.Receipt
	if err := c.do(ctx, http.MethodPost, "/v1/tx", b, &rc); err != nil {
		return nil, err
	}
	return &rc, nil
}

// LastNonce returns a signer's last accepted nonce (0 if none).
func (c *Client) LastNonce(ctx context.Context, pub ed25519.PublicKey) (uint64, error) {
	var a registry.Account
	err := c.do(ctx, http.MethodGet, "/v1/accounts/"+hex.EncodeToString(pub), nil, &a)
	return a.LastNonce, err
}

// Genesis returns the registry's genesis (to be checked against a trusted
// copy; the light client never trusts it from the network).
func (c *Client) Genesis(ctx context.Context) (*registry.Genesis, error) {
	var g registry.Genesis
	if err := c.do(ctx, http.MethodGet, "/v1/genesis", nil, &g); err != nil {
		return nil, err
	}
	return &g, g.Validate()
}

// Latest returns the latest header.
func (c *Client) Latest(ctx context.Context) (*registry.Header, error) {
	var h registry.Header
	return &h, c.do(ctx, http.MethodGet, "/v1/headers/latest", nil, &h)
}

// Header returns the header at a height.
func (c *Client) Header(ctx context.Context, height uint64) (*registry.Header, error) {
	var h registry.Header
	return &h, c.do(ctx, http.MethodGet, "/v1/headers/"+strconv.FormatUint(height, 10), nil, &h)
}

// Headers returns headers from..to (inclusive; the server caps the count).
func (c *Client) Headers(ctx context.Context, from, to uint64) ([]registry.Header, error) {
	var hs []registry.Header
	return hs, c.do(ctx, http.MethodGet, fmt.Sprintf("/v1/headers?from=%d&to=%d", from, to), nil, &hs)
}

// Commits returns CometBFT's light blocks, in CometBFT's JSON, for the
// states after registry blocks from..to (the server caps the count and
// stops at the latest that has one). The light block for registry block h
// is CometBFT's block h+1, whose app hash commits to block h's state.
func (c *Client) Commits(ctx context.Context, from, to uint64) ([]json.RawMessage, error) {
	var ls []json.RawMessage
	return ls, c.do(ctx, http.MethodGet, fmt.Sprintf("/v1/commits?from=%d&to=%d", from, to), nil, &ls)
}

// Block returns the block at a height.
func (c *Client) Block(ctx context.Context, height uint64) (*registry.Block, error) {
	var b registry.Block
	return &b, c.do(ctx, http.MethodGet, "/v1/blocks/"+strconv.FormatUint(height, 10), nil, &b)
}

// IssuerFilter selects issuers; the zero value selects all.
type IssuerFilter struct {
	Kind   string
	Active *bool
}

// Issuers lists issuers.
func (c *Client) Issuers(ctx context.Context, f IssuerFilter) ([]registry.Issuer, error) {
	q := url.Values{}
	if f.Kind != "" {
		q.Set("kind", f.Kind)
	}
	if f.Active != nil {
		q.Set("active", strconv.FormatBool(*f.Active))
	}
	p := "/v1/issuers"
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	var is []registry.Issuer
	return is, c.do(ctx, http.MethodGet, p, nil, &is)
}

// Issuer returns an issuer by ID.
func (c *Client) Issuer(ctx context.Context, id fr.Element) (*registry.Issuer, error) {
	var is registry.Issuer
	return &is, c.do(ctx, http.MethodGet, "/v1/issuers/"+registry.FormatElement(id), nil, &is)
}

// IssuerAnswer returns an issuer's record with its state proof.
func (c *Client) IssuerAnswer(ctx context.Context, id fr.Element) (*registry.IssuerAnswer, error) {
	var a registry.IssuerAnswer
	return &a, c.do(ctx, http.MethodGet, "/v1/issuers/"+registry.FormatElement(id), nil, &a)
}

// SchemaAnswer returns a published schema with its state proof.
func (c *Client) SchemaAnswer(ctx context.Context, id fr.Element) (*registry.SchemaAnswer, error) {
	var a registry.SchemaAnswer
	return &a, c.do(ctx, http.MethodGet, "/v1/schemas/"+registry.FormatElement(id), nil, &a)
}

// CircuitAnswer returns a circuit's published verifying-key hash, or its
// absence, with the state proof.
func (c *Client) CircuitAnswer(ctx context.Context, id string) (*registry.CircuitAnswer, error) {
	var a registry.CircuitAnswer
	return &a, c.do(ctx, http.MethodGet, "/v1/circuits/"+url.PathEscape(id), nil, &a)
}

// KindAnswer returns the issuers of a kind with the state proof.
func (c *Client) KindAnswer(ctx context.Context, kind string) (*registry.KindAnswer, error) {
	var a registry.KindAnswer
	return &a, c.do(ctx, http.MethodGet, "/v1/kinds/"+url.PathEscape(kind), nil, &a)
}

// AccreditorAnswer returns the accreditation record of a hex key, or its
// absence, with the state proof.
func (c *Client) AccreditorAnswer(ctx context.Context, pubkey string) (*registry.AccreditorAnswer, error) {
	var a registry.AccreditorAnswer
	return &a, c.do(ctx, http.MethodGet, "/v1/accreditors/"+url.PathEscape(pubkey), nil, &a)
}

// GovernanceAnswer returns the governance record and the validator set
// with their state proofs.
func (c *Client) GovernanceAnswer(ctx context.Context) (*registry.GovernanceAnswer, error) {
	var a registry.GovernanceAnswer
	return &a, c.do(ctx, http.MethodGet, "/v1/governance", nil, &a)
}

// Schema returns a published schema by ID.
func (c *Client) Schema(ctx context.Context, id fr.Element) (*registry.SchemaRecord, error) {
	var r registry.SchemaRecord
	return &r, c.do(ctx, http.MethodGet, "/v1/schemas/"+registry.FormatElement(id), nil, &r)
}

// Circuits returns the published verifying-key hashes.
func (c *Client) Circuits(ctx context.Context) ([]registry.CircuitRecord, error) {
	var cs []registry.CircuitRecord
	return cs, c.do(ctx, http.MethodGet, "/v1/circuits", nil, &cs)
}

// Witness returns the witness bucket that holds leaf index. The caller
// checks Root against a header it trusts (the light client) and calls
// Bucket.Path.
func (c *Client) Witness(ctx context.Context, index uint64) (*registry.Bucket, error) {
	var b registry.Bucket
	if err := c.do(ctx, http.MethodGet, "/v1/witness/"+strconv.FormatUint(registry.BucketOf(index), 10), nil, &b); err != nil {
		return nil, err
	}
	if b.Index != registry.BucketOf(index) {
		return nil, errors.New("registry answered another bucket")
	}
	return &b, nil
}

// RootInfo looks up the latest block with a credential root.
func (c *Client) RootInfo(ctx context.Context, root fr.Element) (*registry.RootInfo, error) {
	var r registry.RootInfo
	return &r, c.do(ctx, http.MethodGet, "/v1/roots/"+registry.FormatElement(root), nil, &r)
}

// Signer signs transactions for one key and keeps its nonce.
type Signer struct {
	c       *Client
	chainID string
	key     ed25519.PrivateKey
	nonce   uint64
}

// NewSigner returns a signer whose next nonce follows the registry's record.
func (c *Client) NewSigner(ctx context.Context, chainID string, key ed25519.PrivateKey) (*Signer, error) {
	n, err := c.LastNonce(ctx, key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	return &Signer{c: c, chainID: chainID, key: key, nonce: n}, nil
}

// Sign signs body with the next nonce without submitting it (a governance
// transaction that other keys approve before it is submitted). Later
// transactions of the signer take the nonces after it.
func (s *Signer) Sign(body registry.Body) (*registry.Tx, error) {
	if s.nonce >= registry.MaxNonce {
		return nil, fmt.Errorf("signer %x has used every nonce up to %d", s.key.Public(), uint64(registry.MaxNonce))
	}
	s.nonce++
	return registry.NewTx(s.chainID, s.key, s.nonce, body)
}

// Do signs body with the next nonce, submits it and waits for the receipt.
// Calls must not overlap (nonces must arrive in order).
func (s *Signer) Do(ctx context.Context, body registry.Body) (*registry.Receipt, error) {
	if s.nonce >= registry.MaxNonce {
		return nil, fmt.Errorf("signer %x has used every nonce up to %d", s.key.Public(), uint64(registry.MaxNonce))
	}
	s.nonce++
	tx, err := registry.NewTx(s.chainID, s.key, s.nonce, body)
	if err != nil {
		return nil, err
	}
	return s.c.Submit(ctx, tx)
}
