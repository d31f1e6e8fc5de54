package issuer

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/zkcred/zkcred/wire"

	"github.com/dgraph-io/badger/v4"
)

// Store is the issuer's badger database: issued credentials indexed by ID
// and by leaf, local schemas, offers, the batch journal and the write-ahead
// entries of anchoring in progress. Every write is synced.
type Store struct {
	db *badger.DB
}

// StoreOptions tunes the store; the zero value is the default.
type StoreOptions struct {
	// Badger, when set, replaces the badger options (escape hatch); the
	// directory and SyncWrites are always set by OpenStore.
	Badger *badger.Options
}

// ErrNotFound is returned for an unknown credential, leaf, offer or schema
// (HTTP 404).
var ErrNotFound = errors.New("not found")

// OpenStore opens (creating) the store in dir.
func OpenStore(dir string, opts StoreOptions) (*Store, error) {
	bo := badger.DefaultOptions(dir)
	if opts.Badger != nil {
		bo = *opts.Badger
	}
	bo.Dir, bo.ValueDir = dir, dir
	bo.SyncWrites = true
	bo.Logger = badgerLogger{}
	db, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("opening issuer store %s: %w", dir, err)
	}
	return &Store{db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Key prefixes.
const (
	pCred    = "c/" // credential ID → wire.Bundle JSON
	pRevoked = "r/" // credential ID → "" once revoked
	pLeaf    = "l/" // leaf index (8 bytes BE) → credential ID
	pSchema  = "s/" // schema ID (decimal) → schema JSON
	pOffer   = "o/" // offer ID → offerRecord
	pPending = "p/" // write-ahead entry ID → pendingEntry
	pJob     = "j/" // job ID "/" row (8 bytes BE) → rowRecord
)

func leafKey(i uint64) []byte {
	k := make([]byte, len(pLeaf)+8)
	copy(k, pLeaf)
	binary.BigEndian.PutUint64(k[len(pLeaf):], i)
	return k
}

// pendingEntry is written before commitments go to the chain and deleted in
// the transaction that records their credentials.
type pendingEntry struct {
	ID     string   `json:"id"`
	Drafts []*draft `json:"drafts"`
	Since  uint64   `json:"since"` // chain size before anchoring (Lookup bound)
	// Exactly one of the following says what the credentials are for.
	Job   string `json:"job,omitempty"` // batch job; Rows parallel to Drafts
	Rows  []int  `json:"rows,omitempty"`
	Offer string `json:"offer,omitempty"` // claimed offer
}

func getJSON(txn *badger.Txn, key []byte, v any) error {
	it, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return it.Value(func(b []byte) error { return decodeExact(b, v) })
}

func setJSON(txn *badger.Txn, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(key, b)
}

func (s *Store) putCredential(txn *badger.Txn, b *wire.Bundle) error {
	raw, err := b.Encode()
	if err != nil {
		return err
	}
	if err := txn.Set([]byte(pCred+b.Private.CredentialID), raw); err != nil {
		return err
	}
	return txn.Set(leafKey(b.Private.LeafIndex), []byte(b.Private.CredentialID))
}

// Credential returns an issued credential's bundle and whether it was
// revoked.
func (s *Store) Credential(id string) (*wire.Bundle, bool, error) {
	var b wire.Bundle
	revoked := false
	err := s.db.View(func(txn *badger.Txn) error {
		if err := getJSON(txn, []byte(pCred+id), &b); err != nil {
			return err
		}
		_, err := txn.Get([]byte(pRevoked + id))
		if err == nil {
			revoked = true
			return nil
		}
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("credential %s: %w", id, err)
	}
	return &b, revoked, nil
}

// CredentialAtLeaf returns the ID of the credential anchored at a leaf.
func (s *Store) CredentialAtLeaf(i uint64) (string, error) {
	var id string
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(leafKey(i))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("leaf %d: %w", i, ErrNotFound)
		}
		if err != nil {
			return err
		}
		b, err := it.ValueCopy(nil)
		id = string(b)
		return err
	})
	return id, err
}

// CountCredentials returns the number of issued credentials.
func (s *Store) CountCredentials() (int, error) {
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.PrefetchValues = false
		o.Prefix = []byte(pCred)
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	return n, err
}

func (s *Store) pending() ([]*pendingEntry, error) {
	var out []*pendingEntry
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = []byte(pPending)
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var e pendingEntry
			if err := it.Item().Value(func(b []byte) error { return decodeExact(b, &e) }); err != nil {
				return err
			}
			out = append(out, &e)
		}
		return nil
	})
	return out, err
}

type badgerLogger struct{}

func (badgerLogger) Errorf(f string, a ...any)   { slog.Error(fmt.Sprintf("badger: "+f, a...)) }
func (badgerLogger) Warningf(f string, a ...any) { slog.Warn(fmt.Sprintf("badger: "+f, a...)) }
func (badgerLogger) Infof(string, ...any)        {}
func (badgerLogger) Debugf(string, ...any)       {}
