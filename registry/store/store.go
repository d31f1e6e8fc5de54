package store

import (
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/dgraph-io/badger/v4"
	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/internal/layout"
)

// Errors.
var (
	// ErrNotInitialised: the directory holds no registry (CLI hint: run init).
	ErrNotInitialised = errors.New("no registry in this directory")
	// ErrExists: Init on a directory that already holds a registry.
	ErrExists = errors.New("a registry already exists in this directory")
	// ErrAudit wraps every discrepancy that Audit finds.
	ErrAudit = errors.New("audit failed")
	// ErrOldFormat: the directory holds a chain whose block 0 does not name
	// this genesis' hash, as a registry made before genesis hash v2 (RFC
	// 8785 canonical JSON); such a chain has to be made anew.
	ErrOldFormat = errors.New("registry made by an older zkcred format (genesis hash v1); initialise a new registry")
)

// Options configure a store. The zero value is the default.
type Options struct {
	// Logger receives badger's warnings and errors; nil discards them.
	Logger *slog.Logger
	// Badger, when set, adjusts badger's options (after zkcred's defaults);
	// SyncWrites stays on whatever it returns.
	Badger func(badger.Options) badger.Options
	// ReadOnly opens the database without writing (status, audit of a copy).
	ReadOnly bool
}

// Store is a registry chain in badger.
type Store struct {
	db      *badger.DB
	genesis *registry.Genesis

	mu     sync.RWMutex
	latest registry.Header
	// upper caches the credential-tree nodes at levels BucketBits and
	// above, as of block upperAt: they are the siblings of every witness
	// bucket (about 2/256 of all nodes).
	upper   map[circuits.NodeKey]circuits.Field
	upperAt uint64
}

var (
	keyGenesis = []byte("mgenesis")
	keyLatest  = []byte("mlatest")
)

func u64(x uint64) []byte { return binary.BigEndian.AppendUint64(nil, x) }

func headerKey(h uint64) []byte { return append([]byte{'h'}, u64(h)...) }
func blockKey(h uint64) []byte  { return append([]byte{'b'}, u64(h)...) }
func rootKey(r circuits.Field) []byte {
	e := r.El()
	b := e.Bytes()
	return append([]byte{'r'}, b[:]...)
}
func stateKey(k []byte) []byte { return append([]byte{'s'}, k...) }

func openDB(dir string, opts Options) (*badger.DB, error) {
	bo := badger.DefaultOptions(dir).
		WithSyncWrites(true).
		WithNumVersionsToKeep(1).
		WithLogger(badgerLogger{opts.Logger}).
		WithReadOnly(opts.ReadOnly).
		WithDetectConflicts(false)
	if opts.Badger != nil {
		bo = opts.Badger(bo)
	}
	return badger.Open(bo)
}

// Init creates a registry in dir: the genesis and block 0. A genesis that
// names a producer (an in-memory test chain's format) needs its key, which
// signs block 0; a CometBFT chain's genesis names validators instead and
// producer is nil.
func Init(dir string, g *registry.Genesis, producer ed25519.PrivateKey, opts Options) error {
	if err := g.Validate(); err != nil {
		return err
	}
	if g.Producer != "" && (producer == nil || !producer.Public().(ed25519.PublicKey).Equal(g.ProducerKey())) {
		return errors.New("producer key does not match the genesis producer")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	db, err := openDB(dir, opts)
	if err != nil {
		return err
	}
	defer db.Close()
	err = db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(keyGenesis)
		return err
	})
	if err == nil {
		return fmt.Errorf("%w: %s", ErrExists, dir)
	}
	if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	b, err := registry.NewBuilder(g, emptyReader{}, nil)
	if err != nil {
		return err
	}
	h, txs, w, err := b.Finish(g.Time)
	if err != nil {
		return err
	}
	if g.Producer != "" {
		h.Sign(producer)
	}
	gj, _ := json.Marshal(g)
	s := &Store{db: db, genesis: g}
	return s.commit(&registry.Block{Header: *h, Txs: txs}, w, gj)
}

type emptyReader struct{}

func (emptyReader) Get([]byte) ([]byte, bool, error) { return nil, false, nil }

// Open opens the registry in dir. It reads the genesis and the latest
// header only.
func Open(dir string, opts Options) (*Store, error) {
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST")); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotInitialised, dir)
	}
	db, err := openDB(dir, opts)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db}
	err = db.View(func(txn *badger.Txn) error {
		gj, err := get(txn, keyGenesis)
		if err != nil {
			return err
		}
		if s.genesis, err = registry.ParseGenesis(gj); err != nil {
			return err
		}
		h0j, err := get(txn, headerKey(0))
		if err != nil {
			return err
		}
		var h0 registry.Header
		if err := json.Unmarshal(h0j, &h0); err != nil {
			return err
		}
		if h0.PrevHash != s.genesis.Hash() {
			return fmt.Errorf("%w: %s", ErrOldFormat, dir)
		}
		hb, err := get(txn, keyLatest)
		if err != nil {
			return err
		}
		hj, err := get(txn, headerKey(binary.BigEndian.Uint64(hb)))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(hj, &s.latest); err != nil {
			return err
		}
		return s.loadUpper(txn)
	})
	if err != nil {
		db.Close()
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil, fmt.Errorf("%w: %s", ErrNotInitialised, dir)
		}
		return nil, err
	}
	return s, nil
}

func (s *Store) loadUpper(txn *badger.Txn) error {
	s.upper = map[circuits.NodeKey]circuits.Field{}
	s.upperAt = s.latest.Height
	for l := registry.BucketBits; l <= circuits.Depth; l++ {
		prefix := stateKey([]byte{layout.CredNode, byte(l)})
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 1000, Prefix: prefix})
		for it.Rewind(); it.Valid(); it.Next() {
			var f circuits.Field
			idx := binary.BigEndian.Uint64(it.Item().Key()[len(prefix):])
			if err := it.Item().Value(func(v []byte) error { return setField(&f, v) }); err != nil {
				it.Close()
				return err
			}
			s.upper[circuits.NodeKey{Level: l, Index: idx}] = f
		}
		it.Close()
	}
	return nil
}

func get(txn *badger.Txn, k []byte) ([]byte, error) {
	it, err := txn.Get(k)
	if err != nil {
		return nil, err
	}
	return it.ValueCopy(nil)
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Genesis returns the chain's genesis.
func (s *Store) Genesis() *registry.Genesis { return s.genesis }

// Latest returns the latest committed header.
func (s *Store) Latest() registry.Header {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.latest
}

// Get reads a state key at the latest height (registry.Reader).
func (s *Store) Get(key []byte) ([]byte, bool, error) {
	var v []byte
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		v, err = get(txn, stateKey(key))
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	return v, err == nil, err
}

// Commit stores the block that follows the latest one together with its
// state writes, in one synced badger transaction.
func (s *Store) Commit(blk *registry.Block, writes map[string][]byte) error {
	s.mu.RLock()
	want := s.latest.Height + 1
	s.mu.RUnlock()
	if blk.Header.Height != want {
		return fmt.Errorf("commit block %d: next height is %d", blk.Header.Height, want)
	}
	return s.commit(blk, writes, nil)
}

func (s *Store) commit(blk *registry.Block, writes map[string][]byte, genesis []byte) error {
	hj, err := json.Marshal(blk.Header)
	if err != nil {
		return err
	}
	tj, err := json.Marshal(blk.Txs)
	if err != nil {
		return err
	}
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	set := func(k, v []byte) error {
		if err := txn.Set(k, v); err != nil {
			return fmt.Errorf("block %d: %w", blk.Header.Height, err)
		}
		return nil
	}
	for k, v := range writes {
		if err := set(stateKey([]byte(k)), v); err != nil {
			return err
		}
	}
	h := blk.Header.Height
	if genesis != nil {
		if err := set(keyGenesis, genesis); err != nil {
			return err
		}
	}
	for _, kv := range [][2][]byte{{headerKey(h), hj}, {blockKey(h), tj}, {rootKey(blk.Header.CredRoot), u64(h)}, {keyLatest, u64(h)}} {
		if err := set(kv[0], kv[1]); err != nil {
			return err
		}
	}
	if err := txn.Commit(); err != nil {
		return fmt.Errorf("commit block %d: %w", h, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latest = blk.Header
	if s.upper == nil {
		return nil // Init: Open loads the cache
	}
	for k, v := range writes {
		if len(k) == 10 && k[0] == layout.CredNode && int(k[1]) >= registry.BucketBits {
			var f circuits.Field
			if err := setField(&f, v); err != nil {
				return err
			}
			s.upper[circuits.NodeKey{Level: int(k[1]), Index: binary.BigEndian.Uint64([]byte(k[2:]))}] = f
		}
	}
	s.upperAt = h
	return nil
}

// Header returns the header at a height.
func (s *Store) Header(h uint64) (*registry.Header, error) {
	var hd registry.Header
	err := s.db.View(func(txn *badger.Txn) error {
		b, err := get(txn, headerKey(h))
		if err != nil {
			return err
		}
		return json.Unmarshal(b, &hd)
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: block %d", registry.ErrNotFound, h)
	}
	return &hd, err
}

// Headers returns the headers from..to inclusive that exist, at most max.
func (s *Store) Headers(from, to uint64, max int) ([]registry.Header, error) {
	out := []registry.Header{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: []byte{'h'}})
		defer it.Close()
		for it.Seek(headerKey(from)); it.Valid() && len(out) < max; it.Next() {
			if binary.BigEndian.Uint64(it.Item().Key()[1:]) > to {
				break
			}
			var hd registry.Header
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &hd) }); err != nil {
				return err
			}
			out = append(out, hd)
		}
		return nil
	})
	return out, err
}

// Block returns the block at a height.
func (s *Store) Block(h uint64) (*registry.Block, error) {
	hd, err := s.Header(h)
	if err != nil {
		return nil, err
	}
	blk := &registry.Block{Header: *hd}
	err = s.db.View(func(txn *badger.Txn) error {
		b, err := get(txn, blockKey(h))
		if err != nil {
			return err
		}
		return json.Unmarshal(b, &blk.Txs)
	})
	return blk, err
}

// RootInfo returns the latest header whose credential root is root.
func (s *Store) RootInfo(root fr.Element) (*registry.Header, error) {
	var h uint64
	err := s.db.View(func(txn *badger.Txn) error {
		b, err := get(txn, rootKey(circuits.F(root)))
		if err == nil {
			h = binary.BigEndian.Uint64(b)
		}
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: root %s was never published", registry.ErrNotFound, registry.FormatElement(root))
	}
	if err != nil {
		return nil, err
	}
	return s.Header(h)
}

// Bucket reads a witness bucket at the latest height in one consistent
// snapshot.
func (s *Store) Bucket(index uint64) (*registry.Bucket, error) {
	if index >= 1<<(circuits.Depth-registry.BucketBits) {
		return nil, fmt.Errorf("%w: bucket %d outside the tree", registry.ErrNotFound, index)
	}
	bk := &registry.Bucket{Index: index, Leaves: make([]circuits.Field, registry.BucketSize), Siblings: make([]circuits.Field, circuits.Depth-registry.BucketBits)}
	err := s.db.View(func(txn *badger.Txn) error {
		hb, err := get(txn, keyLatest)
		if err != nil {
			return err
		}
		var hd registry.Header
		hj, err := get(txn, headerKey(binary.BigEndian.Uint64(hb)))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(hj, &hd); err != nil {
			return err
		}
		bk.Height, bk.Root, bk.CredSize, bk.StateRoot = hd.Height, hd.CredRoot, hd.CredSize, hd.StateRoot
		first := index << registry.BucketBits
		prefix := stateKey([]byte{layout.CredNode, 0})
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false, Prefix: prefix})
		defer it.Close()
		start := stateKey(layout.NodeKey(layout.CredNode, 0, first))
		for it.Seek(start); it.Valid(); it.Next() {
			k := it.Item().Key()
			i := binary.BigEndian.Uint64(k[len(prefix):])
			if i >= first+registry.BucketSize {
				break
			}
			if err := it.Item().Value(func(v []byte) error { return setField(&bk.Leaves[i-first], v) }); err != nil {
				return err
			}
		}
		s.mu.RLock()
		if s.upper != nil && s.upperAt == hd.Height {
			for l := registry.BucketBits; l < circuits.Depth; l++ {
				f, ok := s.upper[circuits.NodeKey{Level: l, Index: (first >> uint(l)) ^ 1}]
				if !ok {
					f = circuits.F(circuits.ZeroHash(l))
				}
				bk.Siblings[l-registry.BucketBits] = f
			}
			s.mu.RUnlock()
			return nil
		}
		s.mu.RUnlock()
		// a block committed since this snapshot: read the snapshot's nodes
		for l := registry.BucketBits; l < circuits.Depth; l++ {
			sib := (first >> uint(l)) ^ 1
			v, err := get(txn, stateKey(layout.NodeKey(layout.CredNode, l, sib)))
			if errors.Is(err, badger.ErrKeyNotFound) {
				bk.Siblings[l-registry.BucketBits] = circuits.F(circuits.ZeroHash(l))
				continue
			}
			if err != nil {
				return err
			}
			if err := setField(&bk.Siblings[l-registry.BucketBits], v); err != nil {
				return err
			}
		}
		return nil
	})
	return bk, err
}

func setField(f *circuits.Field, v []byte) error {
	e, err := circuits.ElementFromBytes(v)
	if err != nil {
		return fmt.Errorf("stored node: %w", err)
	}
	*f = circuits.F(e)
	return nil
}

// Issuers returns the issuers in registration order, filtered by kind (if
// not empty) and by active state (if active is not nil).
func (s *Store) Issuers(kind string, active *bool) ([]registry.Issuer, error) {
	out := []registry.Issuer{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, Prefix: stateKey([]byte{layout.IssuerIdx})})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			id, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			v, err := get(txn, stateKey(append([]byte{layout.Issuer}, id...)))
			if err != nil {
				return err
			}
			var is registry.Issuer
			if err := json.Unmarshal(v, &is); err != nil {
				return err
			}
			if (kind == "" || is.Kind == kind) && (active == nil || is.Active == *active) {
				out = append(out, is)
			}
		}
		return nil
	})
	return out, err
}

// Issuer returns one issuer by ID.
func (s *Store) Issuer(id fr.Element) (*registry.Issuer, error) {
	var is registry.Issuer
	if err := s.getJSON(layout.IssuerKey(id), &is, "issuer"); err != nil {
		return nil, err
	}
	return &is, nil
}

// Schema returns a published schema by ID.
func (s *Store) Schema(id fr.Element) (*registry.SchemaRecord, error) {
	var r registry.SchemaRecord
	if err := s.getJSON(layout.SchemaKey(id), &r, "schema"); err != nil {
		return nil, err
	}
	return &r, nil
}

// Circuits returns every published circuit verifying-key hash.
func (s *Store) Circuits() ([]registry.CircuitRecord, error) {
	out := []registry.CircuitRecord{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, Prefix: stateKey([]byte{layout.Circuit})})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var r registry.CircuitRecord
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &r) }); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

func (s *Store) getJSON(key []byte, v any, what string) error {
	b, ok, err := s.Get(key)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s", registry.ErrNotFound, what)
	}
	return json.Unmarshal(b, v)
}

// txnReader reads the state of one badger snapshot (registry.Reader).
type txnReader struct{ txn *badger.Txn }

func (t txnReader) Get(key []byte) ([]byte, bool, error) {
	v, err := get(t.txn, stateKey(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	return v, err == nil, err
}

// snapshot calls f with the state and latest header of one snapshot.
func (s *Store) snapshot(f func(r txnReader, hd *registry.Header) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		hb, err := get(txn, keyLatest)
		if err != nil {
			return err
		}
		var hd registry.Header
		hj, err := get(txn, headerKey(binary.BigEndian.Uint64(hb)))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(hj, &hd); err != nil {
			return err
		}
		return f(txnReader{txn}, &hd)
	})
}

// prove reads a state-map record and its proof from one snapshot. If the
// key holds a record it is decoded into rec and ok is true; otherwise the
// proof proves its absence.
func prove(r txnReader, hd *registry.Header, key []byte, rec any) (p *registry.StateProof, ok bool, err error) {
	v, ok, err := r.Get(key)
	if err != nil {
		return nil, false, err
	}
	if ok {
		if err := json.Unmarshal(v, rec); err != nil {
			return nil, false, fmt.Errorf("state record %x: %w", key, err)
		}
	}
	p, err = registry.ProveState(r, hd.Height, hd.CredRoot, hd.CredSize, key)
	if err == nil && p.StateRoot != hd.StateRoot {
		err = fmt.Errorf("state map root %s is not block %d's %s", p.StateRoot, hd.Height, hd.StateRoot)
	}
	return p, ok, err
}

// Prove reads a state-map record at the latest height and its proof in
// one snapshot (see prove).
func (s *Store) Prove(key []byte, rec any) (p *registry.StateProof, ok bool, err error) {
	err = s.snapshot(func(r txnReader, hd *registry.Header) error {
		p, ok, err = prove(r, hd, key, rec)
		return err
	})
	return p, ok, err
}

// ProvenIssuer returns an issuer record with its proof.
func (s *Store) ProvenIssuer(id fr.Element) (*registry.IssuerAnswer, error) {
	a := &registry.IssuerAnswer{}
	p, ok, err := s.Prove(layout.IssuerKey(id), &a.Issuer)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: issuer", registry.ErrNotFound)
	}
	a.Proof = *p
	return a, nil
}

// ProvenSchema returns a schema record with its proof.
func (s *Store) ProvenSchema(id fr.Element) (*registry.SchemaAnswer, error) {
	a := &registry.SchemaAnswer{}
	p, ok, err := s.Prove(layout.SchemaKey(id), &a.SchemaRecord)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: schema", registry.ErrNotFound)
	}
	a.Proof = *p
	return a, nil
}

// ProvenCircuit returns a circuit's verifying-key hash record, or its
// absence, with the proof.
func (s *Store) ProvenCircuit(id string) (*registry.CircuitAnswer, error) {
	a := &registry.CircuitAnswer{Circuit: id}
	var rec registry.CircuitRecord
	p, ok, err := s.Prove(layout.CircuitKey(id), &rec)
	if err != nil {
		return nil, err
	}
	if ok {
		a.Record = &rec
	}
	a.Proof = *p
	return a, nil
}

// ProvenKind returns the list of the issuers of a kind with its proof
// (of absence, for a kind that never had one).
func (s *Store) ProvenKind(kind string) (*registry.KindAnswer, error) {
	a := &registry.KindAnswer{}
	p, _, err := s.Prove(layout.KindKey(kind), &a.KindList)
	if err != nil {
		return nil, err
	}
	a.Kind = kind
	if a.Issuers == nil {
		a.Issuers = []registry.KindMember{}
	}
	a.Proof = *p
	return a, nil
}

// ProvenGovernance returns the governance record and the validator set
// with their proofs, from one block.
func (s *Store) ProvenGovernance() (*registry.GovernanceAnswer, error) {
	a := &registry.GovernanceAnswer{}
	err := s.snapshot(func(r txnReader, hd *registry.Header) error {
		p, ok, err := prove(r, hd, layout.GovernanceKey(), &a.Governance)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: governance record", registry.ErrNotFound)
		}
		a.GovernanceProof = *p
		if p, ok, err = prove(r, hd, layout.ValidatorsKey(), &a.Validators); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: validator set", registry.ErrNotFound)
		}
		a.ValidatorsProof = *p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	if b.l != nil {
		b.l.Error(fmt.Sprintf(f, a...))
	}
}
func (b badgerLogger) Warningf(f string, a ...any) {
	if b.l != nil {
		b.l.Warn(fmt.Sprintf(f, a...))
	}
}
func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
