package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/node"
	"github.com/zkcred/zkcred/registry/store"
)

func newRegistryCmd() *cobra.Command {
	return group("registry", "run the registry chain: init, start, status, audit, govern",
		`The registry is the append-only chain that holds every credential's leaf,
the issuers, schemas and the circuits' verifying-key hashes. A consortium runs
it: 'init' makes the genesis and keys, 'start' serves it, 'govern' signs
governance transactions, 'audit' replays it from genesis. Anyone can read it
('status').`,
		`  zkcred registry init --dir reg --chain-id my-chain
  zkcred registry start --dir reg --addr 127.0.0.1:8700
  zkcred registry status --registry http://127.0.0.1:8700`,
		newRegistryInitCmd(), newRegistryStartCmd(), newRegistryStatusCmd(), newRegistryAuditCmd(), newGovernCmd())
}

func newRegistryInitCmd() *cobra.Command {
	var dir, chain, issuers string
	c := leaf("init", "create a registry directory: genesis, governance and CometBFT validator keys",
		`  zkcred registry init --dir reg --chain-id my-chain
  zkcred registry init --dir reg --issuers issuers.json   # issuers registered in genesis`,
		noArgs, func(*cobra.Command, []string) error { return registryInit(dir, chain, issuers) })
	addDirFlag(c, &dir, "registry", "registry directory to create")
	c.Flags().StringVar(&chain, "chain-id", "zkcred-dev", "chain ID (lowercase letters, digits, '-')")
	c.Flags().StringVar(&issuers, "issuers", "", `JSON file with the initial issuers: [{"pubkey":hex,"name":...,"kind":...}]`)
	return c
}

func registryInit(dir, chain, issuers string) error {
	var is []registry.RegisterIssuer
	if issuers != "" {
		b, err := os.ReadFile(issuers)
		if err != nil {
			return usagef("pass a readable JSON file to --issuers", "%v", err)
		}
		if err := json.Unmarshal(b, &is); err != nil {
			return usagef(`the file holds a list like [{"pubkey":"<64 hex>","name":"Uni","kind":"university"}]`, "issuers file: %v", err)
		}
	}
	d, err := node.InitDir(dir, chain, is)
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
	fmt.Printf("registry %q created in %s\n  genesis hash %s\n  genesis      %s (give it to verifiers and wallets)\n  keys         %s (keep the governance key offline), %s (CometBFT validator key)\n",
		d.Genesis.ChainID, d.Path, d.Genesis.Hash(), filepath.Join(d.Path, node.GenesisFile),
		filepath.Join(d.Path, node.GovernanceFile), filepath.Join(d.CometHome(), "config", "priv_validator_key.json"))
	return nil
}

type registryStartOptions struct {
	dir, addr           string
	interval, heartbeat time.Duration
	verbose             bool
}

func newRegistryStartCmd() *cobra.Command {
	var o registryStartOptions
	c := leaf("start", "serve the registry chain over HTTP",
		"  zkcred registry start --dir reg --addr 127.0.0.1:8700",
		noArgs, func(*cobra.Command, []string) error { return registryStart(o) })
	addDirFlag(c, &o.dir, "registry", "registry directory (from 'zkcred registry init')")
	addAddrFlag(c, &o.addr, defaultRegAddr, "")
	c.Flags().DurationVar(&o.interval, "interval", node.DefaultInterval, "pause after a block commits before the next starts (CometBFT timeout_commit)")
	c.Flags().DurationVar(&o.heartbeat, "heartbeat", node.DefaultHeartbeat, "interval of empty blocks when idle (negative: none)")
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
	svc, err := node.StartDir(o.dir, ln, node.ServiceOptions{Node: node.Options{Interval: o.interval, Heartbeat: o.heartbeat, Logger: log}})
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
	c := leaf("status", "print the registry's latest block header",
		"  zkcred registry status --registry http://127.0.0.1:8700",
		noArgs, func(*cobra.Command, []string) error { return registryStatus(url) })
	addRegistryFlag(c, &url, defaultRegURL, "")
	return c
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
	if jsonOutput {
		return printJSON(h)
	}
	fmt.Printf("chain      %s\nheight     %d (%s, %s ago)\nblock hash %s\nleaves     %d\nissuers    %d\ncred root  %s\n",
		h.ChainID, h.Height, h.T().Format(time.RFC3339), time.Since(h.T()).Round(time.Second), h.Hash(), h.CredSize, h.IssuerCount, h.CredRoot)
	return nil
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
