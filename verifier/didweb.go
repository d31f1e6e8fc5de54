package verifier

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/zkcred/zkcred/internal/didweb"
	"github.com/zkcred/zkcred/internal/oid4vp"
	"github.com/zkcred/zkcred/wire"
)

// ErrNoDID (404): the verifier's audience is not an origin a did:web can
// name (plain http on a host other than loopback), so it publishes no DID
// document and signs no OpenID4VP request objects.
var ErrNoDID = fmt.Errorf("this verifier has no did:web (its audience is not an https origin): %w", ErrNotFound)

// setupDID derives the verifier's did:web from its audience and makes its
// DID document around the signing key (a fresh one when none is given).
func (s *Server) setupDID() error {
	if s.opts.SigningKey == nil {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		s.opts.SigningKey = k
	}
	var err error
	if len(s.opts.SigningKey) != ed25519.PrivateKeySize {
		return fmt.Errorf("verifier: SigningKey is %d bytes, not an ed25519 private key", len(s.opts.SigningKey))
	}
	if s.encKey, err = oid4vp.EncryptionKey(s.opts.SigningKey); err != nil {
		return err
	}
	origin, err := wire.Origin(s.opts.Audience)
	if err != nil {
		return err
	}
	// The verifier's own side allows a loopback http origin; whether to
	// trust one is the wallet's choice (didweb.Resolver.AllowLoopbackHTTP).
	did, err := didweb.FromOrigin(origin, true)
	if err != nil {
		return nil // no did:web: ErrNoDID on the routes that need it
	}
	s.did = did
	s.didDoc = didweb.NewDocument(did, s.opts.SigningKey.Public().(ed25519.PublicKey))
	return nil
}

// DID returns the verifier's did:web ("" when its audience is not an
// https or loopback origin).
func (s *Server) DID() string { return s.did }

// hDIDDocument serves the verifier's did:web document.
func (s *Server) hDIDDocument(c echo.Context) error {
	if s.didDoc == nil {
		return ErrNoDID
	}
	return c.JSON(http.StatusOK, s.didDoc)
}
