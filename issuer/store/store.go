package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/zkcred/zkcred/circuits"
)

// ErrNotFound is returned for an unknown credential, leaf, offer, schema or
// row (HTTP 404 where an API reports it).
var ErrNotFound = errors.New("not found")

// ErrBusy is returned by Open when another process holds the database.
var ErrBusy = errors.New("issuer store is in use by another process")

// Options tunes the store; the zero value is the default.
type Options struct {
	// Badger, when set, replaces the badger options (escape hatch); the
	// directory and SyncWrites are always set by Open.
	Badger *badger.Options
	// Logger receives badger's warnings and errors; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Store is the issuer's badger database.
type Store struct {
	db *badger.DB
}

// Open opens (creating) the store in dir.
func Open(dir string, opts Options) (*Store, error) {
	bo := badger.DefaultOptions(dir)
	if opts.Badger != nil {
		bo = *opts.Badger
	}
	bo.Dir, bo.ValueDir = dir, dir
	bo.SyncWrites = true
	bo.Logger = badgerLogger{opts.Logger}
	db, err := badger.Open(bo)
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("%w: %s", ErrBusy, dir)
		}
		return nil, fmt.Errorf("opening issuer store %s: %w", dir, err)
	}
	return &Store{db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Key prefixes.
const (
	pCred    = "c/"
	pOrigin  = "x/"
	pRevoked = "r/"
	pLeaf    = "l/"
	pSchema  = "s/"
	pOffer   = "o/"
	pPending = "p/"
	pJob     = "j/"
)

func leafKey(i uint64) []byte { return binary.BigEndian.AppendUint64([]byte(pLeaf), i) }

func rowPrefix(job string) []byte { return []byte(pJob + job + "/") }

func rowKey(job string, row int) []byte {
	return binary.BigEndian.AppendUint64(rowPrefix(job), uint64(row))
}

// Origin says where a credential came from: a batch job's row, an offer
// (claimed by its holder), both (an offer made for a batch row), or neither
// (issued directly).
type Origin struct {
	Job   string `json:"job,omitempty"`
	Row   int    `json:"row,omitempty"` // CSV record number; the header is row 1
	Offer string `json:"offer,omitempty"`
}

// Credential is an issued credential as recorded.
type Credential struct {
	ID        string
	LeafIndex uint64
	Bundle    []byte // the bundle's JSON
	Origin    Origin
	Revoked   bool
}

// Draft is a credential computed but not yet anchored: everything that goes
// into the commitment, fixed before the chain sees it so that a retry after
// a crash anchors and signs exactly the same credential.
type Draft struct {
	CredentialID string           `json:"id"`
	Schema       *circuits.Schema `json:"schema"`
	Subject      map[string]any   `json:"subject"`
	HolderCommit circuits.Field   `json:"holderCommit"`
	Salt         circuits.Field   `json:"salt"`
	ValidFrom    time.Time        `json:"validFrom"`
	ValidUntil   time.Time        `json:"validUntil"` // zero: none
	Commitment   circuits.Field   `json:"commitment"`
	SchemaID     circuits.Field   `json:"schemaId"`
	Slots        []circuits.Field `json:"slots"`
}

// Pending is a write-ahead entry: written before commitments go to the
// chain, deleted in the transaction that records their credentials.
type Pending struct {
	ID     string   `json:"id"`
	Drafts []*Draft `json:"drafts"`
	Since  uint64   `json:"since"` // chain size before anchoring (lookup bound)
	// At most one of the following says what the credentials are for.
	Job   string `json:"job,omitempty"` // batch job; Rows parallel to Drafts
	Rows  []int  `json:"rows,omitempty"`
	Offer string `json:"offer,omitempty"` // claimed offer
}

// Offer is a claim offer as stored: the token only as a hash.
type Offer struct {
	ID           string           `json:"id"`
	Schema       *circuits.Schema `json:"schema"`
	Subject      map[string]any   `json:"subject"`
	ValidUntil   time.Time        `json:"validUntil,omitzero"`
	Expires      time.Time        `json:"expires"`
	Created      time.Time        `json:"created"`
	TokenHash    string           `json:"tokenHash"`
	HolderCommit string           `json:"holderCommit,omitempty"` // set when claimed
	CredentialID string           `json:"credentialId,omitempty"`
	Delivered    bool             `json:"delivered,omitempty"` // its credential reached the holder at least once
	Job          string           `json:"job,omitempty"`       // batch job and row it was made for
	Row          int              `json:"row,omitempty"`
}

// RowStatus is the outcome of one batch row.
type RowStatus string

// Row outcomes.
const (
	RowIssued   RowStatus = "issued"
	RowOffered  RowStatus = "offered"
	RowRejected RowStatus = "rejected"
)

// Row is the recorded outcome of one batch row.
type Row struct {
	Status     RowStatus `json:"status"`
	Credential string    `json:"credential,omitempty"`
	Offer      string    `json:"offer,omitempty"`
	Field      string    `json:"field,omitempty"`
	Reason     string    `json:"reason,omitempty"`
}

// Txn is one store transaction.
type Txn struct {
	txn *badger.Txn
}

// Update runs fn in one synced read-write transaction, committed if fn
// returns nil. On a write conflict with a concurrent transaction, fn runs
// again on the newer state, so it must not keep effects of an earlier run.
func (s *Store) Update(fn func(*Txn) error) error {
	var err error
	for range 8 {
		err = s.db.Update(func(txn *badger.Txn) error { return fn(&Txn{txn}) })
		if !errors.Is(err, badger.ErrConflict) {
			return err
		}
	}
	return err
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(*Txn) error) error {
	return s.db.View(func(txn *badger.Txn) error { return fn(&Txn{txn}) })
}

func (t *Txn) get(key []byte) ([]byte, error) {
	it, err := t.txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return it.ValueCopy(nil)
}

func (t *Txn) has(key []byte) (bool, error) {
	_, err := t.txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (t *Txn) getJSON(key []byte, v any) error {
	b, err := t.get(key)
	if err != nil {
		return err
	}
	return decodeExact(b, v)
}

func (t *Txn) setJSON(key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return t.txn.Set(key, b)
}

// decodeExact decodes JSON keeping numbers as json.Number, so that subject
// values read back are exactly those written.
func decodeExact(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// PutCredential records an issued credential, its leaf and its origin.
func (t *Txn) PutCredential(c Credential) error {
	if c.ID == "" {
		return errors.New("credential without an id")
	}
	if err := t.txn.Set([]byte(pCred+c.ID), c.Bundle); err != nil {
		return err
	}
	if c.Origin != (Origin{}) {
		if err := t.setJSON([]byte(pOrigin+c.ID), c.Origin); err != nil {
			return err
		}
	}
	return t.txn.Set(leafKey(c.LeafIndex), []byte(c.ID))
}

// Credential returns an issued credential.
func (t *Txn) Credential(id string) (*Credential, error) {
	b, err := t.get([]byte(pCred + id))
	if err != nil {
		return nil, fmt.Errorf("credential %s: %w", id, err)
	}
	c := &Credential{ID: id, Bundle: b}
	if err := t.getJSON([]byte(pOrigin+id), &c.Origin); err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if c.Revoked, err = t.has([]byte(pRevoked + id)); err != nil {
		return nil, err
	}
	var leaf struct {
		Private struct {
			LeafIndex uint64 `json:"leafIndex"`
		} `json:"private"`
	}
	if err := json.Unmarshal(b, &leaf); err != nil {
		return nil, fmt.Errorf("credential %s: stored bundle: %w", id, err)
	}
	c.LeafIndex = leaf.Private.LeafIndex
	return c, nil
}

// CredentialAtLeaf returns the ID of the credential anchored at a leaf.
func (t *Txn) CredentialAtLeaf(i uint64) (string, error) {
	b, err := t.get(leafKey(i))
	if err != nil {
		return "", fmt.Errorf("leaf %d: %w", i, err)
	}
	return string(b), nil
}

// MarkRevoked records that a credential was revoked; marking it twice is
// not an error.
func (t *Txn) MarkRevoked(id string) error {
	if ok, err := t.has([]byte(pCred + id)); err != nil || !ok {
		if err == nil {
			err = ErrNotFound
		}
		return fmt.Errorf("credential %s: %w", id, err)
	}
	return t.txn.Set([]byte(pRevoked+id), nil)
}

// PutSchema records a schema under its ID; sc must be valid.
func (t *Txn) PutSchema(sc *circuits.Schema) error {
	id := sc.ID()
	return t.txn.Set([]byte(pSchema+circuits.Dec(id)), sc.Canonical())
}

// Schema returns a recorded schema by ID (decimal).
func (t *Txn) Schema(id string) (*circuits.Schema, error) {
	b, err := t.get([]byte(pSchema + id))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", id, err)
	}
	return circuits.ParseSchema(b)
}

// PutOffer records an offer.
func (t *Txn) PutOffer(o *Offer) error { return t.setJSON([]byte(pOffer+o.ID), o) }

// Offer returns an offer.
func (t *Txn) Offer(id string) (*Offer, error) {
	var o Offer
	if err := t.getJSON([]byte(pOffer+id), &o); err != nil {
		return nil, fmt.Errorf("offer %q: %w", id, err)
	}
	return &o, nil
}

// PutPending writes a write-ahead entry.
func (t *Txn) PutPending(p *Pending) error { return t.setJSON([]byte(pPending+p.ID), p) }

// DeletePending deletes a write-ahead entry.
func (t *Txn) DeletePending(id string) error { return t.txn.Delete([]byte(pPending + id)) }

// PutRow records the outcome of a batch row.
func (t *Txn) PutRow(job string, row int, r Row) error { return t.setJSON(rowKey(job, row), r) }

// Row returns the recorded outcome of a batch row.
func (t *Txn) Row(job string, row int) (*Row, error) {
	var r Row
	if err := t.getJSON(rowKey(job, row), &r); err != nil {
		return nil, fmt.Errorf("job %s row %d: %w", job, row, err)
	}
	return &r, nil
}

// iterate calls fn for every key with prefix, in key order, until fn
// returns false or an error.
func (t *Txn) iterate(prefix []byte, values bool, fn func(key, val []byte) (bool, error)) error {
	o := badger.DefaultIteratorOptions
	o.Prefix = prefix
	o.PrefetchValues = values
	it := t.txn.NewIterator(o)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var v []byte
		if values {
			var err error
			if v, err = it.Item().ValueCopy(nil); err != nil {
				return err
			}
		}
		more, err := fn(it.Item().KeyCopy(nil), v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// Rows returns the recorded outcome of every row of a job, by row.
func (t *Txn) Rows(job string) (map[int]Row, error) {
	out := map[int]Row{}
	prefix := rowPrefix(job)
	err := t.iterate(prefix, true, func(k, v []byte) (bool, error) {
		var r Row
		if err := json.Unmarshal(v, &r); err != nil {
			return false, err
		}
		out[int(binary.BigEndian.Uint64(k[len(prefix):]))] = r
		return true, nil
	})
	return out, err
}

// Pendings returns every write-ahead entry.
func (t *Txn) Pendings() ([]*Pending, error) {
	var out []*Pending
	err := t.iterate([]byte(pPending), true, func(_, v []byte) (bool, error) {
		var p Pending
		if err := decodeExact(v, &p); err != nil {
			return false, err
		}
		out = append(out, &p)
		return true, nil
	})
	return out, err
}

// Schemas returns every recorded schema, by ID.
func (t *Txn) Schemas() ([]*circuits.Schema, error) {
	var out []*circuits.Schema
	err := t.iterate([]byte(pSchema), true, func(_, v []byte) (bool, error) {
		sc, err := circuits.ParseSchema(v)
		if err != nil {
			return false, err
		}
		out = append(out, sc)
		return true, nil
	})
	return out, err
}

// Credentials calls fn for every issued credential, in ID order, until fn
// returns false or an error.
func (t *Txn) Credentials(fn func(*Credential) (bool, error)) error {
	return t.iterate([]byte(pCred), false, func(k, _ []byte) (bool, error) {
		c, err := t.Credential(string(k[len(pCred):]))
		if err != nil {
			return false, err
		}
		return fn(c)
	})
}

// CountCredentials returns the number of issued credentials.
func (t *Txn) CountCredentials() (int, error) {
	n := 0
	err := t.iterate([]byte(pCred), false, func(_, _ []byte) (bool, error) { n++; return true, nil })
	return n, err
}

// Read-only shortcuts, each in its own transaction.

// Credential returns an issued credential.
func (s *Store) Credential(id string) (c *Credential, err error) {
	err = s.View(func(t *Txn) error { c, err = t.Credential(id); return err })
	return c, err
}

// Offer returns an offer.
func (s *Store) Offer(id string) (o *Offer, err error) {
	err = s.View(func(t *Txn) error { o, err = t.Offer(id); return err })
	return o, err
}

// Schema returns a recorded schema by ID (decimal).
func (s *Store) Schema(id string) (sc *circuits.Schema, err error) {
	err = s.View(func(t *Txn) error { sc, err = t.Schema(id); return err })
	return sc, err
}

// Schemas returns every recorded schema.
func (s *Store) Schemas() (out []*circuits.Schema, err error) {
	err = s.View(func(t *Txn) error { out, err = t.Schemas(); return err })
	return out, err
}

// Pendings returns every write-ahead entry.
func (s *Store) Pendings() (out []*Pending, err error) {
	err = s.View(func(t *Txn) error { out, err = t.Pendings(); return err })
	return out, err
}

// Rows returns the recorded outcome of every row of a job.
func (s *Store) Rows(job string) (out map[int]Row, err error) {
	err = s.View(func(t *Txn) error { out, err = t.Rows(job); return err })
	return out, err
}

// CountCredentials returns the number of issued credentials.
func (s *Store) CountCredentials() (n int, err error) {
	err = s.View(func(t *Txn) error { n, err = t.CountCredentials(); return err })
	return n, err
}

type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) log() *slog.Logger {
	if b.l == nil {
		return slog.Default()
	}
	return b.l
}
func (b badgerLogger) Errorf(f string, a ...any)   { b.log().Error(fmt.Sprintf("badger: "+f, a...)) }
func (b badgerLogger) Warningf(f string, a ...any) { b.log().Warn(fmt.Sprintf("badger: "+f, a...)) }
func (badgerLogger) Infof(string, ...any)          {}
func (badgerLogger) Debugf(string, ...any)         {}

// JobRows calls fn for recorded batch rows, in key order, until fn returns
// false or an error: row of job, every row of job (row 0), that row of
// every job (job ""), or every row of every job.
func (t *Txn) JobRows(job string, row int, fn func(job string, row int, r Row) (bool, error)) error {
	if job != "" && row != 0 {
		r, err := t.Row(job, row)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = fn(job, row, *r)
		return err
	}
	prefix := []byte(pJob)
	if job != "" {
		prefix = rowPrefix(job)
	}
	return t.iterate(prefix, true, func(k, v []byte) (bool, error) {
		rest := k[len(pJob):]
		if len(rest) < 9 {
			return true, nil
		}
		j, n := string(rest[:len(rest)-9]), int(binary.BigEndian.Uint64(rest[len(rest)-8:]))
		if row != 0 && n != row {
			return true, nil
		}
		var r Row
		if err := json.Unmarshal(v, &r); err != nil {
			return false, err
		}
		return fn(j, n, r)
	})
}

// Offers calls fn for every offer, in ID order, until fn returns false or
// an error.
func (t *Txn) Offers(fn func(*Offer) (bool, error)) error {
	return t.iterate([]byte(pOffer), true, func(_, v []byte) (bool, error) {
		var o Offer
		if err := decodeExact(v, &o); err != nil {
			return false, err
		}
		return fn(&o)
	})
}
