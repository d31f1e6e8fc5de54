package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/wallet"
)

// walletSync brings every credential's prover state to the registry's
// newest root, so that presenting proves only what the request changes.
func walletSync(args []string) error {
	fs := newFlags("wallet sync")
	var wf walletFlags
	addWalletFlags(fs, &wf)
	keysDir := fs.String("keys", circuits.DefaultDataDir(), "proving key directory")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("zkcred wallet sync [--keys DIR]", "sync takes no arguments")
	}
	unlock, err := lockWallet(wf.path)
	if err != nil {
		return err
	}
	defer unlock()
	w, err := openWallet(wf)
	if err != nil {
		return err
	}
	defer w.Close()
	ctx := context.Background()
	keys, err := w.LoadKeys(ctx, *keysDir, wallet.Net{})
	if err != nil {
		return hinted(err)
	}
	revoked, err := w.Sync(ctx, keys, wallet.Net{})
	if err != nil {
		return hinted(err)
	}
	ids := []string{}
	for _, e := range revoked {
		ids = append(ids, e.ID)
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(map[string]any{"credentials": len(w.Credentials()), "revoked": ids})
	}
	fmt.Printf("prover states of %d credentials at the registry's newest root\n", len(w.Credentials())-len(revoked))
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
		if keys, err = w.LoadKeys(ctx, keysDir, wallet.Net{}); err != nil {
			return
		}
	}
	w.SyncState(ctx, e, keys, wallet.Net{})
}
