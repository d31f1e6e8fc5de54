package issuer

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// OpenID4VCI 1.0 (docs/openid.md): a claim link is a credential offer with
// the pre-authorized-code grant.
const (
	// GrantPreAuthorizedCode is the grant type of the pre-authorized code.
	GrantPreAuthorizedCode = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
	// OfferScheme invokes a wallet with a credential offer.
	OfferScheme = "openid-credential-offer"
	// TxCodeLength is the number of digits of a tx_code.
	TxCodeLength = 6
)

// ErrPreAuthorizedCode is a pre-authorized code this issuer did not make
// (or that was changed), HTTP 400 invalid_grant.
var ErrPreAuthorizedCode = errors.New("not a pre-authorized code of this issuer")

// oid4vciKey is the issuer's MAC key for pre-authorized codes and
// tx_codes, derived from its signing key, so that every process holding
// the key (issue-batch, serve) makes and checks the same codes and
// nothing more has to be stored.
func (is *Issuer) oid4vciKey() []byte {
	h := sha256.New()
	h.Write([]byte("zkcred/oid4vci/code-key/v1\x00"))
	h.Write(is.key.Signer().Seed())
	return h.Sum(nil)
}

func (is *Issuer) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, is.oid4vciKey())
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// PreAuthorizedCode returns the pre-authorized code of an offer: its id and
// token, whether a tx_code is required, and a MAC over the three, so that
// the requirement cannot be stripped:
// id "." token "." ("0"|"1") "." base64url(HMAC)[:22].
func (is *Issuer) PreAuthorizedCode(l *OfferLink, txCode bool) string {
	flag := "0"
	if txCode {
		flag = "1"
	}
	m := base64.RawURLEncoding.EncodeToString(is.mac("code", l.ID, l.Token, flag))[:22]
	return l.ID + "." + l.Token + "." + flag + "." + m
}

// TxCode returns the tx_code (a PIN of TxCodeLength digits) of an offer,
// which reaches the holder by another channel than the offer.
func (is *Issuer) TxCode(offerID string) string {
	n := binary.BigEndian.Uint64(is.mac("tx_code", offerID)[:8]) % 1_000_000
	return fmt.Sprintf("%06d", n)
}

// OpenPreAuthorizedCode checks a pre-authorized code's MAC and returns the
// offer id and token it names and whether it needs a tx_code.
func (is *Issuer) OpenPreAuthorizedCode(code string) (id, token string, txCode bool, err error) {
	parts := strings.Split(code, ".")
	if len(parts) != 4 || (parts[2] != "0" && parts[2] != "1") {
		return "", "", false, ErrPreAuthorizedCode
	}
	want := base64.RawURLEncoding.EncodeToString(is.mac("code", parts[0], parts[1], parts[2]))[:22]
	if subtle.ConstantTimeCompare([]byte(want), []byte(parts[3])) != 1 {
		return "", "", false, ErrPreAuthorizedCode
	}
	return parts[0], parts[1], parts[2] == "1", nil
}

// CheckTxCode compares a tx_code in constant time.
func (is *Issuer) CheckTxCode(offerID, txCode string) bool {
	return subtle.ConstantTimeCompare([]byte(is.TxCode(offerID)), []byte(txCode)) == 1
}

// CredentialOffer is an OpenID4VCI 1.0 credential offer.
type CredentialOffer struct {
	CredentialIssuer           string         `json:"credential_issuer"`
	CredentialConfigurationIDs []string       `json:"credential_configuration_ids"`
	Grants                     map[string]any `json:"grants"`
}

// PreAuthorizedGrant is the grant of a credential offer.
type PreAuthorizedGrant struct {
	Code   string  `json:"pre-authorized_code"`
	TxCode *TxCode `json:"tx_code,omitempty"`
}

// TxCode describes the PIN a holder is asked for.
type TxCode struct {
	InputMode   string `json:"input_mode"`
	Length      int    `json:"length"`
	Description string `json:"description,omitempty"`
}

// CredentialIssuer is the issuer's credential issuer identifier: its
// public URL without a trailing slash.
func (is *Issuer) CredentialIssuer() string { return strings.TrimRight(is.opts.PublicURL, "/") }

// OfferPath is where a credential offer is fetched by reference: + code.
const OfferPath = "/v1/oid4vci/offers/"

// NewCredentialOffer returns the credential offer of a pre-authorized code
// for the configuration of the schema named configID.
func (is *Issuer) NewCredentialOffer(code, configID string) *CredentialOffer {
	g := PreAuthorizedGrant{Code: code}
	if parts := strings.Split(code, "."); len(parts) == 4 && parts[2] == "1" {
		g.TxCode = &TxCode{InputMode: "numeric", Length: TxCodeLength, Description: "the PIN the issuer sent you separately"}
	}
	return &CredentialOffer{
		CredentialIssuer:           is.CredentialIssuer(),
		CredentialConfigurationIDs: []string{configID},
		Grants:                     map[string]any{GrantPreAuthorizedCode: g},
	}
}

// OfferURIs returns the offer's wallet links: by value
// (openid-credential-offer://?credential_offer=…) and by reference
// (…?credential_offer_uri=PublicURL/v1/oid4vci/offers/<code>).
func (is *Issuer) OfferURIs(o *CredentialOffer) (byValue, byReference string, err error) {
	b, err := json.Marshal(o)
	if err != nil {
		return "", "", err
	}
	g, _ := o.Grants[GrantPreAuthorizedCode].(PreAuthorizedGrant)
	byValue = OfferScheme + "://?" + url.Values{"credential_offer": {string(b)}}.Encode()
	byReference = OfferScheme + "://?" + url.Values{"credential_offer_uri": {is.CredentialIssuer() + OfferPath + url.PathEscape(g.Code)}}.Encode()
	return byValue, byReference, nil
}

// ConfigurationID is the credential configuration id of a schema: its
// name.
func ConfigurationID(schemaName string) string { return schemaName }
