package circuits

import (
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/std/permutation/poseidon2"
)

// hasher is the in-circuit twin of hash.go: the same permutations, tags,
// padding and digest element, so that native and circuit values agree bit
// for bit (checked by hash_test.go).
type hasher struct {
	api      frontend.API
	compress *poseidon2.Permutation
	sponges  map[int]*poseidon2.Permutation
}

func newHasher(api frontend.API) (*hasher, error) {
	c, err := poseidon2.NewPoseidon2FromParameters(api, 2, compressFullRounds, compressPartialRounds)
	if err != nil {
		return nil, err
	}
	h := &hasher{api: api, compress: c, sponges: map[int]*poseidon2.Permutation{}}
	for w, r := range spongeRounds {
		p, err := poseidon2.NewPoseidon2FromParameters(api, w, r[0], r[1])
		if err != nil {
			return nil, err
		}
		h.sponges[w] = p
	}
	return h, nil
}

// Compress is the twin of Compress.
func (h *hasher) Compress(l, r frontend.Variable) frontend.Variable {
	return h.compress.Compress(l, r)
}

// HashOne is the twin of HashOne.
func (h *hasher) HashOne(tag uint64, x frontend.Variable) frontend.Variable {
	return h.Compress(tag, x)
}

// Sponge is the twin of Sponge.
func (h *hasher) Sponge(tag uint64, in ...frontend.Variable) frontend.Variable {
	w := widthFor(len(in))
	perm := h.sponges[w]
	state := make([]frontend.Variable, w)
	state[0] = tag
	for i := 1; i < w; i++ {
		state[i] = 0
	}
	rate := w - 1
	for start := 0; ; start += rate {
		end := min(start+rate, len(in))
		for i := start; i < end; i++ {
			state[1+i-start] = h.api.Add(state[1+i-start], in[i])
		}
		if err := perm.Permutation(state); err != nil {
			panic(err) // state has the permutation's width
		}
		if end == len(in) {
			return state[1]
		}
	}
}

// MerkleRoot is the twin of RootFromPath: index is decomposed into
// len(siblings) bits (which also range-checks it), and each level orders its
// two children with one Select.
func (h *hasher) MerkleRoot(leaf, index frontend.Variable, siblings []frontend.Variable) frontend.Variable {
	api := h.api
	bits := api.ToBinary(index, len(siblings))
	cur := leaf
	for i, s := range siblings {
		l := api.Select(bits[i], s, cur)
		r := api.Sub(api.Add(cur, s), l)
		cur = h.Compress(l, r)
	}
	return cur
}

// mux returns in[sel] for sel given by its little-endian bits, with a tree
// of len(in)-1 Selects (one constraint each).
func mux(api frontend.API, bits []frontend.Variable, in []frontend.Variable) frontend.Variable {
	level := in
	for _, b := range bits {
		next := make([]frontend.Variable, len(level)/2)
		for i := range next {
			next[i] = api.Select(b, level[2*i+1], level[2*i])
		}
		level = next
	}
	return level[0]
}
