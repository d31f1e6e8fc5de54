package oid4vp

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/go-jose/go-jose/v4"

	"github.com/zkcred/zkcred/wire"
)

// ResponseModeJWT is the response mode whose response is encrypted to the
// verifier (OpenID4VP 1.0, direct_post.jwt): a JWE posted as response.
const ResponseModeJWT = "direct_post.jwt"

// Response encryption: ECDH-ES on P-256 with A128GCM content encryption
// (the specification's default enc).
const (
	EncryptionAlg = "ECDH-ES"
	EncryptionEnc = "A128GCM"
)

// ErrEncryption is an encrypted response that cannot be made or opened.
var ErrEncryption = errors.New("encrypted response")

// EncryptionKey derives the verifier's response encryption key (P-256)
// from its Ed25519 signing key, so that it stays the same across restarts
// without a key file of its own.
func EncryptionKey(signing ed25519.PrivateKey) (*ecdsa.PrivateKey, error) {
	for i := byte(0); i < 16; i++ {
		h := sha256.Sum256(append([]byte("zkcred/oid4vp/response-encryption/v1\x00"+string(signing.Seed())), i))
		if k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), h[:]); err == nil {
			return k, nil
		}
	}
	return nil, errors.New("oid4vp: no P-256 key derived") // probability about 2^-512
}

// EncryptionJWK is the public JWK of a response encryption key, for
// client_metadata.jwks.
func EncryptionJWK(k *ecdsa.PrivateKey, kid string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: EncryptionAlg, Use: "enc"}
}

// encryptionKey returns the verifier's encryption key from the request's
// client_metadata: the one JWK with use enc and alg ECDH-ES on P-256.
func (ar *AuthorizationRequest) encryptionKey() (*jose.JSONWebKey, error) {
	if ar.ClientMetadata == nil || ar.ClientMetadata.JWKS == nil {
		return nil, fmt.Errorf("%w: response_mode %s but client_metadata has no jwks", ErrRequest, ResponseModeJWT)
	}
	// Absent, the list means A128GCM (OpenID4VP 1.0, client metadata).
	if encs := ar.ClientMetadata.EncryptedResponseEncValues; len(encs) > 0 && !slices.Contains(encs, EncryptionEnc) {
		return nil, fmt.Errorf("%w: the verifier takes encrypted responses in %v only; this wallet encrypts with %s", ErrRequest, encs, EncryptionEnc)
	}
	for i := range ar.ClientMetadata.JWKS.Keys {
		k := &ar.ClientMetadata.JWKS.Keys[i]
		pub, ok := k.Key.(*ecdsa.PublicKey)
		if ok && k.Use == "enc" && k.Algorithm == EncryptionAlg && pub.Curve == elliptic.P256() {
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w: client_metadata.jwks has no %s P-256 encryption key", ErrRequest, EncryptionAlg)
}

// EncryptedResponseForm is the body of a direct_post.jwt response: the
// JWE (ECDH-ES, A128GCM, kid of the verifier's key) of {"vp_token",
// "state"}, posted as response.
func EncryptedResponseForm(ar *AuthorizationRequest, p *wire.Presentation) (url.Values, error) {
	key, err := ar.encryptionKey()
	if err != nil {
		return nil, err
	}
	payload, err := marshal(map[string]any{"vp_token": map[string][]*wire.Presentation{CredentialQueryID: {p}}, "state": ar.State})
	if err != nil {
		return nil, err
	}
	enc, err := jose.NewEncrypter(EncryptionEnc, jose.Recipient{Algorithm: EncryptionAlg, Key: key.Key, KeyID: key.KeyID}, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEncryption, err)
	}
	jwe, err := enc.Encrypt(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEncryption, err)
	}
	s, err := jwe.CompactSerialize()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEncryption, err)
	}
	return url.Values{"response": {s}}, nil
}

// DecryptResponse opens a direct_post.jwt body (response=<JWE>) with the
// verifier's key and returns the response parameters it holds, as a plain
// direct_post body would carry them (vp_token as its JSON text).
func DecryptResponse(form url.Values, key *ecdsa.PrivateKey) (url.Values, error) {
	if len(form["response"]) != 1 {
		return nil, fmt.Errorf("%w: %w: want one response parameter (response_mode %s)", wire.ErrMalformed, ErrEncryption, ResponseModeJWT)
	}
	jwe, err := jose.ParseEncrypted(form.Get("response"), []jose.KeyAlgorithm{EncryptionAlg}, []jose.ContentEncryption{EncryptionEnc})
	if err != nil {
		return nil, fmt.Errorf("%w: %w: %v", wire.ErrMalformed, ErrEncryption, err)
	}
	b, err := jwe.Decrypt(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w: does not decrypt with this verifier's key", wire.ErrMalformed, ErrEncryption)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %w: payload is not a JSON object", wire.ErrMalformed, ErrEncryption)
	}
	out := url.Values{}
	for k, v := range m {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out.Set(k, s) // state, error, error_description
		} else {
			out.Set(k, string(v)) // vp_token: an object
		}
	}
	return out, nil
}
