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

	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/node"
	"github.com/zkcred/zkcred/registry/store"
)

func init() {
	register("registry", "run the registry chain: init, start, status, audit", func(args []string) error {
		return subcommands("registry", args, map[string]func([]string) error{
			"init":   registryInit,
			"start":  registryStart,
			"status": registryStatus,
			"audit":  registryAudit,
			"govern": registryGovern,
		})
	})
}

const defaultRegistryDir = "zkcred-registry"

func registryInit(args []string) error {
	fs := newFlags("registry init")
	dir := fs.String("dir", defaultRegistryDir, "registry directory to create")
	chain := fs.String("chain-id", "zkcred-dev", "chain ID (lowercase letters, digits, '-')")
	issuers := fs.String("issuers", "", "JSON file with the initial issuers: [{\"pubkey\":hex,\"name\":...,\"kind\":...}]")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var is []registry.RegisterIssuer
	if *issuers != "" {
		b, err := os.ReadFile(*issuers)
		if err != nil {
			return usagef("pass a readable JSON file to --issuers", "%v", err)
		}
		if err := json.Unmarshal(b, &is); err != nil {
			return usagef(`the file holds a list like [{"pubkey":"<64 hex>","name":"Uni","kind":"university"}]`, "issuers file: %v", err)
		}
	}
	d, err := node.InitDir(*dir, *chain, is)
	if errors.Is(err, store.ErrExists) {
		return usagef("pick another --dir, or start the existing one with 'zkcred registry start --dir "+*dir+"'", "%v", err)
	}
	if err != nil {
		return usagef("check --chain-id and the issuers file", "%v", err)
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(map[string]any{"dir": d.Path, "chain_id": d.Genesis.ChainID,
			"genesis_hash": d.Genesis.Hash().String(), "producer": d.Genesis.Producer, "governance": d.Genesis.Governance})
	}
	fmt.Printf("registry %q created in %s\n  genesis hash %s\n  genesis      %s (give it to verifiers and wallets)\n  keys         %s, %s (keep the governance key offline)\n",
		d.Genesis.ChainID, d.Path, d.Genesis.Hash(), filepath.Join(d.Path, node.GenesisFile),
		filepath.Join(d.Path, node.ProducerFile), filepath.Join(d.Path, node.GovernanceFile))
	return nil
}

func registryStart(args []string) error {
	fs := newFlags("registry start")
	dir := fs.String("dir", defaultRegistryDir, "registry directory (from 'zkcred registry init')")
	listen := fs.String("listen", "127.0.0.1:8700", "HTTP listen address")
	interval := fs.Duration("interval", node.DefaultInterval, "longest wait before a block with pending transactions commits")
	heartbeat := fs.Duration("heartbeat", node.DefaultHeartbeat, "interval of empty blocks when idle (negative: none)")
	verbose := fs.Bool("v", false, "log every block")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return usagef("choose a free address with --listen", "%v", err)
	}
	svc, err := node.StartDir(*dir, ln, node.ServiceOptions{Node: node.Options{Interval: *interval, Heartbeat: *heartbeat, Logger: log}})
	if err != nil {
		ln.Close()
		if errors.Is(err, store.ErrNotInitialised) {
			return usagef("create one with 'zkcred registry init --dir "+*dir+"'", "%v", err)
		}
		return err
	}
	h := svc.Store.Latest()
	fmt.Printf("registry listening on %s (chain %s, height %d, %d leaves)\n", svc.URL, h.ChainID, h.Height, h.CredSize)
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

func registryStatus(args []string) error {
	fs := newFlags("registry status")
	url := fs.String("url", "http://127.0.0.1:8700", "registry URL")
	asJSON := fs.Bool("json", false, "print the latest header as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := client.New(*url, client.Options{HTTP: nil})
	if err != nil {
		return usagef("pass --url http://host:port", "%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := c.Latest(ctx)
	if err != nil {
		return usagef("is the registry running? start it with 'zkcred registry start'", "%v", err)
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(h)
	}
	fmt.Printf("chain      %s\nheight     %d (%s, %s ago)\nblock hash %s\nleaves     %d\nissuers    %d\ncred root  %s\n",
		h.ChainID, h.Height, h.T().Format(time.RFC3339), time.Since(h.T()).Round(time.Second), h.Hash(), h.CredSize, h.IssuerCount, h.CredRoot)
	return nil
}

func registryAudit(args []string) error {
	fs := newFlags("registry audit")
	dir := fs.String("dir", defaultRegistryDir, "registry directory (the registry must be stopped)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := store.Open(filepath.Join(*dir, node.DataDir), store.Options{})
	if err != nil {
		if errors.Is(err, store.ErrNotInitialised) {
			return usagef("pass the directory given to 'zkcred registry init'", "%v", err)
		}
		return usagef("stop the running registry first; audit reads its database directly", "%v", err)
	}
	defer st.Close()
	if d, err := node.OpenDir(*dir); err == nil && d.Genesis.Hash() != st.Genesis().Hash() {
		return fmt.Errorf("audit failed: %s does not match the genesis in the database", node.GenesisFile)
	}
	var progress func(h, latest uint64)
	if !*asJSON && isTerminal(os.Stderr) {
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
		return err
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(rep)
	}
	fmt.Printf("audit passed: %d blocks, %d transactions, %d leaves, %d state keys match the replay from genesis\n", rep.Blocks, rep.Txs, rep.Leaves, rep.StateKeys)
	return nil
}
