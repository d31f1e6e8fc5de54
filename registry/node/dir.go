package node

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/zkcred/zkcred/internal/keyfile"
	"github.com/zkcred/zkcred/internal/strictjson"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/store"
)

// Files of a node directory made by InitDir.
const (
	GenesisFile    = "genesis.json"   // the registry genesis (share it with light clients)
	GovernanceFile = "governance.key" // the governance key, age-encrypted with a passphrase (internal/keyfile), mode 0600
	ConfigFile     = "node.json"      // NodeConfig
	DataDir        = "data"           // the registry's badger store
	CometDir       = "cometbft"       // CometBFT's home: its keys, genesis, block store
)

// MaxChainIDLen is the longest chain ID CometBFT takes.
const MaxChainIDLen = cmttypes.MaxChainIDLen

// NodeConfig is a node's network configuration (ConfigFile).
type NodeConfig struct {
	Name string `json:"name"`
	// APIAddr is the registry's HTTP API ("host:port"); empty: the caller
	// chooses.
	APIAddr string `json:"api_addr,omitempty"`
	// P2PAddr is CometBFT's peer-to-peer address; empty: a free loopback
	// port at each start (a single validator needs no peers).
	P2PAddr string `json:"p2p_addr,omitempty"`
	// RPCAddr is CometBFT's RPC address (loopback); empty: no RPC server.
	RPCAddr string `json:"rpc_addr,omitempty"`
	// Peers are the other validators, "nodeID@host:port".
	Peers []string `json:"peers,omitempty"`
}

func joinPeers(p []string) string { return strings.Join(p, ",") }

// Dir is an initialised node directory.
type Dir struct {
	Path    string
	Genesis *registry.Genesis
	// Governance is the node's governance key as InitDir or
	// InitConsortium made it; OpenDir leaves it nil (GovernanceKey
	// decrypts the file).
	Governance ed25519.PrivateKey
	Config     NodeConfig
}

// KeyOptions says how InitDir and InitConsortium store the governance
// keys they make. CometBFT's own keys (cometbft/config/priv_validator_key.json,
// node_key.json) are CometBFT's files, which it reads itself at start, so
// they stay in its plain format; a validator that must not keep its
// signing key on disk runs CometBFT's remote signer (privval).
type KeyOptions struct {
	// Passphrase encrypts each governance key file. Empty: no file is
	// written and the key exists only in the returned Dir (tests, and
	// callers that keep it elsewhere).
	Passphrase []byte
	// ScryptWorkFactor of the encryption; 0 means
	// keyfile.DefaultScryptWorkFactor.
	ScryptWorkFactor int
}

// GovernanceKeyFormat is the governance key's format in internal/keyfile.
var GovernanceKeyFormat = keyfile.Format{ID: "zkcred-governance-key/1", What: "governance"}

// Errors reading a governance key file (wrapping keyfile.ErrKeyFile).
var (
	// ErrWrongPassphrase: the passphrase does not decrypt the key file.
	ErrWrongPassphrase = keyfile.ErrWrongPassphrase
	// ErrPlainKey: the file holds the plain hex seed that registry
	// directories made before keys were encrypted hold; EncryptKey
	// migrates it.
	ErrPlainKey = keyfile.ErrPlain
	// ErrKeyFile is wrapped by every error reading a key file.
	ErrKeyFile = keyfile.ErrKeyFile
)

// GovernanceKey decrypts the directory's governance key.
func (d *Dir) GovernanceKey(passphrase []byte) (ed25519.PrivateKey, error) {
	return ReadKey(filepath.Join(d.Path, GovernanceFile), passphrase)
}

// CometHome returns CometBFT's home directory.
func (d *Dir) CometHome() string { return filepath.Join(d.Path, CometDir) }

// DataPath returns the badger directory of the registry store.
func (d *Dir) DataPath() string { return filepath.Join(d.Path, DataDir) }

// InitDir creates a node directory for a one-validator chain: a fresh
// CometBFT validator key, a governance key (stored as keys says), the
// genesis with the given issuers, and registry block 0.
func InitDir(dir, chainID string, issuers []registry.RegisterIssuer, keys KeyOptions) (*Dir, error) {
	ds, err := InitConsortium([]string{dir}, chainID, issuers, nil, keys)
	if err != nil {
		return nil, err
	}
	return ds[0], nil
}

// InitConsortium creates one node directory per entry of dirs, each with
// its own CometBFT validator and node keys and its own governance key,
// sharing one genesis that names every validator with power 1 and every
// governance key. configs, if not nil, gives each node's addresses; the
// peers are filled in from the others' P2P addresses. keys says how the
// governance keys are stored (each directory's with the same passphrase).
func InitConsortium(dirs []string, chainID string, issuers []registry.RegisterIssuer, configs []NodeConfig, keys KeyOptions) ([]*Dir, error) {
	if len(chainID) > MaxChainIDLen {
		return nil, fmt.Errorf("chain ID %q is longer than %d bytes", chainID, MaxChainIDLen)
	}
	if configs != nil && len(configs) != len(dirs) {
		return nil, errors.New("one config per node directory")
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, GenesisFile)); err == nil {
			return nil, fmt.Errorf("%w: %s", store.ErrExists, d)
		}
	}
	g := &registry.Genesis{ChainID: chainID, Time: time.Now().UnixMilli(), Issuers: issuers}
	govs := make([]ed25519.PrivateKey, len(dirs))
	for i := range govs {
		gpub, gov, err := ed25519.GenerateKey(nil)
		if err != nil {
			return nil, err
		}
		govs[i] = gov
		g.Governance = append(g.Governance, hex.EncodeToString(gpub))
	}
	if g.Issuers == nil {
		g.Issuers = []registry.RegisterIssuer{}
	}
	var err error
	pvs := make([]*privval.FilePV, len(dirs))
	nks := make([]*p2p.NodeKey, len(dirs))
	for i, d := range dirs {
		home := filepath.Join(d, CometDir)
		for _, sub := range []string{"config", "data"} {
			if err := os.MkdirAll(filepath.Join(home, sub), 0o700); err != nil {
				return nil, err
			}
		}
		cfg := config(home, &NodeConfig{}, &Options{})
		if pvs[i], err = privval.GenFilePV(cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile(), nil); err != nil {
			return nil, err
		}
		pvs[i].Save()
		if nks[i], err = p2p.LoadOrGenNodeKey(cfg.NodeKeyFile()); err != nil {
			return nil, err
		}
		name := fmt.Sprintf("validator-%d", i)
		if configs != nil && configs[i].Name != "" {
			name = configs[i].Name
		}
		g.Validators = append(g.Validators, registry.GenesisValidator{PubKey: hex.EncodeToString(pvs[i].Key.PubKey.Bytes()), Power: 1, Name: name})
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	doc, err := CometGenesis(g)
	if err != nil {
		return nil, err
	}
	gj, _ := json.MarshalIndent(g, "", "  ")
	out := make([]*Dir, len(dirs))
	for i, d := range dirs {
		nc := NodeConfig{Name: g.Validators[i].Name}
		if configs != nil {
			nc = configs[i]
			nc.Name = g.Validators[i].Name
			nc.Peers = nil
			for j := range dirs {
				if j != i && configs[j].P2PAddr != "" {
					nc.Peers = append(nc.Peers, string(nks[j].ID())+"@"+configs[j].P2PAddr)
				}
			}
		}
		cj, _ := json.MarshalIndent(nc, "", "  ")
		files := map[string][]byte{GenesisFile: append(gj, '\n'), ConfigFile: append(cj, '\n')}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(d, name), data, 0o600); err != nil {
				return nil, err
			}
		}
		if len(keys.Passphrase) > 0 {
			if err := keyfile.Save(filepath.Join(d, GovernanceFile), GovernanceKeyFormat, govs[i], keys.Passphrase, keyfile.Options{ScryptWorkFactor: keys.ScryptWorkFactor}); err != nil {
				return nil, err
			}
		}
		cfg := config(filepath.Join(d, CometDir), &nc, &Options{})
		if err := doc.SaveAs(cfg.GenesisFile()); err != nil {
			return nil, err
		}
		if err := store.Init(filepath.Join(d, DataDir), g, nil, store.Options{}); err != nil {
			return nil, err
		}
		out[i] = &Dir{Path: d, Genesis: g, Config: nc, Governance: govs[i]}
	}
	return out, nil
}

// CometGenesis returns CometBFT's genesis document for a registry genesis:
// the same chain ID and time, its validators, and the registry genesis as
// the app state (InitChain checks it).
func CometGenesis(g *registry.Genesis) (*cmttypes.GenesisDoc, error) {
	gj, err := json.Marshal(g)
	if err != nil {
		return nil, err
	}
	params := cmttypes.DefaultConsensusParams()
	params.Block.MaxBytes = int64(DefaultMaxBlockBytes) + 1<<20
	doc := &cmttypes.GenesisDoc{
		GenesisTime:     time.UnixMilli(g.Time).UTC(),
		ChainID:         g.ChainID,
		InitialHeight:   1,
		ConsensusParams: params,
		AppState:        gj,
	}
	for _, v := range g.Validators {
		pub, err := registry.ParsePubKey(v.PubKey)
		if err != nil {
			return nil, err
		}
		pk := cmted25519.PubKey(pub)
		doc.Validators = append(doc.Validators, cmttypes.GenesisValidator{Address: pk.Address(), PubKey: pk, Power: v.Power, Name: v.Name})
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, err
	}
	return doc, nil
}

// OpenDir reads a node directory's genesis, configuration and keys.
func OpenDir(dir string) (*Dir, error) {
	gj, err := os.ReadFile(filepath.Join(dir, GenesisFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", store.ErrNotInitialised, dir)
	}
	if err != nil {
		return nil, err
	}
	g, err := registry.ParseGenesis(gj)
	if err != nil {
		return nil, err
	}
	if len(g.Validators) == 0 {
		return nil, fmt.Errorf("%w: %s names no validators (a registry made before the chain ran on CometBFT); initialise a new registry", store.ErrOldFormat, dir)
	}
	d := &Dir{Path: dir, Genesis: g}
	cj, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil, err
	}
	if err := strictjson.Unmarshal(cj, &d.Config); err != nil {
		return nil, fmt.Errorf("%s: %w", ConfigFile, err)
	}
	return d, nil
}

// ReadKey decrypts a governance key file (GovernanceFile, or one kept
// elsewhere). A plain hex seed file is refused with ErrPlainKey.
func ReadKey(path string, passphrase []byte) (ed25519.PrivateKey, error) {
	return keyfile.Load(path, GovernanceKeyFormat, passphrase)
}

// EncryptKey rewrites a plain hex governance key file as an encrypted one,
// in place, and returns the key.
func EncryptKey(path string, keys KeyOptions) (ed25519.PrivateKey, error) {
	return keyfile.Encrypt(path, GovernanceKeyFormat, keys.Passphrase, keyfile.Options{ScryptWorkFactor: keys.ScryptWorkFactor})
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
