package verifier

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
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
