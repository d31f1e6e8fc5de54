package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/spf13/cobra"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/didweb"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/light"
	"github.com/zkcred/zkcred/registry/proof"
)

func newGovernUpdateCmd() *cobra.Command { return newUpdateIssuerCmd(false) }

// newUpdateIssuerCmd is 'govern update-issuer' or, for an accreditor,
// 'accredit update-issuer' (which keeps the did:web binding: that stays
// governance's).
func newUpdateIssuerCmd(accreditor bool) *cobra.Command {
	var g governFlags
	var tf trustFlags
	var pub, name, kind, didWeb string
	var active bool
	short, example := "change an issuer's name, kind or did:web, or reactivate it",
		`  zkcred registry govern update-issuer --dir reg --pubkey HEX --did-web uni.example
  zkcred registry govern update-issuer --dir reg --pubkey HEX --did-web ''   # unbind its did:web
  zkcred registry govern update-issuer --dir reg --pubkey HEX --name "University of Examples" --active`
	if accreditor {
		short = "change an issuer's name or kind (both within the accreditation), or reactivate it"
		example = `  zkcred registry accredit update-issuer --key ministry.key --genesis genesis.json --pubkey HEX --name "University of X"`
	}
	c := leaf("update-issuer", short, example,
		noArgs, func(cmd *cobra.Command, _ []string) error {
			k, err := hex.DecodeString(pub)
			if err != nil || len(k) != 32 {
				return usagef("zkcred registry govern update-issuer --pubkey HEX --did-web uni.example", "--pubkey must be the issuer's hex public key")
			}
			gen, err := g.genesisOf()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// What the flags do not change stays as the registry holds it,
			// read with its proof: a registry node cannot have this key
			// sign fields it made up.
			cur, err := provenIssuer(ctx, gen, g.url, tf, circuits.IssuerID(k))
			if errors.Is(err, registry.ErrNotFound) {
				return withHint(fmt.Errorf("issuer %s at %s: %w", pub, g.url, err), "is it registered ('zkcred registry govern register-issuer')?")
			}
			if err != nil {
				return err
			}
			u := registry.UpdateIssuer{PubKey: pub, Name: cur.Name, Kind: cur.Kind, Active: cur.Active, DIDWeb: cur.DIDWeb}
			f := cmd.Flags()
			if f.Changed("name") {
				u.Name = name
			}
			if f.Changed("kind") {
				u.Kind = kind
			}
			if f.Changed("active") {
				u.Active = active
			}
			if f.Changed("did-web") {
				u.DIDWeb = ""
				if didWeb != "" {
					if u.DIDWeb, err = didweb.FromDomain(didWeb); err != nil {
						return usagef("--did-web names the issuer's domain: uni.example, uni.example:8443 or did:web:uni.example ('' unbinds)", "%v", err)
					}
				}
			}
			// The whole record as it will be, before the key signs it.
			w := cmd.OutOrStdout()
			if jsonOutput {
				w = cmd.ErrOrStderr()
			}
			fmt.Fprintf(w, "signing update-issuer for %s (proven record: name %q, kind %s, active %t, did:web %s):\n  name %q\n  kind %s\n  active %t\n  did:web %s\n",
				pub, cur.Name, cur.Kind, cur.Active, orNone(cur.DIDWeb), u.Name, u.Kind, u.Active, orNone(u.DIDWeb))
			return g.submit(func(int) string {
				d := u.DIDWeb
				if d == "" {
					d = "no did:web"
				}
				return fmt.Sprintf("updated issuer %q (%s, %s)", u.Name, u.Kind, d)
			}, u)
		})
	if accreditor {
		g.addAccreditor(c)
	} else {
		g.add(c)
		addDIDWebFlag(c, &didWeb, "bind this did:web to the issuer ('' unbinds)")
	}
	tf.add(c, "trust-")
	c.Flags().StringVar(&pub, "pubkey", "", "issuer's hex ed25519 public key")
	c.Flags().StringVar(&name, "name", "", "new display name")
	c.Flags().StringVar(&kind, "kind", "", "new kind")
	c.Flags().BoolVar(&active, "active", false, "reactivate (true) or keep deactivated (false)")
	return c
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// provenIssuer reads an issuer's record through a light client that
// verifies the registry's headers from gen (re-anchored at tf's block when
// given), with the record's proof checked against them.
func provenIssuer(ctx context.Context, gen *registry.Genesis, url string, tf trustFlags, id fr.Element) (*registry.Issuer, error) {
	th, hash, err := tf.parse("trust-")
	if err != nil {
		return nil, err
	}
	lc, err := light.New(gen, url, light.Options{TrustHeight: th, TrustHash: hash})
	if err != nil {
		return nil, usagef("pass --registry http://host:port", "%v", err)
	}
	defer lc.Close()
	if _, err := lc.Sync(ctx); err != nil {
		if isUnreachable(err) {
			return nil, unreachable("is the registry running at "+url+"?", err)
		}
		return nil, fmt.Errorf("sync headers: %w", err)
	}
	return proof.New(lc.Registry(), lc).Issuer(ctx, id)
}
