package verifier

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
)

// BenchmarkPipeline measures the verifier's own cost per presentation,
// over loopback HTTP, with the pairing check replaced by hashProofs (so
// that the figure is everything but Groth16: JSON, store lookups, the
// acceptance transaction). Requests are created outside the timer.
func BenchmarkPipeline(b *testing.B) {
	for _, endpoint := range []string{"verify", "submit"} {
		b.Run(endpoint, func(b *testing.B) {
			e := newEnv(b, nil)
			alice := e.alice()
			for b.Loop() {
				b.StopTimer()
				r := e.newRequest("hire")
				body, _ := json.Marshal(e.honest(alice, r))
				path := "/v1/verify"
				if endpoint == "submit" {
					path = "/v1/requests/" + r.ID + "/presentations"
				}
				b.StartTimer()
				resp, err := e.http.Client().Post(e.http.URL+path, "application/json", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}

// BenchmarkCoalescedMixed measures the proof path of /v1/verify and of
// submissions (suspect check and coalescer) with real proofs and 16
// concurrent honest clients; in the mixed runs every 20th call (5 %) is an
// invalid proof (a valid one for another statement, so it fails only at
// the pairing check) from an attacker:
//
//   - all-valid: no invalid proofs, the reference figure;
//   - 5pct-one-client: the attacker sends from one address, which is kept
//     out of the coalesced batches after its first failure;
//   - 5pct-new-client-each: every invalid proof from a new address, so
//     each can spoil one batch, which bisection resolves;
//   - 5pct-no-isolation: one address, SuspectFor < 0 (bisection alone).
//
// honest/s counts valid proofs verified per second; the goal is at least
// 80 % of the all-valid figure.
func BenchmarkCoalescedMixed(b *testing.B) {
	e, h := newRealEnv(b)
	type statement struct {
		proof    []byte
		pub, bad *circuits.Public
	}
	var pool []statement
	for range 6 {
		proof, pub := h.proveStatement(b, e.newRequest("hire"))
		bad := *pub
		bad.Now++
		pool = append(pool, statement{proof, pub, &bad})
	}
	for _, bc := range []struct {
		name               string
		bad, rotate, alone bool
	}{
		{"all-valid", false, false, true},
		{"5pct-one-client", true, false, true},
		{"5pct-new-client-each", true, true, true},
		{"5pct-no-isolation", true, false, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e.srv.suspects = nil
			if bc.alone {
				e.srv.suspects = newSuspects(time.Hour)
			}
			var calls, honest, workers atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				me := fmt.Sprintf("10.0.0.%d", workers.Add(1))
				for pb.Next() {
					i := calls.Add(1)
					st := pool[int(i)%len(pool)]
					if bc.bad && i%20 == 0 {
						client := "203.0.113.66"
						if bc.rotate {
							client = fmt.Sprintf("198.18.%d.%d", i>>8&255, i&255)
						}
						if e.srv.checkProof(client, st.proof, st.bad) == nil {
							b.Error("an invalid proof verified")
						}
						continue
					}
					if err := e.srv.checkProof(me, st.proof, st.pub); err != nil {
						b.Errorf("a valid proof failed: %v", err)
						continue
					}
					honest.Add(1)
				}
			})
			b.ReportMetric(float64(honest.Load())/b.Elapsed().Seconds(), "honest/s")
		})
	}
}
