package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/webui"
	"github.com/zkcred/zkcred/issuer"
	issuerapi "github.com/zkcred/zkcred/issuer/api"
	issuerweb "github.com/zkcred/zkcred/issuer/api/web"
	"github.com/zkcred/zkcred/issuer/regchain"
	"github.com/zkcred/zkcred/registry"
)

func newIssuerCmd() *cobra.Command {
	var c commonFlags
	return group("issuer", "issue, anchor and revoke credentials (init, schema, issue, issue-batch, serve, revoke)",
		`An issuer (a university, a hospital) has an encrypted signing key and a
database in its directory (--dir, default $ZKCRED_HOME/issuer). It publishes
its schemas on the registry, issues credentials (one, a CSV batch, or claim
links through its HTTP API), anchors their commitments on the chain and
revokes them.`+"\n\n"+issuerPassExplain,
		`  zkcred issuer init --dir uni --registry http://127.0.0.1:8700
  zkcred issuer schema show --schema diploma
  zkcred issuer issue-batch --dir uni --schema diploma --csv graduates.csv --public-url https://uni.example --out links/
  zkcred issuer serve --dir uni --addr 127.0.0.1:8641`,
		newIssuerInitCmd(&c), newIssuerRegisterCmd(&c), newIssuerSchemaCmd(&c), newIssuerIssueCmd(&c),
		newIssuerBatchCmd(&c), newIssuerCredentialsCmd(&c), newIssuerRevokeCmd(&c), newIssuerServeCmd(&c),
		newChangePassphraseCmd(keyKind{name: "issuer", format: issuer.KeyFormat, dirSub: "issuer", file: issuer.KeyFile,
			example: "  zkcred issuer change-passphrase --dir uni --passphrase-file old.txt --new-passphrase-file new.txt"}))
}

const issuerPassExplain = `The issuer key is encrypted with a passphrase chosen at 'issuer init'. Every
later issuer command, 'issuer serve' included, needs it: from
--passphrase-file FILE (first line), else $ZKCRED_PASSPHRASE, else a prompt
on the terminal. A service started in the background gets it from the file
or the variable.`

// commonFlags are shared by the issuer subcommands.
type commonFlags struct {
	dir      string
	passFile string
}

func (c *commonFlags) add(cmd *cobra.Command) {
	addDirFlag(cmd, &c.dir, "issuer", "issuer data directory (key, database)")
	addPassFlag(cmd, &c.passFile)
}

func (c *commonFlags) passphrase(confirm bool) ([]byte, error) {
	src := passSource{file: c.passFile, prompt: "issuer key passphrase: ", confirm: confirm}
	if confirm {
		src.prompt = "new issuer key passphrase: "
		src.explain = issuerPassExplain
	}
	p, err := readPassphrase(src)
	return []byte(p), err
}

func newIssuerInitCmd(c *commonFlags) *cobra.Command {
	var reg, didWeb string
	var local bool
	var wf int
	cmd := leaf("init", "create an issuer: an encrypted signing key and a database",
		`  zkcred issuer init --dir uni --registry http://127.0.0.1:8700
  zkcred issuer init --dir uni --registry http://127.0.0.1:8700 --did-web uni.example
  zkcred issuer init --dir trial --local    # an offline trial: no wallet can check it`,
		noArgs, func(*cobra.Command, []string) error { return issuerInit(*c, reg, didWeb, local, wf) })
	cmd.Long = "Init makes the issuer's signing key (its did:key) and database in --dir.\n\n" +
		"With --did-web the issuer is known by its domain: its credentials name\n" +
		"did:web:<domain> as their issuer, 'issuer serve' publishes the DID document\n" +
		"at /.well-known/did.json, and the registry's governance binds the domain to\n" +
		"the issuer ('issuer register' prints it in the entry).\n\n" + issuerPassExplain
	c.add(cmd)
	addDIDWebFlag(cmd, &didWeb, "the issuer's domain: its credentials name did:web:<domain>")
	addRegistryFlag(cmd, &reg, "", "the registry to anchor in")
	cmd.Flags().BoolVar(&local, "local", false, "anchor in a chain in the data directory instead, that no wallet can check: offline trials only")
	addWorkFactorFlag(cmd, &wf, issuer.DefaultScryptWorkFactor)
	return cmd
}

func issuerInit(c commonFlags, reg, didWeb string, local bool, wf int) error {
	if _, err := os.Stat(filepath.Join(c.dir, issuer.KeyFile)); err == nil {
		return usagef("use another --dir, or remove the directory to start over", "%s already holds an issuer key", c.dir)
	}
	chain := reg
	switch {
	case local && reg != "":
		return usagef("give --registry URL or --local, not both", "--registry and --local exclude each other")
	case local:
		chain = issuer.ChainLocal
	case reg == "":
		return usagef("give --registry http://registry:8700 (the registry's URL), or --local for an offline trial", "no chain to anchor in")
	case !strings.HasPrefix(reg, "http://") && !strings.HasPrefix(reg, "https://"):
		return usagef("use --registry https://registry.example, or --local", "--registry %q is not an http(s) URL", reg)
	}
	did, err := parseDIDWebFlag(didWeb)
	if err != nil {
		return err
	}
	pass, err := c.passphrase(true)
	if err != nil {
		return err
	}
	cfg, err := issuer.InitDir(c.dir, issuer.InitOptions{Chain: chain, Passphrase: pass, ScryptWorkFactor: wf, DIDWeb: did})
	if err != nil {
		return localf("", "pass another --dir", "%v", err)
	}
	out := map[string]string{"did": cfg.DID, "dir": c.dir, "chain": cfg.Chain}
	known := cfg.DID
	if cfg.DIDWeb != "" {
		out["didWeb"] = cfg.DIDWeb
		known = cfg.DIDWeb + " (key " + cfg.DID + ")"
	}
	return printOut(out,
		"issuer %s\ncreated in %s (chain: %s)\nevery later issuer command needs the passphrase: --passphrase-file FILE or $%s\n", known, c.dir, cfg.Chain, passphraseEnv)
}

// printOut prints v as JSON with --json, else the text.
func printOut(v any, format string, a ...any) error {
	if jsonOutput {
		return printJSON(v)
	}
	_, err := fmt.Printf(format, a...)
	return err
}

// printJSON prints v as one line of JSON on stdout.
func printJSON(v any) error {
	return json.NewEncoder(os.Stdout).Encode(v)
}

// env is an opened issuer directory.
type env struct {
	cfg   issuer.Config
	key   *issuer.Key
	is    *issuer.Issuer
	close func()
}

func openIssuer(c commonFlags, needChain bool, opts issuer.Options) (*env, error) {
	if _, err := readIssuerConfig(c.dir); err != nil {
		return nil, err
	}
	pass, err := c.passphrase(false)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := issuer.OpenDir(ctx, c.dir, issuer.OpenOptions{Passphrase: pass, Offline: !needChain, Registry: regchain.Dial, Issuer: opts})
	switch {
	case err == nil:
		return &env{cfg: d.Config, key: d.Issuer.Key(), is: d.Issuer, close: func() { d.Close() }}, nil
	case errors.Is(err, issuer.ErrBusy):
		return nil, errIssuerBusy(c.dir)
	case errors.Is(err, issuer.ErrChain) && isUnreachable(err):
		return nil, unreachable("is the registry running? check the URL in "+filepath.Join(c.dir, issuer.ConfigFile), err)
	case errors.Is(err, issuer.ErrKeyFile), errors.Is(err, issuer.ErrChain):
		return nil, err
	}
	return nil, localf("", "", "issuer directory: %v", err)
}

func readIssuerConfig(dir string) (*issuer.Config, error) {
	cfg, err := issuer.ReadConfig(dir)
	if errors.Is(err, issuer.ErrNoIssuer) {
		return nil, localf("no_issuer", "run 'zkcred issuer init' first, or pass --dir", "no issuer in %s", dir)
	}
	if err != nil {
		return nil, localf("", "", "%v", err)
	}
	return cfg, nil
}

// errIssuerBusy: another process (issuer serve) has the issuer's database.
func errIssuerBusy(dir string) error {
	return localf("issuer_busy", "another zkcred issuer command (serve?) is using "+dir+"; stop it, or use its HTTP API", "issuer database %s is busy", dir)
}

func newIssuerRegisterCmd(c *commonFlags) *cobra.Command {
	var name, kind string
	cmd := leaf("register", "print the entry the registry's governance registers this issuer with",
		`  zkcred issuer register --dir uni --name "University of Examples" --kind university --json > uni.json`,
		noArgs, func(*cobra.Command, []string) error { return issuerRegister(*c, name, kind) })
	c.add(cmd)
	cmd.Flags().StringVar(&name, "name", "", `the issuer's display name on the registry (e.g. "University of Examples")`)
	cmd.Flags().StringVar(&kind, "kind", "", "the issuer's kind (e.g. university, hospital)")
	return cmd
}

func issuerRegister(c commonFlags, name, kind string) error {
	e, err := openIssuer(c, false, issuer.Options{})
	if err != nil {
		return err
	}
	defer e.close()
	if e.cfg.Chain == issuer.ChainLocal {
		id := e.key.IssuerID()
		return printOut(map[string]string{"did": e.key.DID(), "issuerId": circuits.Dec(id)},
			"issuer %s\nissuer ID %s\nthe local chain accepts this issuer as it is: nothing to register\n", e.key.DID(), circuits.Dec(id))
	}
	if name == "" || kind == "" {
		return usagef(`pass --name "University of Examples" --kind university`, "--name and --kind are required")
	}
	// Issuers are registered by the registry's governance keys (in genesis,
	// or a register_issuer transaction): this prints the entry they need.
	entry := registry.RegisterIssuer{PubKey: hex.EncodeToString(e.key.Public()), Name: name, Kind: kind, DIDWeb: e.is.DIDWeb()}
	if jsonOutput {
		return printJSON(entry)
	}
	b, _ := json.MarshalIndent(entry, "", "  ")
	fmt.Printf("%s\n", b)
	fmt.Fprintf(os.Stderr, "give this entry to the governance of the registry at %s (a register_issuer transaction, or 'zkcred registry init --issuers')\n", e.cfg.Chain)
	return nil
}

// loadSchema resolves --schema: an example name, a JSON file, or the ID of
// a schema in the issuer's store.
func loadSchema(is *issuer.Issuer, ref string) (*circuits.Schema, error) {
	if ref == "" {
		return nil, usagef("pass --schema diploma, --schema vaccination, --schema file.json or a schema ID", "--schema is required")
	}
	if s, ok := issuer.ExampleSchemas()[ref]; ok {
		return s, nil
	}
	if strings.HasSuffix(ref, ".json") {
		b, err := os.ReadFile(ref)
		if err != nil {
			return nil, usagef("give --schema a readable schema file", "%v", err)
		}
		s, err := circuits.ParseSchema(b)
		if err != nil {
			return nil, usagef("see docs/issuer.md for the schema format", "%s: %v", ref, err)
		}
		return s, nil
	}
	if is != nil {
		if s, err := is.Schema(ref); err == nil {
			return s, nil
		}
	}
	return nil, usagef("examples: "+strings.Join(issuer.ExampleSchemaNames(), ", ")+"; see 'zkcred issuer schema list'", "unknown schema %q", ref)
}

func newIssuerSchemaCmd(c *commonFlags) *cobra.Command {
	var file string
	validate := leaf("validate", "check a schema file and print its ID",
		"  zkcred issuer schema validate --schema my-schema.json",
		noArgs, func(*cobra.Command, []string) error {
			s, err := loadSchema(nil, file)
			if err != nil {
				return err
			}
			id := circuits.Dec(s.ID())
			return printOut(map[string]string{"id": id, "name": s.Name, "version": s.Version}, "schema %s %s is valid; ID %s\n", s.Name, s.Version, id)
		})
	validate.Flags().StringVar(&file, "schema", "", "schema: JSON file or example name")

	var defFile string
	define := leaf("define", "add a schema to the issuer's store (without publishing it)",
		"  zkcred issuer schema define --dir uni --schema my-schema.json",
		noArgs, func(*cobra.Command, []string) error {
			e, err := openIssuer(*c, false, issuer.Options{})
			if err != nil {
				return err
			}
			defer e.close()
			s, err := loadSchema(nil, defFile)
			if err != nil {
				return err
			}
			if err := e.is.DefineSchema(s); err != nil {
				return err
			}
			id := circuits.Dec(s.ID())
			return printOut(map[string]string{"id": id, "name": s.Name}, "defined %s; ID %s\n", s.Name, id)
		})
	c.add(define)
	define.Flags().StringVar(&defFile, "schema", "", "schema: JSON file or example name")

	var pubRef string
	publish := leaf("publish", "publish a schema on the registry (so wallets and verifiers can use it)",
		"  zkcred issuer schema publish --dir uni --schema diploma",
		noArgs, func(*cobra.Command, []string) error {
			e, err := openIssuer(*c, true, issuer.Options{})
			if err != nil {
				return err
			}
			defer e.close()
			s, err := loadSchema(e.is, pubRef)
			if err != nil {
				return err
			}
			if err := e.is.PublishSchema(context.Background(), s); err != nil {
				return err
			}
			id := circuits.Dec(s.ID())
			return printOut(map[string]string{"id": id, "name": s.Name}, "published %s; ID %s\n", s.Name, id)
		})
	c.add(publish)
	publish.Flags().StringVar(&pubRef, "schema", "", "schema: example name, JSON file or ID")

	list := leaf("list", "list the schemas in the issuer's store",
		"  zkcred issuer schema list --dir uni",
		noArgs, func(*cobra.Command, []string) error {
			e, err := openIssuer(*c, false, issuer.Options{})
			if err != nil {
				return err
			}
			defer e.close()
			ss, err := e.is.Schemas()
			if err != nil {
				return err
			}
			type row struct {
				ID      string `json:"id"`
				Name    string `json:"name"`
				Version string `json:"version"`
			}
			rows := []row{}
			for _, s := range ss {
				rows = append(rows, row{circuits.Dec(s.ID()), s.Name, s.Version})
			}
			if jsonOutput {
				return printJSON(rows)
			}
			for _, r := range rows {
				fmt.Printf("%-22s %-6s %s\n", r.Name, r.Version, r.ID)
			}
			return nil
		})
	c.add(list)

	return group("schema", "describe, validate, define, publish and list credential schemas", "",
		"  zkcred issuer schema show --schema diploma\n  zkcred issuer schema publish --dir uni --schema diploma",
		newIssuerSchemaShowCmd(), validate, define, publish, list)
}

func parseValidUntil(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef("use YYYY-MM-DD or RFC 3339", "--valid-until %q is not a date", s)
	}
	return t, nil
}

type issueOptions struct {
	schema, subject, holder, until, out string
}

func newIssuerIssueCmd(c *commonFlags) *cobra.Command {
	var o issueOptions
	cmd := leaf("issue", "issue one credential to a holder commitment, anchored on the chain",
		"  zkcred issuer issue --dir uni --schema diploma --subject ada.json --holder-commitment 1234… --out ada.credential.json",
		noArgs, func(*cobra.Command, []string) error { return issuerIssue(*c, o) })
	c.add(cmd)
	cmd.Flags().StringVar(&o.schema, "schema", "", "schema: example name, JSON file or ID")
	cmd.Flags().StringVar(&o.subject, "subject", "", "JSON file with the attribute values (- for stdin)")
	cmd.Flags().StringVar(&o.holder, "holder-commitment", "", "the holder's holder commitment (decimal; 'zkcred wallet init' prints it)")
	cmd.Flags().StringVar(&o.until, "valid-until", "", "expiry date (YYYY-MM-DD or RFC 3339); none by default")
	cmd.Flags().StringVar(&o.out, "out", "", "write the credential bundle here (default stdout)")
	return cmd
}

func issuerIssue(c commonFlags, o issueOptions) error {
	if o.subject == "" || o.holder == "" {
		return usagef("pass --subject data.json and --holder-commitment N (the wallet prints it)", "--subject and --holder-commitment are required")
	}
	hc, err := circuits.ParseElement(o.holder)
	if err != nil {
		return usagef("the wallet prints its holder commitment as a decimal number", "--holder-commitment: %v", err)
	}
	vu, err := parseValidUntil(o.until)
	if err != nil {
		return err
	}
	var raw []byte
	if o.subject == "-" {
		raw, err = io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	} else {
		raw, err = os.ReadFile(o.subject)
	}
	if err != nil {
		return usagef("give --subject a readable JSON file", "%v", err)
	}
	var subject map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // integers above 2^53 stay exact
	if err := dec.Decode(&subject); err != nil || dec.More() {
		if err == nil {
			err = errors.New("trailing data after the JSON object")
		}
		return usagef("the subject is one JSON object of attribute values", "--subject: %v", err)
	}
	e, err := openIssuer(c, true, issuer.Options{})
	if err != nil {
		return err
	}
	defer e.close()
	s, err := loadSchema(e.is, o.schema)
	if err != nil {
		return err
	}
	b, err := e.is.Issue(context.Background(), issuer.Request{Schema: s, Subject: subject, HolderCommit: hc, ValidUntil: vu})
	if err != nil {
		var fe *circuits.FieldError
		if errors.As(err, &fe) {
			return usagef("see the schema's attributes with 'zkcred issuer schema show --schema "+o.schema+"'", "%v", err)
		}
		return err
	}
	js, _ := json.MarshalIndent(b, "", "  ")
	js = append(js, '\n')
	if o.out == "" {
		_, err = os.Stdout.Write(js)
		return err
	}
	if err := issuer.WriteFileAtomic(o.out, js, 0o600); err != nil {
		return usagef("choose another --out path", "%v", err)
	}
	if jsonOutput {
		return printJSON(map[string]any{"credentialId": b.Private.CredentialID, "leafIndex": b.Private.LeafIndex, "blockHeight": b.Private.BlockHeight, "file": o.out})
	}
	fmt.Fprintf(os.Stderr, "issued %s at leaf %d (block %d) → %s\n", b.Private.CredentialID, b.Private.LeafIndex, b.Private.BlockHeight, o.out)
	return nil
}

type batchOptions struct {
	schema, csv, out, until, publicURL, holderCol string
	chunk                                         int
	txCode                                        bool
}

func newIssuerBatchCmd(c *commonFlags) *cobra.Command {
	var o batchOptions
	cmd := leaf("issue-batch", "issue one credential or claim link per CSV row, anchored in chunks; resumable",
		`  zkcred issuer schema show --schema diploma     # the CSV's header
  zkcred issuer issue-batch --dir uni --schema diploma --csv graduates.csv --public-url https://uni.example --out links/`,
		noArgs, func(*cobra.Command, []string) error { return issuerIssueBatch(*c, o) })
	cmd.Long = `Issue-batch reads a CSV whose header names the schema's attributes
('zkcred issuer schema show' prints it), plus an optional holder commitment
column. A row with a holder commitment gets a credential file; a row without
one gets a claim link on the issuer API's public URL (--public-url, required
then): row-N.offer.json holds the link ("url") and the same offer as
OpenID4VCI 1.0 credential offers ("openid4vciUri" by value,
"openid4vciOfferUri" by reference), and row-N.offer.png the latter as a QR
code (docs/openid.md). Rows are journaled and anchored in chunks: run the same command again
after an interruption and no row is issued twice. Exit status 1 when rows
were rejected (each is listed, and in report.json).`
	c.add(cmd)
	cmd.Flags().StringVar(&o.schema, "schema", "", "schema: example name, JSON file or ID")
	cmd.Flags().StringVar(&o.csv, "csv", "", "CSV file: a header of attribute names (plus holderCommitment), one row per credential")
	cmd.Flags().StringVar(&o.out, "out", "", "output directory for one file per row and report.json (default: <csv>.out)")
	cmd.Flags().StringVar(&o.until, "valid-until", "", "expiry date (YYYY-MM-DD or RFC 3339); none by default")
	cmd.Flags().IntVar(&o.chunk, "chunk", 0, "rows per journaled, anchored chunk (default 1000)")
	cmd.Flags().StringVar(&o.publicURL, "public-url", "", "the issuer API's public URL (as 'issuer serve --public-url'), for absolute claim links")
	cmd.Flags().StringVar(&o.holderCol, "holder-column", issuer.DefaultHolderColumn, "CSV column with holder commitments; rows without one get a claim offer")
	cmd.Flags().BoolVar(&o.txCode, "tx-code", false, "OpenID4VCI offers ask for a PIN (tx_code), written to each offer file as txCode: send it by another channel than the offer")
	return cmd
}

func issuerIssueBatch(c commonFlags, o batchOptions) error {
	if o.csv == "" {
		return usagef("pass --csv graduates.csv --schema diploma", "--csv is required")
	}
	data, err := os.ReadFile(o.csv)
	if err != nil {
		return usagef("give --csv a readable CSV file", "%v", err)
	}
	if o.publicURL != "" && !strings.HasPrefix(o.publicURL, "http://") && !strings.HasPrefix(o.publicURL, "https://") {
		return usagef("give the issuer API's absolute URL, e.g. --public-url https://uni.example", "--public-url %q is not an http(s) URL", o.publicURL)
	}
	if o.out == "" {
		o.out = o.csv + ".out"
	}
	vu, err := parseValidUntil(o.until)
	if err != nil {
		return err
	}
	e, err := openIssuer(c, true, issuer.Options{PublicURL: o.publicURL})
	if err != nil {
		return err
	}
	defer e.close()
	s, err := loadSchema(e.is, o.schema)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	showProgress := !jsonOutput && term.IsTerminal(int(os.Stderr.Fd()))
	start := time.Now()
	opts := issuer.BatchOptions{Schema: s, CSV: data, OutDir: o.out, ValidUntil: vu, Chunk: o.chunk, HolderColumn: o.holderCol, TxCode: o.txCode}
	if showProgress {
		opts.Progress = func(done, total int) { progressBar(os.Stderr, done, total, start) }
	}
	rep, err := e.is.RunBatch(ctx, opts)
	if showProgress {
		fmt.Fprintln(os.Stderr)
	}
	if err != nil && !errors.Is(err, issuer.ErrRowsRejected) {
		if errors.Is(err, issuer.ErrNoPublicURL) {
			return usagef("pass --public-url https://issuer.example (the URL holders reach 'zkcred issuer serve' at), or give every row a "+o.holderCol, "%v", err)
		}
		if errors.Is(err, issuer.ErrBatch) {
			return usagef("the CSV header must name every attribute of schema "+s.Name+" (and optionally "+o.holderCol+"); 'zkcred issuer schema show --schema "+o.schema+"' prints it", "%v", err)
		}
		if errors.Is(err, context.Canceled) {
			return usagef("run the same command again to resume; no row is issued twice", "interrupted")
		}
		return err
	}
	if jsonOutput {
		if err := printJSON(rep); err != nil {
			return err
		}
	} else {
		fmt.Printf("%d rows: %d issued, %d offers, %d rejected (%d done by an earlier run) in %s\n",
			rep.Rows, rep.Issued, rep.Offered, rep.Rejected, rep.Resumed, time.Since(start).Round(time.Millisecond))
		for _, r := range rep.Rejections {
			if r.Field != "" {
				fmt.Printf("  row %d: %s: %s\n", r.Row, r.Field, r.Reason)
			} else {
				fmt.Printf("  row %d: %s\n", r.Row, r.Reason)
			}
		}
		fmt.Printf("files and report.json in %s\n", o.out)
	}
	if rep.Rejected > 0 {
		return refusedf("rows_rejected", "fix the rows listed in "+filepath.Join(o.out, "report.json")+" and run the batch again with them", "%d of %d rows were rejected", rep.Rejected, rep.Rows)
	}
	return nil
}

func progressBar(w io.Writer, done, total int, start time.Time) {
	const width = 30
	n := 0
	if total > 0 {
		n = done * width / total
	}
	fmt.Fprintf(w, "\r[%s%s] %d/%d rows %s", strings.Repeat("#", n), strings.Repeat(" ", width-n), done, total, time.Since(start).Round(100*time.Millisecond))
}

func newIssuerRevokeCmd(c *commonFlags) *cobra.Command {
	var ids []string
	var leaves []uint
	cmd := leaf("revoke", "revoke credentials: their leaves become 0 on the chain (also while 'issuer serve' runs)",
		`  zkcred issuer revoke --dir uni --id urn:uuid:…
  zkcred issuer revoke --dir uni --leaf 17 --leaf 18`,
		noArgs, func(*cobra.Command, []string) error {
			ls := make([]uint64, len(leaves))
			for i, l := range leaves {
				ls[i] = uint64(l)
			}
			return issuerRevoke(*c, ids, ls)
		})
	cmd.Long = `Revoke overwrites the credentials' leaves with 0 on the chain, so that no proof
against a later root exists. While 'zkcred issuer serve' runs on the same
directory, the command goes through the service's admin API (its URL and
token file are recorded in the directory), so the service need not stop.`
	c.add(cmd)
	cmd.Flags().StringSliceVar(&ids, "id", nil, "credential ID (urn:uuid:…) to revoke; repeatable")
	cmd.Flags().UintSliceVar(&leaves, "leaf", nil, "leaf index to revoke; repeatable")
	return cmd
}

func issuerRevoke(c commonFlags, ids []string, leaves []uint64) error {
	if len(ids)+len(leaves) == 0 {
		return usagef("pass --id urn:uuid:… or --leaf N", "nothing to revoke")
	}
	if svc, ok := readServiceFile(c.dir); ok {
		// 'issuer serve' has the database: go through its admin API,
		// unless it is gone (a stale file) and the database is free.
		err := revokeThroughService(svc, ids, leaves)
		if !errors.Is(err, errUnreachable) {
			return err
		}
	}
	e, err := openIssuer(c, true, issuer.Options{})
	if err != nil {
		return err
	}
	defer e.close()
	got, err := e.is.Revoke(context.Background(), ids, leaves)
	if err != nil {
		if errors.Is(err, issuer.ErrRevoke) {
			return usagef("only credentials this issuer issued can be revoked", "%v", err)
		}
		return err
	}
	return printOut(map[string]any{"revoked": got.IDs, "revokedLeaves": got.Leaves}, "revoked leaves %v\n", got.Leaves)
}

type serveOptions struct {
	addr, publicURL, keys, tokenFile, didWeb string
}

func newIssuerServeCmd(c *commonFlags) *cobra.Command {
	var o serveOptions
	cmd := leaf("serve", "serve the issuer API: claim links, direct issuance, revocation",
		`  zkcred issuer serve --dir uni --addr 127.0.0.1:8641
  ZKCRED_PASSPHRASE=… zkcred issuer serve --dir uni --public-url https://uni.example --did-web uni.example --admin-token-file /etc/zkcred/token &`,
		noArgs, func(*cobra.Command, []string) error { return issuerServe(*c, o) })
	cmd.Long = `Serve runs the issuer's HTTP API (docs/issuer.md): holders fetch and claim
offers; the issuer's own systems create offers, issue and revoke with the
admin bearer token. The token is read from --admin-token-file (default
DIR/admin-token), which is made (random, mode 0600) when missing, or from
$ZKCRED_ADMIN_TOKEN.` + "\n\n" + issuerPassExplain
	c.add(cmd)
	addAddrFlag(cmd, &o.addr, "127.0.0.1:8480", "")
	cmd.Flags().StringVar(&o.publicURL, "public-url", "", "public base URL for claim links (default http://<addr>)")
	addKeysFlag(cmd, &o.keys)
	cmd.Flags().StringVar(&o.tokenFile, "admin-token-file", "", "file holding the admin bearer token, made if missing (default DIR/admin-token; $"+envAdminToken+" instead)")
	addDIDWebFlag(cmd, &o.didWeb, "sign credentials as did:web:<domain> and serve its DID document (default: the directory's, from 'issuer init --did-web')")
	return cmd
}

func issuerServe(c commonFlags, o serveOptions) error {
	if _, err := readIssuerConfig(c.dir); err != nil {
		return err
	}
	tok, tokenFile, err := adminToken(c.dir, o.tokenFile)
	if err != nil {
		return err
	}
	if o.publicURL == "" {
		o.publicURL = "http://" + o.addr
	}
	didWeb, err := parseDIDWebFlag(o.didWeb)
	if err != nil {
		return err
	}
	hv, err := readVerifyingKey(o.keys, "", circuits.HolderID)
	if err != nil {
		return err
	}
	e, err := openIssuer(c, true, issuer.Options{PublicURL: o.publicURL, HolderProof: hv.VerifyHolder, DIDWeb: didWeb})
	if err != nil {
		return err
	}
	defer e.close()
	h, err := issuerapi.New(e.is, issuerapi.Options{AdminToken: tok})
	if err != nil {
		return usagef("use a token of at least 16 characters and an http(s) --public-url", "%v", err)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return usagef("choose another --addr", "listen: %v", err)
	}
	desk, err := issuerweb.Handler(e.is, tok, issuerweb.Options{BatchDir: filepath.Join(c.dir, "desk-batches")})
	if err != nil {
		return usagef("use a token of at least 16 characters", "%v", err)
	}
	srv := issuerapi.NewServer(o.addr, webui.Mount(h, desk)) // the API, and the registrar's desk at /
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	local := "http://" + ln.Addr().String()
	if err := writeServiceFile(c.dir, serviceFile{URL: local, AdminTokenFile: tokenFile, PID: os.Getpid()}); err != nil {
		return err
	}
	defer os.Remove(filepath.Join(c.dir, serviceFileName))
	if jsonOutput {
		out := map[string]string{"did": e.key.DID(), "url": local, "desk": local + "/", "publicUrl": o.publicURL, "adminTokenFile": tokenFile}
		if d := e.is.DIDWeb(); d != "" {
			out["didWeb"] = d
		}
		printJSON(out)
	} else {
		fmt.Fprintf(os.Stderr, "issuer %s serving on %s (claim links on %s)\n", e.is.DID(), local, o.publicURL)
		fmt.Fprintf(os.Stderr, "the registrar's desk: %s/ (sign in with the admin token)\n", local)
		if tokenFile != "" {
			fmt.Fprintf(os.Stderr, "admin token in %s (send it as Authorization: Bearer …)\n", tokenFile)
		}
	}
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
	return nil
}

func newIssuerSchemaShowCmd() *cobra.Command {
	var ref, holderCol string
	c := leaf("show", "print a schema's attributes, how to write each value, and a CSV header for issue-batch",
		"  zkcred issuer schema show --schema diploma\n  zkcred issuer schema show --schema my-schema.json --json",
		noArgs, func(*cobra.Command, []string) error {
			s, err := loadSchema(nil, ref)
			if err != nil {
				return err
			}
			return showSchema(s, holderCol)
		})
	c.Flags().StringVar(&ref, "schema", "", "schema: example name or JSON file")
	c.Flags().StringVar(&holderCol, "holder-column", issuer.DefaultHolderColumn, "the CSV's holder commitment column")
	return c
}
