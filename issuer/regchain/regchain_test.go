package regchain

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/issuer/chaintest"
	istore "github.com/zkcred/zkcred/issuer/store"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/node"
)

type env struct {
	key   *issuer.Key
	chain *Chain
	cl    *client.Client
	st    *istore.Store
	is    *issuer.Issuer
}

// newRegistry runs a real registry (badger store, block-producing node,
// HTTP API on loopback) whose genesis registers one issuer.
func newRegistry(t testing.TB) *env {
	t.Helper()
	k, err := issuer.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rdir := filepath.Join(dir, "registry")
	if _, err := node.InitDir(rdir, "issuer-test", []registry.RegisterIssuer{{PubKey: hex.EncodeToString(k.Public()), Name: "Example University", Kind: "university"}}, node.KeyOptions{}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := node.StartDir(rdir, ln, node.ServiceOptions{Node: node.Options{Interval: 5 * time.Millisecond, Heartbeat: -1}})
	if err != nil {
		t.Fatal(err)
	}
	srv := struct{ URL string }{svc.URL}
	cl, err := client.New(srv.URL, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := New(context.Background(), cl, k)
	if err != nil {
		t.Fatal(err)
	}
	ist, err := istore.Open(filepath.Join(dir, "issuer"), istore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ist.Close(); svc.Close(context.Background()) })
	return &env{k, ch, cl, ist, issuer.New(k, ch, ist, issuer.Options{StatusBase: srv.URL + "/v1"})}
}

func subject() map[string]any {
	return map[string]any{"name": "Bo", "birthDate": "2001-01-01", "vaccine": "measles", "dose": 2, "vaccinationDate": "2025-03-01", "lot": "X-1"}
}

func TestIssueAnchorRevokeOnRegistry(t *testing.T) {
	e := newRegistry(t)
	ctx := context.Background()
	vacc := issuer.ExampleSchemas()["vaccination"]
	if err := e.is.PublishSchema(ctx, vacc); err != nil {
		t.Fatal(err)
	}
	if err := e.is.PublishSchema(ctx, vacc); err != nil {
		t.Fatalf("publishing again: %v", err)
	}
	if _, err := e.cl.Schema(ctx, vacc.ID()); err != nil {
		t.Fatalf("schema not on the registry: %v", err)
	}
	var reqs []issuer.Request
	for i := range 3 {
		reqs = append(reqs, issuer.Request{Schema: vacc, Subject: subject(), HolderCommit: circuits.HolderCommit(circuits.U64(uint64(i + 1)))})
	}
	bs, err := e.is.IssueBatch(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	latest, _ := e.cl.Latest(ctx)
	for _, b := range bs {
		if _, err := b.Check(); err != nil {
			t.Fatal(err)
		}
		w, err := e.cl.Witness(ctx, b.Private.LeafIndex)
		if err != nil {
			t.Fatal(err)
		}
		leaf, path, err := w.Path(b.Private.LeafIndex)
		if err != nil {
			t.Fatal(err)
		}
		if leaf != circuits.LeafHash(e.key.IssuerID(), b.Private.Commitment.El()) {
			t.Fatal("registry leaf is not H(issuerID, C)")
		}
		if circuits.RootFromPath(leaf, b.Private.LeafIndex, path) != latest.CredRoot.El() {
			t.Fatal("leaf not under the latest header's root")
		}
		h, _ := e.cl.Header(ctx, b.Private.BlockHeight)
		if h.CredSize <= b.Private.LeafIndex || (b.Private.BlockHeight > 0 && func() bool {
			p, _ := e.cl.Header(ctx, b.Private.BlockHeight-1)
			return p.CredSize > b.Private.LeafIndex
		}()) {
			t.Fatal("recorded height is not the anchoring block")
		}
	}
	// Lookup finds them, with the anchoring block.
	coms := []fr.Element{bs[0].Private.Commitment.El(), circuits.U64(77), bs[2].Private.Commitment.El()}
	got, ok, err := e.chain.Lookup(ctx, coms, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !ok[0] || ok[1] || !ok[2] || got[0] != (issuer.Anchored{LeafIndex: bs[0].Private.LeafIndex, Height: bs[0].Private.BlockHeight}) || got[2].LeafIndex != bs[2].Private.LeafIndex {
		t.Fatalf("lookup %v %v", got, ok)
	}
	if _, ok, _ := e.chain.Lookup(ctx, coms[:1], bs[0].Private.LeafIndex+1); ok[0] {
		t.Fatal("lookup ignored its lower bound")
	}
	// Revocation zeroes the leaf on the registry; revoking again is fine.
	if _, err := e.is.Revoke(ctx, []string{bs[1].Private.CredentialID}, nil); err != nil {
		t.Fatal(err)
	}
	w, _ := e.cl.Witness(ctx, bs[1].Private.LeafIndex)
	if leaf, _, _ := w.Path(bs[1].Private.LeafIndex); !leaf.IsZero() {
		t.Fatal("revoked leaf is not 0 on the registry")
	}
	if _, err := e.is.Revoke(ctx, nil, []uint64{bs[1].Private.LeafIndex}); err != nil {
		t.Fatalf("second revocation: %v", err)
	}
	// The registry refuses a revocation that names the wrong commitment.
	err = e.chain.Revoke(ctx, []issuer.LeafRef{{Index: bs[0].Private.LeafIndex, Commitment: circuits.U64(5)}})
	if !errors.Is(err, registry.ErrForbidden) {
		t.Fatalf("revoking with a wrong commitment: %v", err)
	}
}

// lostAnswer anchors on the registry, then fails as if the process died
// before hearing back.
type lostAnswer struct{ *Chain }

func (l lostAnswer) Anchor(ctx context.Context, coms []fr.Element) ([]issuer.Anchored, error) {
	if _, err := l.Chain.Anchor(ctx, coms); err != nil {
		return nil, err
	}
	return nil, errors.New("simulated crash after the block committed")
}

func TestRecoveryDoesNotAnchorTwice(t *testing.T) {
	e := newRegistry(t)
	ctx := context.Background()
	crashing := issuer.New(e.key, lostAnswer{e.chain}, e.st, issuer.Options{})
	var reqs []issuer.Request
	for i := range 300 { // more than one witness bucket
		reqs = append(reqs, issuer.Request{Schema: issuer.ExampleSchemas()["vaccination"], Subject: subject(), HolderCommit: circuits.HolderCommit(circuits.U64(uint64(i + 1)))})
	}
	if _, err := crashing.IssueBatch(ctx, reqs); err == nil {
		t.Fatal("crash not reported")
	}
	before, _ := e.cl.Latest(ctx)
	if err := e.is.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	after, _ := e.cl.Latest(ctx)
	if n, _ := e.st.CountCredentials(); n != 300 || after.CredSize != before.CredSize || before.CredSize != 300 {
		t.Fatalf("%d credentials, registry size %d → %d", n, before.CredSize, after.CredSize)
	}
}

func TestChainSuite(t *testing.T) {
	chaintest.Run(t, newRegistry(t).chain)
}

// BenchmarkRunBatch10kRegistry issues 10,000 CSV rows on a real registry
// (badger, block producer, HTTP API on loopback, all in this process): rows
// are anchored in transactions of 1,000 and every block is committed with
// synced writes before the issuer records the chunk.
func BenchmarkRunBatch10kRegistry(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("name,birthDate,vaccine,dose,vaccinationDate,lot,holderCommitment\n")
	for i := range 10000 {
		hc := circuits.HolderCommit(circuits.U64(uint64(i + 1)))
		fmt.Fprintf(&sb, "Patient %d,1990-01-01,measles,1,2025-01-01,LOT-%d,%s\n", i, i%97, circuits.Dec(hc))
	}
	data := []byte(sb.String())
	for b.Loop() {
		b.StopTimer()
		e := newRegistry(b)
		out := b.TempDir()
		b.StartTimer()
		rep, err := e.is.RunBatch(context.Background(), issuer.BatchOptions{Schema: issuer.ExampleSchemas()["vaccination"], CSV: data, OutDir: out})
		if err != nil || rep.Issued != 10000 {
			b.Fatalf("%v %+v", err, rep)
		}
	}
}
