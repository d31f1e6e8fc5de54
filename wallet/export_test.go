package wallet

import (
	"context"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/wire"
)

// Prove exposes prove to the external tests: its own revocation check,
// behind Present's, must hold alone.
func (w *Wallet) Prove(ctx context.Context, p *Plan, keys *circuits.Keys) (*wire.Presentation, error) {
	return w.prove(ctx, p, keys)
}
