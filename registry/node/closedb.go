package node

import (
	"errors"
	"sync"

	dbm "github.com/cometbft/cometbft-db"
	cmtcfg "github.com/cometbft/cometbft/config"
)

// CometBFT v1.0.1 closes its block and state stores when it stops while
// some per-peer reactor goroutines still run (the consensus reactor's
// queryMaj23Routine reads a commit after a sleep without checking that the
// node still runs), and pebble panics on a read after close, which takes
// the whole process down. closeSafeDB makes a read after Close report
// "not found" instead; Close waits for reads in flight.
type closeSafeDB struct {
	dbm.DB
	mu     sync.RWMutex
	closed bool
}

var errDBClosed = errors.New("CometBFT database closed")

func closeSafeDBProvider(ctx *cmtcfg.DBContext) (dbm.DB, error) {
	db, err := cmtcfg.DefaultDBProvider(ctx)
	if err != nil {
		return nil, err
	}
	return &closeSafeDB{DB: db}, nil
}

func (d *closeSafeDB) Get(k []byte) ([]byte, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return nil, nil
	}
	return d.DB.Get(k)
}

func (d *closeSafeDB) Has(k []byte) (bool, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return false, nil
	}
	return d.DB.Has(k)
}

func (d *closeSafeDB) Iterator(start, end []byte) (dbm.Iterator, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return nil, errDBClosed
	}
	return d.DB.Iterator(start, end)
}

func (d *closeSafeDB) ReverseIterator(start, end []byte) (dbm.Iterator, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return nil, errDBClosed
	}
	return d.DB.ReverseIterator(start, end)
}

func (d *closeSafeDB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	return d.DB.Close()
}
