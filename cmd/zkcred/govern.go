package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/node"
)

// newGovernCmd: governance transactions, signed with the governance key
// of a registry directory (or --key) and submitted to a running registry.
func newGovernCmd() *cobra.Command {
	return group("govern", "sign and submit governance transactions (register issuers, publish circuits)",
		`Govern signs governance transactions with the registry's governance key (from
the registry directory, or --key) and submits them to the running registry,
waiting until each is committed in a block.`,
		`  zkcred registry govern register-issuer --dir reg --registry http://127.0.0.1:8700 --entry uni.json
  zkcred registry govern publish-circuits --dir reg --registry http://127.0.0.1:8700 --keys keys/`,
		newGovernRegisterCmd(), newGovernDeactivateCmd(), newGovernPublishCmd())
}

type governFlags struct {
	dir, key, url string
}

func (g *governFlags) add(c *cobra.Command) {
	addDirFlag(c, &g.dir, "registry", "registry directory (its genesis and governance key)")
	c.Flags().StringVar(&g.key, "key", "", "governance key file (hex ed25519 seed); default DIR/"+node.GovernanceFile)
	addRegistryFlag(c, &g.url, defaultRegURL, "")
}

// submit signs bodies in order with the governance key and waits for each
// receipt; describe says what each committed (for the text output).
func (g *governFlags) submit(describe func(i int) string, bodies ...registry.Body) error {
	d, err := node.OpenDir(g.dir)
	if err != nil {
		return localf("no_registry", "give the registry directory made by 'zkcred registry init' with --dir", "%v", err)
	}
	keyPath := g.key
	if keyPath == "" {
		keyPath = filepath.Join(g.dir, node.GovernanceFile)
	}
	key, err := node.ReadKey(keyPath)
	if err != nil {
		return localf("no_governance_key", "give the governance key with --key", "%v", err)
	}
	c, err := client.New(g.url, client.Options{})
	if err != nil {
		return usagef("pass --registry http://host:port", "%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := c.NewSigner(ctx, d.Genesis.ChainID, key)
	if err != nil {
		return withHint(fmt.Errorf("registry at %s: %w", g.url, err), "is the registry running at "+g.url+"?")
	}
	var receipts []*registry.Receipt
	for i, b := range bodies {
		rc, err := s.Do(ctx, b)
		if err != nil {
			return fmt.Errorf("%s: %w", b.TxType(), err)
		}
		receipts = append(receipts, rc)
		if !jsonOutput {
			what := string(b.TxType())
			if describe != nil {
				what = describe(i)
			}
			fmt.Printf("%s: committed in block %d\n", what, rc.Height)
		}
	}
	if jsonOutput {
		return printJSON(receipts)
	}
	return nil
}

func newGovernRegisterCmd() *cobra.Command {
	var g governFlags
	var entry, pub, name, kind string
	c := leaf("register-issuer", "register an issuer (from the entry 'zkcred issuer register' printed)",
		`  zkcred registry govern register-issuer --dir reg --registry http://127.0.0.1:8700 --entry uni.json
  zkcred registry govern register-issuer --dir reg --pubkey HEX --name "Uni" --kind university`,
		noArgs, func(*cobra.Command, []string) error {
			var ri registry.RegisterIssuer
			switch {
			case entry != "":
				b, err := os.ReadFile(entry)
				if err != nil {
					return usagef("give --entry the file 'zkcred issuer register --json' wrote", "%v", err)
				}
				if err := json.Unmarshal(b, &ri); err != nil {
					return usagef("the file 'zkcred issuer register --json' writes", "%s: %v", entry, err)
				}
			case pub != "":
				ri = registry.RegisterIssuer{PubKey: pub, Name: name, Kind: kind}
			default:
				return usagef("zkcred registry govern register-issuer --entry issuer.json (or --pubkey --name --kind)", "no issuer given")
			}
			return g.submit(func(int) string { return fmt.Sprintf("registered issuer %q (%s)", ri.Name, ri.Kind) }, ri)
		})
	g.add(c)
	c.Flags().StringVar(&entry, "entry", "", `JSON file with the entry 'zkcred issuer register' printed: {"pubkey","name","kind"}`)
	c.Flags().StringVar(&pub, "pubkey", "", "issuer's hex ed25519 public key (instead of --entry)")
	c.Flags().StringVar(&name, "name", "", "issuer's display name")
	c.Flags().StringVar(&kind, "kind", "", "issuer's kind, e.g. university or hospital")
	return c
}

func newGovernDeactivateCmd() *cobra.Command {
	var g governFlags
	var pub string
	c := leaf("deactivate-issuer", "deactivate an issuer: wallets and verifiers stop accepting its credentials",
		"  zkcred registry govern deactivate-issuer --dir reg --pubkey HEX",
		noArgs, func(*cobra.Command, []string) error {
			if _, err := hex.DecodeString(pub); err != nil || pub == "" {
				return usagef("zkcred registry govern deactivate-issuer --pubkey HEX", "--pubkey must be the issuer's hex public key")
			}
			return g.submit(func(int) string { return "deactivated issuer " + pub }, registry.DeactivateIssuer{PubKey: pub})
		})
	g.add(c)
	c.Flags().StringVar(&pub, "pubkey", "", "issuer's hex ed25519 public key")
	return c
}

func newGovernPublishCmd() *cobra.Command {
	var g governFlags
	var keys, ceremonyDir string
	c := leaf("publish-circuits", "publish the circuits' verifying-key hashes, which wallets and verifiers check",
		"  zkcred registry govern publish-circuits --dir reg --keys keys/\n  zkcred registry govern publish-circuits --dir reg --keys keys/ --ceremony ceremony/   # with the transcript hashes",
		noArgs, func(*cobra.Command, []string) error {
			k, err := loadKeys(keys)
			if err != nil {
				return err
			}
			pcs := []registry.PublishCircuit{
				{Circuit: circuits.PresentationID, VKHash: k.Verifier().Hash()},
				{Circuit: circuits.HolderID, VKHash: k.HolderVerifier().Hash()},
			}
			if ceremonyDir != "" {
				for i := range pcs {
					if pcs[i].TranscriptHash, err = ceremonyTranscriptHash(ceremonyDir, pcs[i].Circuit, pcs[i].VKHash); err != nil {
						return err
					}
				}
			}
			return g.submit(func(i int) string {
				if pcs[i].TranscriptHash != "" {
					return fmt.Sprintf("published circuit %s (vk sha256 %s, ceremony transcript %s)", pcs[i].Circuit, pcs[i].VKHash, pcs[i].TranscriptHash)
				}
				return fmt.Sprintf("published circuit %s (vk sha256 %s)", pcs[i].Circuit, pcs[i].VKHash)
			}, pcs[0], pcs[1])
		})
	g.add(c)
	addKeysFlag(c, &keys)
	c.Flags().StringVar(&ceremonyDir, "ceremony", "", "ceremony directory whose final records gave the keys: publish their transcript hashes too")
	return c
}
