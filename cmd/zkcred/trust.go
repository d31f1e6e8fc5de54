package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkcred/zkcred/registry/light"
)

// trustFlags re-anchor a light client's trust at a CometBFT block: its
// height and header hash, as 'zkcred registry status' prints them.
type trustFlags struct {
	height int64
	hash   string
}

func (t *trustFlags) add(c *cobra.Command, prefix string) {
	c.Flags().Int64Var(&t.height, prefix+"height", 0, "re-anchor trust at this CometBFT block height (with --"+prefix+"hash; 'zkcred registry status' prints both)")
	c.Flags().StringVar(&t.hash, prefix+"hash", "", "hex header hash of the CometBFT block at --"+prefix+"height")
}

// parse returns the anchor, or zero values when neither flag is given.
func (t trustFlags) parse(prefix string) (int64, []byte, error) {
	if t.height == 0 && t.hash == "" {
		return 0, nil, nil
	}
	hint := "pass both --" + prefix + "height H and --" + prefix + "hash X as 'zkcred registry status' prints them"
	h, err := hex.DecodeString(t.hash)
	if err != nil {
		return 0, nil, usagef(hint, "--%shash must be 64 hex digits", prefix)
	}
	if err := light.CheckAnchor(t.height, h); err != nil {
		return 0, nil, usagef(hint, "%v", err)
	}
	return t.height, h, nil
}

func newWalletTrustCmd(wf *walletFlags) *cobra.Command {
	var tf trustFlags
	c := leaf("trust", "re-anchor the wallet's trust in the registry at a recent block",
		"  zkcred wallet trust --height 1234 --hash 5F0C…",
		noArgs, func(*cobra.Command, []string) error { return walletTrust(*wf, tf) })
	c.Long = `The wallet's light client trusts a block's validators for the trust period
(two weeks) after it. A wallet offline for longer refuses to sync
(trust_expired) until its trust is re-anchored at a recent block: ask the
operator of a registry node you trust for the output of 'zkcred registry
status', and pass its trust anchor's height and hash. The wallet checks
that block's commit and syncs from it.`
	wf.add(c)
	tf.add(c, "")
	return c
}

func walletTrust(wf walletFlags, tf trustFlags) error {
	height, hash, err := tf.parse("")
	if err != nil {
		return err
	}
	if height == 0 {
		return usagef("zkcred wallet trust --height H --hash X ('zkcred registry status' prints them)", "no --height and --hash given")
	}
	w, release, err := openWalletLocked(wf)
	if err != nil {
		return err
	}
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := w.Trust(ctx, height, hash)
	if err != nil {
		if isUnreachable(err) {
			return unreachable("is the registry running at "+w.Config().Registry+"?", err)
		}
		return err
	}
	if jsonOutput {
		return printJSON(map[string]any{"trusted_height": height, "trusted_hash": hex.EncodeToString(hash), "height": h.Height})
	}
	fmt.Printf("trust re-anchored at CometBFT block %d; verified up to registry block %d\n", height, h.Height)
	return nil
}
