package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/zkcred/zkcred/internal/home"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/wallet"
	"github.com/zkcred/zkcred/wire"
)

func init() {
	register("wallet", "the holder's encrypted credential wallet: receive and present credentials", runWallet)
}

func runWallet(args []string) error {
	return subcommands("wallet", args, map[string]func([]string) error{
		"init":    walletInit,
		"backup":  walletBackup,
		"restore": walletRestore,
		"receive": walletReceive,
		"list":    walletList,
		"show":    walletShow,
		"present": walletPresent,
	})
}

// Environment variables of the wallet commands.
const (
	envWallet         = "ZKCRED_WALLET"
	envBackupPassword = "ZKCRED_BACKUP_PASSPHRASE"
)

// defaultWalletPath is $ZKCRED_WALLET, else $ZKCRED_HOME/wallet.age, else
// the user config directory's zkcred/wallet.age.
func defaultWalletPath() string {
	if p := os.Getenv(envWallet); p != "" {
		return p
	}
	if d := os.Getenv("ZKCRED_HOME"); d != "" {
		return filepath.Join(d, "wallet.age")
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "zkcred", "wallet.age")
	}
	return "wallet.age"
}

// walletFlags are the flags every wallet command has.
type walletFlags struct {
	path, passFile string
}

func addWalletFlags(fs interface {
	StringVar(*string, string, string, string)
}, wf *walletFlags) {
	fs.StringVar(&wf.path, "wallet", defaultWalletPath(), "wallet file (env "+envWallet+")")
	fs.StringVar(&wf.passFile, "passphrase-file", "", "read the passphrase from this file's first line (else env "+issuer.PassphraseEnv+", else a prompt)")
}

func readPass(file, prompt string, confirm bool) (string, error) {
	p, err := issuer.ReadPassphrase(issuer.PassphraseSource{File: file, Prompt: prompt, Confirm: confirm})
	if errors.Is(err, issuer.ErrNoPassphrase) {
		return "", usagef("use --passphrase-file FILE, set "+issuer.PassphraseEnv+", or run on a terminal", "no passphrase")
	}
	return string(p), err
}

// openWallet opens the wallet, turning the common failures into hints.
func openWallet(wf walletFlags) (*wallet.Wallet, error) {
	if _, err := os.Stat(wf.path); errors.Is(err, os.ErrNotExist) {
		return nil, usagef("run 'zkcred wallet init' to create one, or name it with --wallet or "+envWallet, "no wallet at %s", wf.path)
	}
	pass, err := readPass(wf.passFile, "wallet passphrase: ", false)
	if err != nil {
		return nil, err
	}
	w, err := wallet.Open(wf.path, pass, wallet.Options{})
	if errors.Is(err, wallet.ErrPassphrase) {
		return nil, usagef("check the passphrase ("+issuer.PassphraseEnv+" or --passphrase-file)", "cannot open %s: wrong passphrase", wf.path)
	}
	return w, err
}

// lockWallet takes the wallet's lock for a command that updates the wallet
// or its header file.
func lockWallet(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	unlock, err := wallet.Lock(path)
	if errors.Is(err, wallet.ErrBusy) {
		return nil, usagef("wait for the other 'zkcred wallet' command to finish", "%v", err)
	}
	return unlock, err
}

func hinted(err error) error {
	switch {
	case errors.Is(err, wallet.ErrUnknownCredential), errors.Is(err, wallet.ErrAmbiguous):
		return usagef("run 'zkcred wallet list' to see the credential IDs", "%v", err)
	case errors.Is(err, wallet.ErrNoRegistry):
		return usagef("create the wallet with 'zkcred wallet init --registry URL --genesis FILE'", "%v", err)
	case errors.Is(err, wallet.ErrNoKeys):
		return usagef("run 'zkcred setup', pass --keys DIR, or init the wallet with --keys-url", "%v", err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return usagef("check that "+ue.URL+" is reachable (the wallet's registry is set by 'zkcred wallet init --registry')", "%v", err)
	}
	return err
}

func walletInit(args []string) error {
	fs := newFlags("wallet init")
	var wf walletFlags
	addWalletFlags(fs, &wf)
	reg := fs.String("registry", "", "registry base URL")
	gen := fs.String("genesis", "", "the registry's genesis.json, which the wallet trusts")
	keysURL := fs.String("keys-url", "", "base URL to fetch proving keys from when the data directory has none")
	work := fs.Int("work-factor", wallet.DefaultWorkFactor, "scrypt work factor (log2 N) of the encryption")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("zkcred wallet init [--registry URL --genesis FILE] [--keys-url URL]", "unexpected argument %q", fs.Arg(0))
	}
	if (*reg == "") != (*gen == "") {
		return usagef("give both --registry and --genesis, or neither", "--registry and --genesis go together")
	}
	var cfg wallet.Config
	if *gen != "" {
		b, err := os.ReadFile(*gen)
		if err != nil {
			return err
		}
		g, err := registry.ParseGenesis(b)
		if err != nil {
			return err
		}
		cfg = wallet.Config{Registry: *reg, Genesis: g}
	}
	cfg.KeysURL = *keysURL
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
	w, err := wallet.Create(wf.path, pass, wallet.CreateOptions{WorkFactor: *work, Config: cfg})
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(map[string]any{"wallet": wf.path, "holderCommitment": w.HolderCommit()})
	}
	fmt.Printf("wallet created: %s\nholder commitment: %s\n", wf.path, w.HolderCommit())
	fmt.Println("keep the passphrase safe, and make a backup with 'zkcred wallet backup --out FILE'")
	return nil
}

func backupPass(file, prompt string, confirm bool) (string, error) {
	p, err := issuer.ReadPassphrase(issuer.PassphraseSource{File: file, Prompt: prompt, Confirm: confirm,
		Getenv: func(string) string { return os.Getenv(envBackupPassword) }})
	if errors.Is(err, issuer.ErrNoPassphrase) {
		return "", usagef("use --backup-passphrase-file FILE, set "+envBackupPassword+", or run on a terminal", "no backup passphrase")
	}
	return string(p), err
}

func walletBackup(args []string) error {
	fs := newFlags("wallet backup")
	var wf walletFlags
	addWalletFlags(fs, &wf)
	out := fs.String("out", "", "backup file to write (required)")
	bpf := fs.String("backup-passphrase-file", "", "backup passphrase file (else env "+envBackupPassword+", else a prompt)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return usagef("zkcred wallet backup --out FILE", "--out is required")
	}
	if _, err := os.Stat(*out); err == nil {
		return usagef("choose another --out path", "%s already exists", *out)
	}
	w, err := openWallet(wf)
	if err != nil {
		return err
	}
	bp, err := backupPass(*bpf, "backup passphrase: ", true)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if err := w.Backup(f, bp); err != nil {
		f.Close()
		os.Remove(*out)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("backup of %d credentials and the holder secret written to %s\n", len(w.Credentials()), *out)
	return nil
}

func walletRestore(args []string) error {
	fs := newFlags("wallet restore")
	var wf walletFlags
	addWalletFlags(fs, &wf)
	bpf := fs.String("backup-passphrase-file", "", "backup passphrase file (else env "+envBackupPassword+", else a prompt)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("zkcred wallet restore [--wallet PATH] BACKUP-FILE", "name one backup file")
	}
	unlock, err := lockWallet(wf.path)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(wf.path); err == nil {
		return usagef("restore to another --wallet path", "a wallet already exists at %s", wf.path)
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	bp, err := backupPass(*bpf, "backup passphrase: ", false)
	if err != nil {
		return err
	}
	pass, err := readPass(wf.passFile, "new wallet passphrase: ", true)
	if err != nil {
		return err
	}
	w, err := wallet.Restore(f, bp, wf.path, pass, wallet.Options{})
	if errors.Is(err, wallet.ErrPassphrase) {
		return usagef("check the backup passphrase ("+envBackupPassword+" or --backup-passphrase-file)", "cannot open %s: wrong backup passphrase", fs.Arg(0))
	}
	if err != nil {
		return err
	}
	fmt.Printf("restored %d credentials to %s\n", len(w.Credentials()), wf.path)
	return nil
}

func walletReceive(args []string) error {
	fs := newFlags("wallet receive")
	var wf walletFlags
	addWalletFlags(fs, &wf)
	keysDir := fs.String("keys", home.KeysDir(), "proving key directory (to claim offers)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("zkcred wallet receive <offer-url | credential-file>", "name one offer URL or credential file")
	}
	src := fs.Arg(0)
	if _, err := os.Stat(wf.path); err == nil {
		unlock, err := lockWallet(wf.path)
		if err != nil {
			return err
		}
		defer unlock()
	}
	w, err := openWallet(wf)
	if err != nil {
		return err
	}
	defer w.Close()
	ctx := context.Background()
	var e *wallet.Entry
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		o, err := w.FetchOffer(ctx, src)
		if err != nil {
			return fmt.Errorf("reading the offer: %w", err)
		}
		if !*asJSON {
			fmt.Fprintf(os.Stderr, "claiming a %q credential from %s, offered until %s\n", o.Schema.Name, o.Issuer, o.Expires)
		}
		keys, err := w.LoadKeys(ctx, *keysDir)
		if err != nil {
			return hinted(err)
		}
		e, err = w.Claim(ctx, src, keys)
		if err != nil {
			return hinted(err)
		}
	} else {
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if e, err = w.Receive(ctx, b); err != nil {
			return hinted(err)
		}
	}
	if err := w.Save(); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(summary(e))
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
}

func summary(e *wallet.Entry) credSummary {
	c := e.Credential()
	return credSummary{ID: e.ID, Name: c.Name, Schema: e.Schema().Name + " " + e.Schema().Version, Issuer: c.Issuer,
		ValidFrom: c.ValidFrom, ValidUntil: c.ValidUntil, LeafIndex: e.Private().LeafIndex, Credential: c.ID}
}

func shortDID(s string) string {
	if len(s) > 24 {
		return s[:16] + "…" + s[len(s)-6:]
	}
	return s
}

func walletList(args []string) error {
	fs := newFlags("wallet list")
	var wf walletFlags
	addWalletFlags(fs, &wf)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("zkcred wallet list [--json]", "unexpected argument %q", fs.Arg(0))
	}
	w, err := openWallet(wf)
	if err != nil {
		return err
	}
	out := []credSummary{}
	for _, e := range w.Credentials() {
		out = append(out, summary(e))
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(out)
	}
	if len(out) == 0 {
		fmt.Println("no credentials yet: receive one with 'zkcred wallet receive <offer-url | file>'")
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tISSUER\tVALID FROM\tEXPIRES")
	for _, s := range out {
		exp := "never"
		if s.ValidUntil != "" {
			exp = s.ValidUntil[:10]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.Name, shortDID(s.Issuer), s.ValidFrom[:10], exp)
	}
	return tw.Flush()
}

func walletShow(args []string) error {
	fs := newFlags("wallet show")
	var wf walletFlags
	addWalletFlags(fs, &wf)
	asJSON := fs.Bool("json", false, "print JSON (the signed credential included)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("zkcred wallet show <id> (IDs are listed by 'zkcred wallet list')", "name one credential ID")
	}
	w, err := openWallet(wf)
	if err != nil {
		return err
	}
	e, err := w.Credential(fs.Arg(0))
	if err != nil {
		return hinted(err)
	}
	c := e.Credential()
	if *asJSON {
		var raw struct {
			Credential json.RawMessage `json:"credential"`
		}
		json.Unmarshal(e.Bundle, &raw)
		return json.NewEncoder(os.Stdout).Encode(struct {
			credSummary
			Claims     map[string]any  `json:"claims"`
			Signed     json.RawMessage `json:"signedCredential"`
			Commitment string          `json:"commitment"`
		}{summary(e), c.CredentialSubject.Claims, raw.Credential, e.Private().Commitment.String()})
	}
	s := summary(e)
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

func walletPresent(args []string) error {
	fs := newFlags("wallet present")
	var wf walletFlags
	addWalletFlags(fs, &wf)
	keysDir := fs.String("keys", home.KeysDir(), "proving key directory")
	credID := fs.String("credential", "", "present this credential (else the first that satisfies the request)")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	out := fs.String("out", "", "write the presentation to this file instead of submitting it")
	asJSON := fs.Bool("json", false, "print JSON (needs --yes)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("zkcred wallet present <request-url | request-file> [--credential ID] [--yes] [--out FILE]", "name one request URL or file")
	}
	if *asJSON && !*yes {
		return usagef("add --yes: with --json nothing is asked", "--json needs --yes")
	}
	if _, err := os.Stat(wf.path); err == nil {
		unlock, err := lockWallet(wf.path)
		if err != nil {
			return err
		}
		defer unlock()
	}
	w, err := openWallet(wf)
	if err != nil {
		return err
	}
	defer w.Close()
	ctx := context.Background()
	start := time.Now()
	req, err := w.ReadRequest(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	done, err := w.Present(ctx, req, wallet.PresentOptions{
		CredentialID: *credID,
		KeysDir:      *keysDir,
		ProveOnly:    *out != "",
		Skipped: func(e *wallet.Entry, _ error) {
			fmt.Fprintf(os.Stderr, "credential %s was revoked by its issuer; skipping it\n", e.ID)
		},
		Confirm: func(plan *wallet.Plan) error {
			if !*asJSON {
				plan.Describe(os.Stdout)
			}
			if *yes {
				return nil
			}
			ok, err := confirm(os.Stdin, os.Stderr, "\nSend this presentation? [y/N] ")
			if err != nil {
				return err
			}
			if !ok {
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
		return hinted(err)
	}
	pres, res := done.Presentation, done.Result
	if *out != "" {
		b, _ := json.MarshalIndent(pres, "", "  ")
		if err := os.WriteFile(*out, append(b, '\n'), 0o600); err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(os.Stdout).Encode(map[string]any{"presentation": *out, "submitUrl": req.SubmitURL})
		}
		fmt.Printf("\npresentation written to %s (POST it to %s)\n", *out, req.SubmitURL)
		return nil
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(res)
	}
	return printVerdict(res, time.Since(start))
}

func printVerdict(res *wire.Result, took time.Duration) error {
	if res.Status != wire.StatusVerified {
		return fmt.Errorf("the verifier answered %s: %s (%s)", res.Status, res.Reason, res.Code)
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
