package registry

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/zkcred/zkcred/internal/canonjson"
	"github.com/zkcred/zkcred/internal/strictjson"
)

// Genesis fixes a chain: its ID, the governance keys and how many of them
// must sign a governance transaction (Threshold; 0 means 1), the
// validators of the CometBFT chain that drives it and the issuers present
// from the start.
//
// Producer names the key that signed the headers of an in-memory [Chain]
// (tests and examples); a chain that CometBFT drives names Validators
// instead, and its headers carry no signature.
type Genesis struct {
	ChainID    string             `json:"chain_id"`
	Time       int64              `json:"time"` // Unix milliseconds, the time of block 0
	Governance []string           `json:"governance"`
	Threshold  int                `json:"threshold,omitempty"` // 1 to len(Governance); omitted means 1
	Producer   string             `json:"producer,omitempty"`
	Validators []GenesisValidator `json:"validators,omitempty"`
	Issuers    []RegisterIssuer   `json:"issuers"`
}

// GenesisValidator is a CometBFT validator of the genesis: its ed25519
// public key in hex (CometBFT's priv_validator_key), voting power and a
// display name. Light clients trust this set.
type GenesisValidator struct {
	PubKey string `json:"pubkey"`
	Power  int64  `json:"power"`
	Name   string `json:"name"`
}

// ParseGenesis decodes and validates a genesis document strictly.
func ParseGenesis(b []byte) (*Genesis, error) {
	var g Genesis
	if err := strictjson.Unmarshal(b, &g); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return &g, nil
}

// Validate checks the genesis fields.
func (g *Genesis) Validate() error {
	if g.ChainID == "" || len(g.ChainID) > 64 || !validKind(g.ChainID) {
		return fmt.Errorf("genesis: chain_id %q must be 1 to 64 lowercase letters, digits or '-'", g.ChainID)
	}
	if g.Time > canonjson.MaxInteger || g.Time < -canonjson.MaxInteger {
		return fmt.Errorf("genesis: time %d is beyond ±(2^53-1), which canonical JSON cannot carry exactly", g.Time)
	}
	if len(g.Governance) == 0 {
		return fmt.Errorf("genesis: no governance keys")
	}
	gseen := map[string]bool{}
	for _, k := range g.Governance {
		if _, err := ParsePubKey(k); err != nil {
			return fmt.Errorf("genesis: governance key %q: %v", truncate(k), err)
		}
		if gseen[k] {
			return fmt.Errorf("genesis: governance key %s listed twice", k)
		}
		gseen[k] = true
	}
	if g.Threshold < 0 || g.Threshold > len(g.Governance) {
		return fmt.Errorf("genesis: threshold %d must be 1 to the %d governance keys", g.Threshold, len(g.Governance))
	}
	if g.Producer == "" && len(g.Validators) == 0 {
		return fmt.Errorf("genesis: no validators")
	}
	if g.Producer != "" {
		if _, err := ParsePubKey(g.Producer); err != nil {
			return fmt.Errorf("genesis: producer key: %v", err)
		}
	}
	if len(g.Validators) > MaxValidators {
		return fmt.Errorf("genesis: %d validators, at most %d", len(g.Validators), MaxValidators)
	}
	vseen := map[string]bool{}
	for i, v := range g.Validators {
		if _, err := ParsePubKey(v.PubKey); err != nil {
			return fmt.Errorf("genesis: validator %d key: %v", i, err)
		}
		if v.Power <= 0 || v.Power > MaxValidatorPower {
			return fmt.Errorf("genesis: validator %d power %d must be 1 to 2^50", i, v.Power)
		}
		if len(v.Name) > MaxNameLen || !printable(v.Name) {
			return fmt.Errorf("genesis: validator %d name must be printable, at most %d bytes", i, MaxNameLen)
		}
		if vseen[v.PubKey] {
			return fmt.Errorf("genesis: validator %s listed twice", v.PubKey)
		}
		vseen[v.PubKey] = true
	}
	seen := map[string]bool{}
	for _, is := range g.Issuers {
		if err := checkIssuerFields(is.PubKey, is.Name, is.Kind); err != nil {
			return fmt.Errorf("genesis: issuer %q: %w", is.Name, err)
		}
		if err := checkDIDWeb(is.DIDWeb); err != nil {
			return fmt.Errorf("genesis: issuer %q: %w", is.Name, err)
		}
		if seen[is.PubKey] {
			return fmt.Errorf("genesis: issuer %s listed twice", is.PubKey)
		}
		seen[is.PubKey] = true
	}
	return nil
}

// genesisHashPrefix starts the bytes the genesis hash covers. Version 2
// hashes RFC 8785 canonical JSON; version 1 hashed encoding/json's output.
const genesisHashPrefix = "zkcred-registry-genesis/v2\x00"

// Hash returns SHA-256 of "zkcred-registry-genesis/v2\0" and the genesis'
// RFC 8785 canonical JSON; block 0 names it as its prev_hash. For a genesis
// that Validate refuses because its time is beyond what canonical JSON
// carries exactly, the document part is empty, which no valid genesis has.
func (g *Genesis) Hash() Hash {
	b, err := canonjson.Marshal(g)
	if err != nil {
		b = nil
	}
	return sha256.Sum256(append([]byte(genesisHashPrefix), b...))
}

// ProducerKey returns the producer's public key.
func (g *Genesis) ProducerKey() ed25519.PublicKey {
	k, _ := ParsePubKey(g.Producer)
	return k
}

// governance returns the governance record of block 0.
func (g *Genesis) governance() *Governance {
	t := g.Threshold
	if t == 0 {
		t = 1
	}
	return &Governance{Keys: append([]string{}, g.Governance...), Threshold: t}
}

// validators returns the validator set of block 0: the producer.
func (g *Genesis) validators() *ValidatorSet {
	if len(g.Validators) > 0 {
		vs := &ValidatorSet{}
		for _, v := range g.Validators {
			vs.Validators = append(vs.Validators, Validator{PubKey: v.PubKey, Power: v.Power})
		}
		return vs
	}
	return &ValidatorSet{Validators: []Validator{{PubKey: g.Producer, Power: 1}}}
}

// NewGenesis returns a genesis document with fresh governance and producer
// keys, for tests, demos and `registry init`.
func NewGenesis(chainID string, t time.Time, issuers ...RegisterIssuer) (g *Genesis, governance, producer ed25519.PrivateKey, err error) {
	gpub, gpriv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, nil, nil, err
	}
	ppub, ppriv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, nil, nil, err
	}
	g = &Genesis{ChainID: chainID, Time: t.UnixMilli(), Governance: []string{hexKey(gpub)}, Producer: hexKey(ppub), Issuers: issuers}
	if g.Issuers == nil {
		g.Issuers = []RegisterIssuer{}
	}
	if err := g.Validate(); err != nil {
		return nil, nil, nil, err
	}
	return g, gpriv, ppriv, nil
}

func hexKey(pub ed25519.PublicKey) string { return hex.EncodeToString(pub) }
