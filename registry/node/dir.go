package node

import (
	"context"
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

	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/store"
)

// Files of a registry directory made by InitDir.
const (
	GenesisFile    = "genesis.json"   // the genesis document (share it with light clients)
	ProducerFile   = "producer.key"   // hex ed25519 seed of the block producer, mode 0600
	GovernanceFile = "governance.key" // hex ed25519 seed of the governance key, mode 0600
	DataDir        = "data"           // badger
)

// Dir is an initialised registry directory.
type Dir struct {
	Path       string
	Genesis    *registry.Genesis
	Producer   ed25519.PrivateKey
	Governance ed25519.PrivateKey // nil if the file is absent (kept offline)
}

// InitDir creates a registry directory: fresh governance and producer keys,
// the genesis with the given issuers, and block 0.
func InitDir(dir, chainID string, issuers []registry.RegisterIssuer) (*Dir, error) {
	if _, err := os.Stat(filepath.Join(dir, GenesisFile)); err == nil {
		return nil, fmt.Errorf("%w: %s", store.ErrExists, dir)
	}
	g, gov, prod, err := registry.NewGenesis(chainID, time.Now(), issuers...)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	gj, _ := json.MarshalIndent(g, "", "  ")
	for name, data := range map[string][]byte{
		GenesisFile:    append(gj, '\n'),
		ProducerFile:   []byte(hex.EncodeToString(prod.Seed()) + "\n"),
		GovernanceFile: []byte(hex.EncodeToString(gov.Seed()) + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return nil, err
		}
	}
	if err := store.Init(filepath.Join(dir, DataDir), g, prod, store.Options{}); err != nil {
		return nil, err
	}
	return &Dir{Path: dir, Genesis: g, Producer: prod, Governance: gov}, nil
}

// OpenDir reads a registry directory's genesis and keys.
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
	d := &Dir{Path: dir, Genesis: g}
	if d.Producer, err = ReadKey(filepath.Join(dir, ProducerFile)); err != nil {
		return nil, err
	}
	if gov, err := ReadKey(filepath.Join(dir, GovernanceFile)); err == nil {
		d.Governance = gov
	}
	return d, nil
}

// ReadKey reads a hex ed25519 seed file.
func ReadKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s: want a %d-byte ed25519 seed in hex", path, ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// StartDir starts the registry of an InitDir directory on ln.
func StartDir(dir string, ln net.Listener, opts ServiceOptions) (*Service, error) {
	d, err := OpenDir(dir)
	if err != nil {
		return nil, err
	}
	svc, err := Start(filepath.Join(dir, DataDir), d.Producer, ln, opts)
	if err != nil {
		return nil, err
	}
	if svc.Store.Genesis().Hash() != d.Genesis.Hash() {
		svc.Close(context.Background())
		return nil, fmt.Errorf("%s does not match the genesis in the database", GenesisFile)
	}
	return svc, nil
}
