package api_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/api"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/store"
)

var million struct {
	once sync.Once
	dir  string
	keep bool
	err  error
}

// millionStore builds, once per process, a registry of 2^20 leaves (or
// ZKCRED_BENCH_LEAVES) in blocks of 16,384 and closes it.
func millionStore(b *testing.B) string {
	million.once.Do(func() {
		n := 1 << 20
		if s := os.Getenv("ZKCRED_BENCH_LEAVES"); s != "" {
			n, _ = strconv.Atoi(s)
		}
		// ZKCRED_BENCH_DIR keeps the registry between runs
		dir := os.Getenv("ZKCRED_BENCH_DIR")
		if dir != "" {
			if st, err := store.Open(dir, store.Options{}); err == nil {
				st.Close()
				million.keep, million.dir = true, dir
				return
			}
		} else {
			var err error
			if dir, err = os.MkdirTemp("", "zkcred-bench-million-"); err != nil {
				million.err = err
				return
			}
		}
		million.dir, million.keep = dir, os.Getenv("ZKCRED_BENCH_DIR") != ""
		_, uni, _ := ed25519.GenerateKey(nil)
		g, _, prod, _ := registry.NewGenesis("bench", time.Unix(1700000000, 0),
			registry.RegisterIssuer{PubKey: hex.EncodeToString(uni.Public().(ed25519.PublicKey)), Name: "Uni", Kind: "university"})
		if million.err = store.Init(dir, g, prod, store.Options{}); million.err != nil {
			return
		}
		st, err := store.Open(dir, store.Options{})
		if err != nil {
			million.err = err
			return
		}
		defer st.Close()
		start := time.Now()
		nonce, seq := uint64(0), uint64(0)
		for done := 0; done < n; {
			latest := st.Latest()
			bl, _ := registry.NewBuilder(g, st, &latest)
			for k := 0; k < 2 && done < n; k++ {
				m := min(8192, n-done)
				cs := make([]circuits.Field, m)
				for i := range cs {
					seq++
					cs[i] = circuits.F(circuits.U64(seq))
				}
				nonce++
				tx, _ := registry.NewTx(g.ChainID, uni, nonce, registry.Anchor{Commitments: cs})
				stx, err := registry.VerifyTx(g.ChainID, tx)
				if err == nil {
					_, err = bl.Apply(stx)
				}
				if err != nil {
					million.err = err
					return
				}
				done += m
			}
			h, txs, w, err := bl.Finish(latest.Time + 1000)
			if err != nil {
				million.err = err
				return
			}
			h.Sign(prod)
			if million.err = st.Commit(&registry.Block{Header: *h, Txs: txs}, w); million.err != nil {
				return
			}
		}
		fmt.Fprintf(os.Stderr, "built a registry of %d leaves in %v\n", n, time.Since(start).Round(time.Millisecond))
	})
	if million.err != nil {
		b.Fatal(million.err)
	}
	return million.dir
}

// BenchmarkMillion measures, on a registry of a million leaves, the latency
// of GET /v1/witness/{bucket} for random buckets over real HTTP (reporting
// p50 and p99), and the time to reopen the store.
func BenchmarkMillion(b *testing.B) {
	dir := millionStore(b)
	b.Run("witness", func(b *testing.B) {
		st, err := store.Open(dir, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		srv := httptest.NewServer(api.New(st, nil, api.Options{}))
		defer srv.Close()
		buckets := st.Latest().CredSize >> registry.BucketBits
		lat := make([]time.Duration, 0, b.N)
		hc := &http.Client{}
		resp, err := hc.Get(srv.URL + "/v1/witness/3")
		if err != nil {
			b.Fatal(err)
		}
		var bk registry.Bucket
		if err := decodeJSON(resp, &bk); err != nil || len(bk.Leaves) != registry.BucketSize {
			b.Fatal(err)
		}
		if _, _, err := bk.Path(3 << registry.BucketBits); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			// request to last byte read; the wallet's decoding is not timed
			t := time.Now()
			resp, err := hc.Get(srv.URL + "/v1/witness/" + strconv.FormatUint(rand.Uint64N(buckets), 10))
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			lat = append(lat, time.Since(t))
			if resp.StatusCode != http.StatusOK || n < 20000 {
				b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
			}
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	})
	// As a wallet fetches it: the bucket over real HTTP, decoded, checked
	// against the app hash of the verified header (cred_root, cred_size
	// and state_root hash to it) and its leaf's full path computed and
	// checked against the root.
	b.Run("witness-proven", func(b *testing.B) {
		st, err := store.Open(dir, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		srv := httptest.NewServer(api.New(st, nil, api.Options{}))
		defer srv.Close()
		cl, _ := client.New(srv.URL, client.Options{})
		hd := st.Latest()
		n := hd.CredSize
		ctx := context.Background()
		lat := make([]time.Duration, 0, b.N)
		for b.Loop() {
			idx := rand.Uint64N(n)
			t := time.Now()
			bk, err := cl.Witness(ctx, idx)
			if err != nil {
				b.Fatal(err)
			}
			if err := bk.VerifyAppHash(hd.AppHash); err != nil {
				b.Fatal(err)
			}
			if _, _, err := bk.Path(idx); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	})
	// An issuer record with its state proof, fetched and verified.
	b.Run("issuer-proven", func(b *testing.B) {
		st, err := store.Open(dir, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		srv := httptest.NewServer(api.New(st, nil, api.Options{}))
		defer srv.Close()
		cl, _ := client.New(srv.URL, client.Options{})
		hd := st.Latest()
		is, err := st.Issuers("university", nil)
		if err != nil || len(is) == 0 {
			b.Fatal(err)
		}
		id := is[0].ID
		ctx := context.Background()
		lat := make([]time.Duration, 0, b.N)
		for b.Loop() {
			t := time.Now()
			a, err := cl.IssuerAnswer(ctx, id.El())
			if err != nil {
				b.Fatal(err)
			}
			if err := a.Verify(hd.AppHash, id); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	})
	b.Run("reopen", func(b *testing.B) {
		for b.Loop() {
			st, err := store.Open(dir, store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := st.Bucket(7); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			st.Close()
			b.StartTimer()
		}
	})
}

func TestMain(m *testing.M) {
	code := m.Run()
	if million.dir != "" && !million.keep {
		os.RemoveAll(million.dir)
	}
	os.Exit(code)
}
