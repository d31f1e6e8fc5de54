package light

// CometBFT's light-client verification rules: Verify, VerifyAdjacent and
// VerifyNonAdjacent of github.com/cometbft/cometbft/light v1.0.1
// (light/verifier.go), on cometbft/types alone. Importing that package
// would link its RPC provider, and through it CometBFT's p2p stack and
// Prometheus, into every wallet; the rules themselves are the few calls
// into cometbft/types below. TestCometVerifyTwin runs both on the same
// cases and requires the same verdicts, so the two cannot drift.

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	cmtmath "github.com/cometbft/cometbft/libs/math"
	cmttypes "github.com/cometbft/cometbft/types"
)

// TrustLevel is the share of a trusted validator set's voting power that
// must sign a header further ahead for the client to skip to it:
// CometBFT's default (light.DefaultTrustLevel), one third, so that at
// least one honest validator vouches for it.
var TrustLevel = cmtmath.Fraction{Numerator: 1, Denominator: 3}

// errOldHeaderExpired is light.ErrOldHeaderExpired: the trusted header is
// older than the trust period.
type errOldHeaderExpired struct{ at, now time.Time }

func (e errOldHeaderExpired) Error() string {
	return fmt.Sprintf("old header has expired at %v (now: %v)", e.at, e.now)
}

// errNewValSetCantBeTrusted is light.ErrNewValSetCantBeTrusted: less than
// the trust level of the trusted validators signed a header further ahead.
type errNewValSetCantBeTrusted struct {
	reason cmttypes.ErrNotEnoughVotingPowerSigned
}

func (e errNewValSetCantBeTrusted) Error() string {
	return fmt.Sprintf("can't trust new val set: %v", e.reason)
}

// errInvalidCometHeader is light.ErrInvalidHeader: the header is malformed
// or not signed by more than two thirds of its validators.
type errInvalidCometHeader struct{ reason error }

func (e errInvalidCometHeader) Error() string { return fmt.Sprintf("invalid header: %v", e.reason) }

func (e errInvalidCometHeader) Unwrap() error { return e.reason }

// headerExpired is light.HeaderExpired.
func headerExpired(h *cmttypes.SignedHeader, trustingPeriod time.Duration, now time.Time) bool {
	return !h.Time.Add(trustingPeriod).After(now)
}

// cometVerify is light.Verify: VerifyAdjacent for the next height,
// VerifyNonAdjacent for a later one.
func cometVerify(trustedHeader *cmttypes.SignedHeader, trustedVals *cmttypes.ValidatorSet,
	untrustedHeader *cmttypes.SignedHeader, untrustedVals *cmttypes.ValidatorSet,
	trustingPeriod time.Duration, now time.Time, maxClockDrift time.Duration, trustLevel cmtmath.Fraction,
) error {
	if untrustedHeader.Height != trustedHeader.Height+1 {
		return verifyNonAdjacent(trustedHeader, trustedVals, untrustedHeader, untrustedVals, trustingPeriod, now, maxClockDrift, trustLevel)
	}
	return verifyAdjacent(trustedHeader, untrustedHeader, untrustedVals, trustingPeriod, now, maxClockDrift)
}

// verifyNonAdjacent is light.VerifyNonAdjacent: the trusted header is
// within the trust period, the new one is valid, trustLevel of the trusted
// validators signed it, and more than two thirds of its own.
func verifyNonAdjacent(trustedHeader *cmttypes.SignedHeader, trustedVals *cmttypes.ValidatorSet,
	untrustedHeader *cmttypes.SignedHeader, untrustedVals *cmttypes.ValidatorSet,
	trustingPeriod time.Duration, now time.Time, maxClockDrift time.Duration, trustLevel cmtmath.Fraction,
) error {
	if untrustedHeader.Height == trustedHeader.Height+1 {
		return errors.New("headers must be non adjacent in height")
	}
	if headerExpired(trustedHeader, trustingPeriod, now) {
		return errOldHeaderExpired{trustedHeader.Time.Add(trustingPeriod), now}
	}
	if err := verifyNewHeaderAndVals(untrustedHeader, untrustedVals, trustedHeader, now, maxClockDrift); err != nil {
		return errInvalidCometHeader{err}
	}
	if err := trustedVals.VerifyCommitLightTrusting(trustedHeader.ChainID, untrustedHeader.Commit, trustLevel); err != nil {
		var np cmttypes.ErrNotEnoughVotingPowerSigned
		if errors.As(err, &np) {
			return errNewValSetCantBeTrusted{np}
		}
		return err
	}
	// last, as in CometBFT: untrustedVals may be made large to slow the
	// client down
	if err := untrustedVals.VerifyCommitLight(trustedHeader.ChainID, untrustedHeader.Commit.BlockID,
		untrustedHeader.Height, untrustedHeader.Commit); err != nil {
		return errInvalidCometHeader{err}
	}
	return nil
}

// verifyAdjacent is light.VerifyAdjacent: the trusted header is within
// the trust period, the next one is valid, names the validators the
// trusted one named as next, and more than two thirds of them signed it.
func verifyAdjacent(trustedHeader, untrustedHeader *cmttypes.SignedHeader, untrustedVals *cmttypes.ValidatorSet,
	trustingPeriod time.Duration, now time.Time, maxClockDrift time.Duration,
) error {
	if untrustedHeader.Height != trustedHeader.Height+1 {
		return errors.New("headers must be adjacent in height")
	}
	if headerExpired(trustedHeader, trustingPeriod, now) {
		return errOldHeaderExpired{trustedHeader.Time.Add(trustingPeriod), now}
	}
	if err := verifyNewHeaderAndVals(untrustedHeader, untrustedVals, trustedHeader, now, maxClockDrift); err != nil {
		return errInvalidCometHeader{err}
	}
	if !bytes.Equal(untrustedHeader.ValidatorsHash, trustedHeader.NextValidatorsHash) {
		return fmt.Errorf("expected old header next validators (%X) to match those from new header (%X)",
			trustedHeader.NextValidatorsHash, untrustedHeader.ValidatorsHash)
	}
	if err := untrustedVals.VerifyCommitLight(trustedHeader.ChainID, untrustedHeader.Commit.BlockID,
		untrustedHeader.Height, untrustedHeader.Commit); err != nil {
		return errInvalidCometHeader{err}
	}
	return nil
}

// verifyNewHeaderAndVals is light's check of a new header and its
// validators: well formed for the chain, higher and later than the trusted
// one, not beyond the clock drift, and naming the validators supplied.
func verifyNewHeaderAndVals(untrustedHeader *cmttypes.SignedHeader, untrustedVals *cmttypes.ValidatorSet,
	trustedHeader *cmttypes.SignedHeader, now time.Time, maxClockDrift time.Duration,
) error {
	if err := untrustedHeader.ValidateBasic(trustedHeader.ChainID); err != nil {
		return fmt.Errorf("untrustedHeader.ValidateBasic failed: %w", err)
	}
	if untrustedHeader.Height <= trustedHeader.Height {
		return fmt.Errorf("expected new header height %d to be greater than one of old header %d",
			untrustedHeader.Height, trustedHeader.Height)
	}
	if !untrustedHeader.Time.After(trustedHeader.Time) {
		return fmt.Errorf("expected new header time %v to be after old header time %v",
			untrustedHeader.Time, trustedHeader.Time)
	}
	if !untrustedHeader.Time.Before(now.Add(maxClockDrift)) {
		return fmt.Errorf("new header has a time from the future %v (now: %v; max clock drift: %v)",
			untrustedHeader.Time, now, maxClockDrift)
	}
	if !bytes.Equal(untrustedHeader.ValidatorsHash, untrustedVals.Hash()) {
		return fmt.Errorf("expected new header validators (%X) to match those that were supplied (%X) at height %d",
			untrustedHeader.ValidatorsHash, untrustedVals.Hash(), untrustedHeader.Height)
	}
	return nil
}
