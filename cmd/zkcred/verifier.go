package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/httpx"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/light"
	"github.com/zkcred/zkcred/registry/proof"
	"github.com/zkcred/zkcred/verifier"
	verifierweb "github.com/zkcred/zkcred/verifier/web"
)

func newVerifierCmd() *cobra.Command {
	return group("verifier", "serve presentation requests and verify presentations over HTTP",
		`A verifier has its policies in a JSON file (docs/verifier.md, "Policy file"):
what it asks for, from which issuers, how fresh the registry's root must be.
'policy init' writes one from a published schema, 'check' validates it, and
'serve' answers presentation requests, following the registry with its light
client.`,
		`  zkcred verifier policy init --schema diploma --kind university --disclose degree --out policy.json
  zkcred verifier check --config policy.json
  zkcred verifier serve --config policy.json --registry http://127.0.0.1:8700 --genesis genesis.json`,
		newVerifierServeCmd(), newVerifierCheckCmd(), newVerifierPolicyCmd())
}

func loadVerifierConfig(path string) (*verifier.Config, error) {
	if path == "" {
		return nil, usagef("write one with 'zkcred verifier policy init' (docs/verifier.md, \"Policy file\")", "--config is required")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("write one with 'zkcred verifier policy init'; docs/verifier.md has an example", "read config: %v", err)
	}
	cfg, err := verifier.ParseConfig(b)
	if err != nil {
		return nil, usagef("see docs/verifier.md, \"Policy file\"", "%s: %v", path, err)
	}
	return cfg, nil
}

// policySchemaID is the schema ID a validated policy compiles to.
func policySchemaID(p *verifier.Policy) string {
	if p.Schema != nil {
		return circuits.Dec(p.Schema.ID())
	}
	if p.SchemaID != nil {
		return p.SchemaID.String()
	}
	return ""
}

func newVerifierCheckCmd() *cobra.Command {
	var cfgPath string
	c := leaf("check", "validate a policy file and print each policy's schema ID",
		"  zkcred verifier check --config policy.json",
		noArgs, func(*cobra.Command, []string) error {
			cfg, err := loadVerifierConfig(cfgPath)
			if err != nil {
				return err
			}
			type row struct {
				Name     string `json:"name"`
				SchemaID string `json:"schemaId"`
			}
			var rows []row
			for _, p := range cfg.Policies {
				rows = append(rows, row{p.Name, policySchemaID(p)})
			}
			if jsonOutput {
				return printJSON(map[string]any{"audience": cfg.Audience, "policies": rows})
			}
			for _, r := range rows {
				fmt.Printf("policy %q: ok, schema ID %s\n", r.Name, r.SchemaID)
			}
			return nil
		})
	c.Flags().StringVar(&cfgPath, "config", "", "verifier configuration (policies) file")
	return c
}

type verifierServeOptions struct {
	cfg, addr, dir, keys, vk, registry, genesis, headers, roots, createToken string
	sync, encryptResponses                                                   bool
	trust                                                                    trustFlags
}

func newVerifierServeCmd() *cobra.Command {
	var o verifierServeOptions
	c := leaf("serve", "serve presentation requests and verify presentations",
		`  zkcred verifier serve --config policy.json --registry http://127.0.0.1:8700 --genesis reg/genesis.json --addr 127.0.0.1:8643
  zkcred verifier serve --config policy.json --roots roots.json   # pinned roots, no registry`,
		noArgs, func(*cobra.Command, []string) error { return verifierServe(o) })
	c.Flags().StringVar(&o.cfg, "config", "", "verifier configuration file: audience and policies (JSON)")
	addAddrFlag(c, &o.addr, "127.0.0.1:8090", "")
	addDirFlag(c, &o.dir, "verifier", "data directory for requests, nonces, nullifiers, results and headers")
	addKeysFlag(c, &o.keys)
	c.Flags().StringVar(&o.vk, "vk", "", "verifying key file (instead of --keys)")
	addRegistryFlag(c, &o.registry, "", "registry URL to follow with the light client")
	addGenesisFlag(c, &o.genesis)
	c.Flags().StringVar(&o.headers, "headers", "", "file keeping verified headers across restarts (default: in --dir)")
	o.trust.add(c, "trust-")
	c.Flags().StringVar(&o.roots, "roots", "", "instead of a registry: roots file of pinned roots (root, height, time) and issuers per kind")
	c.Flags().BoolVar(&o.sync, "sync", false, "sync every acceptance to disk before answering")
	c.Flags().BoolVar(&o.encryptResponses, "encrypt-responses", false, "OpenID4VP requests ask for encrypted responses (response_mode direct_post.jwt) and unencrypted ones are refused")
	c.Flags().StringVar(&o.createToken, "create-token-file", "", "file holding the bearer token POST /v1/requests needs for policies that are not public (made, random and 0600, when missing; default: the config's createToken, else DIR/create-token)")
	return c
}

func verifierServe(o verifierServeOptions) error {
	cfg, err := loadVerifierConfig(o.cfg)
	if err != nil {
		return err
	}
	if (o.registry == "") == (o.roots == "") {
		return usagef("pass --registry URL --genesis FILE, or --roots FILE", "give either --registry (with --genesis) or --roots: the verifier accepts only roots it has verified")
	}
	if o.registry != "" && o.genesis == "" {
		return usagef("pass the genesis.json the registry operator published ('zkcred registry init' wrote it)", "--registry needs --genesis")
	}
	pv, err := readVerifyingKey(o.keys, o.vk, circuits.PresentationID)
	if err != nil {
		return err
	}
	var handler slog.Handler = slog.NewTextHandler(os.Stderr, nil)
	if jsonOutput {
		handler = slog.NewJSONHandler(os.Stderr, nil)
	}
	log := slog.New(handler)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	vo := cfg.Options()
	tokenFile := ""
	if o.createToken != "" || vo.CreateToken == "" {
		if vo.CreateToken, tokenFile, err = verifierCreateToken(o.dir, o.createToken); err != nil {
			return err
		}
	}
	if vo.SigningKey, err = verifierSigningKey(o.dir); err != nil {
		return err
	}
	vo.EncryptResponses = o.encryptResponses
	vo.Dir = o.dir
	vo.Proofs = pv
	vo.Logger = log
	vo.Store.SyncWrites = o.sync
	switch {
	case o.registry != "" && o.roots == "":
		lc, err := followRegistry(ctx, o.registry, o.genesis, o.headers, o.dir, o.trust, log)
		if err != nil {
			return err
		}
		defer lc.Close()
		// The verifier's soundness rests on its verifying key: refuse one
		// whose hash the chain has not published for the circuit.
		if err := verifier.CheckPublishedKey(ctx, proof.New(lc.Registry(), lc), pv); err != nil {
			if errors.Is(err, verifier.ErrKeyNotPublished) {
				return localf("key_unpublished", "use the keys whose hashes governance published ('zkcred registry govern publish-circuits'), e.g. fetched from the registry operators", "%v", err)
			}
			return withHint(err, "is the registry running at "+o.registry+"?")
		}
		vo.Roots = verifier.NewSyncingRoots(lc)
		vo.Issuers = verifier.NewRegistryIssuers(lc)
	case o.roots != "" && o.registry == "":
		rb, err := os.ReadFile(o.roots)
		if err != nil {
			return usagef("pass a roots file (docs/verifier.md, \"Roots file\")", "read roots: %v", err)
		}
		pinned, err := verifier.ParsePinned(rb)
		if err != nil {
			return usagef("see docs/verifier.md, \"Roots file\"", "%s: %v", o.roots, err)
		}
		vo.Roots, vo.Issuers = pinned, pinned
	default:
		return usagef("pass --registry URL --genesis FILE, or --roots FILE", "give either --registry (with --genesis) or --roots: the verifier accepts only roots it has verified")
	}
	srv, err := verifier.New(vo)
	if err != nil {
		return withHint(err, "is another verifier using "+o.dir+"? Stop it or pass another --dir")
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return usagef("choose another --addr", "listen: %v", err)
	}
	page, err := verifierweb.Handler(srv, srv.Handler(), verifierweb.Options{CreateToken: vo.CreateToken})
	if err != nil {
		return err
	}
	if jsonOutput {
		printJSON(map[string]any{"addr": ln.Addr().String(), "url": "http://" + ln.Addr().String(), "page": "http://" + ln.Addr().String() + "/", "policies": srv.Policies(), "createTokenFile": tokenFile})
	} else {
		fmt.Printf("verifier listening on http://%s (policies: %s)\n", ln.Addr(), strings.Join(srv.Policies(), ", "))
		fmt.Printf("its page for a front desk: http://%s/ (sign in there with the create token for policies that are not public)\n", ln.Addr())
		if tokenFile != "" {
			fmt.Printf("POST /v1/requests needs the bearer token in %s for policies that are not public\n", tokenFile)
		}
	}
	hs := srv.HTTPServer(ln.Addr().String())
	hs.Handler = page // the API, and the page at /
	return httpx.ServeUntil(ctx, hs, ln)
}

// verifierSigningKey reads the verifier's Ed25519 signing key (the key of
// its did:web document, which signs OpenID4VP request objects) from
// DIR/signing-key, a base64url seed of mode 0600, made when missing.
func verifierSigningKey(dir string) (ed25519.PrivateKey, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, localf("", "pass another --dir", "%v", err)
	}
	file := filepath.Join(dir, "signing-key")
	b, err := os.ReadFile(file)
	if err == nil {
		if fi, _ := os.Stat(file); fi != nil && fi.Mode().Perm()&0o077 != 0 {
			return nil, usagef("run 'chmod 600 "+file+"'", "signing key file %s is readable by others", file)
		}
		seed, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, usagef("delete "+file+" to have a new key made (wallets resolve the key per request)", "%s is not a base64url Ed25519 seed", file)
		}
		return ed25519.NewKeyFromSeed(seed), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, usagef("pass another --dir", "signing key: %v", err)
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	if err := os.WriteFile(file, []byte(base64.RawURLEncoding.EncodeToString(seed)+"\n"), 0o600); err != nil {
		return nil, usagef("pass another --dir", "signing key: %v", err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// verifierCreateToken returns the create token and its file:
// --create-token-file, else DIR/create-token, each made when missing.
func verifierCreateToken(dir, flag string) (tok, file string, err error) {
	file = flag
	if file == "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", "", localf("", "pass another --dir", "%v", err)
		}
		file = filepath.Join(dir, "create-token")
	}
	tok, created, err := createTokenFile(file)
	if err != nil {
		return "", "", err
	}
	if created {
		fmt.Fprintf(os.Stderr, "made the create token file %s (mode 0600; the relying party's backend sends it as a bearer token to POST /v1/requests)\n", file)
	}
	return tok, file, nil
}

// createTokenFile reads the create token in path (its first line), or
// makes one (random, 0600) there.
func createTokenFile(path string) (tok string, created bool, err error) {
	hint := "give --create-token-file a file you can write (it is made, random and 0600, when missing)"
	b, err := os.ReadFile(path)
	if err == nil {
		if fi, _ := os.Stat(path); fi != nil && fi.Mode().Perm()&0o077 != 0 {
			return "", false, usagef("run 'chmod 600 "+path+"'", "create token file %s is readable by others", path)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if tok = strings.TrimSpace(line); len(tok) < 16 {
			return "", false, usagef("delete the file to have a random token made, or write one of at least 16 characters", "the create token in %s is too short", path)
		}
		return tok, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", false, usagef(hint, "create token file: %v", err)
	}
	var r [32]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", false, err
	}
	tok = base64.RawURLEncoding.EncodeToString(r[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, usagef(hint, "cannot make the create token file: %v", err)
	}
	_, werr := f.WriteString(tok + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		return "", false, localf("", hint, "writing %s: %v", path, err)
	}
	return tok, true, nil
}

// followRegistry starts a light client on the registry: it checks every
// header against the given genesis, syncs once before serving, and keeps
// syncing in the background until ctx ends.
func followRegistry(ctx context.Context, url, genesisPath, headers, data string, trust trustFlags, log *slog.Logger) (*light.Client, error) {
	g, err := readGenesis(genesisPath, "--registry needs --genesis")
	if err != nil {
		return nil, err
	}
	th, hash, err := trust.parse("trust-")
	if err != nil {
		return nil, err
	}
	if headers == "" {
		if err := os.MkdirAll(data, 0o700); err != nil {
			return nil, localf("", "pass another --dir", "%v", err)
		}
		headers = filepath.Join(data, "headers.jsonl")
	}
	lc, err := light.New(g, url, light.Options{Path: headers, TrustHeight: th, TrustHash: hash})
	if err != nil {
		return nil, withHint(err, "the headers file "+headers+" belongs to another registry? Pass another --dir")
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	h, err := lc.Sync(sctx)
	if err != nil {
		lc.Close()
		if isUnreachable(err) {
			return nil, unreachable("is the registry running at "+url+"?", fmt.Errorf("sync headers: %w", err))
		}
		return nil, fmt.Errorf("sync headers: %w", err)
	}
	log.Info("light client synced", "registry", url, "height", h.Height)
	go func() {
		err := lc.Run(ctx, 0, func(err error) { log.Warn("light client sync", "err", err) })
		switch {
		case err == nil || ctx.Err() != nil:
		case errors.Is(err, light.ErrTrustExpired):
			log.Error("light client stopped: restart with --trust-height and --trust-hash of a recent block ('zkcred registry status' prints them)", "err", err)
		default:
			// A fork, rollback or bad header: stop trusting new roots and say so.
			log.Error("light client stopped: registry misbehaved; restart after investigating", "err", err)
		}
	}()
	return lc, nil
}

// readGenesis reads a genesis file given with --genesis.
func readGenesis(path, missing string) (*registry.Genesis, error) {
	if path == "" {
		return nil, usagef("pass the genesis.json the registry operator published ('zkcred registry init' wrote it)", "%s", missing)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("pass the genesis.json from 'zkcred registry init'", "read genesis: %v", err)
	}
	g, err := registry.ParseGenesis(b)
	if err != nil {
		return nil, usagef("pass the genesis.json from 'zkcred registry init'", "%s: %v", path, err)
	}
	return g, nil
}

func newVerifierPolicyCmd() *cobra.Command {
	return group("policy", "write verifier policies", "", "  zkcred verifier policy init --schema diploma --kind university --out policy.json",
		newPolicyInitCmd())
}

type policyInitOptions struct {
	schema, registry, name, audience, kind, out string
	issuerIDs, issuerDIDs, disclose, predicates []string
	maxRootAge                                  time.Duration
	force                                       bool
}

func newPolicyInitCmd() *cobra.Command {
	var o policyInitOptions
	c := leaf("init", "write a policy file for a published schema",
		`  zkcred verifier policy init --schema diploma --kind university --disclose degree \
      --predicate birthDate:age_at_least:18 --out policy.json
  zkcred verifier policy init --schema 1234…   --registry http://127.0.0.1:8700 --kind university --out policy.json`,
		noArgs, func(*cobra.Command, []string) error { return policyInit(o) })
	c.Long = `Policy init writes a verifier configuration with one policy for a schema:
an example schema by name (diploma, vaccination), a schema JSON file, or the
ID of a schema published on the registry (with --registry). The file is
validated as 'zkcred verifier check' would before it is written.

Predicates are ATTRIBUTE:OP:VALUE[,VALUE…]: ops eq ne lt lte gt gte between in
nin with values as in the credential (dates YYYY-MM-DD, decimals 3.00, enum
names), or the helpers age_at_least, age_under (years) and within_days (days).`
	c.Flags().StringVar(&o.schema, "schema", "", "schema: example name, JSON file, or a published schema's ID")
	addRegistryFlag(c, &o.registry, "", "registry URL to read a published schema from (with --schema ID)")
	c.Flags().StringVar(&o.name, "name", "", "policy name (default: the schema's name in lowercase)")
	c.Flags().StringVar(&o.audience, "audience", "", "this verifier's web origin, named in every request and checked by wallets, e.g. https://verifier.example (default http://127.0.0.1:8090)")
	c.Flags().StringVar(&o.kind, "kind", "", "accept every active issuer of this kind (e.g. university)")
	c.Flags().StringSliceVar(&o.issuerIDs, "issuer-id", nil, "accept this issuer ID (repeatable; instead of --kind)")
	c.Flags().StringSliceVar(&o.issuerDIDs, "issuer-did", nil, "accept the issuer the registry binds to this did:web (repeatable; instead of --kind)")
	c.Flags().StringSliceVar(&o.disclose, "disclose", nil, "attributes the holder discloses (comma-separated or repeated)")
	c.Flags().StringArrayVar(&o.predicates, "predicate", nil, "predicate ATTRIBUTE:OP:VALUE[,VALUE…] (repeatable)")
	c.Flags().DurationVar(&o.maxRootAge, "max-root-age", 0, "oldest registry root accepted: the revocation latency (default 1h)")
	c.Flags().StringVar(&o.out, "out", "", "file to write (default: stdout)")
	c.Flags().BoolVar(&o.force, "force", false, "overwrite --out if it exists")
	return c
}

// btoi is 1 for true.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func policyInit(o policyInitOptions) error {
	s, err := resolvePolicySchema(o.schema, o.registry)
	if err != nil {
		return err
	}
	if n := btoi(o.kind != "") + btoi(len(o.issuerIDs) > 0) + btoi(len(o.issuerDIDs) > 0); n != 1 {
		return usagef("pass one of --kind university (every active issuer of that kind), --issuer-id ID or --issuer-did did:web:uni.example", "say which issuers to accept, one way")
	}
	p := map[string]any{"name": o.name, "schema": s}
	if o.name == "" {
		p["name"] = strings.ToLower(s.Name)
	}
	switch {
	case o.kind != "":
		p["issuers"] = map[string]any{"kind": o.kind}
	case len(o.issuerDIDs) > 0:
		p["issuers"] = map[string]any{"dids": o.issuerDIDs}
	default:
		p["issuers"] = map[string]any{"ids": o.issuerIDs}
	}
	if len(o.disclose) > 0 {
		p["disclose"] = o.disclose
	}
	var preds []any
	for _, spec := range o.predicates {
		pr, err := parsePredicate(s, spec)
		if err != nil {
			return err
		}
		preds = append(preds, pr)
	}
	if len(preds) > 0 {
		p["predicates"] = preds
	}
	if o.maxRootAge != 0 {
		p["maxRootAge"] = o.maxRootAge.String()
	}
	aud := o.audience
	if aud == "" {
		aud = "http://127.0.0.1:8090"
	}
	cfg := map[string]any{"audience": aud, "policies": []any{p}}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if _, err := verifier.ParseConfig(b); err != nil {
		return usagef("check --audience (the verifier's URL), --issuer-did (canonical did:web), --disclose and --predicate (the schema's attributes: 'zkcred issuer schema show')", "%v", err)
	}
	if o.out == "" {
		_, err := os.Stdout.Write(b)
		return err
	}
	if _, err := os.Stat(o.out); err == nil && !o.force {
		return usagef("pass --force to overwrite it, or another --out", "%s already exists", o.out)
	}
	if err := os.WriteFile(o.out, b, 0o644); err != nil {
		return localf("", "", "%v", err)
	}
	id := circuits.Dec(s.ID())
	if jsonOutput {
		return printJSON(map[string]string{"file": o.out, "policy": p["name"].(string), "schemaId": id})
	}
	fmt.Printf("wrote %s: policy %q for schema %s %s (ID %s)\n", o.out, p["name"], s.Name, s.Version, id)
	return nil
}

// resolvePolicySchema finds a schema by example name, file, or published ID.
func resolvePolicySchema(ref, regURL string) (*circuits.Schema, error) {
	if ref == "" {
		return nil, usagef("pass --schema diploma, --schema file.json, or --schema ID --registry URL", "--schema is required")
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
	id, err := circuits.ParseElement(ref)
	if err != nil {
		return nil, usagef("examples: "+strings.Join(issuer.ExampleSchemaNames(), ", ")+"; or a schema file, or a published schema's ID", "unknown schema %q", ref)
	}
	if regURL == "" {
		return nil, usagef("pass --registry URL to read schema "+ref+" from the registry", "a schema ID needs --registry")
	}
	cl, err := client.New(regURL, client.Options{})
	if err != nil {
		return nil, usagef("pass --registry http://host:port", "%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rec, err := cl.Schema(ctx, id)
	if err != nil {
		if isUnreachable(err) {
			return nil, unreachable("is the registry running at "+regURL+"?", err)
		}
		return nil, withHint(fmt.Errorf("schema %s: %w", ref, err), "is the schema published? The issuer publishes it with 'zkcred issuer schema publish'")
	}
	s, err := circuits.ParseSchema(rec.Schema)
	if err != nil {
		return nil, fmt.Errorf("the registry's schema %s: %w", ref, err)
	}
	if s.ID() != id {
		return nil, refusedf("registry_misbehaved", "", "the registry answered a schema whose ID is not %s", ref)
	}
	return s, nil
}

// parsePredicate turns ATTRIBUTE:OP:VALUE[,VALUE…] into a policy predicate,
// with each value in the attribute's JSON form.
func parsePredicate(s *circuits.Schema, spec string) (map[string]any, error) {
	hint := "write --predicate ATTRIBUTE:OP:VALUE, e.g. birthDate:age_at_least:18, gpa:gte:3.00, degree:in:BSc,MSc"
	parts := strings.SplitN(spec, ":", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return nil, usagef(hint, "--predicate %q is not ATTRIBUTE:OP:VALUE", spec)
	}
	name, op, vals := parts[0], parts[1], parts[2]
	var a *circuits.Attribute
	for i := range s.Attributes {
		if s.Attributes[i].Name == name {
			a = &s.Attributes[i]
		}
	}
	if a == nil {
		return nil, usagef("the attributes are listed by 'zkcred issuer schema show --schema ...'", "--predicate %q: schema %s has no attribute %q", spec, s.Name, name)
	}
	pr := map[string]any{"attribute": name, "op": op}
	switch op {
	case "age_at_least", "age_under", "within_days":
		n, err := strconv.Atoi(vals)
		if err != nil || n < 0 {
			return nil, usagef(hint, "--predicate %q: %s takes a number of %s", spec, op, map[bool]string{true: "days", false: "years"}[op == "within_days"])
		}
		if op == "within_days" {
			pr["days"] = n
		} else {
			pr["years"] = n
		}
		return pr, nil
	}
	var values []any
	for _, v := range strings.Split(vals, ",") {
		switch a.Type {
		case circuits.TypeBoolean:
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, usagef(hint, "--predicate %q: %q is not true or false", spec, v)
			}
			values = append(values, b)
		case circuits.TypeInteger:
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, usagef(hint, "--predicate %q: %q is not an integer", spec, v)
			}
			values = append(values, n)
		default:
			values = append(values, v)
		}
	}
	pr["values"] = values
	return pr, nil
}
