package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/zkcred/zkcred/internal/keyfile"
	"github.com/zkcred/zkcred/registry/node"
)

// newPassphraseEnv holds the new passphrase of 'change-passphrase' for
// scripts that cannot prompt.
const newPassphraseEnv = "ZKCRED_NEW_PASSPHRASE"

// keyKind is a kind of zkcred key file whose passphrase can change.
type keyKind struct {
	name    string // "governance", "accreditor", "issuer"
	format  keyfile.Format
	dirSub  string // the default directory under $ZKCRED_HOME; "" when --key is required
	file    string // the key file in that directory
	example string
}

// newChangePassphraseCmd re-encrypts a key file under a new passphrase,
// in place and atomically: each member of a consortium that 'registry
// init --validators N' set up with one passphrase can choose its own, and
// a passphrase that leaked can be replaced without a new key.
func newChangePassphraseCmd(k keyKind) *cobra.Command {
	var dir, key, passFile, newFile string
	var wf int
	c := leaf("change-passphrase", "encrypt the "+k.name+" key under a new passphrase, keeping the key", k.example,
		noArgs, func(*cobra.Command, []string) error {
			path := key
			if path == "" && k.dirSub != "" {
				path = filepath.Join(dir, k.file)
			}
			if path == "" {
				return usagef(k.example, "no --key given")
			}
			if _, err := os.Stat(path); err != nil {
				return localf("no_"+k.name+"_key", "give the "+k.name+" key file with --key", "%s key: %v", k.name, err)
			}
			old, err := readPassphrase(passSource{file: passFile, prompt: "current " + k.name + " key passphrase: "})
			if err != nil {
				return err
			}
			// opened first, so that a wrong passphrase is told before a new
			// one is asked for
			priv, err := keyfile.Load(path, k.format, []byte(old))
			switch {
			case errors.Is(err, keyfile.ErrWrongPassphrase):
				return localf("wrong_passphrase", "check the current passphrase (--passphrase-file or $"+passphraseEnv+")", "%v", err)
			case errors.Is(err, keyfile.ErrPlain) && k.format == node.GovernanceKeyFormat:
				return localf("plain_key", "encrypt it first with 'zkcred registry govern encrypt-key --key "+path+"'", "%v", err)
			case errors.Is(err, keyfile.ErrPlain):
				return localf("plain_key", "give the encrypted "+k.name+" key file with --key", "%v", err)
			case err != nil:
				return localf(k.name+"_key", "give a "+k.name+" key file with --key", "%v", err)
			}
			nw, err := readPassphrase(passSource{file: newFile, env: newPassphraseEnv, prompt: "new " + k.name + " key passphrase: ", confirm: true, flag: "--new-passphrase-file", what: "new passphrase"})
			if err != nil {
				return err
			}
			if nw == old {
				return usagef("choose a new passphrase that differs from the current one", "the new passphrase is the current one")
			}
			if _, err := keyfile.Rekey(path, k.format, []byte(old), []byte(nw), keyfile.Options{ScryptWorkFactor: wf}); err != nil {
				return localf(k.name+"_key", "", "%v", err)
			}
			pub := hex.EncodeToString(priv.Public().(ed25519.PublicKey))
			return printOut(map[string]string{"key": path, "pubkey": pub},
				"%s key %s (%s) now opens with the new passphrase only\n", k.name, path, pub)
		})
	c.Long = "Change-passphrase decrypts the " + k.name + " key with its current passphrase\n(--passphrase-file FILE, else $" + passphraseEnv + ", else a prompt) and writes it\nagain, atomically, encrypted under the new one (--new-passphrase-file FILE,\nelse $" + newPassphraseEnv + ", else a prompt asked twice). The key itself does not\nchange, so nothing on the registry does."
	if k.dirSub != "" {
		addDirFlag(c, &dir, k.dirSub, "directory holding "+k.file)
		c.Flags().StringVar(&key, "key", "", k.name+" key file; default DIR/"+k.file)
	} else {
		c.Flags().StringVar(&key, "key", "", k.name+" key file")
	}
	addPassFlag(c, &passFile)
	c.Flags().StringVar(&newFile, "new-passphrase-file", "", "file whose first line is the new passphrase (else $"+newPassphraseEnv+", else a prompt)")
	addWorkFactorFlag(c, &wf, keyfileWorkFactor)
	return c
}
