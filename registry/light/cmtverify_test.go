package light

import (
	"errors"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto"
	cmted25519 "github.com/cometbft/cometbft/crypto/ed25519"
	cmtlight "github.com/cometbft/cometbft/light"
	cmttypes "github.com/cometbft/cometbft/types"
)

// verdict names the kind of a verification error, in CometBFT's terms.
func verdict(err error) string {
	var (
		exp  cmtlight.ErrOldHeaderExpired
		cant cmtlight.ErrNewValSetCantBeTrusted
		bad  cmtlight.ErrInvalidHeader
		oexp errOldHeaderExpired
		ocnt errNewValSetCantBeTrusted
		obad errInvalidCometHeader
	)
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &exp), errors.As(err, &oexp):
		return "expired"
	case errors.As(err, &cant), errors.As(err, &ocnt):
		return "cannot trust"
	case errors.As(err, &bad), errors.As(err, &obad):
		return "invalid header"
	}
	return "other"
}

// TestCometVerifyTwin holds cometVerify to CometBFT's light.Verify: on
// every case both give the same verdict and the same message.
func TestCometVerifyTwin(t *testing.T) {
	k := newKit(t)
	app := make([]byte, 32)
	genesis := era{keys: k.vals, set: k.set}
	var fresh []crypto.PrivKey
	for range 4 {
		fresh = append(fresh, cmted25519.GenPrivKey())
	}
	half := newEra(0, k.vals[0], k.vals[1], fresh[0], fresh[1])
	other := newEra(0, fresh...)
	t0 := k.t0
	at := func(h int64) time.Time { return t0.Add(time.Duration(h) * time.Second) }
	trusted := sign(t, k.g.ChainID, 10, app, at(10), genesis.set, genesis.set, genesis.keys[:3])
	period, drift := time.Hour, 5*time.Second
	now := at(100)
	type tcase struct {
		name   string
		lb     *cmttypes.LightBlock
		vals   *cmttypes.ValidatorSet // default lb.ValidatorSet
		now    time.Time
		period time.Duration
		want   string
	}
	wrongChain := sign(t, "another-chain", 11, app, at(11), genesis.set, genesis.set, genesis.keys[:3])
	cases := []tcase{
		{name: "next block", lb: sign(t, k.g.ChainID, 11, app, at(11), genesis.set, genesis.set, genesis.keys[:3]), want: "ok"},
		{name: "next block, other validators than named", lb: sign(t, k.g.ChainID, 11, app, at(11), other.set, other.set, other.keys), want: "other"},
		{name: "next block, two of four", lb: sign(t, k.g.ChainID, 11, app, at(11), genesis.set, genesis.set, genesis.keys[:2]), want: "invalid header"},
		{name: "next block, supplied set not the named one", lb: sign(t, k.g.ChainID, 11, app, at(11), genesis.set, genesis.set, genesis.keys[:3]), vals: half.set, want: "invalid header"},
		{name: "next block, not later", lb: sign(t, k.g.ChainID, 11, app, at(10), genesis.set, genesis.set, genesis.keys[:3]), want: "invalid header"},
		{name: "next block, from the future", lb: sign(t, k.g.ChainID, 11, app, at(11), genesis.set, genesis.set, genesis.keys[:3]), now: at(11).Add(-drift - time.Second), want: "invalid header"},
		{name: "next block, trusted expired", lb: sign(t, k.g.ChainID, 11, app, at(11), genesis.set, genesis.set, genesis.keys[:3]), now: at(10).Add(time.Hour), want: "expired"},
		{name: "next block, other chain", lb: wrongChain, want: "invalid header"},
		{name: "ahead, same set", lb: sign(t, k.g.ChainID, 50, app, at(50), genesis.set, genesis.set, genesis.keys[:3]), want: "ok"},
		{name: "ahead, half the set changed", lb: sign(t, k.g.ChainID, 50, app, at(50), half.set, half.set, half.keys[:3]), want: "ok"},
		{name: "ahead, every validator changed", lb: sign(t, k.g.ChainID, 50, app, at(50), other.set, other.set, other.keys[:3]), want: "cannot trust"},
		{name: "ahead, half changed, new set short of two thirds", lb: sign(t, k.g.ChainID, 50, app, at(50), half.set, half.set, half.keys[:2]), want: "invalid header"},
		{name: "ahead, trusted expired", lb: sign(t, k.g.ChainID, 50, app, at(50), genesis.set, genesis.set, genesis.keys[:3]), period: 30 * time.Second, want: "expired"},
		{name: "ahead, from the future", lb: sign(t, k.g.ChainID, 500, app, at(500), genesis.set, genesis.set, genesis.keys[:3]), want: "invalid header"},
		{name: "below the trusted block", lb: sign(t, k.g.ChainID, 5, app, at(5), genesis.set, genesis.set, genesis.keys[:3]), want: "invalid header"},
	}
	for _, c := range cases {
		if c.vals == nil {
			c.vals = c.lb.ValidatorSet
		}
		if c.now.IsZero() {
			c.now = now
		}
		if c.period == 0 {
			c.period = period
		}
		theirs := cmtlight.Verify(trusted.SignedHeader, trusted.ValidatorSet, c.lb.SignedHeader, c.vals, c.period, c.now, drift, cmtlight.DefaultTrustLevel)
		ours := cometVerify(trusted.SignedHeader, trusted.ValidatorSet, c.lb.SignedHeader, c.vals, c.period, c.now, drift, TrustLevel)
		if verdict(theirs) != c.want {
			t.Errorf("%s: CometBFT says %s (%v), the case expects %s", c.name, verdict(theirs), theirs, c.want)
		}
		if verdict(ours) != verdict(theirs) || (theirs != nil) != (ours != nil) || (theirs != nil && theirs.Error() != ours.Error()) {
			t.Errorf("%s: cometVerify says %q, CometBFT %q", c.name, ours, theirs)
		}
	}
	if TrustLevel != cmtlight.DefaultTrustLevel {
		t.Errorf("trust level %v, CometBFT's default %v", TrustLevel, cmtlight.DefaultTrustLevel)
	}
	if headerExpired(trusted.SignedHeader, period, now) != cmtlight.HeaderExpired(trusted.SignedHeader, period, now) {
		t.Error("headerExpired differs from CometBFT's")
	}
}
