package circuits

import (
	"math/rand/v2"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	groth16 "github.com/consensys/gnark/backend/groth16/bn254"
	"github.com/consensys/gnark/frontend"
)

// rootChange is one credential's witness before and after the registry
// appended a block of 2^14 leaves: far from the append frontier one
// sibling of the path changes, at the frontier fourteen do.
type rootChange struct{ before, after *Witness }

func newRootChanges(b testing.TB) (far, frontier rootChange) {
	b.Helper()
	s, err := newSample()
	if err != nil {
		b.Fatal(err)
	}
	tree := NewTree(Depth)
	leaf := LeafHash(s.Witness.IssuerID, s.Witness.Credential.Commitment())
	fill := func(n int) []fr.Element {
		l := make([]fr.Element, n)
		for i := range l {
			l[i] = RandomElement()
		}
		return l
	}
	tree.Append(fill(5)...)
	farIdx, _ := tree.Append(leaf)
	tree.Append(fill(1<<15 - 6)...)
	frontIdx, _ := tree.Append(leaf) // index 2^15: its right siblings are all empty
	at := func(idx uint64) *Witness {
		w := *s.Witness
		w.LeafIndex, w.Path, w.Root = idx, tree.Path(idx), tree.Root()
		return &w
	}
	far.before, frontier.before = at(farIdx), at(frontIdx)
	tree.Append(fill(1 << 14)...)
	far.after, frontier.after = at(farIdx), at(frontIdx)
	far.after.Height++
	frontier.after.Height++
	return far, frontier
}

// BenchmarkProveIncremental compares gnark's prover, zkcred's full prover
// and proofs from a prover state after each kind of change.
func BenchmarkProveIncremental(b *testing.B) {
	k := keysT(b)
	f := newFixture(b)
	base := f.w
	r := rand.New(rand.NewPCG(1, 2))

	b.Run("gnark", func(b *testing.B) {
		for b.Loop() {
			base.Nonce = RandomBytes31()
			wit, err := frontend.NewWitness(base.assignment(), ecc.BN254.ScalarField())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := groth16.Prove(k.pres.ccs, k.pres.pk, wit); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			base.Nonce = RandomBytes31()
			if _, _, err := k.Prove(base); err != nil {
				b.Fatal(err)
			}
		}
	})

	var st ProverState
	if err := k.UpdateState(&st, base); err != nil {
		b.Fatal(err)
	}
	// Two different requests, alternated, so that every proof differs
	// from the state by a whole request.
	var reqs [2]Witness
	for i := range reqs {
		reqs[i] = *base
		newRequest(b, &reqs[i], r)
	}
	warm := func(b *testing.B, st *ProverState, next func(i int) *Witness) {
		changed := 0
		i := 0
		for b.Loop() {
			w := next(i)
			w.Nonce = RandomBytes31()
			_, _, info, err := k.ProveFrom(st, w)
			if err != nil {
				b.Fatal(err)
			}
			if !info.Incremental {
				b.Fatalf("not incremental: %v", info.Fallback)
			}
			changed += info.Changed
			i++
		}
		b.ReportMetric(float64(changed)/float64(i), "wires")
	}
	b.Run("warm/request", func(b *testing.B) {
		warm(b, &st, func(i int) *Witness { return &reqs[i%2] })
	})
	b.Run("warm/request+scope", func(b *testing.B) {
		scoped := reqs
		scoped[0].Scope, scoped[1].Scope = ScopeID("scope-a"), ScopeID("scope-b")
		warm(b, &st, func(i int) *Witness { return &scoped[i%2] })
	})
	b.Run("warm/nonce", func(b *testing.B) {
		w := *base
		warm(b, &st, func(int) *Witness { return &w })
	})

	far, frontier := newRootChanges(b)
	// The worst case for a refresh: every sibling of the path differs.
	all := rootChange{before: base, after: new(Witness)}
	*all.after = *base
	all.after.Path = make([]fr.Element, Depth)
	for i := range all.after.Path {
		all.after.Path[i] = RandomElement()
	}
	all.after.Root = RootFromPath(LeafHash(base.IssuerID, base.Credential.Commitment()), base.LeafIndex, all.after.Path)
	for _, c := range []struct {
		name string
		rc   rootChange
	}{{"far", far}, {"frontier", frontier}, {"all-levels", all}} {
		var st ProverState
		if err := k.UpdateState(&st, c.rc.before); err != nil {
			b.Fatal(err)
		}
		b.Run("warm/root-"+c.name, func(b *testing.B) {
			warm(b, &st, func(int) *Witness { return c.rc.after })
		})
		b.Run("update/root-"+c.name, func(b *testing.B) {
			for b.Loop() {
				s := st
				if err := k.UpdateState(&s, c.rc.after); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
