package circuits

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	groth16 "github.com/consensys/gnark/backend/groth16/bn254"
)

// batchProofs are a few real proofs with their statements, made once.
var (
	batchOnce sync.Once
	batchPs   [][]byte
	batchPubs []*Public
)

func batchProofs(t testing.TB) ([][]byte, []*Public) {
	batchOnce.Do(func() {
		k := keysT(t)
		for range 3 {
			f := newFixture(t)
			p, pub, err := k.Prove(f.w)
			if err != nil {
				t.Fatal(err)
			}
			batchPs, batchPubs = append(batchPs, p), append(batchPubs, pub)
		}
	})
	if len(batchPs) == 0 {
		t.Fatal("no batch fixture")
	}
	return batchPs, batchPubs
}

// batchFixture returns n valid presentations (a few real proofs, repeated)
// and, for each, a statement that its proof does not prove (Now changed).
func batchFixture(t testing.TB, n int) (proofs [][]byte, good, bad []*Public) {
	t.Helper()
	ps, pubs := batchProofs(t)
	distinct := len(ps)
	for i := range n {
		proofs = append(proofs, ps[i%distinct])
		good = append(good, pubs[i%distinct])
		b := *pubs[i%distinct]
		b.Now++
		bad = append(bad, &b)
	}
	return proofs, good, bad
}

// TestBisection: whatever items of a batch are invalid, exactly those are
// refused, and a batch with one bad item is resolved by bisection, with a
// handful of combined checks and at most two single ones instead of a
// single check per item.
func TestBisection(t *testing.T) {
	const n = 64
	proofs, good, bad := batchFixture(t, n)
	v := keysT(t).Verifier()
	var last *batch
	batchHook = func(b *batch) { last = b }
	defer func() { batchHook = nil }()
	rng := rand.New(rand.NewPCG(1, 2))
	patterns := map[string][]int{
		"none": nil, "first": {0}, "last": {n - 1}, "middle": {31}, "two apart": {5, 40}, "neighbours": {32, 33},
		"three": {2, 17, 50}, "every eighth": {0, 8, 16, 24, 32, 40, 48, 56}, "all": nil,
	}
	for i := range n {
		patterns["all"] = append(patterns["all"], i)
	}
	var random []int
	for i := range n {
		if rng.IntN(20) == 0 {
			random = append(random, i)
		}
	}
	patterns["random 5%"] = random
	for name, badAt := range patterns {
		pubs := append([]*Public(nil), good...)
		want := make([]bool, n)
		for _, i := range badAt {
			pubs[i], want[i] = bad[i], true
		}
		errs := v.VerifyBatch(proofs, pubs)
		for i, err := range errs {
			if (err != nil) != want[i] {
				t.Errorf("%s: item %d: %v, want invalid %v", name, i, err, want[i])
			}
		}
		t.Logf("%-13s %2d bad: %2d combined checks, %2d single", name, len(badAt), last.combined, last.single)
		switch name {
		case "none":
			if last.combined != 1 || last.single != 0 {
				t.Errorf("all valid: %d combined and %d single checks, want one combined", last.combined, last.single)
			}
		case "first", "last", "middle":
			if last.combined > 6 || last.single > 2 {
				t.Errorf("%s: %d combined and %d single checks: not bisection", name, last.combined, last.single)
			}
		case "all":
			if last.single > n {
				t.Errorf("all bad: %d single checks for %d items", last.single, n)
			}
		}
	}
}

// TestBisectionSmall: batches of two and three, where single checks settle
// a failing batch, still name exactly the bad items.
func TestBisectionSmall(t *testing.T) {
	proofs, good, bad := batchFixture(t, 3)
	v := keysT(t).Verifier()
	for n := 2; n <= 3; n++ {
		for mask := range 1 << n {
			pubs := make([]*Public, n)
			for i := range n {
				pubs[i] = good[i]
				if mask&(1<<i) != 0 {
					pubs[i] = bad[i]
				}
			}
			for i, err := range v.VerifyBatch(proofs[:n], pubs) {
				if want := mask&(1<<i) != 0; (err != nil) != want {
					t.Errorf("%s: item %d: %v", fmt.Sprintf("n=%d mask=%b", n, mask), i, err)
				}
			}
		}
	}
}

// BenchmarkVerifyBatchMixed checks batches of 64 with every proof valid,
// and with 5 % invalid (3 of 64, at random places). honest/s counts the
// valid proofs verified per second: with bisection it should stay close
// to the all-valid figure. singles-fallback is the strategy bisection
// replaced (after a failed combined check, every proof alone).
func BenchmarkVerifyBatchMixed(b *testing.B) {
	const n, nbad = 64, 3
	proofs, good, bad := batchFixture(b, n)
	v := keysT(b).Verifier()
	v.Prepare()
	singlesFallback := func(proofs [][]byte, pubs []*Public) []error {
		parsed := make([]*groth16.Proof, n)
		inputs := make([][]fr.Element, n)
		all := make([]int, n)
		for i := range proofs {
			parsed[i], _ = decodeProof(v.id, proofs[i])
			inputs[i], all[i] = pubs[i].Vector(), i
		}
		bt, _ := v.newBatch(parsed, inputs)
		errs := make([]error, n)
		if V, _ := bt.value(all); !V.IsOne() {
			bt.singles(all, errs)
		}
		return errs
	}
	run := func(name string, withBad int, verify func([][]byte, []*Public) []error) {
		b.Run(name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(7, 8))
			honest := 0
			for b.Loop() {
				pubs := append([]*Public(nil), good...)
				for _, i := range rng.Perm(n)[:withBad] {
					pubs[i] = bad[i]
				}
				for _, err := range verify(proofs, pubs) {
					if err == nil {
						honest++
					}
				}
			}
			b.ReportMetric(float64(honest)/b.Elapsed().Seconds(), "honest/s")
		})
	}
	run("all-valid", 0, v.VerifyBatch)
	run("5pct-invalid", nbad, v.VerifyBatch)
	run("5pct-invalid-singles-fallback", nbad, singlesFallback)
}
