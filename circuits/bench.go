package circuits

import (
	"fmt"
	"slices"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// MedianWarmProve times n presentation proofs of the sample credential from
// a prover state, each answering a new request (nonce, audience, time,
// disclosure and predicates all differ from the state's), and returns the
// median. It fails if a proof does not come from the state or does not
// verify.
func MedianWarmProve(k *Keys, n int) (time.Duration, error) {
	s, err := newSample()
	if err != nil {
		return 0, err
	}
	var st ProverState
	if err := k.UpdateState(&st, s.Witness); err != nil {
		return 0, err
	}
	other := *s.Witness
	other.Audience = AudienceID("https://border-desk.example")
	other.Query = Query{Disclose: 1 << sampleGrad}
	for i, p := range []struct {
		slot int
		op   string
		v    fr.Element
	}{{sampleGrad, "gte", U64(20200101)}, {sampleHonour, "eq", U64(1)}, {sampleBirth, "lt", U64(20070101)}, {sampleGPA, "gte", U64(350)}} {
		if other.Query.Predicates[i], err = NewPredicate(p.slot, p.op, p.v); err != nil {
			return 0, err
		}
	}
	times := make([]time.Duration, 0, n)
	for i := range n {
		w := other
		w.Nonce, w.Now = RandomBytes31(), s.Witness.Now+uint64(i)+1
		start := time.Now()
		proof, pub, info, err := k.ProveFrom(&st, &w)
		if err != nil {
			return 0, err
		}
		times = append(times, time.Since(start))
		if !info.Incremental {
			return 0, fmt.Errorf("warm proof not made from the state: %w", info.Fallback)
		}
		if err := k.Verifier().Verify(proof, pub); err != nil {
			return 0, err
		}
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}
