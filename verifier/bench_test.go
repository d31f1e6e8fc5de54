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
// submissions (client lanes and coalescers) with real proofs and 16 ×
// GOMAXPROCS concurrent callers. Honest callers are returning clients (one
// address each), or in the -new-honest runs a new address per proof (a
// wallet presents once). In the mixed runs every 20th call (5 %) is an
// invalid proof (a valid one for another statement, so it fails only at
// the pairing check) from an attacker:
//
//   - one-attacker: from one address, which is a suspect after its first
//     failure and checked alone;
//   - attacker-rotates: from a new address each time, so that each lands
//     in the new clients' batches, which bisection resolves;
//   - no-isolation: one address, SuspectFor < 0 (one coalescer for all,
//     bisection alone).
//
// honest/s counts valid proofs verified per second, cpu-ms/honest the
// process CPU time per valid proof verified (steadier on a shared
// machine); the goal is an honest throughput of at least 80 % of the
// all-valid figure of the same kind of honest traffic.
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
		name                            string
		bad, rotate, isolate, newHonest bool
	}{
		{"all-valid", false, false, true, false},
		{"5pct-one-attacker", true, false, true, false},
		{"5pct-attacker-rotates", true, true, true, false},
		{"5pct-no-isolation", true, false, false, false},
		{"all-valid-new-honest", false, false, true, true},
		{"5pct-attacker-rotates-new-honest", true, true, true, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e.srv.clients = nil
			if bc.isolate {
				e.srv.clients = newClients(time.Hour)
			}
			var calls, honest, workers atomic.Int64
			b.SetParallelism(16)
			b.ResetTimer()
			cpu0 := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				me := fmt.Sprintf("10.0.0.%d", workers.Add(1))
				for pb.Next() {
					i := calls.Add(1)
					st := pool[int(i)%len(pool)]
					if bc.bad && i%20 == 0 {
						client := "203.0.113.66"
						if bc.rotate {
							client = fmt.Sprintf("198.%d.%d.%d", 18+i>>16&1, i>>8&255, i&255)
						}
						if e.srv.checkProof(client, st.proof, st.bad) == nil {
							b.Error("an invalid proof verified")
						}
						continue
					}
					client := me
					if bc.newHonest {
						client = fmt.Sprintf("10.%d.%d.%d", 1+i>>16&255, i>>8&255, i&255)
					}
					if err := e.srv.checkProof(client, st.proof, st.pub); err != nil {
						b.Errorf("a valid proof failed: %v", err)
						continue
					}
					honest.Add(1)
				}
			})
			b.ReportMetric(float64(honest.Load())/b.Elapsed().Seconds(), "honest/s")
			if cpu := cpuTime() - cpu0; cpu > 0 {
				// CPU per valid proof verified: the work each honest
				// proof costs, invalid ones' share included.
				b.ReportMetric(float64(cpu.Microseconds())/1000/float64(max(honest.Load(), 1)), "cpu-ms/honest")
			}
		})
	}
}
