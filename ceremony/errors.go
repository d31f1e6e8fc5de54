package ceremony

import (
	"errors"
	"fmt"
)

// ErrInvalidTranscript is wrapped by every error that says a transcript
// does not verify.
var ErrInvalidTranscript = errors.New("transcript does not verify")

// ContributionError names the first file of a transcript that does not
// verify: its phase, circuit (phase 2) and index (0 is the coordinator's
// start file).
type ContributionError struct {
	Phase   int
	Circuit string
	Index   int
	File    string // the file's name, when read from a directory
	Err     error
}

func (e *ContributionError) Error() string {
	what := fmt.Sprintf("contribution %d", e.Index)
	if e.Index == 0 {
		what = "the start file (contribution 0)"
	}
	if e.File != "" {
		what += " (" + e.File + ")"
	}
	if e.Phase == 1 {
		return fmt.Sprintf("phase 1: %s: %v", what, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.Circuit, what, e.Err)
}

func (e *ContributionError) Unwrap() []error { return []error{ErrInvalidTranscript, e.Err} }

// BeaconError: a seal used another beacon than the one announced, or a
// beacon that is not the registry's block hash at the announced height.
type BeaconError struct {
	Phase     int
	Circuit   string
	Announced uint64 // the height the transcript announced
	Got       Beacon // the beacon the seal used
	Chain     *Hash  // the registry's hash at that height, when checked
}

func (e *BeaconError) Error() string {
	where := "phase 1"
	if e.Phase == 2 {
		where = e.Circuit
	}
	if e.Got.Height != e.Announced {
		return fmt.Sprintf("%s: wrong beacon: sealed with block %d, the transcript announced block %d", where, e.Got.Height, e.Announced)
	}
	if e.Chain != nil {
		return fmt.Sprintf("%s: wrong beacon: sealed with %s, but the registry's block %d has hash %s", where, e.Got.Hash, e.Got.Height, *e.Chain)
	}
	return fmt.Sprintf("%s: wrong beacon: the keys are not the seal with %s", where, e.Got)
}

func (e *BeaconError) Unwrap() error { return ErrInvalidTranscript }
