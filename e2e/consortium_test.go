package e2e

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/abci"
	"github.com/zkcred/zkcred/registry/client"
)

// consortium is four validators, each a `zkcred registry start` process.
type consortium struct {
	w    *world
	op   *party
	dirs []string
	urls []string
	mu   sync.Mutex
	svcs []*service // nil while a node is down
}

func (c *consortium) start(k int) {
	c.w.t.Helper()
	s := c.w.start(fmt.Sprintf("node%d", k), c.op, "registry", "start", "--dir", c.dirs[k], "--tx-timeout", "3s", "--heartbeat", "-1s")
	c.w.waitHTTP(s, c.urls[k]+"/healthz")
	c.mu.Lock()
	c.svcs[k] = s
	c.mu.Unlock()
}

func (c *consortium) kill(k int) {
	c.mu.Lock()
	s := c.svcs[k]
	c.svcs[k] = nil
	c.mu.Unlock()
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

func (c *consortium) up() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int
	for k, s := range c.svcs {
		if s != nil {
			out = append(out, k)
		}
	}
	return out
}

func (c *consortium) client(k int) *client.Client {
	cl, _ := client.New(c.urls[k], client.Options{})
	return cl
}

// TestConsortium runs four validators as separate processes of the real
// binary on loopback. Three issuers anchor continuously through any node
// that is up while one validator at a time is SIGKILLed at random moments,
// ten times, and restarted; the chain keeps committing with three. Then two
// are down: nothing commits and submissions fail after their timeout with
// a clear error; one returns and the chain resumes. At the end every
// acknowledged anchor is at its index on every node, all nodes hold the
// same headers and app hashes at every height, and `zkcred registry audit`
// passes on every node's directory.
func TestConsortium(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs four validators; skipped with -short")
	}
	t.Parallel()
	w := &world{t: t, dir: t.TempDir()}
	t.Cleanup(w.cleanup)
	w.bin = buildBinary(t)
	op := w.newParty("operator", "governance passphrase")
	keys := make([]ed25519.PrivateKey, 3)
	var is []string
	for i := range keys {
		_, keys[i], _ = ed25519.GenerateKey(nil)
		is = append(is, fmt.Sprintf(`{"pubkey":%q,"name":"Issuer %d","kind":"university"}`, hex.EncodeToString(keys[i].Public().(ed25519.PublicKey)), i))
	}
	issuers := filepath.Join(w.dir, "issuers.json")
	os.WriteFile(issuers, []byte("["+strings.Join(is, ",")+"]"), 0o600)
	base := freePorts(t, 12)
	netDir := filepath.Join(w.dir, "net")
	w.run("registry init --validators 4", op, "registry", "init", "--validators", "4", "--dir", netDir,
		"--chain-id", "consortium-e2e", "--issuers", issuers, "--base-port", fmt.Sprint(base), "--work-factor", "10")
	c := &consortium{w: w, op: op, svcs: make([]*service, 4)}
	for k := range 4 {
		c.dirs = append(c.dirs, filepath.Join(netDir, fmt.Sprintf("node%d", k)))
		c.urls = append(c.urls, fmt.Sprintf("http://127.0.0.1:%d", base+3*k+2))
	}
	for k := range 4 {
		c.start(k)
	}
	ctx := context.Background()
	g, err := c.client(0).Genesis(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// acked[index] = the leaf an acknowledged anchor put there; sent holds
	// every leaf ever submitted.
	var mu sync.Mutex
	acked := map[uint64]fr.Element{}
	sent := map[fr.Element]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, key := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := circuits.IssuerID(key.Public().(ed25519.PublicKey))
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				up := c.up()
				if len(up) == 0 {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				cl := c.client(up[rand.IntN(len(up))])
				rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				nonce, err := cl.LastNonce(rctx, key.Public().(ed25519.PublicKey))
				if err != nil {
					cancel()
					continue
				}
				cs := make([]circuits.Field, 20)
				leaves := make([]fr.Element, len(cs))
				for j := range cs {
					cs[j] = circuits.F(circuits.U64(uint64(i)<<40 | uint64(n)<<8 | uint64(j)))
					leaves[j] = circuits.LeafHash(id, cs[j].El())
				}
				mu.Lock()
				for _, l := range leaves {
					sent[l] = true
				}
				mu.Unlock()
				tx, _ := registry.NewTx(g.ChainID, key, nonce+1, registry.Anchor{Commitments: cs})
				rc, err := cl.Submit(rctx, tx)
				cancel()
				if err != nil {
					continue // killed node, replayed nonce, timeout: not acknowledged
				}
				mu.Lock()
				for j, idx := range rc.Indices() {
					acked[idx] = leaves[j]
				}
				mu.Unlock()
			}
		}()
	}

	// Ten kills at random moments, one validator down at a time.
	height := func(k int) uint64 {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		h, err := c.client(k).Latest(rctx)
		if err != nil {
			return 0
		}
		return h.Height
	}
	for round := range 10 {
		time.Sleep(time.Duration(300+rand.IntN(700)) * time.Millisecond)
		k := rand.IntN(4)
		c.kill(k)
		other := (k + 1) % 4
		before := height(other)
		deadline := time.Now().Add(20 * time.Second)
		for height(other) <= before+1 {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: with node%d down the chain made no block in 20 s (height %d)", round, k, before)
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(500)) * time.Millisecond)
		c.start(k)
	}
	close(stop)
	wg.Wait()
	mu.Lock()
	t.Logf("after 10 kills: %d leaves acknowledged", len(acked))
	mu.Unlock()
	if len(acked) == 0 {
		t.Fatal("nothing was acknowledged")
	}

	// Node 0 takes submissions again before two go down: a node the loop
	// above restarted may still be catching up, and would refuse rather
	// than time out. One anchor through it, acknowledged, shows it is back.
	settleC := circuits.F(circuits.U64(1 << 59))
	settleLeaf := circuits.LeafHash(circuits.IssuerID(keys[0].Public().(ed25519.PublicKey)), settleC.El())
	sent[settleLeaf] = true
	for settle := time.Now().Add(30 * time.Second); ; {
		tx, _ := registry.NewTx(g.ChainID, keys[0], mustNonce(t, c.client(0), keys[0])+1, registry.Anchor{Commitments: []circuits.Field{settleC}})
		rc, err := c.client(0).Submit(ctx, tx)
		if err == nil {
			acked[rc.Indices()[0]] = settleLeaf
			break
		}
		if time.Now().After(settle) {
			t.Fatalf("node0 took no submission in 30 s with all four up: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Two of four down: no block, and a submission fails with a clear error.
	c.kill(2)
	c.kill(3)
	time.Sleep(500 * time.Millisecond) // a block in flight may still finish
	stalled := height(0)
	stalledC := circuits.F(circuits.U64(1 << 60))
	sent[circuits.LeafHash(circuits.IssuerID(keys[0].Public().(ed25519.PublicKey)), stalledC.El())] = true
	tx, _ := registry.NewTx(g.ChainID, keys[0], mustNonce(t, c.client(0), keys[0])+1, registry.Anchor{Commitments: []circuits.Field{stalledC}})
	start := time.Now()
	_, err = c.client(0).Submit(ctx, tx)
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 503 || !strings.Contains(ae.Message, "not committed in time") {
		t.Fatalf("submission with two of four validators down: %v, want 503 not committed in time", err)
	}
	t.Logf("with two of four down the submission failed after %v: %s", time.Since(start).Round(time.Millisecond), ae.Message)
	if h0, h1 := height(0), height(1); h0 != stalled || h1 != stalled {
		t.Fatalf("blocks committed with two of four validators down: %d, %d after %d", h0, h1, stalled)
	}
	// one returns: the chain resumes, and the stalled transaction commits
	c.start(2)
	deadline := time.Now().Add(30 * time.Second)
	for height(0) <= stalled+1 {
		if time.Now().After(deadline) {
			t.Fatal("the chain did not resume with three of four validators")
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.start(3)

	// Every node catches up to the same height.
	var top uint64
	deadline = time.Now().Add(30 * time.Second)
	for {
		hs := []uint64{height(0), height(1), height(2), height(3)}
		if hs[0] == hs[1] && hs[1] == hs[2] && hs[2] == hs[3] && hs[0] > stalled {
			top = hs[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nodes did not converge: heights %v", hs)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Every acknowledged leaf is at its index on every node; no leaf that
	// was never sent is anywhere.
	for k := range 4 {
		cl := c.client(k)
		buckets := map[uint64]*registry.Bucket{}
		for idx, want := range acked {
			b := buckets[registry.BucketOf(idx)]
			if b == nil {
				if b, err = cl.Witness(ctx, idx); err != nil {
					t.Fatal(err)
				}
				buckets[registry.BucketOf(idx)] = b
				for j, l := range b.Leaves {
					if e := l.El(); !e.IsZero() && !sent[e] {
						t.Fatalf("node%d: leaf %d was never sent", k, registry.BucketOf(idx)*registry.BucketSize+uint64(j))
					}
				}
			}
			if got := b.Leaves[idx%registry.BucketSize].El(); got != want {
				t.Fatalf("node%d: acknowledged leaf %d is not there", k, idx)
			}
		}
	}
	// The same headers, hence app hashes, at every height on every node.
	ref, err := c.client(0).Headers(ctx, 0, top)
	if err != nil {
		t.Fatal(err)
	}
	for from := uint64(len(ref)); from <= top; from = uint64(len(ref)) {
		more, err := c.client(0).Headers(ctx, from, top)
		if err != nil || len(more) == 0 {
			t.Fatalf("headers from %d: %v", from, err)
		}
		ref = append(ref, more...)
	}
	for k := 1; k < 4; k++ {
		for from := uint64(0); from <= top; {
			hs, err := c.client(k).Headers(ctx, from, top)
			if err != nil || len(hs) == 0 {
				t.Fatalf("node%d headers from %d: %v", k, from, err)
			}
			for _, h := range hs {
				if h.Hash() != ref[h.Height].Hash() || string(abci.AppHash(&h)) != string(abci.AppHash(&ref[h.Height])) {
					t.Fatalf("node%d: block %d differs from node0's", k, h.Height)
				}
			}
			from = hs[len(hs)-1].Height + 1
		}
	}
	t.Logf("%d blocks agree on four nodes", top+1)

	// status names the validators and who signed the last block
	out := w.run("registry status", op, "registry", "status", "--registry", c.urls[0])
	if !strings.Contains(out, "validator-3") || !strings.Contains(out, "app hash") {
		t.Fatalf("status lacks the validators or the app hash:\n%s", out)
	}

	// Stop every node cleanly; audit each directory.
	for k := range 4 {
		c.mu.Lock()
		s := c.svcs[k]
		c.mu.Unlock()
		w.stop(s)
	}
	for k := range 4 {
		out := w.run(fmt.Sprintf("registry audit node%d", k), op, "registry", "audit", "--dir", c.dirs[k])
		if !strings.Contains(out, "audit passed") {
			t.Fatalf("audit of node%d: %s", k, out)
		}
	}
}

func mustNonce(t *testing.T, cl *client.Client, key ed25519.PrivateKey) uint64 {
	t.Helper()
	n, err := cl.LastNonce(context.Background(), key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
