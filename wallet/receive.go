package wallet

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/zkcred/zkcred/internal/didweb"
	"github.com/zkcred/zkcred/internal/strictjson"
	"github.com/zkcred/zkcred/wire"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/light"
	"github.com/zkcred/zkcred/registry/proof"
)

// ErrRefused is wrapped by every reason Receive refuses a credential.
var ErrRefused = errors.New("credential refused")

// Reasons a credential is refused.
var (
	ErrBadCredential  = fmt.Errorf("%w: signature or private values do not verify", ErrRefused)
	ErrNotMine        = fmt.Errorf("%w: issued to another holder (holder commitment is not this wallet's)", ErrRefused)
	ErrIssuerUnknown  = fmt.Errorf("%w: issuer is not registered on the chain", ErrRefused)
	ErrIssuerInactive = fmt.Errorf("%w: issuer is deactivated on the chain", ErrRefused)
	ErrNotAnchored    = fmt.Errorf("%w: commitment is not at its stated leaf under a verified root", ErrRefused)
	ErrRevokedLeaf    = fmt.Errorf("%w: credential was revoked by its issuer", ErrRefused)
	// ErrDIDWeb: the credential names a did:web as its issuer, but the
	// registry does not bind that did:web to the key that signed it, or
	// the did:web's DID document names another key.
	ErrDIDWeb = fmt.Errorf("%w: its did:web issuer is not the key the registry binds to that domain", ErrRefused)
)

// ErrStaleWitness: the registry did not answer with a witness for the
// newest root the light client verified (a registry that picks older roots
// could link presentations to the bucket it served).
var ErrStaleWitness = errors.New("the registry gives no witness for its newest verified root")

// ErrNoRegistry: the wallet has no registry configured.
var ErrNoRegistry = errors.New("no registry configured (init the wallet with --registry and --genesis)")

// chain returns the wallet's light client, synced to the registry's latest
// header. Verified headers are kept in a file next to the wallet. The
// client is made once, with the wallet's HTTP client.
func (w *Wallet) chain(ctx context.Context) (*light.Client, error) {
	lc, err := w.lightClient()
	if err != nil {
		return nil, err
	}
	if _, err := lc.Sync(ctx); err != nil {
		return nil, fmt.Errorf("syncing registry headers: %w", err)
	}
	return lc, nil
}

func (w *Wallet) lightClient() (*light.Client, error) {
	if w.lc == nil {
		cfg := w.f.Config
		if cfg.Registry == "" || cfg.Genesis == nil {
			return nil, ErrNoRegistry
		}
		path := filepath.Join(filepath.Dir(w.path), "headers-"+cfg.Genesis.ChainID+".jsonl")
		lc, err := light.New(cfg.Genesis, cfg.Registry, light.Options{HTTP: w.hc, Path: path})
		if err != nil {
			return nil, fmt.Errorf("registry light client: %w", err)
		}
		w.lc = lc
	}
	return w.lc, nil
}

// Trust re-anchors the wallet's trust in the registry at CometBFT's block
// height, whose header hash must be hash (a recent block, as 'zkcred
// registry status' on a node the holder trusts prints them), and syncs
// from there: for a wallet offline for longer than the light client's trust
// period (light.ErrTrustExpired). It returns the latest verified header.
func (w *Wallet) Trust(ctx context.Context, height int64, hash []byte) (*registry.Header, error) {
	lc, err := w.lightClient()
	if err != nil {
		return nil, err
	}
	if _, err := lc.Trust(ctx, height, hash); err != nil {
		return nil, fmt.Errorf("re-anchoring trust: %w", err)
	}
	h, err := lc.Sync(ctx)
	if err != nil {
		return nil, fmt.Errorf("syncing registry headers: %w", err)
	}
	return h, nil
}

// Close releases the light client's header file.
func (w *Wallet) Close() error {
	if w.lc != nil {
		err := w.lc.Close()
		w.lc = nil
		return err
	}
	return nil
}

// witnessTries bounds how often newestBucket asks again for a witness
// that is not for the newest verified root; witnessRetryWait is the pause
// before each new try.
const (
	witnessTries     = 3
	witnessRetryWait = 100 * time.Millisecond
)

// verifiedBucket is newestBucket without a minimum height.
func (w *Wallet) verifiedBucket(ctx context.Context, index uint64) (*registry.Bucket, fr.Element, []fr.Element, error) {
	return w.newestBucket(ctx, index, 0)
}

// newestBucket fetches the witness bucket of a leaf index and checks that
// it leads to the credential root of the newest header the light client
// verified (synced just before), and that this header is at least at
// minHeight. A witness for an older root is refused and fetched again: a
// registry that could hand out a different recent root to each wallet
// would learn, from the root in a presentation, which bucket (and so which
// holders) it came from. It fails with ErrStaleWitness when no witness for
// the newest root comes. It returns the bucket, named by the newest
// verified block with its root, the leaf and its full path.
func (w *Wallet) newestBucket(ctx context.Context, index, minHeight uint64) (*registry.Bucket, fr.Element, []fr.Element, error) {
	var last *registry.Bucket
	var newest *registry.Header
	for try := range witnessTries {
		if try > 0 {
			select {
			case <-ctx.Done():
				return nil, fr.Element{}, nil, ctx.Err()
			case <-time.After(time.Duration(try) * witnessRetryWait):
			}
		}
		lc, err := w.chain(ctx) // syncs to the registry's latest header
		if err != nil {
			return nil, fr.Element{}, nil, err
		}
		var ok bool
		if newest, ok = lc.Latest(); !ok || newest.Height < minHeight {
			continue // a registry node behind the verifier's: sync again
		}
		b, err := lc.Registry().Witness(ctx, index)
		if err != nil {
			return nil, fr.Element{}, nil, fmt.Errorf("fetching witness bucket: %w", err)
		}
		last = b
		if b.Root != newest.CredRoot {
			// Older than the newest verified root, or for a block
			// committed since the sync: sync and ask again.
			continue
		}
		leaf, path, err := proof.Bucket(ctx, lc, b, index)
		if err != nil {
			return nil, fr.Element{}, nil, fmt.Errorf("witness bucket: %w", err)
		}
		b.Height = newest.Height
		return b, leaf, path, nil
	}
	if newest == nil || newest.Height < minHeight {
		var have uint64
		if newest != nil {
			have = newest.Height
		}
		return nil, fr.Element{}, nil, fmt.Errorf("%w: the registry's newest block is %d, the verifier already knew block %d", ErrStaleWitness, have, minHeight)
	}
	return nil, fr.Element{}, nil, fmt.Errorf("%w: the registry answered %d times with the witness of block %d's root, not the root of block %d, the newest verified", ErrStaleWitness, witnessTries, last.Height, newest.Height)
}

// ErrUnchecked is wrapped by the error of a Receive or Claim whose local
// checks passed but whose chain checks could not be made (the registry did
// not answer): the credential is stored, marked unchecked, and checked
// again by Sync, CheckStatus (wallet list) and Present.
var ErrUnchecked = errors.New("credential stored, but not yet checked on the chain ('zkcred wallet sync', 'list' or 'present' checks it again)")

// Receive checks a credential bundle (wire.Bundle JSON) and stores it:
// the issuer's signature and the opening of the commitment, that it is
// bound to this wallet's holder secret, that the issuer is registered and
// active, and that the leaf H(issuerID, C) sits at the stated index under a
// root the light client verified. Errors wrap ErrRefused with the reason,
// and nothing is stored. When only the chain could not be asked, the
// credential is stored unchecked (Entry.Unchecked) and the error wraps
// ErrUnchecked and the cause; the entry is returned with it. The caller
// saves the wallet, in that case too.
func (w *Wallet) Receive(ctx context.Context, bundle []byte) (*Entry, error) {
	return w.receive(ctx, bundle, false)
}

// receive stores a bundle that passes the local checks, unchecked (saving
// the wallet at once when save is set), then runs the chain checks.
func (w *Wallet) receive(ctx context.Context, bundle []byte, save bool) (*Entry, error) {
	b, err := wire.ParseBundle(bundle)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCredential, err)
	}
	c, err := b.Check()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCredential, err)
	}
	if b.Private.HolderCommit != w.HolderCommit() {
		return nil, ErrNotMine
	}
	if cfg := w.f.Config; cfg.Registry == "" || cfg.Genesis == nil {
		return nil, ErrNoRegistry // no chain to check it against, now or later
	}
	e := w.add(bytes.Clone(bundle), b, c)
	if save {
		if err := w.Save(); err != nil {
			w.drop(e)
			return nil, fmt.Errorf("storing the credential: %w", err)
		}
	}
	err = w.settle(ctx, e)
	switch {
	case err == nil:
		return e, nil
	case errors.Is(err, ErrUnchecked):
		return e, err
	}
	if save {
		if serr := w.Save(); serr != nil {
			return nil, errors.Join(err, serr)
		}
	}
	return nil, err
}

// settle runs the chain checks of a stored, unchecked entry: one that
// passes is marked checked; one the chain refuses is removed from the
// wallet (errors wrap ErrRefused), as Receive would have refused it; any
// other failure leaves it unchecked (errors wrap ErrUnchecked).
func (w *Wallet) settle(ctx context.Context, e *Entry) error {
	err := w.checkChain(ctx, e.Private(), e.cred)
	switch {
	case err == nil:
		e.Unchecked = false
		return nil
	case errors.Is(err, ErrRefused):
		w.drop(e)
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnchecked, err)
}

// settleStored settles e if it is unchecked and saves the wallet when that
// changed anything. It is how CheckStatus, Present and Sync get to a
// credential the registry could not check when it arrived.
func (w *Wallet) settleStored(ctx context.Context, e *Entry) error {
	if !e.Unchecked {
		return nil
	}
	err := w.settle(ctx, e)
	if errors.Is(err, ErrUnchecked) {
		return err
	}
	if serr := w.Save(); serr != nil {
		return errors.Join(err, serr)
	}
	return err
}

// settleAll settles every unchecked entry (Sync). Those the chain refuses
// are removed and returned; the first failure to ask the chain stops it.
func (w *Wallet) settleAll(ctx context.Context) (refused []*Entry, err error) {
	for _, e := range slices.Clone(w.f.Credentials) {
		err := w.settleStored(ctx, e)
		switch {
		case err == nil:
		case errors.Is(err, ErrRefused):
			refused = append(refused, e)
		default:
			return refused, err
		}
	}
	return refused, nil
}

// checkChain makes Receive's checks against the chain: the issuer is
// registered under the credential's key and active, and the leaf
// H(issuerID, C) sits at the stated index under a verified root.
func (w *Wallet) checkChain(ctx context.Context, p *wire.Private, c *wire.Credential) error {
	lc, err := w.chain(ctx)
	if err != nil {
		return err
	}
	is, err := proof.New(lc.Registry(), lc).Issuer(ctx, p.IssuerID.El())
	if errors.Is(err, registry.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrIssuerUnknown, c.Issuer)
	}
	if err != nil {
		return fmt.Errorf("looking up the issuer: %w", err)
	}
	if strings.HasPrefix(c.Issuer, "did:web:") {
		if err := w.checkDIDWeb(ctx, p, c, is); err != nil {
			return err
		}
	} else {
		pub, _ := wire.ParseDIDKey(c.Issuer)
		if is.ID != p.IssuerID || is.PubKey != hex.EncodeToString(pub) {
			return fmt.Errorf("%w: the registry's record of %s is another key", ErrIssuerUnknown, c.Issuer)
		}
	}
	if !is.Active {
		return fmt.Errorf("%w: %s (%s)", ErrIssuerInactive, is.Name, c.Issuer)
	}
	bk, leaf, _, err := w.verifiedBucket(ctx, p.LeafIndex)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return fmt.Errorf("%w: leaf %d does not exist", ErrNotAnchored, p.LeafIndex)
		}
		return err
	}
	if want := circuits.LeafHash(p.IssuerID.El(), p.Commitment.El()); !leaf.Equal(&want) {
		if h, ok := w.lc.Header(bk.Height); ok && leaf.IsZero() && p.LeafIndex < h.CredSize {
			return fmt.Errorf("%w: leaf %d is 0 at block %d", ErrRevokedLeaf, p.LeafIndex, bk.Height)
		}
		return fmt.Errorf("%w: leaf %d at block %d holds another value", ErrNotAnchored, p.LeafIndex, bk.Height)
	}
	return nil
}

// checkDIDWeb holds a credential whose issuer is a did:web to the proven
// registry record of the key that signed it (is, read by the issuer ID
// of that key): the record must bind exactly that did:web. The DID
// document, fetched from the did:web's origin, must name the same key
// for the proof's verification method; a document that cannot be fetched
// leaves the credential unchecked (asked again later), one naming another
// key refuses it.
func (w *Wallet) checkDIDWeb(ctx context.Context, p *wire.Private, c *wire.Credential, is *registry.Issuer) error {
	if is.ID != p.IssuerID || is.PubKey != p.IssuerKey {
		return fmt.Errorf("%w: the registry's record of issuer %s is another key", ErrIssuerUnknown, p.IssuerID)
	}
	if is.DIDWeb != c.Issuer {
		bound := "binds no did:web to it"
		if is.DIDWeb != "" {
			bound = "binds it to " + is.DIDWeb
		}
		return fmt.Errorf("%w: the credential names %s, but its key is that of %q, and the registry %s", ErrDIDWeb, c.Issuer, is.Name, bound)
	}
	vm := ""
	if c.Proof != nil {
		vm = c.Proof.VerificationMethod
	}
	r := &didweb.Resolver{Client: w.hc, AllowLoopbackHTTP: w.opts.AllowLoopbackHTTP}
	doc, err := r.Resolve(ctx, c.Issuer)
	if err != nil {
		return fmt.Errorf("checking the issuer's DID document: %w", err)
	}
	key, err := doc.Key(vm)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDIDWeb, err)
	}
	if hex.EncodeToString(key) != is.PubKey {
		return fmt.Errorf("%w: the DID document of %s names another key for %s than the registry binds", ErrDIDWeb, c.Issuer, vm)
	}
	return nil
}

// MaxBody bounds an answer from an issuer or verifier.
const MaxBody = 4 << 20

// ParseOfferURL returns the offer ID and token of a claim link
// (…/v1/offers/<id>?token=<token>).
func ParseOfferURL(offerURL string) (id, token string, err error) {
	u, err := url.Parse(offerURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", "", fmt.Errorf("offer URL %q is not an http(s) URL", offerURL)
	}
	i := strings.LastIndex(u.Path, "/v1/offers/")
	token = u.Query().Get("token")
	if i < 0 || token == "" {
		return "", "", fmt.Errorf("offer URL %q is not a claim link (…/v1/offers/<id>?token=…)", offerURL)
	}
	id = u.Path[i+len("/v1/offers/"):]
	if id == "" || strings.Contains(id, "/") {
		return "", "", fmt.Errorf("offer URL %q has no offer ID", offerURL)
	}
	return id, token, nil
}

// FetchOffer reads an offer (what the issuer offers to issue) and checks
// that its challenge is the one of this link.
func (w *Wallet) FetchOffer(ctx context.Context, offerURL string) (*wire.OfferView, error) {
	id, token, err := ParseOfferURL(offerURL)
	if err != nil {
		return nil, err
	}
	b, err := w.httpDo(ctx, http.MethodGet, offerURL, nil)
	if err != nil {
		return nil, err
	}
	var o wire.OfferView
	if err := strictjson.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("offer: %w", err)
	}
	if o.Schema == nil || o.Schema.Validate() != nil {
		return nil, errors.New("offer: no valid schema")
	}
	if o.Challenge != circuits.Dec(wire.ClaimChallenge(id, token)) {
		return nil, errors.New("offer: its challenge is not the one of this link")
	}
	return &o, nil
}

// Claim claims an offer: it sends this wallet's holder commitment with a
// proof of knowledge of the secret bound to the offer, and checks and
// stores the credential the issuer answers with (Receive). The answer
// exists nowhere else, so the wallet is saved as soon as it passes the
// local checks, before the chain is asked; when the chain cannot be asked
// it stays stored unchecked (ErrUnchecked). Claiming again returns the same
// credential for the offer's lifetime, so a lost answer loses nothing. The
// caller saves the wallet once more to record a successful check.
func (w *Wallet) Claim(ctx context.Context, offerURL string, keys *circuits.Keys) (*Entry, error) {
	id, token, err := ParseOfferURL(offerURL)
	if err != nil {
		return nil, err
	}
	proof, err := keys.ProveHolder(w.f.Secret.El(), wire.ClaimChallenge(id, token))
	if err != nil {
		return nil, fmt.Errorf("proving the holder secret: %w", err)
	}
	body, _ := json.Marshal(wire.ClaimBody{Token: token, HolderCommitment: w.HolderCommit(), Proof: base64.StdEncoding.EncodeToString(proof)})
	b, err := w.httpDo(ctx, http.MethodPost, claimURL(offerURL), body)
	if err != nil {
		return nil, fmt.Errorf("claiming the offer: %w", err)
	}
	return w.receive(ctx, b, true)
}

// claimURL is where an offer is claimed: the offer's path with /claim
// appended (the token travels in the body, not the URL).
func claimURL(offerURL string) string {
	u, _ := url.Parse(offerURL) // checked by ParseOfferURL
	u.Path += "/claim"
	u.RawQuery = ""
	return u.String()
}

// RemoteError is an error answer of an issuer or verifier.
type RemoteError struct {
	Status  int
	Code    string
	Message string
}

func (e *RemoteError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s (HTTP %d, %s)", e.Message, e.Status, e.Code)
	}
	return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status)
}

func (w *Wallet) httpDo(ctx context.Context, method, u string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := w.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxBody {
		return nil, fmt.Errorf("answer from %s is larger than %d bytes", u, MaxBody)
	}
	if resp.StatusCode != http.StatusOK {
		var e wire.Error
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
			if len(e.Error) > 200 {
				e.Error = e.Error[:200]
			}
			if e.Error == "" {
				e.Error = http.StatusText(resp.StatusCode)
			}
		}
		return nil, &RemoteError{Status: resp.StatusCode, Code: e.Code, Message: e.Error}
	}
	return b, nil
}
