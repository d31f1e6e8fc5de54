package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	abcitypes "github.com/cometbft/cometbft/abci/types"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/abci"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/light"
)

// startConsortium starts n in-process validators on loopback; wrap, if
// set, wraps the application of validator k.
func startConsortium(t testing.TB, n int, issuers []registry.RegisterIssuer, wrap map[int]func(abcitypes.Application) abcitypes.Application) ([]*Dir, []*Service) {
	t.Helper()
	root := t.TempDir()
	dirs := make([]string, n)
	cfgs := make([]NodeConfig, n)
	for k := range n {
		dirs[k] = filepath.Join(root, fmt.Sprintf("node%d", k))
		addr, err := freeAddr()
		if err != nil {
			t.Fatal(err)
		}
		cfgs[k].P2PAddr = addr
	}
	ds, err := InitConsortium(dirs, "consortium-test", issuers, cfgs, KeyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svcs := make([]*Service, n)
	for k := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		// badger's default options: a full block fits one transaction
		o := Options{WrapApp: wrap[k]}
		if _, bench := t.(*testing.B); !bench {
			// tests move on from a down validator's round sooner;
			// benchmarks measure the defaults
			o.ProposeTimeout, o.VoteTimeout = 300*time.Millisecond, 100*time.Millisecond
		}
		s, err := StartDir(dirs[k], ln, ServiceOptions{Node: o})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close(context.Background()) })
		svcs[k] = s
	}
	// wait until every validator takes part in consensus
	deadline := time.Now().Add(30 * time.Second)
	for k := 0; k < n; {
		if !svcs[k].Node.CatchingUp() && svcs[k].Node.Height() >= 1 {
			k++
			continue
		}
		if time.Now().After(deadline) {
			t.Fatalf("validator %d did not join consensus in 30 s", k)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ds, svcs
}

// inventing is a dishonest validator's state machine: to every block it
// applies, it adds an anchor that is in no block, so its state holds a leaf
// nobody anchored.
type inventing struct {
	abcitypes.Application
	tx       []byte
	invented bool
}

func (a *inventing) FinalizeBlock(ctx context.Context, req *abcitypes.FinalizeBlockRequest) (*abcitypes.FinalizeBlockResponse, error) {
	if len(req.Txs) > 0 && !a.invented {
		a.invented = true
		r := *req
		r.Txs = append(append([][]byte(nil), req.Txs...), a.tx)
		res, err := a.Application.FinalizeBlock(ctx, &r)
		if err == nil {
			res.TxResults = res.TxResults[:len(req.Txs)]
		}
		return res, err
	}
	return a.Application.FinalizeBlock(ctx, req)
}

// TestDishonestValidator runs four validators of which one applies a state
// machine that adds a leaf nobody anchored. Its app hash diverges; the
// honest three go on committing; no light client accepts the invented
// root, neither from the dishonest validator's API nor when a server pairs
// its header with the honest validators' commits.
func TestDishonestValidator(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four CometBFT validators")
	}
	_, uni, _ := ed25519.GenerateKey(nil)
	_, forger, _ := ed25519.GenerateKey(nil)
	is := []registry.RegisterIssuer{{PubKey: pubHex(uni), Name: "Uni", Kind: "university"}, {PubKey: pubHex(forger), Name: "Forger", Kind: "university"}}
	// The invented anchor: validly signed by a registered issuer's key, but
	// never submitted, so it is in no block.
	forged := &inventing{}
	ds, svcs := startConsortium(t, 4, is, map[int]func(abcitypes.Application) abcitypes.Application{
		3: func(a abcitypes.Application) abcitypes.Application { forged.Application = a; return forged },
	})
	g := ds[0].Genesis
	inv := circuits.F(circuits.U64(666))
	tx, _ := registry.NewTx(g.ChainID, forger, 1, registry.Anchor{Commitments: []circuits.Field{inv}})
	forged.tx, _ = json.Marshal(tx)
	invLeaf := circuits.LeafHash(circuits.IssuerID(forger.Public().(ed25519.PublicKey)), inv.El())

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	honest, _ := client.New(svcs[0].URL, client.Options{})
	signer, err := honest.NewSigner(ctx, g.ChainID, uni)
	if err != nil {
		t.Fatal(err)
	}
	var last *registry.Receipt
	for i := range 5 {
		if last, err = signer.Do(ctx, registry.Anchor{Commitments: []circuits.Field{circuits.F(circuits.U64(uint64(i + 1)))}}); err != nil {
			t.Fatalf("anchor %d with three honest validators: %v", i, err)
		}
	}
	// the honest three agree and went on; the dishonest one holds a state
	// with one more leaf, and an app hash nobody else has
	hh := svcs[0].Store.Latest()
	if hh.Height <= last.Height || hh.CredSize != 5 {
		t.Fatalf("honest chain at %d with %d leaves", hh.Height, hh.CredSize)
	}
	for k := 1; k < 3; k++ {
		if h, err := svcs[k].Store.Header(last.Height); err != nil || h.Hash() != mustHeader(t, svcs[0], last.Height).Hash() {
			t.Fatalf("honest validator %d differs at block %d: %v", k, last.Height, err)
		}
	}
	bad := svcs[3].Store.Latest()
	if bad.CredSize <= 1 {
		t.Fatalf("the dishonest validator did not diverge: %+v", bad)
	}
	hb, _ := svcs[0].Store.Header(bad.Height)
	if hb != nil && bytes.Equal(abci.AppHash(hb), abci.AppHash(&bad)) {
		t.Fatal("the dishonest validator's app hash equals the honest one")
	}
	b, err := svcs[3].Store.Bucket(0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range b.Leaves {
		if l.El() == invLeaf {
			found = true
		}
	}
	if !found {
		t.Fatal("the dishonest validator's state lacks the invented leaf")
	}

	// A light client following the dishonest validator never verifies
	// its root: no commit signs it.
	lc, err := light.New(g, svcs[3].URL, light.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lh, err := lc.Sync(ctx)
	if err == nil && lh.CredRoot == bad.CredRoot {
		t.Fatal("a light client verified the invented root from the dishonest validator")
	}
	if _, _, ok := lc.RootInfo(bad.CredRoot.El()); ok {
		t.Fatal("the invented root is known to the light client")
	}
	// A server that pairs the dishonest headers with the honest commits.
	hu, _ := url.Parse(svcs[0].URL)
	du, _ := url.Parse(svcs[3].URL)
	mixed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/commits") {
			httputil.NewSingleHostReverseProxy(hu).ServeHTTP(w, r)
			return
		}
		httputil.NewSingleHostReverseProxy(du).ServeHTTP(w, r)
	}))
	defer mixed.Close()
	lc2, _ := light.New(g, mixed.URL, light.Options{})
	if _, err := lc2.Sync(ctx); !errors.Is(err, light.ErrInvalidHeader) {
		t.Fatalf("dishonest headers with honest commits: %v, want ErrInvalidHeader", err)
	}
	if _, _, ok := lc2.RootInfo(bad.CredRoot.El()); ok {
		t.Fatal("the invented root is known to the light client")
	}
	// and against the honest validators, a light client verifies the
	// honest root
	// (once that validator has the commit that signs the last anchor's
	// state, which the receipt from validator 0 does not wait for)
	for svcs[1].Node.Height() < int64(last.Height)+1 {
		if ctx.Err() != nil {
			t.Fatal("validator 1 did not commit the last anchor's state")
		}
		time.Sleep(20 * time.Millisecond)
	}
	lc3, _ := light.New(g, svcs[1].URL, light.Options{})
	if h, err := lc3.Sync(ctx); err != nil || h.CredSize != 5 {
		t.Fatalf("light client on an honest validator: %v %+v", err, h)
	}
}

func mustHeader(t *testing.T, s *Service, h uint64) *registry.Header {
	t.Helper()
	hd, err := s.Store.Header(h)
	if err != nil {
		t.Fatal(err)
	}
	return hd
}
