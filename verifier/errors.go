package verifier

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/zkcred/zkcred/wire"
)

// Groups of errors. Every error the verifier returns wraps exactly one of
// these; the HTTP status follows the group, and the more specific sentinel
// below gives the machine-readable code.
var (
	// ErrBadInput (400) is malformed input: bad JSON, unknown fields,
	// trailing data, non-canonical field elements, oversize proofs.
	ErrBadInput = errors.New("bad input")
	// ErrNotFound (404) is an unknown request or policy.
	ErrNotFound = errors.New("not found")
	// ErrGone (410) is a request past its expiry.
	ErrGone = errors.New("gone")
	// ErrInvalidPresentation (422) is a presentation that does not satisfy
	// the request it answers.
	ErrInvalidPresentation = errors.New("invalid presentation")
	// ErrConflict (409) is a presentation that is well-formed and may even be
	// valid but was used up: replay, reused nonce, seen nullifier.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable (503) is a dependency (issuer list of the light client)
	// that cannot answer now.
	ErrUnavailable = errors.New("unavailable")
	// ErrPolicy is a policy that cannot be compiled (a configuration error;
	// never an HTTP answer, since policies are loaded at start).
	ErrPolicy = errors.New("invalid policy")
)

// Specific rejections. Each names the HTTP status of its group.
var (
	// ErrMalformed (400): the body is not a valid document of its kind. The
	// wire package's parsers return wire.ErrMalformed, which maps the same.
	ErrMalformed = fmt.Errorf("%w: %w", wire.ErrMalformed, ErrBadInput)
	// ErrBodyTooLarge (413): the body exceeds the configured limit.
	ErrBodyTooLarge = fmt.Errorf("body too large: %w", ErrBadInput)
	// ErrUnknownRequest (404): no request with this id was issued here (or it
	// was purged after its retention).
	ErrUnknownRequest = fmt.Errorf("unknown request: %w", ErrNotFound)
	// ErrUnknownPolicy (404): no policy of this name is configured.
	ErrUnknownPolicy = fmt.Errorf("unknown policy: %w", ErrNotFound)
	// ErrRequestExpired (410): the request expired before the presentation.
	ErrRequestExpired = fmt.Errorf("request expired: %w", ErrGone)
	// ErrUnknownRoot (422): the root is not one the light client verified.
	ErrUnknownRoot = fmt.Errorf("unknown root: %w", ErrInvalidPresentation)
	// ErrRootTooOld (422): the root's block is older than the policy's
	// maximum root age (the revocation latency bound).
	ErrRootTooOld = fmt.Errorf("root too old: %w", ErrInvalidPresentation)
	// ErrRootHeight (422): the root is known but at another height than the
	// one the presentation names.
	ErrRootHeight = fmt.Errorf("root and height do not match: %w", ErrInvalidPresentation)
	// ErrWrongRequest (422): the presentation answers another request (its
	// request id or nonce differ from the request it was submitted for).
	ErrWrongRequest = fmt.Errorf("presentation for another request: %w", ErrInvalidPresentation)
	// ErrDisclosure (422): disclosed values missing, extra, or not in the
	// request's disclose list.
	ErrDisclosure = fmt.Errorf("disclosed values do not match the request: %w", ErrInvalidPresentation)
	// ErrNullifierForm (422): a nullifier is missing although the policy has
	// a scope, or present although it has none.
	ErrNullifierForm = fmt.Errorf("nullifier does not match the request's scope: %w", ErrInvalidPresentation)
	// ErrProofInvalid (422): the Groth16 proof does not verify against the
	// public statement rebuilt from the verifier's own state.
	ErrProofInvalid = fmt.Errorf("proof invalid: %w", ErrInvalidPresentation)
	// ErrReplay (409): this exact presentation was already verified.
	ErrReplay = fmt.Errorf("presentation replayed: %w", ErrConflict)
	// ErrNonceUsed (409): the request's nonce was already used by another
	// verified presentation.
	ErrNonceUsed = fmt.Errorf("nonce already used: %w", ErrConflict)
	// ErrNullifierSeen (409): the nullifier was already seen in this scope.
	ErrNullifierSeen = fmt.Errorf("nullifier already seen in scope: %w", ErrConflict)
	// ErrDuplicateRequest (409): a batch item answers a request that an
	// earlier item of the same batch answers; only the first is checked.
	ErrDuplicateRequest = fmt.Errorf("another item of the batch answers this request: %w", ErrConflict)
	// ErrUnauthorized (401): creating a request under a policy that is not
	// public needs the configured bearer token, and reading a result needs
	// the request's result token.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrRateLimited (429): too many requests (or batch items) from this
	// client.
	ErrRateLimited = errors.New("rate limit exceeded")
	// ErrQuotaExceeded (429): the client already holds as many open
	// requests of public policies as Options.PublicQuota allows.
	ErrQuotaExceeded = errors.New("request quota exceeded")
	// ErrIssuers (503): the active issuers of a kind could not be listed.
	ErrIssuers = fmt.Errorf("issuer list unavailable: %w", ErrUnavailable)
	// ErrStoreFull (503): the verifier stores Options.MaxRequests requests
	// and takes no more until some expire.
	ErrStoreFull = fmt.Errorf("request store full: %w", ErrUnavailable)
)

// errorCodes maps sentinels, most specific first, to HTTP status and code.
var errorCodes = []struct {
	err    error
	status int
	code   string
}{
	{ErrBodyTooLarge, http.StatusRequestEntityTooLarge, wire.CodeBodyTooLarge},
	{wire.ErrMalformed, http.StatusBadRequest, wire.CodeMalformed},
	{ErrUnknownRequest, http.StatusNotFound, wire.CodeUnknownRequest},
	{ErrUnknownPolicy, http.StatusNotFound, wire.CodeUnknownPolicy},
	{ErrRequestExpired, http.StatusGone, wire.CodeRequestExpired},
	{ErrUnknownRoot, http.StatusUnprocessableEntity, wire.CodeUnknownRoot},
	{ErrRootTooOld, http.StatusUnprocessableEntity, wire.CodeRootTooOld},
	{ErrRootHeight, http.StatusUnprocessableEntity, wire.CodeRootHeight},
	{ErrWrongRequest, http.StatusUnprocessableEntity, wire.CodeWrongRequest},
	{ErrDisclosure, http.StatusUnprocessableEntity, wire.CodeDisclosure},
	{ErrNullifierForm, http.StatusUnprocessableEntity, wire.CodeNullifierForm},
	{ErrProofInvalid, http.StatusUnprocessableEntity, wire.CodeProofInvalid},
	{ErrReplay, http.StatusConflict, wire.CodeReplay},
	{ErrNonceUsed, http.StatusConflict, wire.CodeNonceUsed},
	{ErrNullifierSeen, http.StatusConflict, wire.CodeNullifierSeen},
	{ErrDuplicateRequest, http.StatusConflict, wire.CodeDuplicateRequest},
	{ErrRateLimited, http.StatusTooManyRequests, wire.CodeRateLimited},
	{ErrQuotaExceeded, http.StatusTooManyRequests, wire.CodeQuotaExceeded},
	{ErrUnauthorized, http.StatusUnauthorized, wire.CodeUnauthorized},
	{ErrIssuers, http.StatusServiceUnavailable, wire.CodeIssuersUnavailable},
	{ErrStoreFull, http.StatusServiceUnavailable, wire.CodeStoreFull},
	{ErrBadInput, http.StatusBadRequest, wire.CodeBadInput},
	{ErrNotFound, http.StatusNotFound, wire.CodeNotFound},
	{ErrGone, http.StatusGone, wire.CodeGone},
	{ErrInvalidPresentation, http.StatusUnprocessableEntity, wire.CodeInvalidPresentation},
	{ErrConflict, http.StatusConflict, wire.CodeConflict},
	{ErrUnavailable, http.StatusServiceUnavailable, wire.CodeUnavailable},
}

// Code returns the HTTP status and machine-readable code of err; ok is false
// for an error that wraps none of the verifier's sentinels.
func Code(err error) (status int, code string, ok bool) {
	for _, e := range errorCodes {
		if errors.Is(err, e.err) {
			return e.status, e.code, true
		}
	}
	return http.StatusInternalServerError, wire.CodeInternal, false
}
