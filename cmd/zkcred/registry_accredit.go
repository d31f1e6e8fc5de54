package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkcred/zkcred/internal/keyfile"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/light"
	"github.com/zkcred/zkcred/registry/proof"
)

// accreditorFormat is an accreditor's own key file; an accreditor may
// also sign with its issuer key (issuer.KeyFormat).
var accreditorFormat = keyfile.Format{ID: "zkcred-accreditor-key/1", What: "accreditor"}

const accreditPassExplain = `An accreditor's key file is encrypted with a passphrase chosen at
'accredit init' (or is an issuer's key, with its passphrase): from
--passphrase-file FILE (first line), else $ZKCRED_PASSPHRASE, else a prompt
on the terminal.`

// newRegistryAccreditCmd: an accreditor's commands.
func newRegistryAccreditCmd() *cobra.Command {
	return group("accredit", "an accreditor's commands: register, update and deactivate issuers of the kinds governance accredited it for",
		`Governance (k of n) accredits an organisation, a ministry or an accreditation
body, for one or more issuer kinds ('zkcred registry govern accredit'). Its key
alone may then register, update and deactivate issuers of those kinds; the
registry refuses anything else, and every issuer it registers names it
(registered_by). Governance withdraws the accreditation with 'zkcred registry
govern withdraw-accreditation'.

`+accreditPassExplain,
		`  zkcred registry accredit init --key ministry.key
  #   ... governance: zkcred registry govern accredit --dir reg --pubkey HEX --name "Ministry of Education" --kind university
  zkcred registry accredit register-issuer --key ministry.key --genesis genesis.json --registry http://127.0.0.1:8700 --entry uni.json
  zkcred registry accredit show --pubkey HEX --genesis genesis.json --registry http://127.0.0.1:8700`,
		newAccreditInitCmd(), newAccreditShowCmd(), newAccreditRegisterCmd(), newUpdateIssuerCmd(true), newAccreditDeactivateCmd(),
		newChangePassphraseCmd(keyKind{name: "accreditor", format: accreditorFormat,
			example: "  zkcred registry accredit change-passphrase --key ministry.key --passphrase-file old.txt --new-passphrase-file new.txt"}))
}

// addAccreditorFlags adds the flags of the commands an accreditor signs.
func (g *governFlags) addAccreditor(c *cobra.Command) {
	g.accreditor = true
	c.Flags().StringVar(&g.key, "key", "", "the accreditor's key file ('accredit init', or its issuer key)")
	c.MarkFlagRequired("key")
	addPassFlag(c, &g.passFile)
	addGenesisFlag(c, &g.genesis)
	addRegistryFlag(c, &g.url, defaultRegURL, "")
}

// readAccreditorKey decrypts an accreditor's key file: its own, or an
// issuer key.
func readAccreditorKey(path, passFile string) (ed25519.PrivateKey, error) {
	return readSigningKey(signingKey{path: path, passFile: passFile, what: "accreditor",
		give: "give the key 'zkcred registry accredit init' made, or an issuer key, with --key",
		load: func(path string, pass []byte) (ed25519.PrivateKey, error) {
			return keyfile.LoadAny(path, pass, accreditorFormat, issuer.KeyFormat)
		}})
}

func newAccreditInitCmd() *cobra.Command {
	var key, passFile string
	var wf int
	c := leaf("init", "make an accreditor's encrypted key and print its public key for governance",
		"  zkcred registry accredit init --key ministry.key",
		noArgs, func(*cobra.Command, []string) error {
			if key == "" {
				return usagef("zkcred registry accredit init --key ministry.key", "no --key given")
			}
			if _, err := os.Stat(key); err == nil {
				return usagef("choose another --key path", "%s already exists", key)
			}
			pass, err := readPassphrase(passSource{file: passFile, prompt: "new accreditor key passphrase: ", confirm: true, explain: accreditPassExplain})
			if err != nil {
				return err
			}
			_, k, err := ed25519.GenerateKey(nil)
			if err != nil {
				return err
			}
			if err := keyfile.Save(key, accreditorFormat, k, []byte(pass), keyfile.Options{ScryptWorkFactor: wf}); err != nil {
				return localf("write_failed", "choose a writable --key path", "%v", err)
			}
			pub := hex.EncodeToString(k.Public().(ed25519.PublicKey))
			return printOut(map[string]string{"key": key, "pubkey": pub},
				"accreditor key %s\n  public key %s\ngive the public key to governance: zkcred registry govern accredit --pubkey %s --name NAME --kind KIND\n", key, pub, pub)
		})
	c.Long = "Init makes a new ed25519 key for an accreditor, encrypted.\n\n" + accreditPassExplain
	c.Flags().StringVar(&key, "key", "", "key file to create")
	addPassFlag(c, &passFile)
	addWorkFactorFlag(c, &wf, keyfileWorkFactor)
	return c
}

func newAccreditShowCmd() *cobra.Command {
	var pub, gen, url string
	c := leaf("show", "print a key's accreditation (kinds, active), proven against a header the light client verified",
		"  zkcred registry accredit show --pubkey HEX --genesis genesis.json --registry http://127.0.0.1:8700",
		noArgs, func(*cobra.Command, []string) error {
			if _, err := registry.ParsePubKey(pub); err != nil {
				return usagef("zkcred registry accredit show --pubkey HEX", "--pubkey must be a hex ed25519 public key")
			}
			g, err := readGenesis(gen, "no --genesis given")
			if err != nil {
				return err
			}
			lc, err := light.New(g, url, light.Options{})
			if err != nil {
				return usagef("pass --registry http://host:port", "%v", err)
			}
			defer lc.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := lc.Sync(ctx); err != nil {
				if isUnreachable(err) {
					return unreachable("is the registry running at "+url+"?", err)
				}
				return fmt.Errorf("sync headers: %w", err)
			}
			a, err := proof.New(lc.Registry(), lc).Accreditor(ctx, pub)
			if err != nil {
				return err
			}
			if jsonOutput {
				if a == nil {
					return printJSON(map[string]any{"pubkey": pub, "accredited": false})
				}
				return printJSON(a)
			}
			switch {
			case a == nil:
				fmt.Printf("%s is not an accreditor\n", pub)
			case !a.Active:
				fmt.Printf("%s (%s): accreditation withdrawn in block %d (was for %s)\n", a.Name, pub, a.Updated, strings.Join(a.Kinds, ", "))
			default:
				fmt.Printf("%s (%s): accredited for %s since block %d\n", a.Name, pub, strings.Join(a.Kinds, ", "), a.Accredited)
			}
			return nil
		})
	c.Flags().StringVar(&pub, "pubkey", "", "the key's hex ed25519 public key")
	addGenesisFlag(c, &gen)
	addRegistryFlag(c, &url, defaultRegURL, "")
	return c
}

func newAccreditRegisterCmd() *cobra.Command {
	var g governFlags
	var entry, pub, name, kind string
	c := leaf("register-issuer", "register an issuer of a kind this accreditor is accredited for",
		`  zkcred registry accredit register-issuer --key ministry.key --genesis genesis.json --entry uni.json
  zkcred registry accredit register-issuer --key ministry.key --genesis genesis.json --pubkey HEX --name "Uni" --kind university`,
		noArgs, func(*cobra.Command, []string) error {
			ri, err := issuerEntry(entry, pub, name, kind)
			if err != nil {
				return err
			}
			return g.submit(func(int) string { return fmt.Sprintf("registered issuer %q (%s)", ri.Name, ri.Kind) }, ri)
		})
	g.addAccreditor(c)
	addIssuerEntryFlags(c, &entry, &pub, &name, &kind)
	return c
}

func newAccreditDeactivateCmd() *cobra.Command {
	var g governFlags
	var pub string
	c := leaf("deactivate-issuer", "deactivate an issuer of a kind this accreditor is accredited for",
		"  zkcred registry accredit deactivate-issuer --key ministry.key --genesis genesis.json --pubkey HEX",
		noArgs, func(*cobra.Command, []string) error {
			if _, err := registry.ParsePubKey(pub); err != nil {
				return usagef("zkcred registry accredit deactivate-issuer --pubkey HEX", "--pubkey must be the issuer's hex public key")
			}
			return g.submit(func(int) string { return "deactivated issuer " + pub }, registry.DeactivateIssuer{PubKey: pub})
		})
	g.addAccreditor(c)
	c.Flags().StringVar(&pub, "pubkey", "", "issuer's hex ed25519 public key")
	return c
}

// Governance's side.

func newGovernAccreditCmd() *cobra.Command {
	var g governFlags
	var pub, name string
	var kinds []string
	c := leaf("accredit", "accredit a key (a ministry, an accreditation body; its own or an issuer's) to register, update and deactivate issuers of some kinds",
		`  zkcred registry govern accredit --dir reg --pubkey HEX --name "Ministry of Education" --kind university --kind college`,
		noArgs, func(*cobra.Command, []string) error {
			if _, err := registry.ParsePubKey(pub); err != nil {
				return usagef("zkcred registry govern accredit --pubkey HEX --name NAME --kind KIND", "--pubkey must be the accreditor's hex ed25519 public key")
			}
			if len(kinds) == 0 {
				return usagef("name each kind with --kind, e.g. --kind university", "no --kind given")
			}
			a := registry.Accredit{PubKey: pub, Name: name, Kinds: kinds}
			return g.submit(func(int) string { return fmt.Sprintf("accredited %q for %s", name, strings.Join(kinds, ", ")) }, a)
		})
	g.add(c)
	c.Flags().StringVar(&pub, "pubkey", "", "the accreditor's hex ed25519 public key ('zkcred registry accredit init' printed it)")
	c.Flags().StringVar(&name, "name", "", "the accreditor's display name")
	c.Flags().StringArrayVar(&kinds, "kind", nil, "an issuer kind it may register (repeat); replaces the kinds of an earlier accreditation")
	return c
}

func newGovernWithdrawCmd() *cobra.Command {
	var g governFlags
	var pub string
	c := leaf("withdraw-accreditation", "withdraw an accreditation: the key may no longer register, update or deactivate issuers",
		"  zkcred registry govern withdraw-accreditation --dir reg --pubkey HEX",
		noArgs, func(*cobra.Command, []string) error {
			if _, err := registry.ParsePubKey(pub); err != nil {
				return usagef("zkcred registry govern withdraw-accreditation --pubkey HEX", "--pubkey must be the accreditor's hex ed25519 public key")
			}
			return g.submit(func(int) string { return "withdrew the accreditation of " + pub }, registry.WithdrawAccreditation{PubKey: pub})
		})
	g.add(c)
	c.Flags().StringVar(&pub, "pubkey", "", "the accreditor's hex ed25519 public key")
	return c
}
