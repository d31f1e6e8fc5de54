package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/wallet"
)

func newWalletSyncCmd(wf *walletFlags) *cobra.Command {
	var keys string
	c := leaf("sync", "bring every credential's prover state to the registry's newest root",
		"  zkcred wallet sync\n  zkcred wallet sync --json",
		noArgs, func(*cobra.Command, []string) error { return walletSync(*wf, keys) })
	c.Long = `Sync follows the registry to its newest verified root and updates, for every
stored credential, the prover state that lets 'present' prove only what a
request changes (docs/wallet.md). It fetches each credential's witness bucket,
so the registry sees them fetched together. A credential revoked since it was
received is named.`
	wf.add(c)
	addKeysFlag(c, &keys)
	return c
}

func walletSync(wf walletFlags, keysDir string) error {
	w, release, err := openWalletLocked(wf)
	if err != nil {
		return err
	}
	defer release()
	ctx := context.Background()
	keys, err := w.LoadKeys(ctx, keysDir)
	if err != nil {
		return err
	}
	revoked, err := w.Sync(ctx, keys)
	if err != nil {
		return err
	}
	ids := []string{}
	for _, e := range revoked {
		ids = append(ids, e.ID)
	}
	if jsonOutput {
		return printJSON(map[string]any{"credentials": len(w.Credentials()), "revoked": ids})
	}
	fmt.Printf("prover states at the registry's newest root: %d credential(s)\n", len(w.Credentials())-len(revoked))
	for _, id := range ids {
		fmt.Printf("credential %s was revoked by its issuer\n", id)
	}
	return nil
}

// buildProverState makes a just received credential's prover state. It is
// an optimisation only: without keys (or on any error) the first
// presentation builds it instead.
func buildProverState(ctx context.Context, w *wallet.Wallet, e *wallet.Entry, keys *circuits.Keys, keysDir string) {
	if keys == nil {
		var err error
		if keys, err = w.LoadKeys(ctx, keysDir); err != nil {
			return
		}
	}
	w.SyncState(ctx, e, keys)
}
