package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/keyfile"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/node"
)

// newGovernCmd: governance transactions, signed with the governance key
// of a registry directory (or --key) and submitted to a running registry.
func newGovernCmd() *cobra.Command {
	return group("govern", "sign and submit governance transactions (register issuers, accredit, publish circuits, revoke, validators)",
		`Govern signs governance transactions with the registry's governance key (from
the registry directory, or --key) and submits them to the running registry,
waiting until each is committed in a block.

`+govPassExplain+`

When the genesis threshold asks for more than one governance key, the first
key writes the signed transactions to a file with --out instead, every
further key adds its approval with 'approve', and anyone submits the file
with 'submit'. A key that approves twice counts once.`,
		`  zkcred registry govern register-issuer --dir reg --registry http://127.0.0.1:8700 --entry uni.json
  zkcred registry govern publish-circuits --dir reg --registry http://127.0.0.1:8700 --keys keys/
  # threshold 2: one key signs, a second approves, then submit
  zkcred registry govern deactivate-issuer --dir reg --pubkey HEX --out tx.json
  zkcred registry govern approve --dir reg --key other-governance.key --in tx.json
  zkcred registry govern submit --dir reg --in tx.json`,
		newGovernRegisterCmd(), newGovernUpdateCmd(), newGovernDeactivateCmd(), newGovernPublishCmd(), newGovernRevokeCmd(),
		newGovernValidatorCmd(), newGovernAccreditCmd(), newGovernWithdrawCmd(), newGovernApproveCmd(), newGovernSubmitCmd(), newGovernEncryptKeyCmd(),
		newChangePassphraseCmd(keyKind{name: "governance", format: node.GovernanceKeyFormat, dirSub: "registry", file: node.GovernanceFile,
			example: "  zkcred registry govern change-passphrase --dir reg --passphrase-file old.txt --new-passphrase-file new.txt"}))
}

type governFlags struct {
	dir, key, url, out, passFile string
	// accreditor: sign with an accreditor's key (--key, required) for the
	// chain of --genesis, never with --out.
	accreditor bool
	genesis    string
}

const govPassExplain = `Governance keys are encrypted with a passphrase chosen at 'registry init'.
Every command that signs with one needs it: from --passphrase-file FILE
(first line), else $ZKCRED_PASSPHRASE, else a prompt on the terminal.`

// govKeyFlagUsage is the help of --key.
const govKeyFlagUsage = "governance key file (encrypted; 'registry init' made it); default DIR/" + node.GovernanceFile

const thresholdHint = "the genesis threshold asks for more governance keys: sign with --out tx.json, add approvals with 'zkcred registry govern approve --in tx.json --key KEY', then 'zkcred registry govern submit --in tx.json'"

func (g *governFlags) add(c *cobra.Command) {
	addDirFlag(c, &g.dir, "registry", "registry directory (its genesis and governance key)")
	c.Flags().StringVar(&g.key, "key", "", govKeyFlagUsage)
	addPassFlag(c, &g.passFile)
	addRegistryFlag(c, &g.url, defaultRegURL, "")
	c.Flags().StringVar(&g.out, "out", "", "write the signed transactions to this file for other governance keys to approve, instead of submitting them")
}

// readGovKey decrypts the governance key of --key or the directory, with
// the passphrase of --passphrase-file, $ZKCRED_PASSPHRASE or a prompt.
func readGovKey(dir, key, passFile string) (ed25519.PrivateKey, error) {
	if key == "" {
		key = filepath.Join(dir, node.GovernanceFile)
	}
	return readSigningKey(signingKey{path: key, passFile: passFile, what: "governance",
		give:     "give the governance key with --key ('zkcred registry init' made it)",
		passHint: ": the one chosen at 'zkcred registry init'",
		encrypt:  "zkcred registry govern encrypt-key --key " + key,
		load:     node.ReadKey})
}

// signingKey is a key file a registry command signs with.
type signingKey struct {
	path, passFile string
	what           string // "governance", "accreditor": names the key and its error codes
	give           string // hint: where the right key comes from
	passHint       string // added to the wrong passphrase hint
	encrypt        string // command that encrypts a plain file ("": no such check)
	load           func(path string, passphrase []byte) (ed25519.PrivateKey, error)
}

// readSigningKey decrypts k with the passphrase of --passphrase-file,
// $ZKCRED_PASSPHRASE or a prompt; a plain (unencrypted) file is refused
// before any prompt, with k.encrypt, the command that encrypts it.
func readSigningKey(k signingKey) (ed25519.PrivateKey, error) {
	if _, err := os.Stat(k.path); err != nil {
		return nil, localf("no_"+k.what+"_key", k.give, "%s key: %v", k.what, err)
	}
	if k.encrypt != "" {
		if _, err := k.load(k.path, nil); errors.Is(err, keyfile.ErrPlain) {
			return nil, localf("plain_key", "encrypt it with '"+k.encrypt+"'", "%v", err)
		}
	}
	pass, err := readPassphrase(passSource{file: k.passFile, prompt: k.what + " key passphrase: "})
	if err != nil {
		return nil, err
	}
	key, err := k.load(k.path, []byte(pass))
	switch {
	case errors.Is(err, keyfile.ErrWrongPassphrase):
		return nil, localf("wrong_passphrase", "check the passphrase ("+passphraseEnv+" or --passphrase-file)"+k.passHint, "%v", err)
	case err != nil:
		return nil, localf(k.what+"_key", k.give, "%v", err)
	}
	return key, nil
}

// genesisOf returns the genesis of the chain the command signs for: of
// --genesis for an accreditor, of the registry directory for governance.
func (g *governFlags) genesisOf() (*registry.Genesis, error) {
	if g.accreditor {
		return readGenesis(g.genesis, "no --genesis given")
	}
	d, err := node.OpenDir(g.dir)
	if err != nil {
		return nil, localf("no_registry", "give the registry directory made by 'zkcred registry init' with --dir", "%v", err)
	}
	return d.Genesis, nil
}

// submit signs bodies in order with the governance key and waits for each
// receipt; describe says what each committed (for the text output).
func (g *governFlags) submit(describe func(i int) string, bodies ...registry.Body) error {
	gen, err := g.genesisOf()
	if err != nil {
		return err
	}
	var key ed25519.PrivateKey
	if g.accreditor {
		key, err = readAccreditorKey(g.key, g.passFile)
	} else {
		key, err = readGovKey(g.dir, g.key, g.passFile)
	}
	if err != nil {
		return err
	}
	c, err := client.New(g.url, client.Options{})
	if err != nil {
		return usagef("pass --registry http://host:port", "%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := c.NewSigner(ctx, gen.ChainID, key)
	if err != nil {
		return withHint(fmt.Errorf("registry at %s: %w", g.url, err), "is the registry running at "+g.url+"?")
	}
	if g.out != "" {
		txs := make([]*registry.Tx, len(bodies))
		for i, b := range bodies {
			if txs[i], err = s.Sign(b); err != nil {
				return err
			}
		}
		if err := writeGovTxs(g.out, txs); err != nil {
			return err
		}
		if jsonOutput {
			return printJSON(map[string]any{"file": g.out, "transactions": len(txs), "approvals": 1})
		}
		fmt.Printf("%d transaction(s) signed into %s; other governance keys add theirs with 'zkcred registry govern approve --in %s', then 'zkcred registry govern submit --in %s'\n", len(txs), g.out, g.out, g.out)
		return nil
	}
	var receipts []*registry.Receipt
	for i, b := range bodies {
		rc, err := s.Do(ctx, b)
		if g.accreditor && errors.Is(err, registry.ErrForbidden) {
			return newErr(errRefused, "not_accredited", "ask governance: 'zkcred registry accredit show --pubkey "+hex.EncodeToString(key.Public().(ed25519.PublicKey))+"' shows the kinds this key is accredited for", fmt.Errorf("%s: %w", b.TxType(), err))
		}
		if errors.Is(err, registry.ErrBelowThreshold) {
			return newErr(errRefused, "below_threshold", thresholdHint, fmt.Errorf("%s: %w", b.TxType(), err))
		}
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
	var entry, pub, name, kind, didWeb string
	c := leaf("register-issuer", "register an issuer (from the entry 'zkcred issuer register' printed)",
		`  zkcred registry govern register-issuer --dir reg --registry http://127.0.0.1:8700 --entry uni.json
  zkcred registry govern register-issuer --dir reg --pubkey HEX --name "Uni" --kind university --did-web uni.example`,
		noArgs, func(*cobra.Command, []string) error {
			ri, err := issuerEntry(entry, pub, name, kind)
			if err != nil {
				return err
			}
			if didWeb != "" {
				did, err := parseDIDWebFlag(didWeb)
				if err != nil {
					return err
				}
				ri.DIDWeb = did
			}
			return g.submit(func(int) string { return fmt.Sprintf("registered issuer %q (%s)", ri.Name, ri.Kind) }, ri)
		})
	g.add(c)
	addIssuerEntryFlags(c, &entry, &pub, &name, &kind)
	addDIDWebFlag(c, &didWeb, "bind this did:web (the issuer's domain) to the issuer: credentials it signs may name it as their issuer")
	return c
}

// issuerEntry is the issuer to register: from the file --entry names, or
// from --pubkey, --name and --kind.
func issuerEntry(entry, pub, name, kind string) (registry.RegisterIssuer, error) {
	var ri registry.RegisterIssuer
	switch {
	case entry != "":
		b, err := os.ReadFile(entry)
		if err != nil {
			return ri, usagef("give --entry the file 'zkcred issuer register --json' wrote", "%v", err)
		}
		if err := json.Unmarshal(b, &ri); err != nil {
			return ri, usagef("the file 'zkcred issuer register --json' writes", "%s: %v", entry, err)
		}
	case pub != "":
		ri = registry.RegisterIssuer{PubKey: pub, Name: name, Kind: kind}
	default:
		return ri, usagef("give --entry issuer.json (or --pubkey --name --kind)", "no issuer given")
	}
	return ri, nil
}

func addIssuerEntryFlags(c *cobra.Command, entry, pub, name, kind *string) {
	c.Flags().StringVar(entry, "entry", "", `JSON file with the entry 'zkcred issuer register' printed: {"pubkey","name","kind"}`)
	c.Flags().StringVar(pub, "pubkey", "", "issuer's hex ed25519 public key (instead of --entry)")
	c.Flags().StringVar(name, "name", "", "issuer's display name")
	c.Flags().StringVar(kind, "kind", "", "issuer's kind, e.g. university or hospital")
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

// writeGovTxs writes signed governance transactions as a JSON array.
func writeGovTxs(path string, txs []*registry.Tx) error {
	b, err := json.MarshalIndent(txs, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return localf("write_failed", "choose a writable --out path", "%v", err)
	}
	return nil
}

// readGovTxs reads the file --out wrote, checking every signature on it.
func readGovTxs(path, chainID string) ([]*registry.Tx, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("give --in the file 'zkcred registry govern ... --out' wrote", "%v", err)
	}
	var txs []*registry.Tx
	if err := json.Unmarshal(b, &txs); err != nil || len(txs) == 0 {
		return nil, usagef("give --in the file 'zkcred registry govern ... --out' wrote", "%s: not a list of signed transactions", path)
	}
	for i, tx := range txs {
		st, err := registry.VerifyTx(chainID, tx)
		if err != nil {
			return nil, usagef("the file may have been altered, or is for another chain", "%s: transaction %d: %v", path, i, err)
		}
		if !registry.IsGovernance(st.Type) {
			return nil, usagef("only governance transactions are approved", "%s: transaction %d is %s", path, i, st.Type)
		}
	}
	return txs, nil
}

func newGovernApproveCmd() *cobra.Command {
	var dir, key, in, passFile string
	c := leaf("approve", "add this governance key's approval to the transactions of a file ('govern ... --out')",
		"  zkcred registry govern approve --dir reg --key second-governance.key --in tx.json",
		noArgs, func(*cobra.Command, []string) error {
			d, err := node.OpenDir(dir)
			if err != nil {
				return localf("no_registry", "give the registry directory (its genesis) with --dir", "%v", err)
			}
			k, err := readGovKey(dir, key, passFile)
			if err != nil {
				return err
			}
			txs, err := readGovTxs(in, d.Genesis.ChainID)
			if err != nil {
				return err
			}
			pub := hex.EncodeToString(k.Public().(ed25519.PublicKey))
			if !slices.Contains(d.Genesis.Governance, pub) {
				return localf("not_governance", "approve with one of the genesis governance keys", "key %s is not a governance key of chain %q", pub, d.Genesis.ChainID)
			}
			n := 0
			for _, tx := range txs {
				st, _ := registry.VerifyTx(d.Genesis.ChainID, tx)
				if slices.ContainsFunc(st.Approvers, func(a ed25519.PublicKey) bool { return a.Equal(k.Public()) }) {
					continue // a key counts once
				}
				tx.Approve(d.Genesis.ChainID, k)
				n = len(st.Approvers) + 1
			}
			if n == 0 {
				return localf("already_approved", "approve with another governance key", "key %s already signed %s", pub, in)
			}
			if err := writeGovTxs(in, txs); err != nil {
				return err
			}
			if jsonOutput {
				return printJSON(map[string]any{"file": in, "transactions": len(txs), "approvals": n})
			}
			fmt.Printf("approved %d transaction(s) in %s: %d governance key(s) have signed\n", len(txs), in, n)
			return nil
		})
	addDirFlag(c, &dir, "registry", "registry directory (its genesis)")
	c.Flags().StringVar(&key, "key", "", govKeyFlagUsage)
	addPassFlag(c, &passFile)
	c.Flags().StringVar(&in, "in", "", "file of signed transactions ('govern ... --out'); approved in place")
	c.MarkFlagRequired("in")
	return c
}

func newGovernSubmitCmd() *cobra.Command {
	var dir, url, in string
	c := leaf("submit", "submit the approved transactions of a file and wait until each is committed",
		"  zkcred registry govern submit --dir reg --registry http://127.0.0.1:8700 --in tx.json",
		noArgs, func(*cobra.Command, []string) error {
			d, err := node.OpenDir(dir)
			if err != nil {
				return localf("no_registry", "give the registry directory (its genesis) with --dir", "%v", err)
			}
			txs, err := readGovTxs(in, d.Genesis.ChainID)
			if err != nil {
				return err
			}
			cl, err := client.New(url, client.Options{})
			if err != nil {
				return usagef("pass --registry http://host:port", "%v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var receipts []*registry.Receipt
			for i, tx := range txs {
				rc, err := cl.Submit(ctx, tx)
				if errors.Is(err, registry.ErrBelowThreshold) {
					return newErr(errRefused, "below_threshold", "more governance keys must approve: 'zkcred registry govern approve --in "+in+" --key KEY'", fmt.Errorf("transaction %d: %w", i, err))
				}
				if err != nil {
					return withHint(fmt.Errorf("transaction %d: %w", i, err), "is the registry running at "+url+"?")
				}
				receipts = append(receipts, rc)
				if !jsonOutput {
					fmt.Printf("%s: committed in block %d\n", rc.Type, rc.Height)
				}
			}
			if jsonOutput {
				return printJSON(receipts)
			}
			return nil
		})
	addDirFlag(c, &dir, "registry", "registry directory (its genesis)")
	addRegistryFlag(c, &url, defaultRegURL, "")
	c.Flags().StringVar(&in, "in", "", "file of approved transactions ('govern ... --out', 'govern approve')")
	c.MarkFlagRequired("in")
	return c
}

func newGovernRevokeCmd() *cobra.Command {
	var g governFlags
	var issuer string
	var leaves []string
	c := leaf("revoke", "revoke leaves of a deactivated issuer (its key leaked or it is gone): each leaf with the commitment it was anchored with",
		"  zkcred registry govern revoke --dir reg --issuer HEX --leaf 12:<commitment> --leaf 13:<commitment>",
		noArgs, func(*cobra.Command, []string) error {
			if _, err := registry.ParsePubKey(issuer); err != nil {
				return usagef("zkcred registry govern revoke --issuer HEX --leaf INDEX:COMMITMENT", "--issuer must be the issuer's hex public key")
			}
			body := registry.GovernanceRevoke{Issuer: issuer}
			for _, l := range leaves {
				i, c, ok := strings.Cut(l, ":")
				idx, err := strconv.ParseUint(i, 10, 64)
				if !ok || err != nil {
					return usagef("--leaf INDEX:COMMITMENT, e.g. --leaf 12:4711...", "--leaf %q is not INDEX:COMMITMENT", l)
				}
				e, err := circuits.ParseElement(c)
				if err != nil {
					return usagef("the commitment is the credential's decimal field element", "--leaf %q: %v", l, err)
				}
				body.Leaves = append(body.Leaves, registry.RevokeLeaf{Index: idx, Commitment: circuits.F(e)})
			}
			if len(body.Leaves) == 0 {
				return usagef("zkcred registry govern revoke --issuer HEX --leaf INDEX:COMMITMENT", "no --leaf given")
			}
			return g.submit(func(int) string { return fmt.Sprintf("revoked %d leaf(s) of issuer %s", len(body.Leaves), issuer) }, body)
		})
	g.add(c)
	c.Flags().StringVar(&issuer, "issuer", "", "the deactivated issuer's hex ed25519 public key")
	c.Flags().StringArrayVar(&leaves, "leaf", nil, "INDEX:COMMITMENT of a leaf to revoke (repeat)")
	return c
}

func newGovernValidatorCmd() *cobra.Command {
	var g governFlags
	var pub string
	var power int64
	c := leaf("set-validator", "add a validator, change its voting power, or remove it (--power 0)",
		"  zkcred registry govern set-validator --dir reg --pubkey HEX --power 10",
		noArgs, func(*cobra.Command, []string) error {
			if _, err := registry.ParsePubKey(pub); err != nil {
				return usagef("zkcred registry govern set-validator --pubkey HEX --power N", "--pubkey must be the validator's hex ed25519 public key")
			}
			return g.submit(func(int) string { return fmt.Sprintf("validator %s: power %d", pub, power) },
				registry.UpdateValidators{Validators: []registry.Validator{{PubKey: pub, Power: power}}})
		})
	g.add(c)
	c.Flags().StringVar(&pub, "pubkey", "", "validator's hex ed25519 public key")
	c.Flags().Int64Var(&power, "power", 1, "voting power; 0 removes the validator")
	return c
}

func newGovernEncryptKeyCmd() *cobra.Command {
	var dir, key, passFile string
	var wf int
	c := leaf("encrypt-key", "encrypt a plain governance key file in place (registry directories made before keys were encrypted)",
		"  zkcred registry govern encrypt-key --dir reg\n  zkcred registry govern encrypt-key --key old-governance.key --passphrase-file pass.txt",
		noArgs, func(*cobra.Command, []string) error {
			if key == "" {
				key = filepath.Join(dir, node.GovernanceFile)
			}
			if _, err := os.Stat(key); err != nil {
				return localf("no_governance_key", "give the governance key with --key, or the registry directory with --dir", "governance key: %v", err)
			}
			if _, err := node.ReadKey(key, nil); !errors.Is(err, node.ErrPlainKey) {
				return localf("not_plain", "the key is already encrypted: nothing to do", "%s is not a plain governance key file", key)
			}
			pass, err := readPassphrase(passSource{file: passFile, prompt: "new governance key passphrase: ", confirm: true, explain: govPassExplain})
			if err != nil {
				return err
			}
			k, err := node.EncryptKey(key, node.KeyOptions{Passphrase: []byte(pass), ScryptWorkFactor: wf})
			if err != nil {
				return localf("governance_key", "", "%v", err)
			}
			pub := hex.EncodeToString(k.Public().(ed25519.PublicKey))
			return printOut(map[string]string{"key": key, "pubkey": pub},
				"encrypted governance key %s (%s)\nevery govern command now needs its passphrase: --passphrase-file FILE or $%s\n", key, pub, passphraseEnv)
		})
	c.Long = "Encrypt-key rewrites a governance key file that holds a plain hex seed as an\nage-encrypted one, atomically, keeping the key.\n\n" + govPassExplain
	addDirFlag(c, &dir, "registry", "registry directory (its "+node.GovernanceFile+")")
	c.Flags().StringVar(&key, "key", "", "plain governance key file; default DIR/"+node.GovernanceFile)
	addPassFlag(c, &passFile)
	addWorkFactorFlag(c, &wf, keyfileWorkFactor)
	return c
}
