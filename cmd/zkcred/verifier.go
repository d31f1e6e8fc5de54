package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/home"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/light"
	"github.com/zkcred/zkcred/verifier"
)

func init() {
	register("verifier", "serve presentation requests and verify presentations over HTTP", runVerifier)
}

func runVerifier(args []string) error {
	return subcommands("verifier", args, map[string]func([]string) error{
		"serve": runVerifierServe,
		"check": runVerifierCheck,
	})
}

const verifierServeUsage = "zkcred verifier serve --config verifier.json (--registry URL --genesis genesis.json | --roots roots.json) [--addr 127.0.0.1:8090] [--data DIR] [--keys DIR | --vk FILE] [--json]"

func defaultVerifierData() string {
	if d := os.Getenv("ZKCRED_HOME"); d != "" {
		return filepath.Join(d, "verifier")
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "zkcred", "verifier")
	}
	return "zkcred-verifier"
}

func loadVerifierConfig(path string) (*verifier.Config, error) {
	if path == "" {
		return nil, usagef(verifierServeUsage, "--config is required")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("write the policy file first; docs/verifier.md has an example", "read config: %v", err)
	}
	cfg, err := verifier.ParseConfig(b)
	if err != nil {
		return nil, usagef("see docs/verifier.md, \"Policy file\"", "%s: %v", path, err)
	}
	return cfg, nil
}

// runVerifierCheck validates a policy file and prints each policy's
// request as it would be issued now (without serving).
func runVerifierCheck(args []string) error {
	fs := newFlags("verifier check")
	cfgPath := fs.String("config", "", "verifier configuration (policies) file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadVerifierConfig(*cfgPath)
	if err != nil {
		return err
	}
	for _, p := range cfg.Policies {
		fmt.Printf("policy %q: ok\n", p.Name)
	}
	return nil
}

func runVerifierServe(args []string) error {
	fs := newFlags("verifier serve")
	cfgPath := fs.String("config", "", "verifier configuration file: audience and policies (JSON)")
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	data := fs.String("data", defaultVerifierData(), "badger directory for requests, nonces, nullifiers and results")
	keys := fs.String("keys", home.KeysDir(), "key directory made by 'zkcred setup'")
	vk := fs.String("vk", "", "verifying key file (instead of --keys)")
	regURL := fs.String("registry", "", "registry URL to follow with the light client")
	genesis := fs.String("genesis", "", "the registry's genesis.json (trusted; never fetched)")
	headers := fs.String("headers", "", "file keeping verified headers across restarts (default: in --data)")
	roots := fs.String("roots", "", "instead of a registry: roots file of pinned roots (root, height, time) and issuers per kind")
	sync := fs.Bool("sync", false, "sync every acceptance to disk before answering")
	asJSON := fs.Bool("json", false, "print the listening address as JSON and log JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef(verifierServeUsage, "unexpected argument %q", fs.Arg(0))
	}
	cfg, err := loadVerifierConfig(*cfgPath)
	if err != nil {
		return err
	}
	pv, err := loadProofVerifier(*keys, *vk)
	if err != nil {
		return err
	}
	var handler slog.Handler = slog.NewTextHandler(os.Stderr, nil)
	if *asJSON {
		handler = slog.NewJSONHandler(os.Stderr, nil)
	}
	log := slog.New(handler)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := cfg.Options()
	o.Dir = *data
	o.Proofs = pv
	o.Logger = log
	o.Store.SyncWrites = *sync
	switch {
	case *regURL != "" && *roots == "":
		lc, err := followRegistry(ctx, *regURL, *genesis, *headers, *data, log)
		if err != nil {
			return err
		}
		defer lc.Close()
		o.Roots = verifier.NewSyncingRoots(lc)
		o.Issuers = verifier.RegistryIssuers{Client: lc.Registry()}
	case *roots != "" && *regURL == "":
		rb, err := os.ReadFile(*roots)
		if err != nil {
			return usagef("pass a roots file (docs/verifier.md, \"Roots file\")", "read roots: %v", err)
		}
		pinned, err := verifier.ParsePinned(rb)
		if err != nil {
			return usagef("see docs/verifier.md, \"Roots file\"", "%s: %v", *roots, err)
		}
		o.Roots, o.Issuers = pinned, pinned
	default:
		return usagef(verifierServeUsage, "give either --registry (with --genesis) or --roots: the verifier accepts only roots it has verified")
	}
	srv, err := verifier.New(o)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return usagef("choose another --addr", "listen: %v", err)
	}
	if *asJSON {
		json.NewEncoder(os.Stdout).Encode(map[string]any{"addr": ln.Addr().String(), "policies": srv.Policies()})
	} else {
		fmt.Printf("verifier listening on http://%s (policies: %v)\n", ln.Addr(), srv.Policies())
	}
	return srv.Serve(ctx, ln)
}

// followRegistry starts a light client on the registry: it checks every
// header against the given genesis, syncs once before serving, and keeps
// syncing in the background until ctx ends.
func followRegistry(ctx context.Context, url, genesisPath, headers, data string, log *slog.Logger) (*light.Client, error) {
	if genesisPath == "" {
		return nil, usagef("pass the genesis.json the registry operator published", "--registry needs --genesis")
	}
	gb, err := os.ReadFile(genesisPath)
	if err != nil {
		return nil, usagef("pass the genesis.json from 'zkcred registry init'", "read genesis: %v", err)
	}
	g, err := registry.ParseGenesis(gb)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", genesisPath, err)
	}
	if headers == "" {
		if err := os.MkdirAll(data, 0o700); err != nil {
			return nil, err
		}
		headers = filepath.Join(data, "headers.jsonl")
	}
	lc, err := light.New(g, url, light.Options{Path: headers})
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	h, err := lc.Sync(sctx)
	if err != nil {
		lc.Close()
		return nil, usagef("is the registry running at "+url+"?", "sync headers: %v", err)
	}
	log.Info("light client synced", "registry", url, "height", h.Height)
	go func() {
		err := lc.Run(ctx, 0, func(err error) { log.Warn("light client sync", "err", err) })
		if err != nil && ctx.Err() == nil {
			// A fork, rollback or bad header: stop trusting new roots and say so.
			log.Error("light client stopped: registry misbehaved; restart after investigating", "err", err)
		}
	}()
	return lc, nil
}

func loadProofVerifier(keysDir, vkPath string) (verifier.ProofVerifier, error) {
	hint := "export one with 'zkcred setup'"
	if vkPath == "" {
		vkPath = circuits.VerifyingKeyFile(keysDir, circuits.PresentationID)
		hint = "run 'zkcred setup' first (or pass --vk FILE)"
	}
	f, err := os.Open(vkPath)
	if err != nil {
		return nil, usagef(hint, "read verifying key: %v", err)
	}
	defer f.Close()
	v, err := circuits.ReadVerifyingKey(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", vkPath, err)
	}
	if v.CircuitID() != circuits.PresentationID {
		return nil, usagef("pass the presentation circuit's key", "%s is the key of circuit %s", vkPath, v.CircuitID())
	}
	return v, nil
}
