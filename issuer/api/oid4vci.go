package api

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/strictjson"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/issuer/store"
	"github.com/zkcred/zkcred/wire"
)

// OpenID4VCI 1.0 (docs/openid.md): the credential issuer of the issuer's
// schemas, the pre-authorized-code grant over its claim offers, a nonce
// endpoint and a credential endpoint taking the holder's Groth16 proof of
// its secret bound to a c_nonce.
const (
	// CredentialFormat is the format of the credentials issued over
	// OpenID4VCI: the zkcred bundle (a W3C VC 2.0 with its eddsa-jcs-2022
	// proof, and the opening of its commitment that only the holder keeps).
	CredentialFormat = "zkcred_bundle"
	// ProofType is the key proof type of the credential endpoint.
	ProofType = "zkcred_holder_groth16"
	// BindingMethod names the holder binding: a holder commitment.
	BindingMethod = "zkcred_holder_commitment"

	accessTokenTTL = 5 * time.Minute
	cNonceTTL      = 5 * time.Minute
	maxTxAttempts  = 5
	maxVCIState    = 100_000
)

// vciState guards the OpenID4VCI state, which lives in the issuer's
// store (store.VCIGrant and friends: redeemed codes, wrong tx_codes,
// access tokens, c_nonces), so that a restart forgets nothing: a code
// redeemed before it stays redeemed, and tokens and nonces stay valid
// until they expire. The mutex makes each check-and-update one step
// within this process; expired entries are dropped at most once per
// sweepEvery.
type vciState struct {
	mu     sync.Mutex
	st     *store.Store
	nonces int       // c_nonces open at the last sweep, plus those made since
	swept  time.Time // when the last sweep ran
}

const sweepEvery = time.Minute

func newVCIState(st *store.Store) *vciState { return &vciState{st: st} }

// sweep drops expired entries (called with mu held) when the last sweep
// is sweepEvery old (or now is before it: a clock set back).
func (v *vciState) sweep(now time.Time) error {
	if !v.swept.IsZero() && now.Sub(v.swept) < sweepEvery && !now.Before(v.swept) {
		return nil
	}
	_, n, err := v.st.DropExpiredVCI(now)
	if err != nil {
		return err
	}
	v.nonces, v.swept = n, now
	return nil
}

func random32() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// oauthError is an OAuth 2.0 / OpenID4VCI error answer; code repeats it
// as the API's own error code.
type oauthError struct {
	status      int
	Err         string `json:"error"`
	Description string `json:"error_description"`
	Code        string `json:"code"`
}

func (e *oauthError) Error() string { return e.Err + ": " + e.Description }

func oerr(status int, code, format string, a ...any) *oauthError {
	return &oauthError{status: status, Err: code, Code: code, Description: fmt.Sprintf(format, a...)}
}

func (s *server) vciAnswer(c echo.Context, err error) error {
	var oe *oauthError
	if !errors.As(err, &oe) {
		st, name := status(err)
		if st >= 500 {
			s.opts.Logger.Error("issuer API", "route", c.Path(), "status", st, "err", err)
			return c.JSON(st, &oauthError{Err: "server_error", Description: "internal error", Code: name})
		}
		return c.JSON(st, &oauthError{Err: "invalid_request", Description: err.Error(), Code: name})
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	if oe.status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer error="`+oe.Err+`"`)
	}
	return c.JSON(oe.status, oe)
}

func (s *server) base() string { return s.is.CredentialIssuer() }

// issuerMetadata answers /.well-known/openid-credential-issuer.
func (s *server) issuerMetadata(c echo.Context) error {
	ss, err := s.is.Schemas()
	if err != nil {
		return err
	}
	cfgs := map[string]any{}
	for _, sc := range ss {
		claims := make([]map[string]any, 0, len(sc.Attributes))
		for _, a := range sc.Attributes {
			name := a.Display
			if name == "" {
				name = a.Name
			}
			claims = append(claims, map[string]any{"path": []string{a.Name}, "display": []map[string]string{{"name": name, "locale": "en"}}})
		}
		cfgs[issuer.ConfigurationID(sc.Name)] = map[string]any{
			"format":    CredentialFormat,
			"schema_id": circuits.Dec(sc.ID()),
			"cryptographic_binding_methods_supported": []string{BindingMethod},
			"credential_signing_alg_values_supported": []string{"eddsa-jcs-2022"},
			"proof_types_supported":                   map[string]any{ProofType: map[string]any{"proof_signing_alg_values_supported": []string{"groth16-bn254"}}},
			"credential_metadata": map[string]any{
				"display": []map[string]string{{"name": sc.Name, "locale": "en"}},
				"claims":  claims,
			},
		}
	}
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.JSON(http.StatusOK, map[string]any{
		"credential_issuer":                   s.base(),
		"credential_endpoint":                 s.base() + "/v1/oid4vci/credential",
		"nonce_endpoint":                      s.base() + "/v1/oid4vci/nonce",
		"display":                             []map[string]string{{"name": s.is.DID(), "locale": "en"}},
		"credential_configurations_supported": cfgs,
	})
}

// authServerMetadata answers /.well-known/oauth-authorization-server: the
// issuer is its own authorization server, for the pre-authorized code.
func (s *server) authServerMetadata(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{
		"issuer":                s.base(),
		"token_endpoint":        s.base() + "/v1/oid4vci/token",
		"grant_types_supported": []string{issuer.GrantPreAuthorizedCode},
		"pre-authorized_grant_anonymous_access_supported": true,
		"response_types_supported":                        []string{},
	})
}

// offerByReference answers a credential_offer_uri.
func (s *server) offerByReference(c echo.Context) error {
	code := c.Param("code")
	id, tok, _, err := s.is.OpenPreAuthorizedCode(code)
	if err != nil {
		return fmt.Errorf("%w: no such offer", issuer.ErrNotFound)
	}
	v, err := s.is.OfferView(id, tok)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, s.is.NewCredentialOffer(code, issuer.ConfigurationID(v.Schema.Name)))
}

// formOf reads a form-encoded body (OAuth endpoints).
func (s *server) formOf(c echo.Context) (url.Values, error) {
	if mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); mt != echo.MIMEApplicationForm {
		return nil, oerr(http.StatusUnsupportedMediaType, "invalid_request", "send the body as application/x-www-form-urlencoded")
	}
	if err := c.Request().ParseForm(); err != nil {
		return nil, oerr(http.StatusBadRequest, "invalid_request", "the body is not form-encoded: %v", err)
	}
	for k, vs := range c.Request().PostForm {
		if len(vs) > 1 {
			return nil, oerr(http.StatusBadRequest, "invalid_request", "parameter %s given %d times", k, len(vs))
		}
	}
	return c.Request().PostForm, nil
}

// token is the token endpoint: the pre-authorized code (and tx_code) for
// an access token. Unknown parameters are ignored.
func (s *server) token(c echo.Context) error {
	f, err := s.formOf(c)
	if err != nil {
		return s.vciAnswer(c, err)
	}
	if gt := f.Get("grant_type"); gt != issuer.GrantPreAuthorizedCode {
		return s.vciAnswer(c, oerr(http.StatusBadRequest, "unsupported_grant_type", "grant_type %q: this issuer grants %s only", truncate(gt), issuer.GrantPreAuthorizedCode))
	}
	code := f.Get("pre-authorized_code")
	if code == "" {
		return s.vciAnswer(c, oerr(http.StatusBadRequest, "invalid_request", "pre-authorized_code is required"))
	}
	id, tok, needTx, err := s.is.OpenPreAuthorizedCode(code)
	if err != nil {
		return s.vciAnswer(c, oerr(http.StatusBadRequest, "invalid_grant", "the pre-authorized code is not one this issuer made"))
	}
	view, err := s.is.OfferView(id, tok)
	if err != nil {
		return s.vciAnswer(c, oerr(http.StatusBadRequest, "invalid_grant", "the offer of this code cannot be claimed: %v", err))
	}
	now := s.is.Now()
	// a used code and counted tries are kept as long as the offer lives,
	// to the nanosecond (both expire once now is after it)
	offerExp := view.ExpiresAt
	v := s.vci
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.sweep(now); err != nil {
		return err
	}
	at := random32()
	var answer error
	err = s.is.Store().Update(func(t *store.Txn) error {
		answer = nil
		used, err := t.VCICodeUsed(code, now)
		if err != nil {
			return err
		}
		if used {
			answer = oerr(http.StatusBadRequest, "invalid_grant", "the pre-authorized code was already used")
			return nil
		}
		tries, err := t.VCITries(id, now)
		if err != nil {
			return err
		}
		tx := f.Get("tx_code")
		switch {
		case needTx && tx == "":
			answer = oerr(http.StatusBadRequest, "invalid_request", "this offer needs its tx_code (the PIN sent separately)")
			return nil
		case !needTx && tx != "":
			answer = oerr(http.StatusBadRequest, "invalid_request", "this offer has no tx_code")
			return nil
		case needTx && tries >= maxTxAttempts:
			answer = oerr(http.StatusBadRequest, "invalid_grant", "too many wrong tx_codes for this offer: ask the issuer for a new one")
			return nil
		case needTx && !s.is.CheckTxCode(id, tx):
			answer = oerr(http.StatusBadRequest, "invalid_grant", "wrong tx_code (%d of %d tries left)", maxTxAttempts-tries-1, maxTxAttempts)
			return t.SetVCITries(id, tries+1, offerExp)
		}
		if err := t.UseVCICode(code, offerExp); err != nil {
			return err
		}
		return t.PutVCIToken(at, store.VCIGrant{OfferID: id, OfferToken: tok}, now.Add(accessTokenTTL))
	})
	if err != nil {
		return err
	}
	if answer != nil {
		return s.vciAnswer(c, answer)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": int(accessTokenTTL / time.Second)})
}

// nonce is the nonce endpoint: a fresh c_nonce, single use.
func (s *server) nonce(c echo.Context) error {
	n := random32()
	now := s.is.Now()
	v := s.vci
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.sweep(now); err != nil {
		return err
	}
	if v.nonces >= maxVCIState {
		return s.vciAnswer(c, oerr(http.StatusServiceUnavailable, "temporarily_unavailable", "too many open nonces; try again shortly"))
	}
	if err := s.is.Store().Update(func(t *store.Txn) error { return t.PutVCINonce(n, now.Add(cNonceTTL)) }); err != nil {
		return err
	}
	v.nonces++
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]string{"c_nonce": n})
}

// CredentialRequest is the body of the credential endpoint (unknown
// members ignored, as OpenID4VCI asks).
type CredentialRequest struct {
	CredentialConfigurationID string                       `json:"credential_configuration_id"`
	Proofs                    map[string][]json.RawMessage `json:"proofs"`
}

// HolderProof is one proof of type zkcred_holder_groth16: the holder
// commitment, the c_nonce it is bound to, and the Groth16 proof (base64)
// of the holder circuit for (holder_commitment,
// wire.CredentialNonceChallenge(credential_issuer, nonce)). Strict.
type HolderProof struct {
	HolderCommitment circuits.Field `json:"holder_commitment"`
	Nonce            string         `json:"nonce"`
	Proof            string         `json:"proof"`
}

// credential is the credential endpoint.
func (s *server) credential(c echo.Context) error {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	at, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || at == "" {
		return s.vciAnswer(c, oerr(http.StatusUnauthorized, "invalid_token", "send the access token of the token endpoint as Authorization: Bearer <token>"))
	}
	v := s.vci
	var g *store.VCIGrant
	err := s.is.Store().View(func(t *store.Txn) (err error) { g, err = t.VCIToken(at, s.is.Now()); return })
	if err != nil {
		return err
	}
	if g == nil {
		return s.vciAnswer(c, oerr(http.StatusUnauthorized, "invalid_token", "unknown or expired access token"))
	}
	var body json.RawMessage
	if err := s.bind(c, &body); err != nil {
		return s.vciAnswer(c, err)
	}
	var req CredentialRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return s.vciAnswer(c, oerr(http.StatusBadRequest, "invalid_credential_request", "%v", err))
	}
	view, err := s.is.OfferView(g.OfferID, g.OfferToken)
	if err != nil {
		return s.vciAnswer(c, err)
	}
	if want := issuer.ConfigurationID(view.Schema.Name); req.CredentialConfigurationID != want {
		return s.vciAnswer(c, oerr(http.StatusBadRequest, "unknown_credential_configuration", "credential_configuration_id %q: this access token is for %q", truncate(req.CredentialConfigurationID), want))
	}
	proofs := req.Proofs[ProofType]
	if len(req.Proofs) != 1 || len(proofs) != 1 {
		return s.vciAnswer(c, oerr(http.StatusBadRequest, "invalid_proof", "proofs must hold exactly one proof of type %s", ProofType))
	}
	var p HolderProof
	if err := strictjson.Unmarshal(proofs[0], &p); err != nil {
		return s.vciAnswer(c, oerr(http.StatusBadRequest, "invalid_proof", "%s proof: %s", ProofType, strictjson.Describe(err)))
	}
	proof, err := base64.StdEncoding.DecodeString(p.Proof)
	if err != nil || len(proof) == 0 {
		return s.vciAnswer(c, oerr(http.StatusBadRequest, "invalid_proof", "proof is not base64"))
	}
	// The c_nonce is used up before the proof is checked, whatever the
	// outcome.
	v.mu.Lock()
	var fresh bool
	err = s.is.Store().Update(func(t *store.Txn) (err error) { fresh, err = t.TakeVCINonce(p.Nonce, s.is.Now()); return })
	v.mu.Unlock()
	if err != nil {
		return err
	}
	if !fresh {
		return s.vciAnswer(c, oerr(http.StatusBadRequest, "invalid_nonce", "the proof's nonce is not a fresh c_nonce of this issuer: get one from the nonce endpoint"))
	}
	b, again, err := s.is.ClaimBound(c.Request().Context(), g.OfferID, g.OfferToken, p.HolderCommitment.El(), wire.CredentialNonceChallenge(s.base(), p.Nonce), proof)
	s.metrics.claim(again, err)
	if errors.Is(err, issuer.ErrHolderProof) {
		return s.vciAnswer(c, oerr(http.StatusBadRequest, "invalid_proof", "%v", err))
	}
	if err != nil {
		return s.vciAnswer(c, err)
	}
	bj, err := b.Encode()
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"credentials": []map[string]json.RawMessage{{"credential": bj}}})
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}
