package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/light"
	"github.com/zkcred/zkcred/wallet"
)

// Exit statuses, documented in the root command's help and README.md.
const (
	exitOK          = 0
	exitRefused     = 1 // the other party refused, or another failure
	exitUsage       = 2
	exitUnreachable = 3
	exitLocal       = 4 // bad local state
)

// Kinds of error a command returns; report maps each to its exit status
// and its JSON code. Commands wrap them with usagef, refusedf, localf and
// unreachable; library errors are classified by classify.
var (
	errUsage       = errors.New("usage")
	errRefused     = errors.New("refused")
	errUnreachable = errors.New("unreachable")
	errLocal       = errors.New("bad local state")
)

// kindOf is the exit status and default code of each kind.
var kindOf = map[error]struct {
	exit int
	code string
}{
	errUsage:       {exitUsage, "usage"},
	errRefused:     {exitRefused, "refused"},
	errUnreachable: {exitUnreachable, "unreachable"},
	errLocal:       {exitLocal, "bad_local_state"},
}

// cliError is an error with its kind, a specific code (optional) and a
// hint for the person who reads it.
type cliError struct {
	kind error
	code string
	hint string
	err  error
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() []error {
	return []error{e.err, e.kind}
}

func newErr(kind error, code, hint string, err error) error {
	return &cliError{kind: kind, code: code, hint: hint, err: err}
}

// usagef is an error in the command line: exit 2.
func usagef(hint, format string, a ...any) error {
	return newErr(errUsage, "", hint, fmt.Errorf(format, a...))
}

// refusedf is a refusal by the other party: exit 1.
func refusedf(code, hint, format string, a ...any) error {
	return newErr(errRefused, code, hint, fmt.Errorf(format, a...))
}

// localf is bad local state: exit 4.
func localf(code, hint, format string, a ...any) error {
	return newErr(errLocal, code, hint, fmt.Errorf(format, a...))
}

// unreachable is a service that does not answer: exit 3.
func unreachable(hint string, err error) error {
	return newErr(errUnreachable, "", hint, err)
}

// withHint adds a hint to err, keeping its kind.
func withHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	var ce *cliError
	if errors.As(err, &ce) {
		if ce.hint == "" {
			ce.hint = hint
		}
		return err
	}
	c := classify(err)
	return newErr(c.kind, c.code, hint, err)
}

// classified is what report prints for an error.
type classified struct {
	kind error
	code string
	hint string
}

// trustExpiredHint is what to do when a light client's trust expired (a
// client offline for longer than the trust period, or a new one on a chain
// whose block 1 is older).
const trustExpiredHint = "re-anchor trust at a recent block: run 'zkcred registry status' on a registry member you trust, then 'zkcred wallet trust --height H --hash X' (a verifier: 'zkcred verifier serve --trust-height H --trust-hash X') with the height and hash of its trust line"

// libraryErrors map library sentinels to kinds, codes and hints: the one
// table where an error of another package gets its exit status.
var libraryErrors = []struct {
	target error
	kind   error
	code   string
	hint   string
}{
	{wallet.ErrPassphrase, errLocal, "wrong_passphrase", "check the passphrase (" + passphraseEnv + " or --passphrase-file)"},
	{wallet.ErrCorrupt, errLocal, "corrupt_wallet", "restore the wallet from a backup with 'zkcred wallet restore'"},
	{wallet.ErrNoWallet, errLocal, "no_wallet", "run 'zkcred wallet init' to create one, or name it with --wallet or " + envWallet},
	{wallet.ErrNoKeys, errLocal, "no_keys", "run 'zkcred setup', pass --keys DIR, or init the wallet with --keys-url"},
	{wallet.ErrKeysMismatch, errLocal, "keys_mismatch", "the keys in --keys are not the ones the registry publishes: use the published keys (wallet init --keys-url)"},
	{wallet.ErrBusy, errLocal, "wallet_busy", "wait for the other 'zkcred wallet' command to finish"},
	{wallet.ErrUnknownCredential, errUsage, "unknown_credential", "run 'zkcred wallet list' to see the credential IDs"},
	{wallet.ErrAmbiguous, errUsage, "ambiguous_credential", "run 'zkcred wallet list' to see the credential IDs"},
	{wallet.ErrNoRegistry, errLocal, "no_registry", "create the wallet with 'zkcred wallet init --registry URL --genesis FILE'"},
	{wallet.ErrBadRequest, errRefused, "bad_request", ""},
	{wallet.ErrRevoked, errRefused, "revoked", ""},
	{wallet.ErrExpired, errRefused, "expired", ""},
	{wallet.ErrAudience, errRefused, "audience_mismatch", "open the request from the verifier's own site (its link or QR code); one served by another site may be relayed"},
	{wallet.ErrCannotPresent, errRefused, "cannot_present", ""},
	{wallet.ErrKeysUnpublished, errRefused, "keys_unpublished", "the registry's governance publishes the circuits with 'zkcred registry govern publish-circuits'"},
	{wallet.ErrRefused, errRefused, "credential_refused", ""},
	{light.ErrFork, errRefused, "registry_misbehaved", "the registry answered headers that contradict verified ones: tell its operators"},
	{light.ErrRollback, errRefused, "registry_misbehaved", "the registry answered headers that contradict verified ones: tell its operators"},
	{light.ErrTrustExpired, errRefused, "trust_expired", trustExpiredHint},
	{light.ErrInvalidHeader, errRefused, "registry_misbehaved", "the registry answered a header that does not verify against the genesis"},
	{issuer.ErrWrongPassphrase, errLocal, "wrong_passphrase", "check the passphrase (" + passphraseEnv + " or --passphrase-file)"},
	{issuer.ErrNoIssuer, errLocal, "no_issuer", "run 'zkcred issuer init' first, or pass --dir"},
	{issuer.ErrKeyFile, errLocal, "issuer_key", "check the passphrase (" + passphraseEnv + " or --passphrase-file) and --dir"},
	{circuits.ErrFormat, errLocal, "bad_keys", "make the keys again with 'zkcred setup --force', or fetch the published ones"},
	{circuits.ErrWrongCircuit, errLocal, "bad_keys", "make the keys again with 'zkcred setup --force', or fetch the published ones"},
}

// classify finds the kind of err: its own (cliError), a library sentinel,
// a refusal answered by a service, or a service that does not answer.
func classify(err error) classified {
	var ce *cliError
	if errors.As(err, &ce) {
		c := classified{kind: ce.kind, code: ce.code, hint: ce.hint}
		if c.code == "" {
			// A wrapped library error may know a better code.
			if lc, ok := classifyLibrary(ce.err); ok && lc.kind == ce.kind {
				c.code = lc.code
			}
		}
		return c
	}
	if c, ok := classifyLibrary(err); ok {
		return c
	}
	return classified{kind: nil, code: "error"}
}

func classifyLibrary(err error) (classified, bool) {
	for _, l := range libraryErrors {
		if errors.Is(err, l.target) {
			return classified{l.kind, l.code, l.hint}, true
		}
	}
	var nm *wallet.NoMatchError
	if errors.As(err, &nm) {
		return classified{errRefused, "no_match", ""}, true
	}
	var re *wallet.RemoteError
	if errors.As(err, &re) {
		code := re.Code
		if code == "" {
			code = "refused"
		}
		return classified{errRefused, code, ""}, true
	}
	var ae *client.APIError
	if errors.As(err, &ae) {
		return classified{errRefused, "refused", ""}, true
	}
	if isUnreachable(err) {
		return classified{errUnreachable, "unreachable", unreachableHint(err)}, true
	}
	return classified{}, false
}

// isUnreachable reports whether err is a network failure to reach a
// service: refused connection, unknown host, timeout.
func isUnreachable(err error) bool {
	var ue *url.Error
	var oe *net.OpError
	var de *net.DNSError
	return errors.As(err, &ue) || errors.As(err, &oe) || errors.As(err, &de) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, context.DeadlineExceeded)
}

func unreachableHint(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return "check that " + ue.URL + " is reachable (is the service running?)"
	}
	return "is the service running?"
}

// report prints err once, as text (with its hint) or JSON, and returns
// the exit status of its kind.
func report(stderr io.Writer, cmdPath string, err error, asJSON bool) int {
	c := classify(err)
	exit := exitRefused
	if k, ok := kindOf[c.kind]; ok {
		exit = k.exit
		if c.code == "" {
			c.code = k.code
		}
	}
	if asJSON {
		json.NewEncoder(stderr).Encode(struct {
			Error string `json:"error"`
			Code  string `json:"code"`
			Hint  string `json:"hint"`
		}{err.Error(), c.code, c.hint})
		return exit
	}
	fmt.Fprintf(stderr, "%s: %v\n", cmdPath, err)
	if c.hint != "" {
		fmt.Fprintf(stderr, "hint: %s\n", c.hint)
	}
	return exit
}
