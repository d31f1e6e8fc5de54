package wire

import (
	"errors"
	"fmt"

	"github.com/zkcred/zkcred/internal/strictjson"
)

// ErrMalformed is wrapped by every reason a document is not a valid one of
// its kind (bad JSON, unknown fields, trailing data, out-of-range slots or
// kinds, a missing request ID, an oversize proof). Services answer it with
// HTTP 400 and code CodeMalformed.
var ErrMalformed = errors.New("malformed")

// Error is the body of every error answer of the issuer and verifier APIs:
// a message for people and a code for programs. Field names the offending
// subject attribute where there is one (issuer, code CodeInvalidField).
type Error struct {
	Error string `json:"error"`
	Code  string `json:"code"`
	Field string `json:"field,omitempty"`
}

// Error codes. Each names the HTTP status it travels with. A Result of
// status StatusRejected carries one of the verifier's codes too.
const (
	// Shared by both services.
	CodeInternal     = "internal"     // 500
	CodeUnauthorized = "unauthorized" // 401: missing or wrong bearer token
	CodeNotFound     = "not_found"    // 404

	// Verifier.
	CodeBodyTooLarge        = "body_too_large"       // 413
	CodeMalformed           = "malformed"            // 400: ErrMalformed
	CodeBadInput            = "bad_input"            // 400
	CodeUnknownRequest      = "unknown_request"      // 404
	CodeUnknownPolicy       = "unknown_policy"       // 404
	CodeGone                = "gone"                 // 410
	CodeRequestExpired      = "request_expired"      // 410
	CodeInvalidPresentation = "invalid_presentation" // 422
	CodeUnknownRoot         = "unknown_root"         // 422: not a root the verifier's light client verified
	CodeRootTooOld          = "root_too_old"         // 422: older than the policy's maxRootAge
	CodeRootHeight          = "root_height_mismatch" // 422
	CodeWrongRequest        = "wrong_request"        // 422: answers another request
	CodeDisclosure          = "disclosure_mismatch"  // 422
	CodeNullifierForm       = "nullifier_mismatch"   // 422
	CodeProofInvalid        = "proof_invalid"        // 422: the Groth16 proof does not verify
	CodeConflict            = "conflict"             // 409
	CodeReplay              = "replay"               // 409
	CodeNonceUsed           = "nonce_used"           // 409
	CodeNullifierSeen       = "nullifier_seen"       // 409
	CodeDuplicateRequest    = "duplicate_request"    // 409: another item of the batch answers the same request
	CodeRateLimited         = "rate_limited"         // 429
	CodeQuotaExceeded       = "quota_exceeded"       // 429: the client holds as many open requests as it may
	CodeUnavailable         = "unavailable"          // 503
	CodeIssuersUnavailable  = "issuers_unavailable"  // 503
	CodeStoreFull           = "store_full"           // 503: the verifier holds as many requests as it may store

	// Issuer.
	CodeBadRequest     = "bad_request"     // 400
	CodeWrongToken     = "wrong_token"     // 403: the offer link's token is wrong
	CodeAlreadyClaimed = "already_claimed" // 409
	CodeOfferExpired   = "offer_expired"   // 410
	CodeHolderProof    = "holder_proof"    // 422: the holder's proof of knowledge does not verify
	CodeInvalidField   = "invalid_field"   // 422: Field names the attribute
	CodeInvalidSubject = "invalid_subject" // 422
	CodeCannotRevoke   = "cannot_revoke"   // 422
	CodeClaimsDisabled = "claims_disabled" // 503
	CodeChain          = "chain"           // 502: the registry did not answer
)

// decode decodes exactly one JSON value from b into v, rejecting unknown
// fields and trailing data. Errors wrap ErrMalformed.
func decode(b []byte, v any) error {
	if err := strictjson.Unmarshal(b, v); err != nil {
		if errors.Is(err, strictjson.ErrTrailing) {
			return fmt.Errorf("%w: trailing data after the JSON value", ErrMalformed)
		}
		return fmt.Errorf("%w: %v", ErrMalformed, strictjson.Describe(err))
	}
	return nil
}
