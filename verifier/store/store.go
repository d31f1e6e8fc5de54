package store

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

var (
	// ErrNotFound is returned for an absent (or expired) key.
	ErrNotFound = errors.New("not found")
	// ErrNonceUsed is returned by Accept when the nonce was already used.
	ErrNonceUsed = errors.New("nonce already used")
	// ErrNullifierSeen is returned by Accept when the nullifier was already
	// used in its scope.
	ErrNullifierSeen = errors.New("nullifier already seen")
)

// DefaultGCInterval is how often the value log is garbage-collected.
const DefaultGCInterval = 5 * time.Minute

// Options configure Open. The zero value stores on disk without synced
// writes (a crash may lose the last moments of used nonces; set SyncWrites
// to make every acceptance durable before it is answered).
type Options struct {
	InMemory   bool
	SyncWrites bool
	// GCInterval for value-log garbage collection; 0 means
	// DefaultGCInterval, negative disables it.
	GCInterval time.Duration
	Logger     *slog.Logger
	// Badger adjusts badger's own options last (escape hatch).
	Badger func(badger.Options) badger.Options
}

// Store is the verifier's badger database.
type Store struct {
	db   *badger.DB
	stop chan struct{}
	wg   sync.WaitGroup
	log  *slog.Logger
	once sync.Once
}

// Open opens (or creates) the store in dir ("" with InMemory).
func Open(dir string, o Options) (*Store, error) {
	// Small values, many keys: keep memory modest on small machines.
	bo := badger.DefaultOptions(dir).WithLogger(nil).WithSyncWrites(o.SyncWrites).
		WithNumMemtables(2).WithNumLevelZeroTables(2).WithNumLevelZeroTablesStall(4).
		WithMemTableSize(16 << 20).WithValueThreshold(1 << 10)
	if o.InMemory {
		// No value log in memory: every value (a request with a full trust
		// list is tens of kilobytes) stays in the LSM tree.
		bo = bo.WithInMemory(true).WithDir("").WithValueDir("").WithValueThreshold(1 << 20)
	}
	if o.Badger != nil {
		bo = o.Badger(bo)
	}
	db, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("open verifier store %q: %w", dir, err)
	}
	s := &Store{db: db, stop: make(chan struct{}), log: o.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	iv := o.GCInterval
	if iv == 0 {
		iv = DefaultGCInterval
	}
	if iv > 0 && !o.InMemory {
		s.wg.Add(1)
		go s.gcLoop(iv)
	}
	return s, nil
}

func (s *Store) gcLoop(iv time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(iv)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.GC(); err != nil {
				s.log.Warn("verifier store gc", "err", err)
			}
		}
	}
}

// GC reclaims value-log space of expired and overwritten entries (expired
// nonces, requests and results past their retention). Compaction drops
// expired keys from the LSM tree on its own.
func (s *Store) GC() error {
	for {
		err := s.db.RunValueLogGC(0.5)
		if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Close stops garbage collection and closes the database.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		close(s.stop)
		s.wg.Wait()
		err = s.db.Close()
	})
	return err
}

func reqKey(id string) []byte    { return append([]byte("r/"), id...) }
func resKey(id string) []byte    { return append([]byte("s/"), id...) }
func nonceKey(n [32]byte) []byte { return append([]byte("n/"), n[:]...) }
func nfKey(scope, nf [32]byte) []byte {
	k := append([]byte("u/"), scope[:]...)
	return append(k, nf[:]...)
}

func (s *Store) get(key []byte) ([]byte, error) {
	var out []byte
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		out, err = it.ValueCopy(nil)
		return err
	})
	return out, err
}

func setTTL(txn *badger.Txn, key, val []byte, ttl time.Duration) error {
	e := badger.NewEntry(key, val)
	if ttl > 0 {
		e = e.WithTTL(ttl)
	}
	return txn.SetEntry(e)
}

// PutRequest stores a request document, kept for ttl.
func (s *Store) PutRequest(id string, doc []byte, ttl time.Duration) error {
	return s.db.Update(func(txn *badger.Txn) error { return setTTL(txn, reqKey(id), doc, ttl) })
}

// Request returns a request document or ErrNotFound.
func (s *Store) Request(id string) ([]byte, error) { return s.get(reqKey(id)) }

// Result returns the latest result document of a request or ErrNotFound.
func (s *Store) Result(id string) ([]byte, error) { return s.get(resKey(id)) }

// NonceUse returns the digest recorded when the nonce was used, or
// ErrNotFound if it is unused.
func (s *Store) NonceUse(nonce [32]byte) ([]byte, error) { return s.get(nonceKey(nonce)) }

// NullifierSeen reports whether the nullifier was used in the scope.
func (s *Store) NullifierSeen(scope, nf [32]byte) (bool, error) {
	_, err := s.get(nfKey(scope, nf))
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Acceptance is one verified presentation's state change.
type Acceptance struct {
	RequestID string
	Nonce     [32]byte
	// Digest identifies the presentation (to tell a replay from another
	// use of the nonce).
	Digest []byte
	// TTL keeps the nonce (and the result) at least until the request
	// expires; afterwards the request itself is refused.
	TTL time.Duration
	// UseNullifier records Nullifier in Scope (policies with a scope).
	UseNullifier     bool
	Scope, Nullifier [32]byte
	// Result, if not nil, is stored as the request's result (the verified
	// presentation's; nothing else ever writes a result).
	Result []byte
}

// Accept marks the nonce used, records the nullifier and stores the
// result, all in one transaction; it fails with ErrNonceUsed or
// ErrNullifierSeen and changes nothing if either was used before.
func (s *Store) Accept(a Acceptance) error {
	return s.retry(func(txn *badger.Txn) error {
		if _, err := txn.Get(nonceKey(a.Nonce)); err == nil {
			return ErrNonceUsed
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if a.UseNullifier {
			if _, err := txn.Get(nfKey(a.Scope, a.Nullifier)); err == nil {
				return ErrNullifierSeen
			} else if !errors.Is(err, badger.ErrKeyNotFound) {
				return err
			}
			if err := txn.Set(nfKey(a.Scope, a.Nullifier), []byte(a.RequestID)); err != nil {
				return err
			}
		}
		if err := setTTL(txn, nonceKey(a.Nonce), a.Digest, a.TTL); err != nil {
			return err
		}
		if a.Result != nil {
			return setTTL(txn, resKey(a.RequestID), a.Result, a.TTL)
		}
		return nil
	})
}

// RequestExpiries calls fn with the expiry (Unix seconds, 0 for none) of
// every stored request, reading keys only.
func (s *Store) RequestExpiries(fn func(expiresAt uint64)) error {
	return s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.PrefetchValues = false
		o.Prefix = []byte("r/")
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			fn(it.Item().ExpiresAt())
		}
		return nil
	})
}

// retry runs fn in an update transaction, retrying on write conflicts so
// that the loser of a race sees the winner's writes.
func (s *Store) retry(fn func(*badger.Txn) error) error {
	var err error
	for range 8 {
		err = s.db.Update(fn)
		if !errors.Is(err, badger.ErrConflict) {
			return err
		}
	}
	return err
}
