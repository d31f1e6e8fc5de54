package wallet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/zkcred/zkcred/internal/atomicfile"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/proof"
)

// Key errors.
var (
	// ErrNoKeys: no proving keys in the data directory and no URL to fetch
	// them from.
	ErrNoKeys = errors.New("no proving keys")
	// ErrKeysUnpublished: the chain publishes no verifying-key hash for
	// the presentation circuit.
	ErrKeysUnpublished = errors.New("the registry publishes no verifying-key hash for the presentation circuit")
	// ErrKeysMismatch: the keys are not the ones the chain publishes.
	ErrKeysMismatch = errors.New("proving keys do not match the verifying-key hash published on the chain")
)

// MaxKeyBytes bounds a downloaded key file.
const MaxKeyBytes = 512 << 20

// LoadKeys loads the proving keys from dir, fetching them first from the
// configured KeysURL if dir has none, and checks the presentation
// verifying key (and the holder one, when published) against the hashes
// the chain publishes.
func (w *Wallet) LoadKeys(ctx context.Context, dir string) (*circuits.Keys, error) {
	keys, err := circuits.LoadKeysDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		if w.f.Config.KeysURL == "" {
			return nil, fmt.Errorf("%w in %s (run 'zkcred setup' or init the wallet with --keys-url)", ErrNoKeys, dir)
		}
		if err := w.fetchKeys(ctx, w.f.Config.KeysURL, dir); err != nil {
			return nil, err
		}
		if keys, err = circuits.LoadKeysDir(dir); err == nil {
			if err = checkPair(keys); err != nil {
				removeKeys(dir)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("loading proving keys from %s: %w", dir, err)
	}
	lc, err := w.chain(ctx)
	if err != nil {
		return nil, err
	}
	if err := CheckKeys(ctx, keys, proof.New(lc.Registry(), lc)); err != nil {
		return nil, err
	}
	return keys, nil
}

// CircuitReader reads a circuit's published verifying-key hash, proven
// against a verified header (proof.Reader); nil means none is published.
type CircuitReader interface {
	Circuit(ctx context.Context, id string) (*registry.CircuitRecord, error)
}

// CheckKeys compares the keys' verifying-key hashes with those the
// registry publishes, each read with its proof: the presentation
// circuit's must be published and equal; the holder circuit's must be
// equal when published.
func CheckKeys(ctx context.Context, keys *circuits.Keys, reg CircuitReader) error {
	for _, c := range []struct {
		id   string
		have string
	}{{circuits.PresentationID, keys.Verifier().Hash()}, {circuits.HolderID, keys.HolderVerifier().Hash()}} {
		r, err := reg.Circuit(ctx, c.id)
		if err != nil {
			return fmt.Errorf("reading published circuits: %w", err)
		}
		if r == nil {
			if c.id == circuits.PresentationID {
				return ErrKeysUnpublished
			}
			continue
		}
		if !strings.EqualFold(c.have, r.VKHash) {
			return fmt.Errorf("%w: %s has %s, the chain published %s at block %d", ErrKeysMismatch, r.Circuit, c.have, r.VKHash, r.Height)
		}
	}
	return nil
}

// checkPair proves a sample statement with each fetched proving key and
// verifies it with the matching verifying key, so that a proving key that
// does not belong to the published verifying key is refused before any
// real credential is proved with it.
func checkPair(keys *circuits.Keys) error {
	wit, err := circuits.SampleWitness()
	if err != nil {
		return err
	}
	proof, pub, err := keys.Prove(wit)
	if err == nil {
		err = keys.Verifier().Verify(proof, pub)
	}
	if err != nil {
		return fmt.Errorf("%w: fetched presentation proving key does not match its verifying key: %v", ErrKeysMismatch, err)
	}
	s := circuits.RandomElement()
	c := circuits.RandomElement()
	hp, err := keys.ProveHolder(s, c)
	if err == nil {
		err = keys.HolderVerifier().VerifyHolder(circuits.HolderCommit(s), c, hp)
	}
	if err != nil {
		return fmt.Errorf("%w: fetched holder proving key does not match its verifying key: %v", ErrKeysMismatch, err)
	}
	return nil
}

func removeKeys(dir string) {
	for _, name := range circuits.KeyFileNames() {
		os.Remove(filepath.Join(dir, name))
	}
}

// fetchKeys downloads the key files into dir.
func (w *Wallet) fetchKeys(ctx context.Context, base, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	hc := w.opts.HTTP
	if hc == nil {
		hc = &http.Client{} // key files are large: no overall timeout
	}
	for _, name := range circuits.KeyFileNames() {
		u := strings.TrimRight(base, "/") + "/" + name
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("fetching keys: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return fmt.Errorf("fetching keys: %s: HTTP %d", u, resp.StatusCode)
		}
		err = atomicfile.Copy(filepath.Join(dir, name), 0o600, io.LimitReader(resp.Body, MaxKeyBytes))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("fetching keys: %s: %w", u, err)
		}
	}
	return nil
}
