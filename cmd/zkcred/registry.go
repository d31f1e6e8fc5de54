package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/spf13/cobra"

	"github.com/zkcred/zkcred/internal/keyfile"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/abci"
	"github.com/zkcred/zkcred/registry/api"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/node"
	"github.com/zkcred/zkcred/registry/store"
)

func newRegistryCmd() *cobra.Command {
	return group("registry", "run the registry chain: init, start, status, audit, govern, accredit",
		`The registry is the append-only chain that holds every credential's leaf,
the issuers, schemas and the circuits' verifying-key hashes. A consortium runs
it: 'init' makes the genesis and keys, 'start' serves it, 'govern' signs
governance transactions, 'audit' replays it from genesis. Anyone can read it
('status').`,
		`  zkcred registry init --dir reg --chain-id my-chain
  zkcred registry start --dir reg --addr 127.0.0.1:8700
  zkcred registry status --registry http://127.0.0.1:8700`,
		newRegistryInitCmd(), newRegistryStartCmd(), newRegistryStatusCmd(), newRegistryAuditCmd(), newGovernCmd(), newRegistryAccreditCmd())
}

// keyfileWorkFactor is the default scrypt work factor of a new governance
// key file.
const keyfileWorkFactor = keyfile.DefaultScryptWorkFactor

type registryInitOptions struct {
	dir, chain, issuers, passFile string
	validators, basePort, wf      int
}

// keys reads the new governance keys' passphrase (twice on a terminal),
// after checking what can be checked without it.
func (o registryInitOptions) keys() (node.KeyOptions, error) {
	if !registry.ValidKind(o.chain) || len(o.chain) > node.MaxChainIDLen {
		return node.KeyOptions{}, usagef("check --chain-id", "chain_id %q must be 1 to %d lowercase letters, digits or '-'", o.chain, node.MaxChainIDLen)
	}
	p, err := readPassphrase(passSource{file: o.passFile, prompt: "new governance key passphrase: ", confirm: true, explain: govPassExplain})
	if err != nil {
		return node.KeyOptions{}, err
	}
	return node.KeyOptions{Passphrase: []byte(p), ScryptWorkFactor: o.wf}, nil
}

func newRegistryInitCmd() *cobra.Command {
	var o registryInitOptions
	c := leaf("init", "create a registry directory: genesis, governance and CometBFT validator keys",
		`  zkcred registry init --dir reg --chain-id my-chain
  zkcred registry init --dir reg --issuers issuers.json   # issuers registered in genesis
  zkcred registry init --dir net --validators 4          # net/node0 ... net/node3, one per member`,
		noArgs, func(*cobra.Command, []string) error {
			if o.validators > 1 {
				return registryInitConsortium(o)
			}
			if o.validators < 1 {
				return usagef("give --validators 1 or more", "--validators %d", o.validators)
			}
			return registryInit(o)
		})
	c.Long = `Init makes a registry directory: the genesis, this member's governance key
(encrypted) and CometBFT's validator and node keys. CometBFT reads its own
keys (cometbft/config/priv_validator_key.json, node_key.json) itself at
start, so they stay in its format, readable by the operator only; a
validator that must not keep its signing key on disk uses CometBFT's remote
signer.

` + govPassExplain + `
With --validators N, every node directory's governance key gets the same
passphrase; a member that takes its directory over re-encrypts it.`
	addDirFlag(c, &o.dir, "registry", "registry directory to create")
	c.Flags().StringVar(&o.chain, "chain-id", "zkcred-dev", "chain ID (lowercase letters, digits, '-', at most 50)")
	c.Flags().StringVar(&o.issuers, "issuers", "", `JSON file with the initial issuers: [{"pubkey":hex,"name":...,"kind":...}]`)
	c.Flags().IntVar(&o.validators, "validators", 1, "number of validators; above 1, one node directory each (DIR/node0, DIR/node1, ...)")
	c.Flags().IntVar(&o.basePort, "base-port", 26600, "with --validators above 1: node K listens on 127.0.0.1, P2P at base+3K, CometBFT RPC at base+3K+1, HTTP API at base+3K+2")
	addPassFlag(c, &o.passFile)
	addWorkFactorFlag(c, &o.wf, keyfileWorkFactor)
	return c
}

func readIssuers(issuers string) ([]registry.RegisterIssuer, error) {
	var is []registry.RegisterIssuer
	if issuers != "" {
		b, err := os.ReadFile(issuers)
		if err != nil {
			return nil, usagef("pass a readable JSON file to --issuers", "%v", err)
		}
		if err := json.Unmarshal(b, &is); err != nil {
			return nil, usagef(`the file holds a list like [{"pubkey":"<64 hex>","name":"Uni","kind":"university"}]`, "issuers file: %v", err)
		}
	}
	return is, nil
}

func registryInitConsortium(o registryInitOptions) error {
	dir, chain, n, base := o.dir, o.chain, o.validators, o.basePort
	is, err := readIssuers(o.issuers)
	if err != nil {
		return err
	}
	if base < 1024 || base+3*n > 65535 {
		return usagef("give --base-port between 1024 and 65535-3N", "--base-port %d", base)
	}
	for k := range n {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("node%d", k), node.GenesisFile)); err == nil {
			return usagef("pick another --dir", "%v: %s", store.ErrExists, filepath.Join(dir, fmt.Sprintf("node%d", k)))
		}
	}
	keys, err := o.keys()
	if err != nil {
		return err
	}
	dirs := make([]string, n)
	cfgs := make([]node.NodeConfig, n)
	for k := range n {
		dirs[k] = filepath.Join(dir, fmt.Sprintf("node%d", k))
		cfgs[k] = node.NodeConfig{
			P2PAddr: fmt.Sprintf("127.0.0.1:%d", base+3*k),
			RPCAddr: fmt.Sprintf("127.0.0.1:%d", base+3*k+1),
			APIAddr: fmt.Sprintf("127.0.0.1:%d", base+3*k+2),
		}
	}
	ds, err := node.InitConsortium(dirs, chain, is, cfgs, keys)
	if errors.Is(err, store.ErrExists) {
		return usagef("pick another --dir", "%v", err)
	}
	if err != nil {
		return usagef("check --chain-id and the issuers file", "%v", err)
	}
	g := ds[0].Genesis
	if jsonOutput {
		var nodes []map[string]any
		for _, d := range ds {
			nodes = append(nodes, map[string]any{"dir": d.Path, "name": d.Config.Name, "api": "http://" + d.Config.APIAddr, "p2p": d.Config.P2PAddr, "rpc": d.Config.RPCAddr})
		}
		return printJSON(map[string]any{"chain_id": g.ChainID, "genesis_hash": g.Hash().String(), "validators": g.Validators, "governance": g.Governance, "nodes": nodes})
	}
	fmt.Printf("registry %q with %d validators created in %s\n  genesis hash %s\n", g.ChainID, n, dir, g.Hash())
	for _, d := range ds {
		fmt.Printf("  %s  %s  API http://%s  P2P %s  RPC %s\n", d.Config.Name, d.Path, d.Config.APIAddr, d.Config.P2PAddr, d.Config.RPCAddr)
	}
	fmt.Printf("start each with 'zkcred registry start --dir %s'; a chain needs more than two thirds of them up\n", filepath.Join(dir, "nodeK"))
	return nil
}

func registryInit(o registryInitOptions) error {
	dir, chain := o.dir, o.chain
	is, err := readIssuers(o.issuers)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, node.GenesisFile)); err == nil {
		return usagef("pick another --dir, or start the existing one with 'zkcred registry start --dir "+dir+"'", "%v: %s", store.ErrExists, dir)
	}
	keys, err := o.keys()
	if err != nil {
		return err
	}
	d, err := node.InitDir(dir, chain, is, keys)
	if errors.Is(err, store.ErrExists) {
		return usagef("pick another --dir, or start the existing one with 'zkcred registry start --dir "+dir+"'", "%v", err)
	}
	if err != nil {
		return usagef("check --chain-id and the issuers file", "%v", err)
	}
	if jsonOutput {
		return printJSON(map[string]any{"dir": d.Path, "chain_id": d.Genesis.ChainID,
			"genesis_hash": d.Genesis.Hash().String(), "genesis": filepath.Join(d.Path, node.GenesisFile),
			"validators": d.Genesis.Validators, "governance": d.Genesis.Governance})
	}
	fmt.Printf("registry %q created in %s\n  genesis hash %s\n  genesis      %s (give it to verifiers and wallets)\n  keys         %s (encrypted; keep it offline), %s (CometBFT validator key, CometBFT's own file)\n",
		d.Genesis.ChainID, d.Path, d.Genesis.Hash(), filepath.Join(d.Path, node.GenesisFile),
		filepath.Join(d.Path, node.GovernanceFile), filepath.Join(d.CometHome(), "config", "priv_validator_key.json"))
	return nil
}

type registryStartOptions struct {
	dir, addr           string
	interval, heartbeat time.Duration
	txTimeout           time.Duration
	verbose             bool
}

func newRegistryStartCmd() *cobra.Command {
	var o registryStartOptions
	var c *cobra.Command
	c = leaf("start", "run a registry validator and serve the registry over HTTP",
		"  zkcred registry start --dir reg --addr 127.0.0.1:8700\n  zkcred registry start --dir net/node2          # its addresses from net/node2/node.json",
		noArgs, func(*cobra.Command, []string) error {
			if !c.Flags().Changed("addr") {
				if d, err := node.OpenDir(o.dir); err == nil && d.Config.APIAddr != "" {
					o.addr = d.Config.APIAddr
				}
			}
			return registryStart(o)
		})
	addDirFlag(c, &o.dir, "registry", "node directory (from 'zkcred registry init')")
	addAddrFlag(c, &o.addr, defaultRegAddr, "HTTP API address (default: the node's api_addr from node.json, else "+defaultRegAddr+")")
	c.Flags().DurationVar(&o.interval, "interval", node.DefaultInterval, "after a block commits, longest wait for straggling precommits before the next starts (CometBFT timeout_commit)")
	c.Flags().DurationVar(&o.heartbeat, "heartbeat", node.DefaultHeartbeat, "interval of empty blocks when idle (negative: none)")
	c.Flags().DurationVar(&o.txTimeout, "tx-timeout", api.DefaultTxTimeout, "how long POST /v1/tx waits for its transaction to commit before answering 503")
	c.Flags().BoolVarP(&o.verbose, "verbose", "v", false, "log every block")
	return c
}

func registryStart(o registryStartOptions) error {
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	if jsonOutput {
		h = slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	}
	log := slog.New(h)
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return usagef("choose a free address with --addr", "%v", err)
	}
	svc, err := node.StartDir(o.dir, ln, node.ServiceOptions{Node: node.Options{Interval: o.interval, Heartbeat: o.heartbeat, Logger: log},
		API: api.Options{TxTimeout: o.txTimeout}})
	if err != nil {
		ln.Close()
		if errors.Is(err, store.ErrNotInitialised) {
			return localf("no_registry", "create one with 'zkcred registry init --dir "+o.dir+"'", "%v", err)
		}
		return withHint(err, "is another registry using "+o.dir+"?")
	}
	hd := svc.Store.Latest()
	if jsonOutput {
		printJSON(map[string]any{"url": svc.URL, "chain_id": hd.ChainID, "height": hd.Height, "leaves": hd.CredSize})
	} else {
		fmt.Printf("registry listening on %s (chain %s, height %d, %d leaves)\n", svc.URL, hd.ChainID, hd.Height, hd.CredSize)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case s := <-sig:
		log.Info("stopping", "signal", s.String())
	case err := <-waitErr(svc):
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return svc.Close(ctx)
}

func waitErr(svc *node.Service) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- svc.Wait() }()
	return ch
}

func newRegistryStatusCmd() *cobra.Command {
	var url string
	c := leaf("status", "print the registry's latest header, app hash and validators (who signed the last block)",
		"  zkcred registry status --registry http://127.0.0.1:8700",
		noArgs, func(*cobra.Command, []string) error { return registryStatus(url) })
	addRegistryFlag(c, &url, defaultRegURL, "")
	return c
}

// statusValidator is one validator as 'registry status' shows it.
type statusValidator struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	PubKey  string `json:"pubkey"`
	Power   int64  `json:"power"`
	Signed  bool   `json:"signed_last_block"`
}

func registryStatus(url string) error {
	c, err := client.New(url, client.Options{})
	if err != nil {
		return usagef("pass --registry http://host:port", "%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := c.Latest(ctx)
	if err != nil {
		if isUnreachable(err) {
			return unreachable("is the registry running? start it with 'zkcred registry start'", err)
		}
		return err
	}
	g, err := c.Genesis(ctx)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, v := range g.Validators {
		names[strings.ToLower(v.PubKey)] = v.Name
	}
	// the commit of CometBFT's latest block: the light block for the state
	// after registry block latest-1
	var vals []statusValidator
	var signedAt int64
	var trustHash string // the header hash of CometBFT's block signedAt: a trust anchor
	if h.Height > 0 {
		if raw, err := c.Commits(ctx, h.Height-1, h.Height-1); err == nil && len(raw) == 1 {
			var lb cmttypes.LightBlock
			if err := cmtjson.Unmarshal(raw[0], &lb); err == nil && lb.SignedHeader != nil && lb.Commit != nil && lb.ValidatorSet != nil {
				signedAt, trustHash = lb.Height, hex.EncodeToString(lb.Hash())
				signed := map[string]bool{}
				for _, cs := range lb.Commit.Signatures {
					if cs.BlockIDFlag == cmttypes.BlockIDFlagCommit {
						signed[cs.ValidatorAddress.String()] = true
					}
				}
				for _, v := range lb.ValidatorSet.Validators {
					pk := hex.EncodeToString(v.PubKey.Bytes())
					vals = append(vals, statusValidator{Name: names[pk], Address: v.Address.String(), PubKey: pk, Power: v.VotingPower, Signed: signed[v.Address.String()]})
				}
			}
		}
	}
	appHash := hex.EncodeToString(abci.AppHash(h))
	if jsonOutput {
		// the header's fields, then the chain's
		var out map[string]any
		hj, _ := json.Marshal(h)
		json.Unmarshal(hj, &out)
		out["app_hash"], out["validators"], out["commit_height"] = appHash, orEmptyList(vals), signedAt
		if trustHash != "" {
			out["trust_height"], out["trust_hash"] = signedAt, trustHash
		}
		return printJSON(out)
	}
	fmt.Printf("chain      %s\nheight     %d (%s, %s ago)\nblock hash %s\napp hash   %s\nleaves     %d\nissuers    %d\ncred root  %s\n",
		h.ChainID, h.Height, h.T().Format(time.RFC3339), time.Since(h.T()).Round(time.Second), h.Hash(), appHash, h.CredSize, h.IssuerCount, h.CredRoot)
	if len(vals) > 0 {
		fmt.Printf("validators (who signed block %d):\n", signedAt)
		for _, v := range vals {
			mark := "signed"
			if !v.Signed {
				mark = "absent"
			}
			fmt.Printf("  %-16s %s power %d  %s\n", v.Name, v.Address, v.Power, mark)
		}
	}
	if trustHash != "" {
		// what a light client past its trust period re-anchors at
		fmt.Printf("trust      --height %d --hash %s (CometBFT block %d: 'zkcred wallet trust', 'zkcred verifier serve --trust-height --trust-hash')\n",
			signedAt, trustHash, signedAt)
	}
	return nil
}

func orEmptyList[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

func newRegistryAuditCmd() *cobra.Command {
	var dir string
	c := leaf("audit", "replay the chain from genesis and recompute every root and signature (operator; registry stopped)",
		"  zkcred registry audit --dir reg",
		noArgs, func(*cobra.Command, []string) error { return registryAudit(dir) })
	c.Long = `Audit replays a registry's chain from its genesis, checks every block's
signatures and recomputes every root and state key. It reads the registry's
database directly, so it needs the operator's registry directory and the
registry stopped (or a copy of the directory).`
	addDirFlag(c, &dir, "registry", "registry directory (the registry must be stopped)")
	return c
}

func registryAudit(dir string) error {
	st, err := store.Open(filepath.Join(dir, node.DataDir), store.Options{})
	if err != nil {
		if errors.Is(err, store.ErrNotInitialised) {
			return localf("no_registry", "pass the directory given to 'zkcred registry init'", "%v", err)
		}
		return localf("registry_busy", "stop the running registry first (or audit a copy of its directory); audit reads its database directly", "%v", err)
	}
	defer st.Close()
	if d, err := node.OpenDir(dir); err == nil && d.Genesis.Hash() != st.Genesis().Hash() {
		return localf("audit_failed", "", "audit failed: %s does not match the genesis in the database", node.GenesisFile)
	}
	var progress func(h, latest uint64)
	if !jsonOutput && isTerminal(os.Stderr) {
		progress = func(h, latest uint64) {
			if h%100 == 0 || h == latest {
				fmt.Fprintf(os.Stderr, "\raudit: block %d/%d", h, latest)
			}
			if h == latest {
				fmt.Fprintln(os.Stderr)
			}
		}
	}
	rep, err := st.Audit(context.Background(), progress)
	if err != nil {
		return localf("audit_failed", "", "audit failed: %w", err)
	}
	if jsonOutput {
		return printJSON(rep)
	}
	fmt.Printf("audit passed: %d blocks, %d transactions, %d leaves, %d state keys match the replay from genesis\n", rep.Blocks, rep.Txs, rep.Leaves, rep.StateKeys)
	return nil
}
