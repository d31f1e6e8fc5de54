package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/zkcred/zkcred/internal/didweb"
	"github.com/zkcred/zkcred/internal/home"
)

// Environment variables that zkcred reads.
const (
	envHome        = "ZKCRED_HOME"
	envWallet      = "ZKCRED_WALLET"
	passphraseEnv  = "ZKCRED_PASSPHRASE"
	envBackupPass  = "ZKCRED_BACKUP_PASSPHRASE"
	envAdminToken  = "ZKCRED_ADMIN_TOKEN"
	defaultRegURL  = "http://127.0.0.1:8700"
	defaultUpAddr  = "127.0.0.1:8640"
	defaultRegAddr = "127.0.0.1:8700"
)

// homeDir is where zkcred keeps its data: $ZKCRED_HOME, else the user
// config directory's zkcred/.
func homeDir() string {
	if d := os.Getenv(envHome); d != "" {
		return d
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "zkcred")
	}
	return "zkcred-data"
}

// defaultKeysDir is the one place every command looks for circuit keys:
// $ZKCRED_HOME/keys when ZKCRED_HOME is set, else the user cache
// directory's zkcred/keys (keys can be made again or fetched, so they are
// a cache).
func defaultKeysDir() string { return home.KeysDir() }

// defaultWalletPath is $ZKCRED_WALLET, else $ZKCRED_HOME/wallet.age.
func defaultWalletPath() string {
	if p := os.Getenv(envWallet); p != "" {
		return p
	}
	return filepath.Join(homeDir(), "wallet.age")
}

// The flags shared by several commands, each defined here once.

// addKeysFlag adds --keys, the circuit keys directory.
func addKeysFlag(c *cobra.Command, p *string) {
	c.Flags().StringVar(p, "keys", defaultKeysDir(), "circuit keys directory (made by 'zkcred setup'; $"+envHome+"/keys when "+envHome+" is set)")
}

// addDirFlag adds --dir, a party's data directory; sub names it under
// ZKCRED_HOME.
func addDirFlag(c *cobra.Command, p *string, sub, what string) {
	c.Flags().StringVar(p, "dir", filepath.Join(homeDir(), sub), what)
}

// addRegistryFlag adds --registry, the registry's URL.
func addRegistryFlag(c *cobra.Command, p *string, def, what string) {
	if what == "" {
		what = "registry URL"
	}
	c.Flags().StringVar(p, "registry", def, what)
}

// addAddrFlag adds --addr, a listen address.
func addAddrFlag(c *cobra.Command, p *string, def, what string) {
	if what == "" {
		what = "listen address (host:port)"
	}
	c.Flags().StringVar(p, "addr", def, what)
}

// addPassFlag adds --passphrase-file.
func addPassFlag(c *cobra.Command, p *string) {
	c.Flags().StringVar(p, "passphrase-file", "", "file whose first line is the passphrase (else $"+passphraseEnv+", else a prompt)")
}

// addGenesisFlag adds --genesis, the registry's genesis file.
func addGenesisFlag(c *cobra.Command, p *string) {
	c.Flags().StringVar(p, "genesis", "", "the registry's genesis.json (trusted as given; never fetched)")
}

// addWorkFactorFlag adds --work-factor, the scrypt work factor of a new
// encrypted file.
func addWorkFactorFlag(c *cobra.Command, p *int, def int) {
	c.Flags().IntVar(p, "work-factor", def, "scrypt work factor (log2 N) of the encryption")
}

// addDIDWebFlag defines --did-web, an issuer's domain (uni.example,
// uni.example:8443 or did:web:uni.example).
func addDIDWebFlag(c *cobra.Command, p *string, what string) {
	c.Flags().StringVar(p, "did-web", "", what+" (uni.example, uni.example:8443 or did:web:uni.example)")
}

// parseDIDWebFlag reads --did-web ("" stays "").
func parseDIDWebFlag(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	did, err := didweb.FromDomain(s)
	if err != nil {
		return "", usagef("--did-web names a domain: uni.example, uni.example:8443 or did:web:uni.example", "%v", err)
	}
	return did, nil
}
