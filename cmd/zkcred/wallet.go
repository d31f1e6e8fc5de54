package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/wallet"
	"github.com/zkcred/zkcred/wire"
)

func newWalletCmd() *cobra.Command {
	var wf walletFlags
	c := group("wallet", "the holder's encrypted credential wallet: receive and present credentials",
		`The wallet keeps the holder's secret and credentials in one encrypted file
(--wallet, default $ZKCRED_HOME/wallet.age). It trusts the registry's genesis
given at init, checks every credential it receives against the chain, and
answers a verifier's request with a zero-knowledge proof after showing what
the verifier will learn.`,
		`  zkcred wallet init --registry http://127.0.0.1:8700 --genesis genesis.json
  zkcred wallet receive 'https://uni.example/v1/offers/…?token=…'
  zkcred wallet present https://verifier.example/v1/requests/ID --yes`,
		newWalletInitCmd(&wf), newWalletBackupCmd(&wf), newWalletRestoreCmd(&wf), newWalletReceiveCmd(&wf),
		newWalletListCmd(&wf), newWalletShowCmd(&wf), newWalletPresentCmd(&wf), newWalletSyncCmd(&wf), newWalletTrustCmd(&wf))
	return c
}

// walletFlags are the flags every wallet command has.
type walletFlags struct {
	path, passFile string
	loopbackHTTP   bool // resolve loopback did:web over http (addLoopbackFlag)
}

// addLoopbackFlag defines --allow-loopback-http on a wallet command.
func (wf *walletFlags) addLoopbackFlag(c *cobra.Command) {
	c.Flags().BoolVar(&wf.loopbackHTTP, "allow-loopback-http", false, "resolve a did:web of a loopback host (127.0.0.1, localhost) over plain http: local development only")
}

func (wf *walletFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&wf.path, "wallet", defaultWalletPath(), "wallet file (env "+envWallet+")")
	addPassFlag(c, &wf.passFile)
}

const walletPassExplain = `The wallet is encrypted with a passphrase: choose one now. Every later wallet
command asks for it (or reads $ZKCRED_PASSPHRASE, or --passphrase-file FILE).
Nobody can recover the wallet without it: keep it, and a backup
('zkcred wallet backup').`

func readPass(file, prompt string, confirm bool) (string, error) {
	src := passSource{file: file, prompt: prompt, confirm: confirm}
	if confirm {
		src.explain = walletPassExplain
	}
	return readPassphrase(src)
}

// openWallet opens the wallet, turning the common failures into hints.
func openWallet(wf walletFlags) (*wallet.Wallet, error) {
	if _, err := os.Stat(wf.path); errors.Is(err, os.ErrNotExist) {
		return nil, localf("no_wallet", "run 'zkcred wallet init' to create one, or name it with --wallet or "+envWallet, "no wallet at %s", wf.path)
	}
	pass, err := readPass(wf.passFile, "wallet passphrase: ", false)
	if err != nil {
		return nil, err
	}
	w, err := wallet.Open(wf.path, pass, wallet.Options{AllowLoopbackHTTP: wf.loopbackHTTP})
	if errors.Is(err, wallet.ErrPassphrase) {
		return nil, localf("wrong_passphrase", "check the passphrase ("+passphraseEnv+" or --passphrase-file)", "cannot open %s: wrong passphrase", wf.path)
	}
	return w, err
}

// openWalletLocked opens the wallet for a command that updates it or its
// header file, holding the wallet's lock (when the wallet exists; a
// missing one is openWallet's error to tell). release closes it and
// unlocks.
func openWalletLocked(wf walletFlags) (w *wallet.Wallet, release func(), err error) {
	unlock := func() {}
	if _, err := os.Stat(wf.path); err == nil {
		if unlock, err = lockWallet(wf.path); err != nil {
			return nil, nil, err
		}
	}
	if w, err = openWallet(wf); err != nil {
		unlock()
		return nil, nil, err
	}
	return w, func() { w.Close(); unlock() }, nil
}

// lockWallet takes the wallet's lock for a command that updates the wallet
// or its header file.
func lockWallet(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, localf("", "pass another --wallet", "%v", err)
	}
	return wallet.Lock(path)
}

// minWalletWorkFactor is the lowest scrypt work factor (log2 N) that
// 'wallet init' accepts: 2^17 with age's r = 8, p = 1 is the minimum the
// OWASP Password Storage Cheat Sheet gives for scrypt. Lower factors (down
// to wallet.MinWorkFactor) only with envTestWorkFactor=1, for tests.
const minWalletWorkFactor = 17

// envTestWorkFactor lets tests create wallets with a weak work factor.
const envTestWorkFactor = "ZKCRED_INSECURE_TEST_WORK_FACTOR"

func newWalletInitCmd(wf *walletFlags) *cobra.Command {
	var reg, gen, keysURL string
	var work int
	c := leaf("init", "create an encrypted wallet that trusts a registry's genesis",
		`  zkcred wallet init --registry http://127.0.0.1:8700 --genesis genesis.json
  zkcred wallet init --registry http://127.0.0.1:8640 --genesis up/registry/genesis.json --keys-url http://127.0.0.1:8640/keys`,
		noArgs, func(*cobra.Command, []string) error { return walletInit(*wf, reg, gen, keysURL, work) })
	c.Long = "Init makes a new holder secret and an empty wallet file.\n\n" + walletPassExplain + `

--registry and --genesis name the registry chain the wallet checks every
credential against; the genesis file is trusted as given. --keys-url is where
the proving keys are fetched from when --keys has none (they are checked
against the hashes the registry publishes).`
	wf.add(c)
	addRegistryFlag(c, &reg, "", "registry base URL")
	addGenesisFlag(c, &gen)
	c.Flags().StringVar(&keysURL, "keys-url", "", "base URL to fetch proving keys from when the keys directory has none")
	addWorkFactorFlag(c, &work, wallet.DefaultWorkFactor)
	c.Flags().Lookup("work-factor").Usage += fmt.Sprintf(" (%d to 22)", minWalletWorkFactor)
	return c
}

func walletInit(wf walletFlags, reg, gen, keysURL string, work int) error {
	if work < minWalletWorkFactor && os.Getenv(envTestWorkFactor) != "1" {
		return usagef(fmt.Sprintf("use --work-factor %d or more (the default is %d); it is what a guessed passphrase costs", minWalletWorkFactor, wallet.DefaultWorkFactor),
			"--work-factor %d is below the minimum of %d", work, minWalletWorkFactor)
	}
	if (reg == "") != (gen == "") {
		return usagef("give both --registry and --genesis, or neither", "--registry and --genesis go together")
	}
	var cfg wallet.Config
	if gen != "" {
		g, err := readGenesis(gen, "")
		if err != nil {
			return err
		}
		cfg = wallet.Config{Registry: reg, Genesis: g}
	}
	cfg.KeysURL = keysURL
	unlock, err := lockWallet(wf.path)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(wf.path); err == nil {
		return usagef("use --wallet for another path, or 'zkcred wallet restore' from a backup", "a wallet already exists at %s", wf.path)
	}
	pass, err := readPass(wf.passFile, "new wallet passphrase: ", true)
	if err != nil {
		return err
	}
	w, err := wallet.Create(wf.path, pass, wallet.CreateOptions{WorkFactor: work, Config: cfg})
	if err != nil {
		return err
	}
	if jsonOutput {
		return printJSON(map[string]any{"wallet": wf.path, "holderCommitment": w.HolderCommit()})
	}
	fmt.Printf("wallet created: %s\nholder commitment: %s\n", wf.path, w.HolderCommit())
	fmt.Println("keep the passphrase safe, and make a backup with 'zkcred wallet backup --out FILE'")
	return nil
}

func backupPass(file, prompt string, confirm bool) (string, error) {
	return readPassphrase(passSource{file: file, env: envBackupPass, prompt: prompt, confirm: confirm, flag: "--backup-passphrase-file", what: "backup passphrase"})
}

func newWalletBackupCmd(wf *walletFlags) *cobra.Command {
	var out, bpf string
	c := leaf("backup", "write an encrypted backup of the wallet (secret and credentials)",
		"  zkcred wallet backup --out wallet-backup.age",
		noArgs, func(*cobra.Command, []string) error { return walletBackup(*wf, out, bpf) })
	wf.add(c)
	c.Flags().StringVar(&out, "out", "", "backup file to write (required)")
	c.Flags().StringVar(&bpf, "backup-passphrase-file", "", "backup passphrase file (else env "+envBackupPass+", else a prompt)")
	return c
}

func walletBackup(wf walletFlags, out, bpf string) error {
	if out == "" {
		return usagef("zkcred wallet backup --out FILE", "--out is required")
	}
	if _, err := os.Stat(out); err == nil {
		return usagef("choose another --out path", "%s already exists", out)
	}
	w, err := openWallet(wf)
	if err != nil {
		return err
	}
	bp, err := backupPass(bpf, "backup passphrase: ", true)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return usagef("choose another --out path", "%v", err)
	}
	if err := w.Backup(f, bp); err != nil {
		f.Close()
		os.Remove(out)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if jsonOutput {
		return printJSON(map[string]any{"backup": out, "credentials": len(w.Credentials())})
	}
	fmt.Printf("backup of %d credentials and the holder secret written to %s\n", len(w.Credentials()), out)
	return nil
}

func newWalletRestoreCmd(wf *walletFlags) *cobra.Command {
	var bpf string
	c := leaf("restore BACKUP-FILE", "restore a wallet from a backup, under a new passphrase",
		"  zkcred wallet restore --wallet new/wallet.age wallet-backup.age",
		exactArgs(1, "name one backup file"), func(_ *cobra.Command, args []string) error { return walletRestore(*wf, bpf, args[0]) })
	wf.add(c)
	c.Flags().StringVar(&bpf, "backup-passphrase-file", "", "backup passphrase file (else env "+envBackupPass+", else a prompt)")
	return c
}

func walletRestore(wf walletFlags, bpf, backup string) error {
	unlock, err := lockWallet(wf.path)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(wf.path); err == nil {
		return usagef("restore to another --wallet path", "a wallet already exists at %s", wf.path)
	}
	f, err := os.Open(backup)
	if err != nil {
		return usagef("name the file 'zkcred wallet backup' wrote", "%v", err)
	}
	defer f.Close()
	bp, err := backupPass(bpf, "backup passphrase: ", false)
	if err != nil {
		return err
	}
	pass, err := readPass(wf.passFile, "new wallet passphrase: ", true)
	if err != nil {
		return err
	}
	w, err := wallet.Restore(f, bp, wf.path, pass, wallet.Options{})
	if errors.Is(err, wallet.ErrPassphrase) {
		return localf("wrong_passphrase", "check the backup passphrase ("+envBackupPass+" or --backup-passphrase-file)", "cannot open %s: wrong backup passphrase", backup)
	}
	if err != nil {
		return err
	}
	if jsonOutput {
		return printJSON(map[string]any{"wallet": wf.path, "credentials": len(w.Credentials())})
	}
	fmt.Printf("restored %d credentials to %s\n", len(w.Credentials()), wf.path)
	return nil
}

func newWalletReceiveCmd(wf *walletFlags) *cobra.Command {
	var keys, txCode string
	c := leaf("receive <offer-url | credential-offer-link | credential-file>", "claim a credential offer, or store a credential file, after checking it on the chain",
		`  zkcred wallet receive 'http://127.0.0.1:8641/v1/offers/ID?token=TOKEN'
  zkcred wallet receive 'openid-credential-offer://?credential_offer_uri=...' --tx-code 123456
  zkcred wallet receive diploma.credential.json`,
		exactArgs(1, "name one offer URL, credential offer link or credential file"), func(_ *cobra.Command, args []string) error { return walletReceive(*wf, keys, txCode, args[0]) })
	c.Long = `Receive claims a claim link, or an OpenID4VCI 1.0 credential offer
(openid-credential-offer://, by value or by reference: docs/openid.md), or
stores a credential file, and checks the credential against the chain.`
	wf.add(c)
	addKeysFlag(c, &keys)
	c.Flags().StringVar(&txCode, "tx-code", "", "the PIN (tx_code) of an OpenID4VCI offer that asks for one, sent by the issuer by another channel")
	wf.addLoopbackFlag(c)
	return c
}

func walletReceive(wf walletFlags, keysDir, txCode, src string) error {
	w, release, err := openWalletLocked(wf)
	if err != nil {
		return err
	}
	defer release()
	ctx := context.Background()
	var e *wallet.Entry
	var keys *circuits.Keys
	var unchecked error // stored, but the chain could not be asked
	if wallet.IsCredentialOffer(src) {
		if keys, err = w.LoadKeys(ctx, keysDir); err != nil {
			return err
		}
		e, unchecked = w.ReceiveOffer(ctx, src, txCode, keys)
		if errors.Is(unchecked, wallet.ErrTxCode) {
			return usagef("pass --tx-code with the PIN the issuer sent you", "%v", unchecked)
		}
		if unchecked != nil && !errors.Is(unchecked, wallet.ErrUnchecked) {
			return fmt.Errorf("receiving the credential offer: %w", unchecked)
		}
	} else if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		o, err := w.FetchOffer(ctx, src)
		if err != nil {
			return fmt.Errorf("reading the offer: %w", err)
		}
		if !jsonOutput {
			fmt.Fprintf(os.Stderr, "claiming a %q credential from %s, offered until %s\n", o.Schema.Name, o.Issuer, o.Expires)
		}
		if keys, err = w.LoadKeys(ctx, keysDir); err != nil {
			return err
		}
		if e, unchecked = w.Claim(ctx, src, keys); unchecked != nil && !errors.Is(unchecked, wallet.ErrUnchecked) {
			return unchecked
		}
	} else {
		b, err := os.ReadFile(src)
		if err != nil {
			if strings.HasPrefix(src, "/v1/") {
				return usagef("a claim link is an absolute http(s) URL: ask the issuer for the full link (issue-batch --public-url)", "%v", err)
			}
			return usagef("name an offer URL (http…) or a credential file", "%v", err)
		}
		if e, unchecked = w.Receive(ctx, b); unchecked != nil && !errors.Is(unchecked, wallet.ErrUnchecked) {
			return unchecked
		}
	}
	if err := w.Save(); err != nil {
		return err
	}
	if unchecked != nil { // kept: the chain checks come later
		return unreachable(unreachableHint(unchecked)+"; the credential is stored, and 'zkcred wallet sync', 'list' or 'present' checks it once the registry answers", unchecked)
	}
	buildProverState(ctx, w, e, keys, keysDir) // wallet_sync.go
	if jsonOutput {
		return printJSON(summary(e, ""))
	}
	fmt.Printf("received %s: %s from %s (leaf %d, checked on the chain)\n", e.ID, e.Credential().Name, e.Credential().Issuer, e.Private().LeafIndex)
	return nil
}

type credSummary struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Schema     string `json:"schema"`
	Issuer     string `json:"issuer"`
	ValidFrom  string `json:"validFrom"`
	ValidUntil string `json:"validUntil,omitempty"`
	LeafIndex  uint64 `json:"leafIndex"`
	Credential string `json:"credentialId"`
	// Status is "valid", "revoked", "expired", "refused" (stored unchecked,
	// then refused by the chain and removed), or "unknown" (the registry
	// could not be asked); empty when not checked.
	Status string `json:"status,omitempty"`
}

func summary(e *wallet.Entry, status string) credSummary {
	c := e.Credential()
	return credSummary{ID: e.ID, Name: c.Name, Schema: e.Schema().Name + " " + e.Schema().Version, Issuer: c.Issuer,
		ValidFrom: c.ValidFrom, ValidUntil: c.ValidUntil, LeafIndex: e.Private().LeafIndex, Credential: c.ID, Status: status}
}

func shortDID(s string) string {
	if len(s) > 24 {
		return s[:16] + "…" + s[len(s)-6:]
	}
	return s
}

func newWalletListCmd(wf *walletFlags) *cobra.Command {
	var offline bool
	c := leaf("list", "list the wallet's credentials, with their status on the chain",
		"  zkcred wallet list\n  zkcred wallet list --offline --json",
		noArgs, func(*cobra.Command, []string) error { return walletList(*wf, offline) })
	wf.add(c)
	c.Flags().BoolVar(&offline, "offline", false, "do not ask the registry whether credentials were revoked")
	return c
}

// credentialStatus asks the chain whether e is still valid.
func credentialStatus(ctx context.Context, w *wallet.Wallet, e *wallet.Entry) string {
	if vu := e.Credential().ValidUntil; vu != "" {
		if t, err := time.Parse(time.RFC3339, vu); err == nil && time.Now().After(t) {
			return "expired"
		}
	}
	switch err := w.CheckStatus(ctx, e); {
	case err == nil:
		return "valid"
	case errors.Is(err, wallet.ErrRevoked):
		return "revoked"
	case errors.Is(err, wallet.ErrRefused): // stored unchecked, refused by the chain and removed
		return "refused"
	default:
		return "unknown"
	}
}

func walletList(wf walletFlags, offline bool) error {
	w, err := openWallet(wf)
	if err != nil {
		return err
	}
	defer w.Close()
	entries := w.Credentials()
	check := !offline && len(entries) > 0 && w.Config().Registry != ""
	if check {
		// Checking updates the header file next to the wallet: only with
		// the lock, and a busy wallet is listed without statuses.
		unlock, err := wallet.Lock(wf.path)
		if err != nil {
			check = false
		} else {
			defer unlock()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := []credSummary{}
	for _, e := range entries {
		st := ""
		if check {
			st = credentialStatus(ctx, w, e)
		}
		out = append(out, summary(e, st))
	}
	if jsonOutput {
		return printJSON(out)
	}
	if len(out) == 0 {
		fmt.Println("no credentials yet: receive one with 'zkcred wallet receive <offer-url | file>'")
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tISSUER\tVALID FROM\tEXPIRES\tSTATUS")
	for _, s := range out {
		exp := "never"
		if s.ValidUntil != "" {
			exp = s.ValidUntil[:10]
		}
		st := s.Status
		if st == "" {
			st = "not checked"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Name, shortDID(s.Issuer), s.ValidFrom[:10], exp, st)
	}
	return tw.Flush()
}

func newWalletShowCmd(wf *walletFlags) *cobra.Command {
	c := leaf("show <id>", "show one credential's claims (IDs are listed by 'zkcred wallet list')",
		"  zkcred wallet show 3f2a91c0\n  zkcred wallet show 3f2a --json   # with the signed credential",
		exactArgs(1, "name one credential ID"), func(_ *cobra.Command, args []string) error { return walletShow(*wf, args[0]) })
	wf.add(c)
	return c
}

func walletShow(wf walletFlags, id string) error {
	w, err := openWallet(wf)
	if err != nil {
		return err
	}
	e, err := w.Credential(id)
	if err != nil {
		return err
	}
	c := e.Credential()
	if jsonOutput {
		var raw struct {
			Credential json.RawMessage `json:"credential"`
		}
		json.Unmarshal(e.Bundle, &raw)
		return printJSON(struct {
			credSummary
			Claims     map[string]any  `json:"claims"`
			Signed     json.RawMessage `json:"signedCredential"`
			Commitment string          `json:"commitment"`
		}{summary(e, ""), c.CredentialSubject.Claims, raw.Credential, e.Private().Commitment.String()})
	}
	s := summary(e, "")
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "id\t%s\nname\t%s\nschema\t%s\nissuer\t%s\ncredential\t%s\nvalid from\t%s\n", s.ID, s.Name, s.Schema, s.Issuer, s.Credential, s.ValidFrom)
	if s.ValidUntil != "" {
		fmt.Fprintf(tw, "valid until\t%s\n", s.ValidUntil)
	}
	fmt.Fprintf(tw, "leaf\t%d\n\n", s.LeafIndex)
	for _, a := range e.Schema().Attributes {
		l := a.Display
		if l == "" {
			l = a.Name
		}
		fmt.Fprintf(tw, "%s\t%v\n", l, c.CredentialSubject.Claims[a.Name])
	}
	return tw.Flush()
}

type presentOptions struct {
	keys, credential, out string
	yes, allowUnsigned    bool
}

func newWalletPresentCmd(wf *walletFlags) *cobra.Command {
	var o presentOptions
	c := leaf("present <request-url | openid4vp-link | request-uri | request-file>", "answer a verifier's presentation request with a zero-knowledge proof",
		`  zkcred wallet present http://127.0.0.1:8643/v1/requests/ID
  zkcred wallet present http://127.0.0.1:8643/v1/requests/ID --yes --json
  zkcred wallet present 'openid4vp://?client_id=decentralized_identifier%3Adid%3Aweb%3Averifier.example&request_uri=...'
  zkcred wallet present request.json --out presentation.json   # prove, do not submit`,
		exactArgs(1, "name one request URL or file"), func(_ *cobra.Command, args []string) error { return walletPresent(*wf, o, args[0]) })
	c.Long = `Present reads a verifier's request, picks a credential that satisfies it
(skipping revoked ones), prints exactly what the verifier will learn and what
the proof shows, asks for confirmation (--yes skips it), proves, submits and
prints the verdict. Exit status 1 when the verifier rejects the presentation
or no credential can answer.

It also answers OpenID4VP 1.0 requests (docs/openid.md): an openid4vp:// link
or a request_uri. The request object must be signed by the key of the
verifier's did:web (resolved at https://<domain>/.well-known/did.json), and
the presentation goes only to a response_uri of that origin (direct_post).`
	wf.add(c)
	addKeysFlag(c, &o.keys)
	c.Flags().StringVar(&o.credential, "credential", "", "present this credential (else the first that satisfies the request)")
	c.Flags().BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation")
	c.Flags().StringVar(&o.out, "out", "", "write the presentation to this file instead of submitting it")
	wf.addLoopbackFlag(c)
	c.Flags().BoolVar(&o.allowUnsigned, "allow-unsigned", false, "accept unsigned OpenID4VP requests (redirect_uri: clients): local use only")
	return c
}

func walletPresent(wf walletFlags, o presentOptions, src string) error {
	if jsonOutput && !o.yes {
		return usagef("add --yes: with --json nothing is asked", "--json needs --yes")
	}
	w, release, err := openWalletLocked(wf)
	if err != nil {
		return err
	}
	defer release()
	ctx := context.Background()
	// Prover states first, before the request is fetched (docs/wallet.md).
	keys, err := w.LoadKeys(ctx, o.keys)
	if err != nil {
		return err
	}
	if err := w.Prepare(ctx, keys); err != nil {
		return err
	}
	start := time.Now()
	// One read (one GET for a URL): an OpenID4VP request object, a zkcred
	// request or a request file.
	req, ar, err := w.ReadPresentationRequest(ctx, src, wallet.OpenID4VPOptions{AllowLoopbackHTTP: wf.loopbackHTTP, AllowUnsigned: o.allowUnsigned})
	if errors.Is(err, wallet.ErrClient) {
		return refusedf("", "open the request on the verifier's own site, or ask its operator to fix its did:web", "%v", err)
	}
	if err != nil {
		return err
	}
	present := func(o wallet.PresentOptions) (*wallet.Presented, error) {
		if ar != nil {
			return w.PresentOpenID4VP(ctx, ar, o)
		}
		return w.Present(ctx, req, o)
	}
	done, err := present(wallet.PresentOptions{
		CredentialID: o.credential,
		Keys:         keys,
		ProveOnly:    o.out != "",
		Skipped: func(e *wallet.Entry, _ error) {
			fmt.Fprintf(os.Stderr, "credential %s was revoked by its issuer; skipping it\n", e.ID)
		},
		Confirm: func(plan *wallet.Plan) error {
			if !jsonOutput {
				plan.Describe(os.Stdout)
			}
			if o.yes {
				return nil
			}
			ok, err := confirm(os.Stdin, os.Stderr, "\nSend this presentation? [y/N] ")
			if err != nil {
				return err
			}
			if !ok {
				if ar != nil {
					_ = w.DeclineOpenID4VP(ctx, ar) // the verifier's page need not wait
				}
				return usagef("answer y to send, or pass --yes", "not sent: not confirmed")
			}
			start = time.Now()
			return nil
		},
	})
	if err != nil {
		if done != nil && done.Presentation != nil {
			return fmt.Errorf("the verifier rejected the presentation: %w", err)
		}
		return err
	}
	pres, res := done.Presentation, done.Result
	if o.out != "" {
		b, _ := json.MarshalIndent(pres, "", "  ")
		if err := os.WriteFile(o.out, append(b, '\n'), 0o600); err != nil {
			return usagef("choose another --out path", "%v", err)
		}
		if jsonOutput {
			return printJSON(map[string]any{"presentation": o.out, "submitUrl": req.SubmitURL})
		}
		fmt.Printf("\npresentation written to %s (POST it to %s)\n", o.out, req.SubmitURL)
		return nil
	}
	if jsonOutput {
		if err := printJSON(res); err != nil {
			return err
		}
		if res.Status != wire.StatusVerified {
			return refusedf(res.Code, "", "the verifier answered %s: %s", res.Status, res.Reason)
		}
		return nil
	}
	return printVerdict(res, time.Since(start))
}

func printVerdict(res *wire.Result, took time.Duration) error {
	if res.Status != wire.StatusVerified {
		return refusedf(res.Code, "", "the verifier answered %s: %s (%s)", res.Status, res.Reason, res.Code)
	}
	fmt.Printf("\nverified by the verifier (%v)", took.Round(time.Millisecond))
	if len(res.Disclosed) > 0 {
		keys := make([]string, 0, len(res.Disclosed))
		for k := range res.Disclosed {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%v", k, res.Disclosed[k]))
		}
		fmt.Printf("; it read %s", strings.Join(parts, ", "))
	}
	fmt.Println()
	return nil
}

// confirm asks a yes/no question; anything but y or yes (or no answer) is no.
func confirm(in io.Reader, out io.Writer, q string) (bool, error) {
	fmt.Fprint(out, q)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}
