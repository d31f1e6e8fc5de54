package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/node"
)

// TestRegistrySIGKILL starts the real binary, anchors continuously from two
// issuers, kills the registry with SIGKILL at random moments, restarts it,
// and checks that every acknowledged anchor is at its index, that no index
// is missing, and that audit passes.
func TestRegistrySIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	t.Parallel()
	tmp := t.TempDir()
	bin := buildZkcred(t)
	keys := make([]ed25519.PrivateKey, 2)
	var is []registry.RegisterIssuer
	for i := range keys {
		_, keys[i], _ = ed25519.GenerateKey(nil)
		is = append(is, registry.RegisterIssuer{PubKey: hex.EncodeToString(keys[i].Public().(ed25519.PublicKey)), Name: "Issuer", Kind: "university"})
	}
	ij, _ := json.Marshal(is)
	os.WriteFile(filepath.Join(tmp, "issuers.json"), ij, 0o600)
	dir := filepath.Join(tmp, "reg")
	initCmd := exec.Command(bin, "registry", "init", "--dir", dir, "--chain-id", "kill-test", "--issuers", filepath.Join(tmp, "issuers.json"), "--work-factor", "10")
	initCmd.Env = append(os.Environ(), passphraseEnv+"=kill-test")
	if out, err := initCmd.CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	d, err := node.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ids := []fr.Element{circuits.IssuerID(keys[0].Public().(ed25519.PublicKey)), circuits.IssuerID(keys[1].Public().(ed25519.PublicKey))}

	start := func() (*exec.Cmd, *client.Client) {
		t.Helper()
		cmd := exec.Command(bin, "registry", "start", "--dir", dir, "--addr", "127.0.0.1:0", "--interval", "2ms")
		out, _ := cmd.StdoutPipe()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("registry did not start: %v\n%s", err, stderr.String())
		}
		f := strings.Fields(line)
		c, err := client.New(f[3], client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return cmd, c
	}

	// acked[index] = leaf expected there; sent holds every leaf ever sent
	acked := map[uint64]fr.Element{}
	sent := map[fr.Element]bool{}
	var mu sync.Mutex
	seq := uint64(0)
	const rounds = 22
	for round := 0; round < rounds; round++ {
		cmd, c := start()
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range keys {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := c.NewSigner(ctx, d.Genesis.ChainID, keys[w])
				if err != nil {
					return
				}
				for ctx.Err() == nil {
					cs := make([]circuits.Field, 1+rand.IntN(64))
					leaves := make([]fr.Element, len(cs))
					mu.Lock()
					for i := range cs {
						seq++
						cs[i] = circuits.F(circuits.U64(seq))
						leaves[i] = circuits.LeafHash(ids[w], cs[i].El())
						sent[leaves[i]] = true
					}
					mu.Unlock()
					rc, err := s.Do(ctx, registry.Anchor{Commitments: cs})
					if err != nil {
						return
					}
					mu.Lock()
					for i, idx := range rc.Indices() {
						acked[idx] = leaves[i]
					}
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(30+rand.IntN(250)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		cancel()
		wg.Wait()
	}
	if len(acked) == 0 {
		t.Fatal("nothing was acknowledged")
	}

	cmd, c := start()
	ctx := context.Background()
	// After a restart CometBFT commits what its log still held and the
	// block that signs it: wait (bounded) until the chain stands still.
	var h *registry.Header
	for try := 0; ; try++ {
		h1, err := c.Latest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		h2, err := c.Latest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h1.Hash() == h2.Hash() {
			h = h2
			break
		}
		if try == 50 {
			t.Fatal("the restarted registry does not settle")
		}
	}
	t.Logf("%d kills, %d acknowledged leaves, %d leaves in the tree at height %d", rounds, len(acked), h.CredSize, h.Height)
	for idx := range acked {
		if idx >= h.CredSize {
			t.Fatalf("acknowledged leaf %d beyond tree size %d", idx, h.CredSize)
		}
	}
	for b := uint64(0); b <= registry.BucketOf(h.CredSize-1); b++ {
		bk, err := c.Witness(ctx, b<<registry.BucketBits)
		if err != nil {
			t.Fatal(err)
		}
		if bk.Root != h.CredRoot {
			t.Fatal("bucket at another height")
		}
		for i, l := range bk.Leaves {
			idx := b<<registry.BucketBits + uint64(i)
			if idx >= h.CredSize {
				if !l.IsZero() {
					t.Fatalf("leaf %d set beyond the tree size", idx)
				}
				continue
			}
			if l.IsZero() {
				t.Fatalf("gap: leaf %d is empty", idx)
			}
			if want, ok := acked[idx]; ok && want != l.El() {
				t.Fatalf("acknowledged leaf %d changed", idx)
			}
			if !sent[l.El()] {
				t.Fatalf("leaf %d holds something never sent", idx)
			}
		}
		if _, _, err := bk.Path(b << registry.BucketBits); err != nil {
			t.Fatal(err)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("clean stop: %v", err)
	}
	out, err := exec.Command(bin, "registry", "audit", "--dir", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "audit passed") {
		t.Fatalf("audit: %v\n%s", err, out)
	}
}
