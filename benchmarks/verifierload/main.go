// Command verifierload drives a zkcred verifier over loopback HTTP with
// valid and invalid presentations and prints throughput and latency
// percentiles.
//
// It starts its own verifier on 127.0.0.1 (badger in a temporary
// directory, real Groth16 keys from 'zkcred setup' or made on first run),
// anchors one credential in a pinned root, and then runs, bounded by
// --duration and --max-ops:
//
//   - valid: --valid fresh presentations, each answering its own request
//     (a nonce is single use, so each valid presentation is sent once;
//     proving them is the slow part of the preparation);
//   - batch: with --batch B, another --valid presentations in batches of B
//     through /v1/verify/batch;
//   - with --invalid-mix: another --valid fresh presentations twice, one
//     per call from honest clients (one address each), with every 20th call
//     (5 %) an invalid proof, sent first from one other address and then
//     from a new address each time: the honest items per second against
//     the "valid (one per call)" phase show what invalid proofs mixed in
//     cost honest clients;
//   - mixed: presentations that cost a full pairing check but fail it
//     (a disclosed value altered: proof_invalid), plus cheap rejections
//     (unknown root, malformed JSON, replays), closed loop or paced at
//     --rate per second.
//
// Clients are told apart by X-Forwarded-For from loopback (a trusted
// proxy), as behind a reverse proxy.
//
// Usage:
//
//	go run ./benchmarks/verifierload [--valid 128] [--batch 64] [--invalid-mix] [--duration 10s] [--rate 0] [--json]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark/logger"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/home"
	"github.com/zkcred/zkcred/verifier"
)

type phase struct {
	Name      string  `json:"name"`
	Ops       int     `json:"ops"`       // HTTP calls
	Items     int     `json:"items"`     // presentations checked
	Seconds   float64 `json:"seconds"`   // wall time
	PerSecond float64 `json:"perSecond"` // items per second
	// VerifiedPerSecond counts only the items verified (the honest
	// throughput when invalid ones are mixed in).
	VerifiedPerSecond float64        `json:"verifiedPerSecond"`
	P50ms             float64        `json:"p50ms"`
	P90ms             float64        `json:"p90ms"`
	P99ms             float64        `json:"p99ms"`
	Outcomes          map[string]int `json:"outcomes"`
	Rate              float64        `json:"targetRate,omitempty"`
	// CPUms is the process CPU time (server and load generator, user and
	// system) per item: what the machine spends on one presentation,
	// independent of other load on it. Capacity ≈ CPUs × 1000 / CPUms.
	CPUms    float64 `json:"cpuMsPerItem"`
	Capacity float64 `json:"capacityPerSecond"`
}

// cpuTime returns the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type report struct {
	CPUs        int     `json:"cpus"`
	GOMAXPROCS  int     `json:"gomaxprocs"`
	Concurrency int     `json:"concurrency"`
	Coalesce    int     `json:"coalesceProofs"`
	ProveMs     float64 `json:"proveMsEach"`
	Phases      []phase `json:"phases"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "verifierload:", err)
		os.Exit(1)
	}
}

func run() error {
	keysDir := flag.String("keys", home.KeysDir(), "Groth16 key directory (made on first use)")
	nValid := flag.Int("valid", 128, "valid presentations to prove and send (each once)")
	batch := flag.Int("batch", 64, "batch size for the batch phase (0: skip it)")
	duration := flag.Duration("duration", 10*time.Second, "duration of the mixed phase")
	maxOps := flag.Int("max-ops", 200000, "bound on calls in the mixed phase")
	conc := flag.Int("concurrency", 2*runtime.GOMAXPROCS(0), "concurrent clients")
	rate := flag.Float64("rate", 0, "mixed phase: calls per second (0: as fast as possible)")
	asJSON := flag.Bool("json", false, "print JSON")
	coalesce := flag.Int("coalesce", verifier.DefaultCoalesce, "server option CoalesceProofs: batch concurrent proofs up to this many (1: each alone)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the load phases to this file")
	invalidMix := flag.Bool("invalid-mix", false, "add the phases of valid presentations with 5 % invalid proofs mixed in (proves 2 × --valid more)")
	flag.Parse()
	logger.Disable() // gnark logs every proof and verification
	if *nValid < 1 || *nValid > 5000 || *conc < 1 || *conc > 256 || *maxOps < 1 || *duration <= 0 || *duration > 10*time.Minute || *batch < 0 || *batch > 256 {
		return fmt.Errorf("flags out of bounds (valid 1..5000, concurrency 1..256, duration up to 10m, batch 0..256)")
	}
	progress := io.Discard
	if st, err := os.Stderr.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 && !*asJSON {
		progress = os.Stderr
	}

	keys, err := circuits.LoadOrSetup(*keysDir, progress)
	if err != nil {
		return err
	}
	if *coalesce < 1 || *coalesce > 256 {
		return fmt.Errorf("--coalesce must be 1..256")
	}
	h, err := newHarness(keys, *conc, *coalesce)
	if err != nil {
		return err
	}
	defer h.close()

	need := *nValid
	if *batch > 0 {
		need += *nValid
	}
	if *invalidMix {
		need += 2 * *nValid
	}
	fmt.Fprintf(progress, "proving %d presentations...\n", need+1)
	start := time.Now()
	valid := make([][]byte, 0, need)
	for range need {
		p, err := h.present(false)
		if err != nil {
			return err
		}
		valid = append(valid, p)
	}
	bad, err := h.present(true) // full pairing, fails
	if err != nil {
		return err
	}
	rep := report{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Concurrency: *conc, Coalesce: *coalesce,
		ProveMs: float64(time.Since(start).Milliseconds()) / float64(need+1)}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	single, rest := valid[:*nValid], valid[*nValid:]
	honest := func(i int) string { return fmt.Sprintf("10.0.%d.%d", i%*conc>>8, i%*conc&255) }
	rep.Phases = append(rep.Phases, h.drive("valid (one per call)", len(single), 0, time.Hour, func(i int) call {
		return call{"/v1/verify", single[i], 1, honest(i)}
	}))
	if *invalidMix {
		for _, rotate := range []bool{false, true} {
			set := rest[:*nValid]
			rest = rest[*nValid:]
			name := "valid + 5% invalid (one address)"
			if rotate {
				name = "valid + 5% invalid (new address each)"
			}
			// Call i is invalid when i%20 == 19; the valid ones take set in order.
			n := len(set) + len(set)/19
			rep.Phases = append(rep.Phases, h.drive(name, n, 0, time.Hour, func(i int) call {
				if i%20 == 19 {
					from := "203.0.113.66"
					if rotate {
						from = fmt.Sprintf("198.18.%d.%d", i>>8&255, i&255)
					}
					return call{"/v1/verify", bad, 1, from}
				}
				return call{"/v1/verify", set[min(i-i/20, len(set)-1)], 1, honest(i)}
			}))
		}
	}
	forBatch := rest
	if *batch > 0 {
		var bodies [][]byte
		var sizes []int
		for i := 0; i < len(forBatch); i += *batch {
			items := forBatch[i:min(i+*batch, len(forBatch))]
			b, _ := json.Marshal(map[string]any{"presentations": rawList(items)})
			bodies, sizes = append(bodies, b), append(sizes, len(items))
		}
		rep.Phases = append(rep.Phases, h.drive(fmt.Sprintf("valid (batches of %d)", *batch), len(bodies), 0, time.Hour, func(i int) call {
			return call{"/v1/verify/batch", bodies[i], sizes[i], honest(i)}
		}))
	}
	var ur wire.Presentation
	if err := json.Unmarshal(bad, &ur); err != nil {
		return err
	}
	ur.Root = circuits.F(circuits.U64(7)) // no block published it
	unknownRoot, _ := json.Marshal(ur)
	malformed := append(slices.Clone(bad[:len(bad)-1]), []byte(`,"extra":1}`)...)
	mix := []call{
		{"/v1/verify", bad, 1, ""}, {"/v1/verify", bad, 1, ""}, {"/v1/verify", bad, 1, ""}, {"/v1/verify", bad, 1, ""},
		{"/v1/verify", bad, 1, ""}, {"/v1/verify", bad, 1, ""}, {"/v1/verify", bad, 1, ""},
		{"/v1/verify", unknownRoot, 1, ""}, {"/v1/verify", malformed, 1, ""}, {"/v1/verify", single[0], 1, ""},
	}
	rep.Phases = append(rep.Phases, h.drive("mixed invalid (70% full pairing)", *maxOps, *rate, *duration, func(i int) call {
		return mix[i%len(mix)]
	}))

	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(rep)
	}
	fmt.Printf("verifier load: %d CPUs, GOMAXPROCS %d, %d concurrent clients, coalesce %d, proving %.0f ms each\n",
		rep.CPUs, rep.GOMAXPROCS, rep.Concurrency, rep.Coalesce, rep.ProveMs)
	fmt.Printf("%-38s %6s %6s %6s %8s %10s %7s %7s %7s %8s %9s  %s\n", "phase", "calls", "items", "secs", "items/s", "verified/s", "p50 ms", "p90 ms", "p99 ms", "cpu ms/i", "capacity", "outcomes")
	for _, p := range rep.Phases {
		fmt.Printf("%-38s %6d %6d %6.2f %8.0f %10.0f %7.2f %7.2f %7.2f %8.3f %9.0f  %v\n", p.Name, p.Ops, p.Items, p.Seconds, p.PerSecond, p.VerifiedPerSecond, p.P50ms, p.P90ms, p.P99ms, p.CPUms, p.Capacity, p.Outcomes)
	}
	fmt.Println("capacity = CPUs / (process CPU time per item): items per second the machine could check if this process had it to itself")
	return nil
}

func rawList(items [][]byte) []json.RawMessage {
	out := make([]json.RawMessage, len(items))
	for i, b := range items {
		out[i] = b
	}
	return out
}

type call struct {
	path   string
	body   []byte
	items  int
	client string // X-Forwarded-For ("": the loopback peer itself)
}

type harness struct {
	keys   *circuits.Keys
	srv    *verifier.Server
	base   string
	client *http.Client
	cancel context.CancelFunc
	done   chan error
	dir    string
	conc   int

	issuer fr.Element
	w      circuits.Witness
	tree   *circuits.Tree
	idx    uint64
	height uint64
}

const schemaJSON = `{"name":"diploma","version":"1","attributes":[
 {"name":"fullName","type":"string"},{"name":"degree","type":"enum","values":["BSc","MSc","PhD"]},
 {"name":"birthDate","type":"date"},{"name":"gpa","type":"decimal","scale":2},{"name":"graduated","type":"date"}]}`

func newHarness(keys *circuits.Keys, conc, coalesce int) (*harness, error) {
	schema, err := circuits.ParseSchema([]byte(schemaJSON))
	if err != nil {
		return nil, err
	}
	attrs, err := schema.Encode(map[string]any{"fullName": "Ada Lovelace", "degree": "MSc",
		"birthDate": "1990-04-01", "gpa": "3.70", "graduated": "2014-06-30"})
	if err != nil {
		return nil, err
	}
	h := &harness{keys: keys, conc: conc, issuer: circuits.IssuerID([]byte("load-test-university")), height: 200}
	secret := circuits.RandomElement()
	cred := circuits.Credential{SchemaID: schema.ID(), HolderCommit: circuits.HolderCommit(secret),
		Expiry: circuits.NoExpiry, Salt: circuits.RandomElement(), Attrs: attrs}
	h.tree = circuits.NewTree(circuits.Depth)
	h.tree.Append(circuits.RandomElement(), circuits.RandomElement(), circuits.RandomElement())
	if h.idx, err = h.tree.Append(circuits.LeafHash(h.issuer, cred.Commitment())); err != nil {
		return nil, err
	}
	h.w = circuits.Witness{Credential: cred, HolderSecret: secret, IssuerID: h.issuer}
	pinned, err := verifier.NewPinned([]verifier.PinnedRoot{{Root: circuits.F(h.tree.Root()), Height: h.height, Time: time.Now()}}, nil)
	if err != nil {
		return nil, err
	}
	cfg, err := verifier.ParseConfig([]byte(`{"audience":"https://load.example","policies":[{"name":"hire","schema":` + schemaJSON + `,
	 "issuers":{"ids":["` + h.issuer.String() + `"]},"disclose":["degree","graduated"],
	 "predicates":[{"attribute":"birthDate","op":"age_at_least","years":18},{"attribute":"gpa","op":"gte","values":["3.00"]},
	 {"attribute":"degree","op":"in","values":["BSc","MSc"]},{"attribute":"fullName","op":"ne","values":["Mallory"]}],
	 "requestTTL":"1h"}],"createToken":"` + loadCreateToken + `","trustedProxies":["127.0.0.1/32","::1/128"]}`))
	if err != nil {
		return nil, err
	}
	if h.dir, err = os.MkdirTemp("", "verifierload-*"); err != nil {
		return nil, err
	}
	o := cfg.Options()
	o.Dir, o.Proofs, o.Roots, o.RateLimit, o.MaxBatch = h.dir, keys.Verifier(), pinned, -1, 256
	o.CoalesceProofs = coalesce
	if h.srv, err = verifier.New(o); err != nil {
		os.RemoveAll(h.dir)
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0") // loopback only
	if err != nil {
		h.srv.Close()
		os.RemoveAll(h.dir)
		return nil, err
	}
	h.base = "http://" + ln.Addr().String()
	var ctx context.Context
	ctx, h.cancel = context.WithCancel(context.Background())
	h.done = make(chan error, 1)
	go func() { h.done <- h.srv.Serve(ctx, ln) }()
	h.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2, DisableCompression: true}}
	return h, nil
}

// loadCreateToken is the harness verifier's create token.
const loadCreateToken = "verifierload-create-token"

func (h *harness) close() {
	h.cancel()
	<-h.done
	h.srv.Close()
	os.RemoveAll(h.dir)
}

// present creates a request over HTTP and answers it with a real proof;
// broken alters a disclosed value afterwards, so that the proof fails only
// at the pairing check.
func (h *harness) present(broken bool) ([]byte, error) {
	creq, _ := http.NewRequest("POST", h.base+"/v1/requests", bytes.NewReader([]byte(`{}`)))
	creq.Header.Set("Content-Type", "application/json")
	creq.Header.Set("Authorization", "Bearer "+loadCreateToken)
	resp, err := h.client.Do(creq)
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("create request: %d %s", resp.StatusCode, b)
	}
	var created wire.CreatedRequest
	if err := json.Unmarshal(b, &created); err != nil {
		return nil, err
	}
	r := &created.Request
	ids := make([]fr.Element, len(r.TrustList.Issuers))
	for i, id := range r.TrustList.Issuers {
		ids[i] = id.El()
	}
	tl, err := circuits.NewTrustList(ids)
	if err != nil {
		return nil, err
	}
	q, err := r.Query.Circuit()
	if err != nil {
		return nil, err
	}
	w := h.w
	w.LeafIndex, w.Path = h.idx, h.tree.Path(h.idx)
	w.TrustIndex, w.TrustPath, _ = tl.Path(h.issuer)
	w.Root, w.Height = h.tree.Root(), h.height
	w.TrustRoot, w.Now, w.Nonce, w.Audience, w.Scope, w.Query = r.TrustList.Root.El(), r.Now, r.Nonce.El(), r.AudienceID.El(), r.ScopeID.El(), q
	proof, pub, err := h.keys.Prove(&w)
	if err != nil {
		return nil, err
	}
	p := wire.Presentation{RequestID: r.ID, Nonce: r.Nonce, Height: pub.Height, Root: circuits.F(pub.Root),
		Proof: proof, Nullifier: circuits.F(pub.Nullifier), Disclosed: map[string]circuits.Field{}}
	for i, a := range r.Attributes {
		if q.Disclose&(1<<i) != 0 {
			p.Disclosed[a.Name] = circuits.F(pub.Disclosed[i])
		}
	}
	if broken {
		p.Disclosed["degree"] = circuits.F(circuits.U64(2))
	}
	return json.Marshal(p)
}

// drive sends calls from conc workers until n calls, the duration, or (with
// rate > 0) the pacing schedule ends, and summarises latencies.
func (h *harness) drive(name string, n int, rate float64, d time.Duration, next func(i int) call) phase {
	conc := h.conc
	var (
		mu       sync.Mutex
		lat      []time.Duration
		outcomes = map[string]int{}
		items    int64
		ctr      atomic.Int64
	)
	runtime.GC() // the proving phase leaves a large heap behind; don't bill it here
	start := time.Now()
	cpu0 := cpuTime()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			localOut := map[string]int{}
			for {
				i := int(ctr.Add(1) - 1)
				if i >= n || time.Now().After(deadline) {
					break
				}
				if rate > 0 {
					at := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
					if wait := time.Until(at); wait > 0 {
						time.Sleep(wait)
					}
				}
				c := next(i)
				t0 := time.Now()
				h.post(c, localOut)
				// With pacing, latency counts from the scheduled send time.
				if sched := start.Add(time.Duration(float64(i) / rate * float64(time.Second))); rate > 0 && sched.Before(t0) {
					t0 = sched
				}
				local = append(local, time.Since(t0))
				atomic.AddInt64(&items, int64(c.items))
			}
			mu.Lock()
			lat = append(lat, local...)
			for k, v := range localOut {
				outcomes[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	cpu := cpuTime() - cpu0
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	return phase{Name: name, Ops: len(lat), Items: int(items), Seconds: el.Seconds(),
		PerSecond: float64(items) / el.Seconds(), VerifiedPerSecond: float64(outcomes["verified"]) / el.Seconds(),
		P50ms: pct(0.50), P90ms: pct(0.90), P99ms: pct(0.99),
		Outcomes: outcomes, Rate: rate,
		CPUms:    float64(cpu.Microseconds()) / 1000 / float64(max(items, 1)),
		Capacity: float64(runtime.NumCPU()) * float64(items) / cpu.Seconds()}
}

// post sends one call and counts outcomes (per item for batches).
func (h *harness) post(c call, out map[string]int) int {
	req, _ := http.NewRequest("POST", h.base+c.path, bytes.NewReader(c.body))
	req.Header.Set("Content-Type", "application/json")
	if c.client != "" {
		req.Header.Set("X-Forwarded-For", c.client)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		out["transport_error"]++
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		out[fmt.Sprintf("http_%d", resp.StatusCode)]++
		return resp.StatusCode
	}
	if c.path == "/v1/verify/batch" && resp.StatusCode == 200 {
		var br wire.BatchResponse
		if json.Unmarshal(b, &br) == nil {
			for _, r := range br.Results {
				if r.Status == wire.StatusVerified {
					out["verified"]++
				} else {
					out[r.Code]++
				}
			}
		}
		return resp.StatusCode
	}
	if resp.StatusCode == 200 {
		out["verified"]++
		return 200
	}
	var eb struct{ Code string }
	json.Unmarshal(b, &eb)
	out[eb.Code]++
	return resp.StatusCode
}
