package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/didweb"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
)

func newGovernUpdateCmd() *cobra.Command { return newUpdateIssuerCmd(false) }

// newUpdateIssuerCmd is 'govern update-issuer' or, for an accreditor,
// 'accredit update-issuer' (which keeps the did:web binding: that stays
// governance's).
func newUpdateIssuerCmd(accreditor bool) *cobra.Command {
	var g governFlags
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
			rc, err := client.New(g.url, client.Options{})
			if err != nil {
				return usagef("pass --registry http://host:port", "%v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// What the flags do not change stays as the registry holds it.
			cur, err := rc.Issuer(ctx, circuits.IssuerID(k))
			if err != nil {
				return withHint(fmt.Errorf("issuer %s at %s: %w", pub, g.url, err), "is it registered ('zkcred registry govern register-issuer')?")
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
	c.Flags().StringVar(&pub, "pubkey", "", "issuer's hex ed25519 public key")
	c.Flags().StringVar(&name, "name", "", "new display name")
	c.Flags().StringVar(&kind, "kind", "", "new kind")
	c.Flags().BoolVar(&active, "active", false, "reactivate (true) or keep deactivated (false)")
	return c
}
