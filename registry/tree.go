package registry

import (
	"runtime"
	"sync"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/zkcred/zkcred/circuits"
)

// chunkHeight is the height of the subtrees that parallelUpdate hashes in
// parallel.
const chunkHeight = 10

// parallelUpdate is circuits.UpdateBatch with the work split over the CPUs: the
// leaves are grouped by their subtree of height chunkHeight, each subtree is
// updated on its own goroutine, then the part of the tree above them. The
// result is exactly UpdateBatch's. r must allow concurrent reads.
func parallelUpdate(r circuits.NodeReader, depth int, leaves map[uint64]fr.Element) (map[circuits.NodeKey]fr.Element, error) {
	workers := runtime.GOMAXPROCS(0)
	if depth <= chunkHeight || len(leaves) < 2<<chunkHeight || workers < 2 {
		return circuits.UpdateBatch(r, depth, leaves)
	}
	chunks := map[uint64]map[uint64]fr.Element{}
	for i, v := range leaves {
		if depth < 64 && i>>uint(depth) != 0 {
			return circuits.UpdateBatch(r, depth, leaves) // reports the error
		}
		c := i >> chunkHeight
		m := chunks[c]
		if m == nil {
			m = map[uint64]fr.Element{}
			chunks[c] = m
		}
		m[i&(1<<chunkHeight-1)] = v
	}
	type result struct {
		c     uint64
		nodes map[circuits.NodeKey]fr.Element
		err   error
	}
	work := make(chan uint64)
	results := make(chan result)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				n, err := circuits.UpdateBatch(subReader{r, c}, chunkHeight, chunks[c])
				results <- result{c, n, err}
			}
		}()
	}
	go func() {
		for c := range chunks {
			work <- c
		}
		close(work)
		wg.Wait()
		close(results)
	}()
	out := make(map[circuits.NodeKey]fr.Element, 2*len(leaves)+depth)
	tops := make(map[uint64]fr.Element, len(chunks))
	var firstErr error
	for res := range results {
		if res.err != nil {
			firstErr = res.err
			continue
		}
		for k, v := range res.nodes {
			out[circuits.NodeKey{Level: k.Level, Index: res.c<<uint(chunkHeight-k.Level) | k.Index}] = v
		}
		tops[res.c] = res.nodes[circuits.NodeKey{Level: chunkHeight, Index: 0}]
	}
	if firstErr != nil {
		return nil, firstErr
	}
	up, err := circuits.UpdateBatch(upReader{r}, depth-chunkHeight, tops)
	if err != nil {
		return nil, err
	}
	for k, v := range up {
		out[circuits.NodeKey{Level: k.Level + chunkHeight, Index: k.Index}] = v
	}
	return out, nil
}

// subReader views the subtree of height chunkHeight whose root is node c at
// level chunkHeight.
type subReader struct {
	r circuits.NodeReader
	c uint64
}

func (s subReader) Node(level int, index uint64) (fr.Element, bool, error) {
	return s.r.Node(level, s.c<<uint(chunkHeight-level)|index)
}

// upReader views the tree above level chunkHeight.
type upReader struct{ r circuits.NodeReader }

// An absent node is reported as present with the zero hash of its global
// level: UpdateBatch would otherwise take the zero hash of the local one.
func (u upReader) Node(level int, index uint64) (fr.Element, bool, error) {
	v, ok, err := u.r.Node(level+chunkHeight, index)
	if err == nil && !ok {
		return circuits.ZeroHash(level + chunkHeight), true, nil
	}
	return v, ok, err
}
