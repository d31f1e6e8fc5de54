// Package stack is zkcred's one composition root: it runs the services in
// one process on loopback: a registry, one issuer service per institution
// (by default a university and a hospital) and a verifier with example
// policies, and optionally a key server. `zkcred demo` runs it in a
// temporary directory; `zkcred up` in a persistent one, so that a restart
// resumes where it stopped; the wallet's tests (internal/wallettest) run it
// with their own institutions, policies and published key hashes.
//
// Key server: with Options.KeysDir set, the stack serves the proving and
// verifying key files of that directory (circuits.KeyFileNames, which
// `zkcred setup` writes) on a listener of its own, Options.KeysAddr, at
// GET /keys/<file>; Stack.KeysURL is the base URL that `zkcred wallet init
// --keys-url` takes. A listener of its own keeps the services' APIs (and
// their OpenAPI documents) free of a development-only route. Wallets check
// fetched keys against the hashes the registry publishes, so the server
// needs no authentication.
package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/webui"
	"github.com/zkcred/zkcred/issuer"
	issuerapi "github.com/zkcred/zkcred/issuer/api"
	issuerweb "github.com/zkcred/zkcred/issuer/api/web"
	"github.com/zkcred/zkcred/issuer/regchain"
	istore "github.com/zkcred/zkcred/issuer/store"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/light"
	"github.com/zkcred/zkcred/registry/node"
	"github.com/zkcred/zkcred/registry/store"
	"github.com/zkcred/zkcred/verifier"
	vstore "github.com/zkcred/zkcred/verifier/store"
	verifierweb "github.com/zkcred/zkcred/verifier/web"
)

// Example institutions, by kind.
var Institutions = []Institution{
	{Kind: "university", Name: "University of Examples", Schema: "diploma"},
	{Kind: "hospital", Name: "Hospital of Examples", Schema: "vaccination"},
}

// Institution is one example issuer.
type Institution struct {
	Kind, Name string
	Schema     string // name in issuer.ExampleSchemas
}

// Options configure Start. Dir and Keys are required; otherwise the zero
// value runs the example institutions and policies on 127.0.0.1 ports
// chosen by the system.
type Options struct {
	Dir  string         // data directory (created if missing)
	Keys *circuits.Keys // proving and verifying keys
	// Addrs of the services ("host:port"); empty means 127.0.0.1:0.
	RegistryAddr, VerifierAddr string
	IssuerAddrs                map[string]string // by kind
	// KeysDir, if set, is served at KeysAddr/keys/ (see the package doc);
	// empty KeysAddr means 127.0.0.1:0.
	KeysDir, KeysAddr string
	// KeyWorkFactor is the scrypt work factor of new issuer and
	// governance key files (0: issuer.DefaultScryptWorkFactor).
	KeyWorkFactor int
	// BlockInterval is the pause after a registry block commits before the
	// next starts (node.DefaultInterval).
	BlockInterval time.Duration
	Logger        *slog.Logger // default: discard

	// Institutions are the issuers to run, each registered in the genesis
	// (default: Institutions).
	Institutions []Institution
	// Policies returns the verifier's policies, given the stack with its
	// issuers running (default: Policies()).
	Policies func(*Stack) []*verifier.Policy
	// Audience names the verifier in its requests (default: its URL).
	Audience string
	// CircuitHashes, if not nil, are the verifying-key hashes a fresh
	// registry publishes, by circuit ID, instead of the keys' own (an
	// empty map publishes none): for tests of wallets facing a chain whose
	// hashes are not their keys'.
	CircuitHashes map[string]string
	// Validators is the number of registry validators run in this process
	// (default 1); above one each has a node directory of its own and
	// the services use the first's API.
	Validators int
	// Badger, if set, adjusts the options of every badger database the
	// stack opens (registry, issuers, verifier); tests shrink memtables.
	Badger func(badger.Options) badger.Options
}

// Issuer is a running issuer service.
type Issuer struct {
	Institution
	Issuer *issuer.Issuer
	Chain  issuer.Chain // anchoring through the stack's registry
	Schema *circuits.Schema
	URL    string
	server *http.Server
}

// Stack is a running set of services.
type Stack struct {
	Dir         string
	Genesis     *registry.Genesis
	RegistryURL string
	Registry    *client.Client
	Issuers     map[string]*Issuer // by kind
	Verifier    *verifier.Server
	VerifierURL string
	AdminToken  string // the issuers' admin bearer token
	// Governance signs governance transactions with the registry's
	// governance key (nil when its file is absent).
	Governance *client.Signer
	// KeysURL is the key server's base URL ("" without Options.KeysDir).
	KeysURL string
	// Validators are the registry's validators in this process.
	Validators []*node.Service

	closers []func()
}

// IssuerKeyFile returns the path of an institution's encrypted key file;
// its passphrase is in DevPassphraseFile.
func IssuerKeyFile(dir, kind string) string { return filepath.Join(dir, kind, issuerKeyFile) }

// DevPassphraseFile returns the file holding the passphrase of the issuer
// keys and of the registry's governance keys.
// It sits beside the keys, so it protects nothing: this stack is for
// development on one machine.
func DevPassphraseFile(dir string) string { return filepath.Join(dir, passFile) }

// GenesisFile returns the registry's genesis file, for wallets.
func GenesisFile(dir string) string { return filepath.Join(dir, registryDir, node.GenesisFile) }

// Files in the data directory.
const (
	registryDir   = "registry"
	verifierDir   = "verifier"
	adminFile     = "admin-token"    // issuer admin bearer token, 0600
	passFile      = "dev-passphrase" // passphrase of the issuer and governance key files, 0600
	issuerKeyFile = "issuer.key"
)

// Start opens (or, the first time, initialises) the services in o.Dir and
// serves them. Close stops them.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	if o.Keys == nil {
		return nil, errors.New("stack: keys are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Institutions == nil {
		o.Institutions = Institutions
	}
	if o.Policies == nil {
		o.Policies = func(*Stack) []*verifier.Policy { return Policies() }
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, err
	}
	s := &Stack{Dir: o.Dir, Issuers: map[string]*Issuer{}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	pass, err := secretFile(filepath.Join(o.Dir, passFile))
	if err != nil {
		return nil, err
	}
	if s.AdminToken, err = secretFile(filepath.Join(o.Dir, adminFile)); err != nil {
		return nil, err
	}

	// Issuer keys first: the genesis registers them.
	keys := map[string]*issuer.Key{}
	var initial []registry.RegisterIssuer
	for _, in := range o.Institutions {
		k, err := issuerKey(filepath.Join(o.Dir, in.Kind, issuerKeyFile), pass, o.KeyWorkFactor)
		if err != nil {
			return nil, fmt.Errorf("%s key: %w", in.Kind, err)
		}
		keys[in.Kind] = k
		initial = append(initial, registry.RegisterIssuer{PubKey: hex.EncodeToString(k.Public()), Name: in.Name, Kind: in.Kind})
	}

	// Registry: one validator, or o.Validators of them in this process.
	regDir := filepath.Join(o.Dir, registryDir)
	nodeDirs := []string{regDir}
	if o.Validators > 1 {
		nodeDirs = nil
		for k := range o.Validators {
			nodeDirs = append(nodeDirs, filepath.Join(regDir, fmt.Sprintf("node%d", k)))
		}
	}
	if _, err := os.Stat(filepath.Join(regDir, node.ConfigFile)); err == nil && o.Validators > 1 {
		return nil, fmt.Errorf("%s holds a one-validator registry: use another directory for %d validators", regDir, o.Validators)
	}
	if _, err := os.Stat(filepath.Join(regDir, "node0")); err == nil && o.Validators <= 1 {
		return nil, fmt.Errorf("%s holds a registry of several validators: give their number", regDir)
	}
	fresh := false
	if _, err := os.Stat(filepath.Join(nodeDirs[0], node.GenesisFile)); errors.Is(err, os.ErrNotExist) {
		keyOpts := node.KeyOptions{Passphrase: []byte(pass), ScryptWorkFactor: o.KeyWorkFactor}
		if err := initRegistry(regDir, nodeDirs, initial, keyOpts); err != nil {
			return nil, fmt.Errorf("registry init: %w", err)
		}
		fresh = true
	}
	d, err := node.OpenDir(nodeDirs[0])
	if err != nil {
		return nil, err
	}
	s.Genesis = d.Genesis
	var svc *node.Service
	for k, nd := range nodeDirs {
		addr := ""
		if k == 0 {
			addr = o.RegistryAddr
		}
		ln, err := listen(addr)
		if err != nil {
			return nil, err
		}
		sv, err := node.StartDir(nd, ln, node.ServiceOptions{
			Node:  node.Options{Interval: o.BlockInterval, Logger: o.Logger},
			Store: store.Options{Badger: o.Badger},
		})
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("registry: %w", err)
		}
		s.closers = append(s.closers, func() { sv.Close(context.Background()) })
		s.Validators = append(s.Validators, sv)
		if k == 0 {
			svc = sv
		}
	}
	s.RegistryURL = svc.URL
	if s.Registry, err = client.New(svc.URL, client.Options{}); err != nil {
		return nil, err
	}
	gov, err := d.GovernanceKey([]byte(pass))
	if errors.Is(err, node.ErrPlainKey) {
		// a directory made before governance keys were encrypted
		gov, err = node.EncryptKey(filepath.Join(d.Path, node.GovernanceFile), node.KeyOptions{Passphrase: []byte(pass), ScryptWorkFactor: o.KeyWorkFactor})
	}
	switch {
	case errors.Is(err, os.ErrNotExist): // kept offline: no governance here
	case err != nil:
		return nil, fmt.Errorf("registry governance key: %w", err)
	default:
		if s.Governance, err = s.Registry.NewSigner(ctx, d.Genesis.ChainID, gov); err != nil {
			return nil, err
		}
	}
	if fresh {
		if err := s.publishCircuits(ctx, o); err != nil {
			return nil, err
		}
	}

	// Issuers.
	for _, in := range o.Institutions {
		if err := s.startIssuer(ctx, in, keys[in.Kind], o); err != nil {
			return nil, fmt.Errorf("%s: %w", in.Kind, err)
		}
	}

	// Verifier, following the registry with a light client.
	if err := os.MkdirAll(filepath.Join(o.Dir, verifierDir), 0o700); err != nil {
		return nil, err
	}
	lc, err := light.New(s.Genesis, s.RegistryURL, light.Options{Path: filepath.Join(o.Dir, verifierDir, "headers.jsonl")})
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { lc.Close() })
	if err := syncFirst(ctx, lc); err != nil {
		return nil, fmt.Errorf("light client: %w", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	s.closers = append(s.closers, stop)
	go lc.Run(runCtx, 0, func(err error) { o.Logger.Warn("light client", "err", err) })

	vln, err := listen(o.VerifierAddr)
	if err != nil {
		return nil, err
	}
	s.VerifierURL = "http://" + vln.Addr().String()
	aud := o.Audience
	if aud == "" {
		aud = s.VerifierURL
	}
	v, err := verifier.New(verifier.Options{
		Dir:      filepath.Join(o.Dir, verifierDir, "db"),
		Store:    vstore.Options{Badger: o.Badger},
		Audience: aud, PublicURL: s.VerifierURL,
		Policies: o.Policies(s),
		Proofs:   o.Keys.Verifier(),
		Roots:    verifier.NewSyncingRoots(lc),
		Issuers:  verifier.NewRegistryIssuers(lc),
		Logger:   o.Logger,
		// One person drives this stack from one address: no rate limit.
		RateLimit: -1,
	})
	if err != nil {
		vln.Close()
		return nil, fmt.Errorf("verifier: %w", err)
	}
	s.Verifier = v
	s.closers = append(s.closers, func() { v.Close() })
	page, err := verifierweb.Handler(v, v.Handler(), verifierweb.Options{})
	if err != nil {
		vln.Close()
		return nil, fmt.Errorf("verifier page: %w", err)
	}
	s.serve(vln, page) // the API, and the page at /

	if o.KeysDir != "" {
		kln, err := listen(o.KeysAddr)
		if err != nil {
			return nil, fmt.Errorf("key server: %w", err)
		}
		s.KeysURL = "http://" + kln.Addr().String() + "/keys"
		s.serve(kln, KeyServer(o.KeysDir))
	}
	return s, nil
}

// syncFirst syncs a light client, waiting (a few seconds at most) for the
// first commit of a chain that has just started.
func syncFirst(ctx context.Context, lc *light.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		_, err := lc.Sync(ctx)
		if !errors.Is(err, light.ErrNoCommit) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// initRegistry makes the registry's node directories: one validator in
// regDir, or a consortium with a directory each and loopback P2P ports
// fixed now (a restart keeps them), with a copy of the genesis in regDir.
// The governance keys are encrypted with the stack's development
// passphrase (DevPassphraseFile).
func initRegistry(regDir string, nodeDirs []string, issuers []registry.RegisterIssuer, keys node.KeyOptions) error {
	if len(nodeDirs) == 1 {
		_, err := node.InitDir(regDir, "zkcred-local", issuers, keys)
		return err
	}
	cfgs := make([]node.NodeConfig, len(nodeDirs))
	for k := range cfgs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		cfgs[k].P2PAddr = ln.Addr().String()
		ln.Close()
	}
	ds, err := node.InitConsortium(nodeDirs, "zkcred-local", issuers, cfgs, keys)
	if err != nil {
		return err
	}
	gj, err := os.ReadFile(filepath.Join(ds[0].Path, node.GenesisFile))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(regDir, node.GenesisFile), gj, 0o600)
}

// KeyServer serves the key files of dir (circuits.KeyFileNames) at
// GET /keys/<file>, and nothing else: 404 for any other path or name.
func KeyServer(dir string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, "/keys/")
		if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) || !slices.Contains(circuits.KeyFileNames(), name) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeFile(w, r, filepath.Join(dir, name))
	})
}

// Policies are the verifier's example policies.
func Policies() []*verifier.Policy {
	schemas := issuer.ExampleSchemas()
	raw := func(v string) []json.RawMessage { return []json.RawMessage{json.RawMessage(v)} }
	return []*verifier.Policy{
		{
			Name:     "graduate",
			Schema:   schemas["diploma"],
			Issuers:  verifier.IssuerSpec{Kind: "university"},
			Disclose: []string{"degree"},
			Predicates: []verifier.PredicateSpec{
				{Attribute: "birthDate", Op: verifier.OpAgeAtLeast, Years: 18},
			},
			Public: true, // anyone trying the stack may ask (README's curl)
		},
		{
			Name:    "measles",
			Schema:  schemas["vaccination"],
			Issuers: verifier.IssuerSpec{Kind: "hospital"},
			Predicates: []verifier.PredicateSpec{
				{Attribute: "vaccine", Op: "eq", Values: raw(`"measles"`)},
				{Attribute: "vaccinationDate", Op: "gt", Values: raw(`"2020-01-01"`)},
			},
			Public: true,
		},
	}
}

func (s *Stack) publishCircuits(ctx context.Context, o Options) error {
	if s.Governance == nil {
		return errors.New("registry governance key missing")
	}
	hashes := o.CircuitHashes
	if hashes == nil {
		hashes = map[string]string{
			circuits.PresentationID: o.Keys.Verifier().Hash(),
			circuits.HolderID:       o.Keys.HolderVerifier().Hash(),
		}
	}
	for _, id := range []string{circuits.PresentationID, circuits.HolderID} {
		h, ok := hashes[id]
		if !ok {
			continue
		}
		c := registry.PublishCircuit{Circuit: id, VKHash: h}
		if _, err := s.Governance.Do(ctx, c); err != nil {
			return fmt.Errorf("publish %s verifying-key hash: %w", c.Circuit, err)
		}
	}
	return nil
}

func (s *Stack) startIssuer(ctx context.Context, in Institution, k *issuer.Key, o Options) error {
	dir := filepath.Join(o.Dir, in.Kind)
	so := istore.Options{Logger: o.Logger}
	if o.Badger != nil {
		bo := o.Badger(badger.DefaultOptions(""))
		so.Badger = &bo
	}
	st, err := istore.Open(filepath.Join(dir, issuer.StoreDir), so)
	if err != nil {
		return err
	}
	s.closers = append(s.closers, func() { st.Close() })
	ch, err := regchain.New(ctx, s.Registry, k)
	if err != nil {
		return err
	}
	ln, err := listen(o.IssuerAddrs[in.Kind])
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	is := issuer.New(k, ch, st, issuer.Options{
		PublicURL:   url,
		StatusBase:  s.RegistryURL + "/v1",
		HolderProof: o.Keys.HolderVerifier().VerifyHolder,
	})
	if err := is.Recover(ctx); err != nil {
		ln.Close()
		return fmt.Errorf("recover: %w", err)
	}
	schema := issuer.ExampleSchemas()[in.Schema]
	if _, err := s.Registry.Schema(ctx, schema.ID()); err != nil {
		if err := is.PublishSchema(ctx, schema); err != nil {
			ln.Close()
			return err
		}
	} else if err := is.DefineSchema(schema); err != nil {
		ln.Close()
		return err
	}
	h, err := issuerapi.New(is, issuerapi.Options{AdminToken: s.AdminToken, Logger: o.Logger})
	if err != nil {
		ln.Close()
		return err
	}
	desk, err := issuerweb.Handler(is, s.AdminToken, issuerweb.Options{BatchDir: filepath.Join(dir, "desk-batches")})
	if err != nil {
		ln.Close()
		return err
	}
	// The API, and the registrar's desk at /.
	s.Issuers[in.Kind] = &Issuer{Institution: in, Issuer: is, Chain: ch, Schema: schema, URL: url, server: s.serve(ln, webui.Mount(h, desk))}
	return nil
}

// serve serves h on ln until Close.
func (s *Stack) serve(ln net.Listener, h http.Handler) *http.Server {
	srv := issuerapi.NewServer("", h)
	go srv.Serve(ln)
	s.closers = append(s.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return srv
}

// Close stops every service, last started first.
func (s *Stack) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

func listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	return net.Listen("tcp", addr)
}

// secretFile reads a random secret kept in a 0600 file, making it the
// first time.
func secretFile(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var r [24]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(r[:])
	return tok, issuer.WriteFileAtomic(path, []byte(tok+"\n"), 0o600)
}

// issuerKey loads an issuer key, making and saving it the first time.
func issuerKey(path, pass string, workFactor int) (*issuer.Key, error) {
	if k, err := issuer.LoadKey(path, []byte(pass)); err == nil {
		return k, nil
	} else if _, statErr := os.Stat(path); statErr == nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	k, err := issuer.GenerateKey()
	if err != nil {
		return nil, err
	}
	return k, issuer.SaveKey(path, k, []byte(pass), issuer.KeyOptions{ScryptWorkFactor: workFactor})
}
