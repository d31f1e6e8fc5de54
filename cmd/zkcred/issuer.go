package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"golang.org/x/term"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/home"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/issuer/regchain"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
)

func init() {
	register("issuer", "issue, anchor and revoke credentials (init, schema, issue, issue-batch, serve)", runIssuer)
}

func runIssuer(args []string) error {
	return subcommands("issuer", args, map[string]func([]string) error{
		"init":        issuerInit,
		"register":    issuerRegister,
		"schema":      issuerSchema,
		"issue":       issuerIssue,
		"issue-batch": issuerIssueBatch,
		"revoke":      issuerRevoke,
		"serve":       issuerServe,
	})
}

// issuerConfig is <dir>/issuer.json, written by init.
type issuerConfig struct {
	DID   string `json:"did"`
	Chain string `json:"chain"` // "local" or a registry URL
}

const (
	keyFileName    = "issuer.key"
	configFileName = "issuer.json"
	chainLocal     = "local"
)

func defaultIssuerDir() string {
	if d := os.Getenv("ZKCRED_HOME"); d != "" {
		return filepath.Join(d, "issuer")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "zkcred-issuer"
	}
	return filepath.Join(home, ".zkcred", "issuer")
}

// commonFlags are shared by the issuer subcommands.
type commonFlags struct {
	dir      string
	passFile string
	json     bool
}

func (c *commonFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&c.dir, "dir", defaultIssuerDir(), "issuer data directory (key, database)")
	fs.StringVar(&c.passFile, "passphrase-file", "", "file whose first line is the key passphrase (else $"+issuer.PassphraseEnv+", else a prompt)")
	fs.BoolVar(&c.json, "json", false, "print machine-readable JSON, no progress")
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("run '"+fs.Name()+" -h' for the flags", "%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("run '"+fs.Name()+" -h' for the flags", "unexpected argument %q", fs.Arg(0))
	}
	return nil
}

func issuerInit(args []string) error {
	fs := newFlags("issuer init")
	var c commonFlags
	c.add(fs)
	chain := fs.String("chain", "", `where to anchor: the registry URL, or "local" (a chain in the data directory that no wallet can check: offline trials only)`)
	wf := fs.Int("scrypt-work-factor", issuer.DefaultScryptWorkFactor, "age scrypt work factor (log2 N) of the key file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(c.dir, keyFileName)); err == nil {
		return usagef("use another --dir, or remove the directory to start over", "%s already holds an issuer key", c.dir)
	}
	if *chain == "" {
		return usagef("give --chain http://registry:8640 (the registry's URL), or --chain local for an offline trial", "no chain to anchor in")
	}
	if *chain != chainLocal && !strings.HasPrefix(*chain, "http://") && !strings.HasPrefix(*chain, "https://") {
		return usagef(`use --chain local or --chain https://registry.example`, "unknown chain %q", *chain)
	}
	pass, err := issuer.ReadPassphrase(issuer.PassphraseSource{File: c.passFile, Confirm: true, Prompt: "new key passphrase: "})
	if err != nil {
		return usagef("set "+issuer.PassphraseEnv+" or pass --passphrase-file", "%v", err)
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	k, err := issuer.GenerateKey()
	if err != nil {
		return err
	}
	if err := issuer.SaveKey(filepath.Join(c.dir, keyFileName), k, pass, issuer.KeyOptions{ScryptWorkFactor: *wf}); err != nil {
		return err
	}
	cfg, _ := json.MarshalIndent(issuerConfig{DID: k.DID(), Chain: *chain}, "", "  ")
	if err := issuer.WriteFileAtomic(filepath.Join(c.dir, configFileName), append(cfg, '\n'), 0o600); err != nil {
		return err
	}
	st, err := issuer.OpenStore(filepath.Join(c.dir, "db"), issuer.StoreOptions{})
	if err != nil {
		return err
	}
	defer st.Close()
	for _, s := range issuer.ExampleSchemas() {
		if err := st.PutSchema(s); err != nil {
			return err
		}
	}
	return printOut(c.json, map[string]string{"did": k.DID(), "dir": c.dir, "chain": *chain},
		"issuer %s\ncreated in %s (chain: %s)\n", k.DID(), c.dir, *chain)
}

func printOut(asJSON bool, v any, format string, a ...any) error {
	if asJSON {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Printf("%s\n", b)
		return err
	}
	_, err := fmt.Printf(format, a...)
	return err
}

// env is an opened issuer: key, store, chain.
type env struct {
	cfg   issuerConfig
	key   *issuer.Key
	store *issuer.Store
	chain issuer.Chain
	is    *issuer.Issuer
	close func()
}

func openIssuer(c commonFlags, needChain bool, opts issuer.Options) (*env, error) {
	raw, err := os.ReadFile(filepath.Join(c.dir, configFileName))
	if err != nil {
		return nil, usagef("run 'zkcred issuer init' first, or pass --dir", "no issuer in %s", c.dir)
	}
	var cfg issuerConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", configFileName, err)
	}
	pass, err := issuer.ReadPassphrase(issuer.PassphraseSource{File: c.passFile, Prompt: "key passphrase: "})
	if err != nil {
		return nil, usagef("set "+issuer.PassphraseEnv+" or pass --passphrase-file", "%v", err)
	}
	k, err := issuer.LoadKey(filepath.Join(c.dir, keyFileName), pass)
	if err != nil {
		return nil, err
	}
	st, err := issuer.OpenStore(filepath.Join(c.dir, "db"), issuer.StoreOptions{})
	if err != nil {
		if strings.Contains(err.Error(), "directory lock") {
			return nil, usagef("another zkcred issuer command (serve?) is using "+c.dir+"; stop it or use the HTTP API", "issuer store is busy")
		}
		return nil, err
	}
	e := &env{cfg: cfg, key: k, store: st, close: func() { st.Close() }}
	if needChain && cfg.Chain != chainLocal {
		cl, err := client.New(cfg.Chain, client.Options{})
		if err != nil {
			st.Close()
			return nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		rc, err := regchain.New(ctx, cl, k)
		cancel()
		if err != nil {
			st.Close()
			return nil, usagef("is the registry running? check the URL in "+filepath.Join(c.dir, configFileName), "registry %s: %v", cfg.Chain, err)
		}
		e.chain = rc
		if opts.StatusBase == "" {
			opts.StatusBase = strings.TrimRight(cfg.Chain, "/") + "/v1"
		}
	} else if needChain {
		lc, err := issuer.OpenLocalChain(filepath.Join(c.dir, "chain"), k.IssuerID())
		if err != nil {
			st.Close()
			return nil, err
		}
		e.chain = lc
		e.close = func() { st.Close(); lc.Close() }
	} else {
		e.chain = noChain{cfg.Chain}
	}
	e.is = issuer.New(k, e.chain, st, opts)
	if needChain {
		if err := e.is.Recover(context.Background()); err != nil {
			e.close()
			return nil, err
		}
	}
	return e, nil
}

// noChain answers every chain call with an error, for commands that do not
// touch the chain.
type noChain struct{ url string }

func (n noChain) err() error { return fmt.Errorf("%w: not connected", issuer.ErrChain) }
func (n noChain) RegisterSchema(context.Context, *circuits.Schema) error {
	return n.err()
}
func (n noChain) Anchor(context.Context, []fr.Element) ([]issuer.Anchored, error) {
	return nil, n.err()
}
func (n noChain) Lookup(context.Context, []fr.Element, uint64) ([]issuer.Anchored, []bool, error) {
	return nil, nil, n.err()
}
func (n noChain) Size(context.Context) (uint64, error)           { return 0, n.err() }
func (n noChain) Revoke(context.Context, []issuer.LeafRef) error { return n.err() }

func issuerRegister(args []string) error {
	fs := newFlags("issuer register")
	var c commonFlags
	c.add(fs)
	name := fs.String("name", "", "the issuer's display name on the registry (e.g. \"University of Examples\")")
	kind := fs.String("kind", "", "the issuer's kind (e.g. university, hospital)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	e, err := openIssuer(c, false, issuer.Options{})
	if err != nil {
		return err
	}
	defer e.close()
	if e.cfg.Chain == chainLocal {
		id := e.key.IssuerID()
		fmt.Printf("issuer %s\nissuer ID %s\nthe local chain accepts this issuer as it is: nothing to register\n", e.key.DID(), circuits.Dec(id))
		return nil
	}
	if *name == "" || *kind == "" {
		return usagef("pass --name \"University of Examples\" --kind university", "--name and --kind are required")
	}
	// Issuers are registered by the registry's governance keys (in genesis,
	// or a register_issuer transaction): this prints the entry they need.
	entry := registry.RegisterIssuer{PubKey: hex.EncodeToString(e.key.Public()), Name: *name, Kind: *kind}
	b, _ := json.MarshalIndent(entry, "", "  ")
	fmt.Printf("%s\n", b)
	if !c.json {
		fmt.Fprintf(os.Stderr, "give this entry to the governance of the registry at %s (a register_issuer transaction, or 'zkcred registry init --issuers')\n", e.cfg.Chain)
	}
	return nil
}

// loadSchema resolves --schema: an example name, a JSON file, or the ID of
// a schema in the issuer's store.
func loadSchema(st *issuer.Store, ref string) (*circuits.Schema, error) {
	if ref == "" {
		return nil, usagef("pass --schema diploma, --schema vaccination, --schema file.json or a schema ID", "--schema is required")
	}
	if s, ok := issuer.ExampleSchemas()[ref]; ok {
		return s, nil
	}
	if strings.HasSuffix(ref, ".json") {
		b, err := os.ReadFile(ref)
		if err != nil {
			return nil, err
		}
		return circuits.ParseSchema(b)
	}
	if st != nil {
		if s, err := st.Schema(ref); err == nil {
			return s, nil
		}
	}
	return nil, usagef("examples: "+strings.Join(issuer.ExampleSchemaNames(), ", ")+"; see 'zkcred issuer schema list'", "unknown schema %q", ref)
}

func issuerSchema(args []string) error {
	return subcommands("issuer schema", args, map[string]func([]string) error{
		"validate": func(args []string) error {
			fs := newFlags("issuer schema validate")
			file := fs.String("file", "", "schema JSON file")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			s, err := loadSchema(nil, *file)
			if err != nil {
				return err
			}
			id := s.ID()
			fmt.Printf("schema %s %s is valid; ID %s\n", s.Name, s.Version, circuits.Dec(id))
			return nil
		},
		"define": func(args []string) error {
			fs := newFlags("issuer schema define")
			var c commonFlags
			c.add(fs)
			file := fs.String("file", "", "schema JSON file (or an example name)")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			e, err := openIssuer(c, false, issuer.Options{})
			if err != nil {
				return err
			}
			defer e.close()
			s, err := loadSchema(nil, *file)
			if err != nil {
				return err
			}
			if err := e.store.PutSchema(s); err != nil {
				return err
			}
			id := s.ID()
			return printOut(c.json, map[string]string{"id": circuits.Dec(id), "name": s.Name}, "defined %s; ID %s\n", s.Name, circuits.Dec(id))
		},
		"publish": func(args []string) error {
			fs := newFlags("issuer schema publish")
			var c commonFlags
			c.add(fs)
			ref := fs.String("schema", "", "schema: example name, JSON file or ID")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			e, err := openIssuer(c, true, issuer.Options{})
			if err != nil {
				return err
			}
			defer e.close()
			s, err := loadSchema(e.store, *ref)
			if err != nil {
				return err
			}
			if err := e.is.PublishSchema(context.Background(), s); err != nil {
				return err
			}
			id := s.ID()
			return printOut(c.json, map[string]string{"id": circuits.Dec(id)}, "published %s; ID %s\n", s.Name, circuits.Dec(id))
		},
		"list": func(args []string) error {
			fs := newFlags("issuer schema list")
			var c commonFlags
			c.add(fs)
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			e, err := openIssuer(c, false, issuer.Options{})
			if err != nil {
				return err
			}
			defer e.close()
			ss, err := e.store.Schemas()
			if err != nil {
				return err
			}
			type row struct{ ID, Name, Version string }
			var rows []row
			for _, s := range ss {
				id := s.ID()
				rows = append(rows, row{circuits.Dec(id), s.Name, s.Version})
			}
			if c.json {
				return printOut(true, rows, "")
			}
			for _, r := range rows {
				fmt.Printf("%-22s %-6s %s\n", r.Name, r.Version, r.ID)
			}
			return nil
		},
	})
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

func issuerIssue(args []string) error {
	fs := newFlags("issuer issue")
	var c commonFlags
	c.add(fs)
	ref := fs.String("schema", "", "schema: example name, JSON file or ID")
	subjectFile := fs.String("subject", "", "JSON file with the attribute values (- for stdin)")
	hcText := fs.String("holder-commitment", "", "the holder's holder commitment (decimal)")
	until := fs.String("valid-until", "", "expiry date (YYYY-MM-DD or RFC 3339); none by default")
	out := fs.String("out", "", "write the credential bundle here (default stdout)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *subjectFile == "" || *hcText == "" {
		return usagef("pass --subject data.json and --holder-commitment N (the wallet prints it)", "--subject and --holder-commitment are required")
	}
	hc, err := circuits.ParseElement(*hcText)
	if err != nil {
		return usagef("the wallet prints its holder commitment as a decimal number", "--holder-commitment: %v", err)
	}
	vu, err := parseValidUntil(*until)
	if err != nil {
		return err
	}
	var raw []byte
	if *subjectFile == "-" {
		raw, err = io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	} else {
		raw, err = os.ReadFile(*subjectFile)
	}
	if err != nil {
		return err
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
	s, err := loadSchema(e.store, *ref)
	if err != nil {
		return err
	}
	b, err := e.is.Issue(context.Background(), issuer.Request{Schema: s, Subject: subject, HolderCommit: hc, ValidUntil: vu})
	if err != nil {
		var fe *circuits.FieldError
		if errors.As(err, &fe) {
			return usagef("see the schema's attributes with 'zkcred issuer schema list' and the schema file", "%v", err)
		}
		return err
	}
	js, _ := json.MarshalIndent(b, "", "  ")
	js = append(js, '\n')
	if *out == "" {
		_, err = os.Stdout.Write(js)
		return err
	}
	if err := issuer.WriteFileAtomic(*out, js, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "issued %s at leaf %d (block %d) → %s\n", b.Private.CredentialID, b.Private.LeafIndex, b.Private.BlockHeight, *out)
	return nil
}

func issuerIssueBatch(args []string) error {
	fs := newFlags("issuer issue-batch")
	var c commonFlags
	c.add(fs)
	ref := fs.String("schema", "", "schema: example name, JSON file or ID")
	csvFile := fs.String("csv", "", "CSV file: a header of attribute names (plus holderCommitment), one row per credential")
	out := fs.String("out", "", "output directory for one file per row and report.json (default: <csv>.out)")
	until := fs.String("valid-until", "", "expiry date (YYYY-MM-DD or RFC 3339); none by default")
	chunk := fs.Int("chunk", 0, "rows per journaled, anchored chunk (default 1000)")
	publicURL := fs.String("public-url", "", "the issuer API's public URL, for claim links")
	holderCol := fs.String("holder-column", issuer.DefaultHolderColumn, "CSV column with holder commitments; rows without one get a claim offer")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *csvFile == "" {
		return usagef("pass --csv graduates.csv --schema diploma", "--csv is required")
	}
	data, err := os.ReadFile(*csvFile)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = *csvFile + ".out"
	}
	vu, err := parseValidUntil(*until)
	if err != nil {
		return err
	}
	e, err := openIssuer(c, true, issuer.Options{PublicURL: *publicURL})
	if err != nil {
		return err
	}
	defer e.close()
	s, err := loadSchema(e.store, *ref)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	showProgress := !c.json && term.IsTerminal(int(os.Stderr.Fd()))
	start := time.Now()
	opts := issuer.BatchOptions{Schema: s, CSV: data, OutDir: *out, ValidUntil: vu, Chunk: *chunk, HolderColumn: *holderCol}
	if showProgress {
		opts.Progress = func(done, total int) { progressBar(os.Stderr, done, total, start) }
	}
	rep, err := e.is.RunBatch(ctx, opts)
	if showProgress {
		fmt.Fprintln(os.Stderr)
	}
	if err != nil {
		if errors.Is(err, issuer.ErrBatch) {
			return usagef("the CSV header must name every attribute of schema "+s.Name+" (and optionally "+*holderCol+")", "%v", err)
		}
		if errors.Is(err, context.Canceled) {
			return usagef("run the same command again to resume; no row is issued twice", "interrupted")
		}
		return err
	}
	if c.json {
		return printOut(true, rep, "")
	}
	fmt.Printf("%d rows: %d issued, %d offers, %d rejected (%d done by an earlier run) in %s\n",
		rep.Rows, rep.Issued, rep.Offered, rep.Rejected, rep.Resumed, time.Since(start).Round(time.Millisecond))
	for _, r := range rep.Rejections {
		if r.Field != "" {
			fmt.Printf("  row %d: %s: %s\n", r.Row, r.Field, r.Reason)
		} else {
			fmt.Printf("  row %d: %s\n", r.Row, r.Reason)
		}
	}
	fmt.Printf("files and report.json in %s\n", *out)
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

type uint64List []uint64

func (l *uint64List) String() string { return fmt.Sprint(*l) }
func (l *uint64List) Set(s string) error {
	var v uint64
	if _, err := fmt.Sscan(s, &v); err != nil {
		return fmt.Errorf("%q is not a leaf index", s)
	}
	*l = append(*l, v)
	return nil
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

func issuerRevoke(args []string) error {
	fs := newFlags("issuer revoke")
	var c commonFlags
	c.add(fs)
	var ids stringList
	var leaves uint64List
	fs.Var(&ids, "id", "credential ID (urn:uuid:…) to revoke; repeatable")
	fs.Var(&leaves, "leaf", "leaf index to revoke; repeatable")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(ids)+len(leaves) == 0 {
		return usagef("pass --id urn:uuid:… or --leaf N", "nothing to revoke")
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
	return printOut(c.json, map[string][]uint64{"revokedLeaves": got}, "revoked leaves %v\n", got)
}

func issuerServe(args []string) error {
	fs := newFlags("issuer serve")
	var c commonFlags
	c.add(fs)
	addr := fs.String("addr", "127.0.0.1:8480", "listen address")
	publicURL := fs.String("public-url", "", "public base URL for claim links (default http://<addr>)")
	keysDir := fs.String("keys", home.KeysDir(), "circuit keys directory (the holder circuit's verifying key checks claims)")
	tokenFile := fs.String("admin-token-file", "", "file holding the admin bearer token (else $ZKCRED_ADMIN_TOKEN; generated and printed if neither)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	tok := os.Getenv("ZKCRED_ADMIN_TOKEN")
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return err
		}
		tok = strings.TrimSpace(string(b))
	}
	if tok == "" {
		var b [24]byte
		rand.Read(b[:])
		tok = base64.RawURLEncoding.EncodeToString(b[:])
		fmt.Fprintf(os.Stderr, "admin token (generated for this run): %s\n", tok)
	}
	if *publicURL == "" {
		*publicURL = "http://" + *addr
	}
	hv, err := holderVerifier(*keysDir)
	if err != nil {
		return usagef("run 'zkcred setup' to make the circuit keys, or pass --keys DIR", "%v", err)
	}
	e, err := openIssuer(c, true, issuer.Options{PublicURL: *publicURL, HolderProof: hv.VerifyHolder})
	if err != nil {
		return err
	}
	defer e.close()
	h, err := issuer.NewServer(e.is, issuer.ServerOptions{AdminToken: tok})
	if err != nil {
		return usagef("use a token of at least 16 characters", "%v", err)
	}
	srv := issuer.HTTPServer(*addr, h)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Fprintf(os.Stderr, "issuer %s serving on %s\n", e.key.DID(), *addr)
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

// holderVerifier reads the holder circuit's verifying key from a keys
// directory written by 'zkcred setup'.
func holderVerifier(dir string) (*circuits.Verifier, error) {
	v, err := circuits.ReadVerifyingKeyFile(circuits.VerifyingKeyFile(dir, circuits.HolderID), circuits.HolderID)
	if err != nil {
		return nil, fmt.Errorf("holder verifying key: %w", err)
	}
	return v, nil
}
