package node

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/api"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/store"
)

// BenchmarkAnchor measures durable anchoring: several issuers submit
// batched anchor transactions concurrently to a node over badger with synced
// writes; a commitment counts once its block has committed. Transactions are
// signed ahead of time, as issuers would do it on their own machines.
func BenchmarkAnchor(b *testing.B) {
	b.Run("inprocess", func(b *testing.B) { benchAnchor(b, false) })
	b.Run("http", func(b *testing.B) { benchAnchor(b, true) })
}

func benchAnchor(b *testing.B, overHTTP bool) {
	const issuers, perTx = 8, 2500
	keys := make([]ed25519.PrivateKey, issuers)
	var is []registry.RegisterIssuer
	for i := range keys {
		_, keys[i], _ = ed25519.GenerateKey(nil)
		is = append(is, registry.RegisterIssuer{PubKey: hex.EncodeToString(keys[i].Public().(ed25519.PublicKey)), Name: "I", Kind: "university"})
	}
	g, _, prod, _ := registry.NewGenesis("bench", time.Now(), is...)
	dir := b.TempDir()
	if err := store.Init(dir, g, prod, store.Options{}); err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	n, _ := New(st, prod, Options{Heartbeat: -1})
	n.Start()
	defer n.Stop()
	submit := n.Submit
	if overHTTP {
		srv := httptest.NewServer(api.New(st, n, api.Options{}))
		defer srv.Close()
		c, _ := client.New(srv.URL, client.Options{})
		submit = c.Submit
	}
	// sign all transactions first
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
	var done atomic.Int64
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, tx := range txs[w] {
				if _, err := submit(context.Background(), tx); err != nil {
					b.Error(err)
					return
				}
				done.Add(perTx)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	b.ReportMetric(float64(done.Load())/el.Seconds(), "commitments/s")
	// CPU time of the whole process per commitment: on a shared machine
	// this, not the wall clock, shows what two idle cores would sustain
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(done.Load()), "cpu-µs/commitment")
	b.ReportMetric(float64(st.Latest().Height), "blocks")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
