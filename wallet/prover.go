package wallet

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/atomicfile"
)

// RefreshBudget is how long each credential's refresh takes in Prepare
// (and in Present's own refresh step when Prepare did not run): it brings
// the credential's prover state to the newest verified root (nothing to do
// if Sync already did, up to every level of the Merkle path otherwise) and
// then waits out the rest of the budget, so that no observer of the
// presentation's timing learns how many path levels changed nor whether
// the wallet had synced or presented since the last root change
// (docs/wallet.md). It covers a refresh in which all 32 levels changed on
// the 2-core reference machine (151 ms idle, 160 ms at load 2.5:
// BenchmarkProveIncremental/update/root-all-levels in circuits), with a
// margin of about a quarter.
const RefreshBudget = 200 * time.Millisecond

// A prover state lets Prove compute only what a request changes
// (circuits.ProverState). The wallet keeps one per credential, made for a
// resting witness: the credential and its path under the newest root the
// wallet verified, a random trust-list path, and an empty request. Proving
// from it costs the same for every request of one shape, whoever asked
// before, and whatever the issuer's place in the verifier's trust list
// (every level of the random trust path differs from the real one).
type proverEntry struct {
	root   fr.Element
	height uint64
	path   []fr.Element // the credential's path under root
	trust  []fr.Element // resting trust-list siblings
	st     circuits.ProverState
}

// resting returns the resting witness of credential e under (root, height,
// path).
func (w *Wallet) resting(e *Entry, pe *proverEntry, path []fr.Element) *circuits.Witness {
	p := e.Private()
	issuer := p.IssuerID.El()
	return &circuits.Witness{
		Credential:   p.CircuitCredential(),
		HolderSecret: w.f.Secret.El(),
		IssuerID:     issuer,
		LeafIndex:    p.LeafIndex,
		Path:         path,
		TrustPath:    pe.trust,
		Root:         pe.root,
		Height:       pe.height,
		TrustRoot:    circuits.RootFromPath(issuer, 0, pe.trust),
	}
}

// refresh brings e's prover state (pe, nil for none) to the given root and
// path, by difference from pe's, and stores it. A state that does not
// match the root's witness (another key, a corrupt file) is rebuilt.
func (w *Wallet) refresh(keys *circuits.Keys, e *Entry, pe *proverEntry, root fr.Element, height uint64, path []fr.Element) (*proverEntry, error) {
	next := &proverEntry{root: root, height: height, path: path}
	if pe != nil {
		next.st, next.trust = pe.st, pe.trust
	} else {
		next.trust = make([]fr.Element, circuits.TrustDepth)
		for i := range next.trust {
			next.trust[i] = circuits.RandomElement()
		}
	}
	if pe != nil && pe.root.Equal(&root) && pe.height == height {
		return next, nil
	}
	if err := keys.UpdateState(&next.st, w.resting(e, next, path)); err != nil {
		return nil, fmt.Errorf("prover state of %s: %w", e.ID, err)
	}
	return next, w.saveState(e, next)
}

// Sync brings every stored credential's prover state to the newest root
// the light client verifies, building the states that are missing (a
// credential just received). It fetches each credential's witness bucket.
// A credential revoked since it was received keeps no state; Sync reports
// it in revoked. Credentials stored unchecked get Receive's chain checks
// first; those the chain refuses are removed and reported in revoked too.
func (w *Wallet) Sync(ctx context.Context, keys *circuits.Keys) (revoked []*Entry, err error) {
	if revoked, err = w.settleAll(ctx); err != nil { // credentials stored unchecked
		return revoked, err
	}
	for _, e := range w.f.Credentials {
		err := w.SyncState(ctx, e, keys)
		if errors.Is(err, ErrRevoked) {
			revoked = append(revoked, e)
			continue
		}
		if err != nil {
			return revoked, err
		}
	}
	return revoked, nil
}

// SyncState brings one credential's prover state to the newest verified
// root (Sync), or reports ErrRevoked and drops the state.
func (w *Wallet) SyncState(ctx context.Context, e *Entry, keys *circuits.Keys) error {
	_, err := w.syncState(ctx, e, keys)
	return err
}

func (w *Wallet) syncState(ctx context.Context, e *Entry, keys *circuits.Keys) (*proverEntry, error) {
	delete(w.ready, e.ID)
	bk, leaf, path, err := w.verifiedBucket(ctx, e.Private().LeafIndex)
	if err != nil {
		return nil, err
	}
	p := e.Private()
	if want := circuits.LeafHash(p.IssuerID.El(), p.Commitment.El()); !leaf.Equal(&want) {
		w.removeState(e)
		return nil, ErrRevoked
	}
	pe, _ := w.loadState(e) // a missing or unreadable state is rebuilt
	return w.refresh(keys, e, pe, bk.Root.El(), w.rootHeight(bk.Root.El(), bk.Height), path)
}

// Prepare is the first step of a presentation, before the request is
// fetched: it brings every credential's prover state to the newest root the
// light client verifies, each in a step of RefreshBudget. The next Present
// proves against that root from the prepared state, so that the time from
// fetching the request to submitting the proof depends only on the
// request. Credentials revoked since they were received are left out
// (Present skips them as before).
func (w *Wallet) Prepare(ctx context.Context, keys *circuits.Keys) error {
	for _, e := range w.f.Credentials {
		start := time.Now()
		pe, err := w.syncState(ctx, e, keys)
		if d := RefreshBudget - time.Since(start); d > 0 {
			time.Sleep(d)
		}
		if err != nil && !errors.Is(err, ErrRevoked) {
			return err
		}
		if pe != nil {
			if w.ready == nil {
				w.ready = map[string]*proverEntry{}
			}
			w.ready[e.ID] = pe
		}
	}
	return nil
}

// provingRoot returns the root, its height and e's path to prove against:
// those Prepare brought e's state to (the newest verified root then), else
// the newest verified root's, fetched now (ErrRevoked if e's leaf is 0
// there). Either names a block at least at minHeight (the request's):
// a prepared root older than that is passed over, and newestBucket
// refuses a registry that shows no block that new.
func (w *Wallet) provingRoot(ctx context.Context, e *Entry, minHeight uint64) (fr.Element, uint64, []fr.Element, error) {
	if pe := w.ready[e.ID]; pe != nil {
		if h := w.rootHeight(pe.root, pe.height); h >= minHeight {
			return pe.root, h, pe.path, nil
		}
	}
	bk, leaf, path, err := w.newestBucket(ctx, e.Private().LeafIndex, minHeight)
	if err != nil {
		return fr.Element{}, 0, nil, err
	}
	if leaf.IsZero() {
		return fr.Element{}, 0, nil, ErrRevoked
	}
	return bk.Root.El(), w.rootHeight(bk.Root.El(), bk.Height), path, nil
}

// stateFor returns e's prover state for the witness: the prepared one
// (which it uses up: the next presentation is prepared anew), or else the
// result of presentState's fixed-length refresh.
func (w *Wallet) stateFor(keys *circuits.Keys, e *Entry, wit *circuits.Witness) *circuits.ProverState {
	pe := w.ready[e.ID]
	delete(w.ready, e.ID)
	if pe != nil && pe.root.Equal(&wit.Root) {
		return &pe.st
	}
	return w.presentState(keys, e, wit)
}

// presentState is Present's own refresh step, when Prepare did not run:
// e's prover state at the witness's root, always RefreshBudget long (see
// there). It returns nil when there is no state to use, and the proof is
// then a full one.
func (w *Wallet) presentState(keys *circuits.Keys, e *Entry, wit *circuits.Witness) *circuits.ProverState {
	start := time.Now()
	defer func() {
		if d := RefreshBudget - time.Since(start); d > 0 {
			time.Sleep(d)
		}
	}()
	pe, _ := w.loadState(e)
	pe, err := w.refresh(keys, e, pe, wit.Root, wit.Height, wit.Path)
	if err != nil {
		return nil
	}
	return &pe.st
}

// rootHeight names the latest verified block that published root: a
// verifier looks a root up by its latest height, and later blocks that
// changed no credential (heartbeats, governance) publish the same root.
func (w *Wallet) rootHeight(root fr.Element, height uint64) uint64 {
	if hh, _, ok := w.lc.RootInfo(root); ok && hh > height {
		return hh
	}
	return height
}

// Prover states live next to the wallet file, one file per credential,
// encrypted with XChaCha20-Poly1305 under a key derived from the holder
// secret (which only the decrypted wallet holds) and bound to the
// credential's wallet ID. Losing them loses nothing: Sync rebuilds them.
const stateMagic = "ZKCRED-PROVER-STATE-1\n"

func (w *Wallet) stateDir() string { return w.path + ".provers" }

func (w *Wallet) statePath(e *Entry) string { return filepath.Join(w.stateDir(), e.ID+".state") }

func (w *Wallet) stateAEAD() (cipherAEAD, error) {
	secret := w.f.Secret.El()
	b := secret.Bytes()
	key, err := hkdf.Key(sha256.New, b[:], nil, "zkcred wallet prover-state key v1", chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	return chacha20poly1305.NewX(key)
}

type cipherAEAD interface {
	Seal(dst, nonce, plaintext, additionalData []byte) []byte
	Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
	NonceSize() int
}

func (pe *proverEntry) marshal() ([]byte, error) {
	st, err := pe.st.MarshalBinary()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	r := pe.root.Bytes()
	b.Write(r[:])
	binary.Write(&b, binary.BigEndian, pe.height)
	for _, v := range [][]fr.Element{pe.trust, pe.path} {
		for i := range v {
			t := v[i].Bytes()
			b.Write(t[:])
		}
	}
	b.Write(st)
	return b.Bytes(), nil
}

func (pe *proverEntry) unmarshal(b []byte) error {
	const fixed = fr.Bytes + 8 + (circuits.TrustDepth+circuits.Depth)*fr.Bytes
	if len(b) < fixed {
		return errors.New("truncated")
	}
	if err := pe.root.SetBytesCanonical(b[:fr.Bytes]); err != nil {
		return err
	}
	pe.height = binary.BigEndian.Uint64(b[fr.Bytes:])
	v := make([]fr.Element, circuits.TrustDepth+circuits.Depth)
	for i := range v {
		off := fr.Bytes + 8 + i*fr.Bytes
		if err := v[i].SetBytesCanonical(b[off : off+fr.Bytes]); err != nil {
			return err
		}
	}
	pe.trust, pe.path = v[:circuits.TrustDepth], v[circuits.TrustDepth:]
	return pe.st.UnmarshalBinary(b[fixed:])
}

func (w *Wallet) saveState(e *Entry, pe *proverEntry) error {
	plain, err := pe.marshal()
	if err != nil {
		return err
	}
	aead, err := w.stateAEAD()
	if err != nil {
		return err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	if err := os.MkdirAll(w.stateDir(), 0o700); err != nil {
		return err
	}
	ct := aead.Seal(nil, nonce, plain, []byte(stateMagic+e.ID))
	return atomicfile.Write(w.statePath(e), 0o600, func(f io.Writer) error {
		for _, p := range [][]byte{[]byte(stateMagic), nonce, ct} {
			if _, err := f.Write(p); err != nil {
				return err
			}
		}
		return nil
	})
}

// loadState reads e's prover state; a missing, undecryptable or corrupt
// file is an error (callers rebuild the state).
func (w *Wallet) loadState(e *Entry) (*proverEntry, error) {
	b, err := os.ReadFile(w.statePath(e))
	if err != nil {
		return nil, err
	}
	aead, err := w.stateAEAD()
	if err != nil {
		return nil, err
	}
	n := len(stateMagic) + aead.NonceSize()
	if len(b) < n || string(b[:len(stateMagic)]) != stateMagic {
		return nil, fmt.Errorf("prover state of %s: not a prover-state file", e.ID)
	}
	plain, err := aead.Open(nil, b[len(stateMagic):n], b[n:], []byte(stateMagic+e.ID))
	if err != nil {
		return nil, fmt.Errorf("prover state of %s: does not decrypt: %w", e.ID, err)
	}
	var pe proverEntry
	if err := pe.unmarshal(plain); err != nil {
		return nil, fmt.Errorf("prover state of %s: %w", e.ID, err)
	}
	return &pe, nil
}

func (w *Wallet) removeState(e *Entry) {
	delete(w.ready, e.ID)
	os.Remove(w.statePath(e))
}
