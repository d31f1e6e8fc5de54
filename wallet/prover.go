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

// RefreshBudget is how long the refresh step of Prove always takes: it
// brings the credential's prover state to the root just fetched (nothing
// to do if Sync already did, up to every level of the Merkle path
// otherwise) and then waits out the rest of the budget, so that the time
// from fetching a request to submitting the proof does not depend on how
// many path levels changed nor on whether the credential was presented or
// synced before (docs/wallet.md). The budget covers a refresh in which all
// 32 levels changed on the 2-core reference machine, with a margin.
const RefreshBudget = 100 * time.Millisecond

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
	next := &proverEntry{root: root, height: height}
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
	bk, leaf, path, err := w.verifiedBucket(ctx, e.Private().LeafIndex)
	if err != nil {
		return err
	}
	if leaf.IsZero() {
		w.removeState(e)
		return ErrRevoked
	}
	pe, _ := w.loadState(e) // a missing or unreadable state is rebuilt
	_, err = w.refresh(keys, e, pe, bk.Root.El(), w.rootHeight(bk.Root.El(), bk.Height), path)
	return err
}

// presentState is Prove's refresh step: e's prover state at the root of
// the witness, always RefreshBudget long (see there). It returns nil when
// there is no state to use, and Prove then makes a full proof.
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
	for i := range pe.trust {
		t := pe.trust[i].Bytes()
		b.Write(t[:])
	}
	b.Write(st)
	return b.Bytes(), nil
}

func (pe *proverEntry) unmarshal(b []byte) error {
	const fixed = fr.Bytes + 8 + circuits.TrustDepth*fr.Bytes
	if len(b) < fixed {
		return errors.New("truncated")
	}
	if err := pe.root.SetBytesCanonical(b[:fr.Bytes]); err != nil {
		return err
	}
	pe.height = binary.BigEndian.Uint64(b[fr.Bytes:])
	pe.trust = make([]fr.Element, circuits.TrustDepth)
	for i := range pe.trust {
		off := fr.Bytes + 8 + i*fr.Bytes
		if err := pe.trust[i].SetBytesCanonical(b[off : off+fr.Bytes]); err != nil {
			return err
		}
	}
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

func (w *Wallet) removeState(e *Entry) { os.Remove(w.statePath(e)) }
