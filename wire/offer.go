package wire

import (
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
)

// OfferView is what a holder sees of an offer before claiming it
// (GET /v1/offers/{id}?token=…).
type OfferView struct {
	ID         string           `json:"id"`
	Issuer     string           `json:"issuer"`
	Schema     *circuits.Schema `json:"schema"`
	SchemaID   string           `json:"schemaId"`
	Display    []DisplayField   `json:"display"`
	ValidUntil string           `json:"validUntil,omitempty"`
	Expires    string           `json:"expires"`
	// ExpiresAt is Expires to the nanosecond, for the issuer's own
	// endpoints (RFC 3339 in Expires drops the fraction); it is not sent.
	ExpiresAt time.Time `json:"-"`
	Challenge string    `json:"challenge"` // ClaimChallenge(id, token)
	// Claimed says that a holder has claimed the offer: only that holder
	// (the same holder commitment, with a new proof) can claim it again,
	// and receives the same credential.
	Claimed bool `json:"claimed,omitempty"`
}

// DisplayField is one attribute as a person reads it.
type DisplayField struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	Value any    `json:"value"`
}

// ClaimBody is what a holder posts to claim an offer
// (POST /v1/offers/{id}/claim).
type ClaimBody struct {
	Token            string         `json:"token"`
	HolderCommitment circuits.Field `json:"holderCommitment"`
	Proof            string         `json:"proof"` // base64 (standard) of the proof bytes
}

// ClaimChallenge is the challenge a holder's proof of knowledge binds to
// when claiming an offer: H(TagBytes, "zkcred/claim/v1" 0 offerID 0 token).
// Binding the token keeps a proof seen for one offer useless for another.
func ClaimChallenge(offerID, token string) fr.Element {
	return circuits.HashBytes(circuits.TagBytes, []byte("zkcred/claim/v1\x00"+offerID+"\x00"+token))
}

// CredentialNonceChallenge is the challenge of the holder's proof in an
// OpenID4VCI credential request (proof type zkcred_holder_groth16):
// H(TagBytes, "zkcred/oid4vci/v1" 0 credentialIssuer 0 cNonce). It binds
// the proof to one c_nonce of one issuer.
func CredentialNonceChallenge(credentialIssuer, cNonce string) fr.Element {
	return circuits.HashBytes(circuits.TagBytes, []byte("zkcred/oid4vci/v1\x00"+credentialIssuer+"\x00"+cNonce))
}
