package node

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
)

// BenchmarkAnchor measures durable anchoring on the CometBFT chain:
// several issuers submit batched anchor transactions concurrently; a
// commitment counts once it is acknowledged (the block after its block has
// committed, so its state is signed). Transactions are signed ahead of
// time, as issuers would do it on their own machines. "one" is the
// embedded one-validator chain, "four" four validators in this process
// (every one re-hashes every leaf), both over badger with synced writes.
func BenchmarkAnchor(b *testing.B) {
	b.Run("one/inprocess", func(b *testing.B) { benchAnchor(b, 1, 8, false) })
	b.Run("one/http", func(b *testing.B) { benchAnchor(b, 1, 8, true) })
	b.Run("four/http", func(b *testing.B) { benchAnchor(b, 4, 8, true) })
	// the same with more or fewer issuers waiting at once: with one
	// transaction of each in flight, a run is bound by the commitments in
	// flight over the acknowledgement latency (Little's law) until the
	// cores are busy
	for _, n := range []int{4, 6, 12, 16} {
		b.Run(fmt.Sprintf("one/inprocess/issuers=%d", n), func(b *testing.B) { benchAnchor(b, 1, n, false) })
		b.Run(fmt.Sprintf("four/http/issuers=%d", n), func(b *testing.B) { benchAnchor(b, 4, n, true) })
	}
}

// benchAnchor runs issuers concurrent issuers, each with one
// 2,500-commitment anchor transaction in flight at a time.
func benchAnchor(b *testing.B, validators, issuers int, overHTTP bool) {
	const perTx = 2500
	keys := make([]ed25519.PrivateKey, issuers)
	var is []registry.RegisterIssuer
	for i := range keys {
		_, keys[i], _ = ed25519.GenerateKey(nil)
		is = append(is, registry.RegisterIssuer{PubKey: hex.EncodeToString(keys[i].Public().(ed25519.PublicKey)), Name: "I", Kind: "university"})
	}
	var svcs []*Service
	var g *registry.Genesis
	if validators == 1 {
		dir := b.TempDir()
		d, err := InitDir(dir, "bench", is, KeyOptions{})
		if err != nil {
			b.Fatal(err)
		}
		g = d.Genesis
		// badger's default options, as a registry runs (the tests'
		// smaller memtables cannot hold a full block in one transaction)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		s, err := StartDir(dir, ln, ServiceOptions{Node: Options{Heartbeat: -1}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close(context.Background()) })
		svcs = []*Service{s}
	} else {
		var ds []*Dir
		ds, svcs = startConsortium(b, validators, is, nil)
		g = ds[0].Genesis
	}
	// the issuers spread over the validators' APIs
	submit := make([]func(context.Context, *registry.Tx) (*registry.Receipt, error), issuers)
	for w := range submit {
		s := svcs[w%len(svcs)]
		submit[w] = s.Node.Submit
		if overHTTP {
			c, _ := client.New(s.URL, client.Options{})
			submit[w] = c.Submit
		}
	}
	txsPer := max(1, b.N/(issuers*perTx)+1)
	txs := make([][]*registry.Tx, issuers)
	seq := uint64(0)
	for w := range keys {
		for j := range txsPer {
			cs := make([]circuits.Field, perTx)
			for i := range cs {
				seq++
				cs[i] = circuits.F(circuits.U64(seq))
			}
			tx, _ := registry.NewTx(g.ChainID, keys[w], uint64(j+1), registry.Anchor{Commitments: cs})
			txs[w] = append(txs[w], tx)
		}
	}
	h0 := svcs[0].Store.Latest().Height
	c0 := svcs[0].Node.Height()
	var done atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, tx := range txs[w] {
				t0 := time.Now()
				if _, err := submit[w](context.Background(), tx); err != nil {
					b.Error(err)
					return
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
				done.Add(perTx)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(done.Load())/el.Seconds(), "commitments/s")
	// CPU time of the whole process (every validator) per commitment: on a
	// shared machine this, not the wall clock, shows what two idle cores
	// would sustain
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(done.Load()), "cpu-µs/commitment")
	b.ReportMetric(float64(svcs[0].Store.Latest().Height-h0), "blocks")
	// consensus rounds beyond the first (a proposal or votes that came
	// too late): each costs a propose or vote timeout
	rounds := 0
	bs := svcs[0].Node.CometBFT().BlockStore()
	for h := c0 + 1; h <= bs.Height(); h++ {
		if c := bs.LoadBlockCommit(h); c != nil {
			rounds += int(c.Round)
		} else if c := bs.LoadSeenCommit(h); c != nil {
			rounds += int(c.Round)
		}
	}
	b.ReportMetric(float64(rounds), "extra-rounds")
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "ack-p99-ms")
		b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "ack-p50-ms")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
