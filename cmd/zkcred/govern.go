package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/home"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/node"
)

// registryGovern signs governance transactions with the governance key of a
// registry directory (or --key) and submits them to a running registry.
func registryGovern(args []string) error {
	return subcommands("registry govern", args, map[string]func([]string) error{
		"register-issuer":   governRegister,
		"deactivate-issuer": governDeactivate,
		"publish-circuits":  governPublishCircuits,
	})
}

type governFlags struct {
	dir, key, url *string
	asJSON        *bool
}

func newGovernFlags(name string) (*flagSet, *governFlags) {
	fs := newFlags("registry govern " + name)
	return fs, &governFlags{
		dir:    fs.String("dir", "zkcred-registry", "registry directory (its genesis and governance key)"),
		key:    fs.String("key", "", "governance key file (hex ed25519 seed); default DIR/"+node.GovernanceFile),
		url:    fs.String("url", "http://127.0.0.1:8700", "registry URL"),
		asJSON: fs.Bool("json", false, "print the receipts as JSON"),
	}
}

// submit signs bodies in order with the governance key and waits for each
// receipt.
func (g *governFlags) submit(bodies ...registry.Body) error {
	d, err := node.OpenDir(*g.dir)
	if err != nil {
		return usagef("give the registry directory made by 'zkcred registry init' with --dir", "%v", err)
	}
	keyPath := *g.key
	if keyPath == "" {
		keyPath = filepath.Join(*g.dir, node.GovernanceFile)
	}
	key, err := node.ReadKey(keyPath)
	if err != nil {
		return usagef("give the governance key with --key", "%v", err)
	}
	c, err := client.New(*g.url, client.Options{})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := c.NewSigner(ctx, d.Genesis.ChainID, key)
	if err != nil {
		return fmt.Errorf("registry at %s: %w", *g.url, err)
	}
	var receipts []*registry.Receipt
	for _, b := range bodies {
		rc, err := s.Do(ctx, b)
		if err != nil {
			return fmt.Errorf("%s: %w", b.TxType(), err)
		}
		receipts = append(receipts, rc)
		if !*g.asJSON {
			fmt.Printf("%s committed in block %d\n", b.TxType(), rc.Height)
		}
	}
	if *g.asJSON {
		return json.NewEncoder(os.Stdout).Encode(receipts)
	}
	return nil
}

func governRegister(args []string) error {
	fs, g := newGovernFlags("register-issuer")
	entry := fs.String("entry", "", "JSON file with the entry 'zkcred issuer register' printed: {\"pubkey\",\"name\",\"kind\"}")
	pub := fs.String("pubkey", "", "issuer's hex ed25519 public key (instead of --entry)")
	name := fs.String("name", "", "issuer's display name")
	kind := fs.String("kind", "", "issuer's kind, e.g. university or hospital")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var ri registry.RegisterIssuer
	switch {
	case *entry != "":
		b, err := os.ReadFile(*entry)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &ri); err != nil {
			return usagef("the file 'zkcred issuer register --json' writes", "%s: %v", *entry, err)
		}
	case *pub != "":
		ri = registry.RegisterIssuer{PubKey: *pub, Name: *name, Kind: *kind}
	default:
		return usagef("zkcred registry govern register-issuer --entry issuer.json (or --pubkey --name --kind)", "no issuer given")
	}
	return g.submit(ri)
}

func governDeactivate(args []string) error {
	fs, g := newGovernFlags("deactivate-issuer")
	pub := fs.String("pubkey", "", "issuer's hex ed25519 public key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := hex.DecodeString(*pub); err != nil || *pub == "" {
		return usagef("zkcred registry govern deactivate-issuer --pubkey HEX", "--pubkey must be the issuer's hex public key")
	}
	return g.submit(registry.DeactivateIssuer{PubKey: *pub})
}

func governPublishCircuits(args []string) error {
	fs, g := newGovernFlags("publish-circuits")
	keys := fs.String("keys", home.KeysDir(), "key directory made by 'zkcred setup'")
	if err := fs.Parse(args); err != nil {
		return err
	}
	k, err := circuits.LoadKeysDir(*keys)
	if err != nil {
		return usagef("run 'zkcred setup --keys "+*keys+"' first", "keys: %v", err)
	}
	return g.submit(
		registry.PublishCircuit{Circuit: circuits.PresentationID, VKHash: k.Verifier().Hash()},
		registry.PublishCircuit{Circuit: circuits.HolderID, VKHash: k.HolderVerifier().Hash()},
	)
}
