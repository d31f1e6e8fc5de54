package wallet

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/wire"
)

// OpenID4VCI 1.0 names the wallet uses (docs/openid.md).
const (
	offerScheme            = "openid-credential-offer"
	grantPreAuthorizedCode = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
	credentialFormat       = "zkcred_bundle"
	holderProofType        = "zkcred_holder_groth16"
)

// ErrTxCode is an offer that needs a tx_code (a PIN the issuer sends by
// another channel) that was not given.
var ErrTxCode = errors.New("this credential offer needs its PIN (tx_code), which the issuer sent you separately")

// IsCredentialOffer reports whether s is an openid-credential-offer:// link.
func IsCredentialOffer(s string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), offerScheme+":")
}

// CredentialOffer is an OpenID4VCI 1.0 credential offer as the wallet
// reads it.
type CredentialOffer struct {
	CredentialIssuer           string                     `json:"credential_issuer"`
	CredentialConfigurationIDs []string                   `json:"credential_configuration_ids"`
	Grants                     map[string]json.RawMessage `json:"grants"`
	// PreAuthorized is the pre-authorized-code grant.
	PreAuthorized PreAuthorizedGrant `json:"-"`
}

// PreAuthorizedGrant is the pre-authorized-code grant of an offer.
type PreAuthorizedGrant struct {
	Code   string `json:"pre-authorized_code"`
	TxCode *struct {
		InputMode   string `json:"input_mode"`
		Length      int    `json:"length"`
		Description string `json:"description"`
	} `json:"tx_code"`
}

// ParseCredentialOffer reads a credential offer and checks what this
// wallet needs: an http(s) credential_issuer, exactly one credential
// configuration, and the pre-authorized-code grant (the only grant it
// uses). Other members and grants are ignored.
func ParseCredentialOffer(b []byte) (*CredentialOffer, error) {
	var offer CredentialOffer
	if err := json.Unmarshal(b, &offer); err != nil {
		return nil, fmt.Errorf("credential offer: %w", err)
	}
	if !isHTTP(offer.CredentialIssuer) {
		return nil, errors.New("credential offer: credential_issuer is not an http(s) URL")
	}
	if len(offer.CredentialConfigurationIDs) != 1 {
		return nil, fmt.Errorf("credential offer: %d credential configurations; this wallet receives one credential configuration per offer", len(offer.CredentialConfigurationIDs))
	}
	raw, ok := offer.Grants[grantPreAuthorizedCode]
	if !ok || json.Unmarshal(raw, &offer.PreAuthorized) != nil || offer.PreAuthorized.Code == "" {
		return nil, errors.New("credential offer: no pre-authorized code grant (the only grant this wallet uses)")
	}
	return &offer, nil
}

// IssuerMetadata is the credential issuer metadata the wallet reads.
type IssuerMetadata struct {
	CredentialIssuer     string                      `json:"credential_issuer"`
	CredentialEndpoint   string                      `json:"credential_endpoint"`
	NonceEndpoint        string                      `json:"nonce_endpoint"`
	AuthorizationServers []string                    `json:"authorization_servers"`
	Configs              map[string]CredentialConfig `json:"credential_configurations_supported"`
}

// CredentialConfig is one credential configuration of the metadata.
type CredentialConfig struct {
	Format     string `json:"format"`
	ProofTypes map[string]struct {
		Algs []string `json:"proof_signing_alg_values_supported"`
	} `json:"proof_types_supported"`
	CredentialMetadata *struct {
		Display []struct {
			Name string `json:"name"`
		} `json:"display"`
		Claims []struct {
			Path []any `json:"path"`
		} `json:"claims"`
	} `json:"credential_metadata"`
}

// ParseIssuerMetadata reads credential issuer metadata: a credential
// issuer, a credential endpoint and at least one configuration, each with
// a format. Other members are ignored.
func ParseIssuerMetadata(b []byte) (*IssuerMetadata, error) {
	var m IssuerMetadata
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("credential issuer metadata: %w", err)
	}
	if !isHTTP(m.CredentialIssuer) || !isHTTP(m.CredentialEndpoint) || len(m.Configs) == 0 {
		return nil, errors.New("credential issuer metadata: needs credential_issuer, credential_endpoint and credential_configurations_supported")
	}
	for id, c := range m.Configs {
		if c.Format == "" {
			return nil, fmt.Errorf("credential issuer metadata: configuration %q has no format", id)
		}
	}
	return &m, nil
}

// ReceiveOffer receives a credential through OpenID4VCI 1.0: it reads the
// credential offer (by value, or by reference from its
// credential_offer_uri), the issuer's metadata and its authorization
// server's, redeems the pre-authorized code (with txCode when the offer
// asks for one) at the token endpoint, gets a c_nonce, proves knowledge of
// the holder secret bound to it (proof type zkcred_holder_groth16), and
// stores the credential the credential endpoint answers after the checks
// of Receive. keys are the circuit keys (the holder circuit's prover).
func (w *Wallet) ReceiveOffer(ctx context.Context, link, txCode string, keys *circuits.Keys) (*Entry, error) {
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil || !IsCredentialOffer(link) {
		return nil, fmt.Errorf("%q is not an %s:// link", truncate(link), offerScheme)
	}
	q := u.Query()
	var ob []byte
	switch byValue, byRef := q.Get("credential_offer"), q.Get("credential_offer_uri"); {
	case byValue != "" && byRef == "":
		ob = []byte(byValue)
	case byRef != "" && byValue == "":
		if !isHTTP(byRef) {
			return nil, fmt.Errorf("credential_offer_uri %q is not an http(s) URL", truncate(byRef))
		}
		if ob, err = w.httpDo(ctx, http.MethodGet, byRef, nil); err != nil {
			return nil, fmt.Errorf("fetching the credential offer: %w", err)
		}
	default:
		return nil, errors.New("the link needs exactly one of credential_offer and credential_offer_uri")
	}
	offer, err := ParseCredentialOffer(ob)
	if err != nil {
		return nil, err
	}
	grant := offer.PreAuthorized
	if grant.TxCode != nil && txCode == "" {
		return nil, ErrTxCode
	}
	iss := strings.TrimRight(offer.CredentialIssuer, "/")
	// The issuer's metadata, at its own origin.
	mb, err := w.httpDo(ctx, http.MethodGet, wellKnown(iss, "openid-credential-issuer"), nil)
	if err != nil {
		return nil, fmt.Errorf("credential issuer metadata: %w", err)
	}
	meta, err := ParseIssuerMetadata(mb)
	if err != nil {
		return nil, err
	}
	if strings.TrimRight(meta.CredentialIssuer, "/") != iss {
		return nil, fmt.Errorf("credential issuer metadata names %q, the offer %q", meta.CredentialIssuer, iss)
	}
	cfgID := offer.CredentialConfigurationIDs[0]
	cfg, ok := meta.Configs[cfgID]
	if _, proofOK := cfg.ProofTypes[holderProofType]; !ok || cfg.Format != credentialFormat || !proofOK {
		return nil, fmt.Errorf("the issuer does not offer %q as a %s credential with %s proofs", cfgID, credentialFormat, holderProofType)
	}
	for _, ep := range []string{meta.CredentialEndpoint, meta.NonceEndpoint} {
		if err := sameOrigin(ep, mustOrigin(iss)); err != nil {
			return nil, fmt.Errorf("issuer endpoint %q: %v", ep, err)
		}
	}
	as := iss
	if len(meta.AuthorizationServers) > 0 {
		as = strings.TrimRight(meta.AuthorizationServers[0], "/")
	}
	var asMeta struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := w.getJSON(ctx, wellKnown(as, "oauth-authorization-server"), &asMeta); err != nil {
		return nil, fmt.Errorf("authorization server metadata: %w", err)
	}
	if !isHTTP(asMeta.TokenEndpoint) {
		return nil, errors.New("authorization server metadata: no token_endpoint")
	}
	// The pre-authorized code for an access token.
	form := url.Values{"grant_type": {grantPreAuthorizedCode}, "pre-authorized_code": {grant.Code}}
	if grant.TxCode != nil {
		form.Set("tx_code", txCode)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := w.postJSON(ctx, asMeta.TokenEndpoint, "application/x-www-form-urlencoded", []byte(form.Encode()), "", &tok); err != nil {
		return nil, fmt.Errorf("token endpoint: %w", err)
	}
	if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
		return nil, errors.New("token endpoint: no bearer access token")
	}
	var n struct {
		CNonce string `json:"c_nonce"`
	}
	if err := w.postJSON(ctx, meta.NonceEndpoint, "", nil, "", &n); err != nil || n.CNonce == "" {
		return nil, fmt.Errorf("nonce endpoint: no c_nonce (%v)", err)
	}
	proof, err := keys.ProveHolder(w.f.Secret.El(), wire.CredentialNonceChallenge(iss, n.CNonce))
	if err != nil {
		return nil, fmt.Errorf("proving the holder secret: %w", err)
	}
	body, _ := json.Marshal(map[string]any{
		"credential_configuration_id": cfgID,
		"proofs": map[string]any{holderProofType: []any{map[string]any{
			"holder_commitment": w.HolderCommit(), "nonce": n.CNonce, "proof": base64.StdEncoding.EncodeToString(proof),
		}}},
	})
	var cr struct {
		Credentials []struct {
			Credential json.RawMessage `json:"credential"`
		} `json:"credentials"`
	}
	if err := w.postJSON(ctx, meta.CredentialEndpoint, "application/json", body, tok.AccessToken, &cr); err != nil {
		return nil, fmt.Errorf("credential endpoint: %w", err)
	}
	if len(cr.Credentials) != 1 {
		return nil, fmt.Errorf("credential endpoint: %d credentials, want 1", len(cr.Credentials))
	}
	return w.receive(ctx, cr.Credentials[0].Credential, true)
}

func isHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func mustOrigin(s string) string {
	o, _ := wire.Origin(s)
	return o
}

// wellKnown inserts /.well-known/<name> between the host and the path of
// an issuer identifier (RFC 8414, OpenID4VCI section 12.2.2).
func wellKnown(id, name string) string {
	u, err := url.Parse(id)
	if err != nil {
		return id
	}
	u.Path = "/.well-known/" + name + strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String()
}

func (w *Wallet) getJSON(ctx context.Context, u string, v any) error {
	b, err := w.httpDo(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// postJSON posts body (of contentType; none for nil) with an optional
// bearer token and decodes a 200 answer; an error answer is a
// *RemoteError read from OAuth's error object.
func (w *Wallet) postJSON(ctx context.Context, u, contentType string, body []byte, bearer string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := w.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return remoteError(resp.StatusCode, b)
	}
	return json.Unmarshal(b, v)
}
