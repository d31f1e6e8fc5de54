package node

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	cmtversion "github.com/cometbft/cometbft/api/cometbft/version/v1"
	"github.com/cometbft/cometbft/crypto"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/light"
)

// TestLightClientAcrossValidatorChange runs four validators; governance
// replaces one of them with a new key. A light client that follows the
// chain verifies across the change; one that was offline across it
// catches up by skipping, in a few requests; and a commit at a later height
// signed by the removed validator, alone or with every genesis validator,
// is refused.
func TestLightClientAcrossValidatorChange(t *testing.T) {
	if testing.Short() {
		t.Skip("runs four CometBFT validators")
	}
	_, uni, _ := ed25519.GenerateKey(nil)
	ds, svcs := startConsortium(t, 4, []registry.RegisterIssuer{{PubKey: pubHex(uni), Name: "Uni", Kind: "university"}}, nil)
	g := ds[0].Genesis
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	api, _ := client.New(svcs[0].URL, client.Options{})
	signer, err := api.NewSigner(ctx, g.ChainID, uni)
	if err != nil {
		t.Fatal(err)
	}
	anchored := uint64(0)
	anchor := func() {
		t.Helper()
		anchored++
		if _, err := signer.Do(ctx, registry.Anchor{Commitments: []circuits.Field{circuits.F(circuits.U64(anchored))}}); err != nil {
			t.Fatalf("anchor %d: %v", anchored, err)
		}
	}
	anchor()
	anchor()
	dir := t.TempDir()
	follow, _ := light.New(g, svcs[0].URL, light.Options{Path: filepath.Join(dir, "follow.jsonl")})
	defer follow.Close()
	// the offline client skips when 20 blocks behind (the default is 1,000)
	var requests atomic.Int64
	target, _ := url.Parse(svcs[0].URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	counted := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		proxy.ServeHTTP(w, r)
	}))
	defer counted.Close()
	offPath := filepath.Join(dir, "offline.jsonl")
	offline, _ := light.New(g, counted.URL, light.Options{Path: offPath, SkipGap: 20})
	for _, lc := range []*light.Client{follow, offline} {
		if _, err := lc.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	offH, _ := offline.LatestHeight()
	offline.Close()

	// governance replaces validator 3 by a new key
	home := ds[3].CometHome()
	retired := privval.LoadFilePV(filepath.Join(home, "config", "priv_validator_key.json"), filepath.Join(home, "data", "priv_validator_state.json")).Key.PrivKey
	newcomer := cmted25519.GenPrivKey()
	gov, err := api.NewSigner(ctx, g.ChainID, ds[0].Governance)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := gov.Sign(registry.UpdateValidators{Validators: []registry.Validator{
		{PubKey: hex.EncodeToString(retired.PubKey().Bytes()), Power: 0},
		{PubKey: hex.EncodeToString(newcomer.PubKey().Bytes()), Power: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < g.Threshold; i++ {
		tx.Approve(g.ChainID, ds[i].Governance)
	}
	if _, err := api.Submit(ctx, tx); err != nil {
		t.Fatalf("governance replaces a validator: %v", err)
	}
	// anchor until the new set signs and the chain is well past the
	// offline client; the follower syncs all along
	for {
		anchor()
		if _, err := follow.Sync(ctx); err != nil {
			t.Fatalf("following across the validator change: %v", err)
		}
		latest, _ := follow.LatestHeight()
		lb := lightBlock(t, api, ctx, latest)
		if !lb.ValidatorSet.HasAddress(retired.PubKey().Address()) && lb.ValidatorSet.HasAddress(newcomer.PubKey().Address()) && latest >= offH+30 {
			break
		}
	}

	// the offline client catches up by skipping
	offline, err = light.New(g, counted.URL, light.Options{Path: offPath, SkipGap: 20})
	if err != nil {
		t.Fatal(err)
	}
	defer offline.Close()
	requests.Store(0)
	h, err := offline.Sync(ctx)
	if err != nil {
		t.Fatalf("offline client across the validator change: %v", err)
	}
	if h.Height < offH+30 {
		t.Fatalf("offline client at %d, was at %d", h.Height, offH)
	}
	if n := requests.Load(); n > 8 {
		t.Fatalf("%d requests to skip from %d to %d", n, offH, h.Height)
	}
	if _, ok := offline.Header(offH + 5); ok {
		t.Fatal("the offline client verified the blocks it skipped")
	}

	// a commit signed by the retired validator at a later height
	v, _ := follow.Latest()
	next := *v
	next.Height, next.PrevHash, next.Time = v.Height+1, v.Hash(), v.Time+1000
	next.CredRoot = circuits.F(circuits.U64(666)) // a root nobody anchored
	next.AppHash = registry.AppHash(next.CredRoot, next.CredSize, next.StateRoot)
	var genesisKeys []crypto.PrivKey
	var genesisVals []*cmttypes.Validator
	for _, d := range ds {
		home := d.CometHome()
		k := privval.LoadFilePV(filepath.Join(home, "config", "priv_validator_key.json"), filepath.Join(home, "data", "priv_validator_state.json")).Key.PrivKey
		genesisKeys = append(genesisKeys, k)
		genesisVals = append(genesisVals, cmttypes.NewValidator(k.PubKey(), 1))
	}
	alone := cmttypes.NewValidatorSet([]*cmttypes.Validator{cmttypes.NewValidator(retired.PubKey(), 1)})
	genesisSet := cmttypes.NewValidatorSet(genesisVals)
	when := time.UnixMilli(next.Time).Add(time.Second)
	for name, lb := range map[string]*cmttypes.LightBlock{
		"by the retired validator alone":                  forgeLightBlock(t, g.ChainID, &next, when, alone, []crypto.PrivKey{retired}),
		"by every genesis validator, the retired one too": forgeLightBlock(t, g.ChainID, &next, when, genesisSet, genesisKeys),
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(forgingRegistry(t, api, proxy, v.Height, &next, lb))
			defer srv.Close()
			lc, _ := light.New(g, srv.URL, light.Options{})
			if _, err := lc.Trust(ctx, int64(v.Height), lightBlock(t, api, ctx, v.Height-1).Hash()); err != nil {
				t.Fatal(err)
			}
			if _, err := lc.Sync(ctx); !errors.Is(err, light.ErrInvalidHeader) {
				t.Fatalf("a commit %s: %v, want ErrInvalidHeader", name, err)
			} else {
				t.Log(err)
			}
			if l, _ := lc.LatestHeight(); l > v.Height {
				t.Fatal("the forged block was verified")
			}
			if _, _, ok := lc.RootInfo(next.CredRoot.El()); ok {
				t.Fatal("the invented root is known to the light client")
			}
		})
	}
}

// lightBlock returns the light block that signs registry block h.
func lightBlock(t *testing.T, api *client.Client, ctx context.Context, h uint64) *cmttypes.LightBlock {
	t.Helper()
	cs, err := api.Commits(ctx, h, h)
	if err != nil || len(cs) != 1 {
		t.Fatalf("commit of block %d: %v", h, err)
	}
	var lb cmttypes.LightBlock
	if err := cmtjson.Unmarshal(cs[0], &lb); err != nil {
		t.Fatal(err)
	}
	return &lb
}

// forgingRegistry answers as the honest registry up to block last, then
// with the block next and the light block lb that claims to sign it.
func forgingRegistry(t *testing.T, api *client.Client, honest http.Handler, last uint64, next *registry.Header, lb *cmttypes.LightBlock) http.Handler {
	forged, err := cmtjson.Marshal(lb)
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		from, _ := strconv.ParseUint(r.URL.Query().Get("from"), 10, 64)
		to, _ := strconv.ParseUint(r.URL.Query().Get("to"), 10, 64)
		switch r.URL.Path {
		case "/v1/headers/latest":
			json.NewEncoder(w).Encode(next)
		case "/v1/headers":
			hs, _ := api.Headers(r.Context(), from, min(to, last))
			if to > last {
				hs = append(hs, *next)
			}
			json.NewEncoder(w).Encode(hs)
		case "/v1/commits":
			cs, _ := api.Commits(r.Context(), from, min(to, last))
			if cs == nil {
				cs = []json.RawMessage{}
			}
			if to > last && from+uint64(len(cs)) == last+1 {
				cs = append(cs, forged)
			}
			json.NewEncoder(w).Encode(cs)
		default:
			honest.ServeHTTP(w, r)
		}
	})
}

// forgeLightBlock signs, with keys, a light block for the state after
// registry block h that names set as its validators.
func forgeLightBlock(t *testing.T, chainID string, h *registry.Header, when time.Time, set *cmttypes.ValidatorSet, keys []crypto.PrivKey) *cmttypes.LightBlock {
	height := int64(h.Height) + 1
	hd := &cmttypes.Header{
		Version: cmtversion.Consensus{Block: version.BlockProtocol}, ChainID: chainID, Height: height, Time: when,
		ValidatorsHash: set.Hash(), NextValidatorsHash: set.Hash(), AppHash: h.AppHash[:],
		ConsensusHash: make([]byte, 32), LastResultsHash: make([]byte, 32), ProposerAddress: set.Validators[0].Address,
	}
	bid := cmttypes.BlockID{Hash: hd.Hash(), PartSetHeader: cmttypes.PartSetHeader{Total: 1, Hash: make([]byte, 32)}}
	sigs := make([]cmttypes.CommitSig, set.Size())
	for i := range sigs {
		sigs[i] = cmttypes.NewCommitSigAbsent()
	}
	for _, k := range keys {
		idx, _ := set.GetByAddress(k.PubKey().Address())
		v := &cmttypes.Vote{ValidatorAddress: k.PubKey().Address(), ValidatorIndex: idx, Height: height, Type: cmttypes.PrecommitType, BlockID: bid, Timestamp: when}
		sig, err := k.Sign(cmttypes.VoteSignBytes(chainID, v.ToProto()))
		if err != nil {
			t.Fatal(err)
		}
		v.Signature = sig
		sigs[idx] = v.CommitSig()
	}
	return &cmttypes.LightBlock{SignedHeader: &cmttypes.SignedHeader{Header: hd, Commit: &cmttypes.Commit{Height: height, BlockID: bid, Signatures: sigs}}, ValidatorSet: set}
}
