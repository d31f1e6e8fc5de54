package registry

import (
	"errors"
	"fmt"
)

// Error groups. Every error of this package wraps exactly one of them; the
// HTTP API maps the group to a status code.
var (
	// ErrInvalidTx marks a transaction that cannot be decoded or is not well
	// formed (HTTP 400).
	ErrInvalidTx = errors.New("invalid transaction")
	// ErrForbidden marks a transaction whose signer may not do what it asks
	// (HTTP 403).
	ErrForbidden = errors.New("not authorised")
	// ErrConflict marks a transaction that contradicts the state: a replayed
	// nonce, a second registration, a leaf already revoked (HTTP 409).
	ErrConflict = errors.New("conflict with registry state")
	// ErrNotFound marks a lookup of something the registry does not hold
	// (HTTP 404).
	ErrNotFound = errors.New("not found")
	// ErrTooLarge marks a transaction beyond the size limits (HTTP 413).
	ErrTooLarge = errors.New("too large")
)

// Specific errors.
var (
	ErrMalformed      = fmt.Errorf("malformed transaction: %w", ErrInvalidTx)                                                                        // 400
	ErrBadSignature   = fmt.Errorf("bad signature: %w", ErrForbidden)                                                                                // 403
	ErrNotGovernance  = fmt.Errorf("signer is not a governance key: %w", ErrForbidden)                                                               // 403
	ErrUnknownIssuer  = fmt.Errorf("signer is not a registered issuer: %w", ErrForbidden)                                                            // 403
	ErrIssuerInactive = fmt.Errorf("issuer is deactivated: %w", ErrForbidden)                                                                        // 403
	ErrNotLeafOwner   = fmt.Errorf("leaf was not anchored by this issuer with this commitment: %w", ErrForbidden)                                    // 403
	ErrBelowThreshold = fmt.Errorf("governance transaction below the governance threshold: %w", ErrForbidden)                                        // 403
	ErrIssuerActive   = fmt.Errorf("issuer is active (it revokes its own leaves; governance revokes only a deactivated issuer's): %w", ErrForbidden) // 403
	ErrNotAccredited  = fmt.Errorf("accreditor is not accredited for this issuer kind: %w", ErrForbidden)                                            // 403
	ErrWithdrawn      = fmt.Errorf("accreditation withdrawn: %w", ErrForbidden)                                                                      // 403
	ErrReplay         = fmt.Errorf("nonce not above the signer's last nonce (replay): %w", ErrConflict)                                              // 409
	ErrIssuerExists   = fmt.Errorf("issuer already registered: %w", ErrConflict)                                                                     // 409
	ErrSchemaExists   = fmt.Errorf("schema already published: %w", ErrConflict)                                                                      // 409
	ErrAlreadyRevoked = fmt.Errorf("leaf already revoked: %w", ErrConflict)                                                                          // 409
	ErrTreeFull       = fmt.Errorf("tree is full: %w", ErrConflict)                                                                                  // 409
	ErrDIDWebBound    = fmt.Errorf("did:web is bound to another issuer: %w", ErrConflict)                                                            // 409
	ErrTxTooLarge     = fmt.Errorf("transaction: %w", ErrTooLarge)                                                                                   // 413
)

// malformed returns an ErrMalformed naming the problem.
func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, a...))
}
