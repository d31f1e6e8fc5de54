package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"
)

// OpenID4VCI state: what the token, nonce and credential endpoints hand
// out and use up, kept so that a restart of the issuer forgets nothing. A
// pre-authorized code redeemed before a restart stays redeemed, wrong
// tx_codes stay counted, and access tokens and c_nonces stay valid until
// they expire. Every entry carries its expiry: reads treat an expired one
// as absent, and DropExpiredVCI deletes them. Codes, tokens and nonces are
// stored as SHA-256 hashes, never as themselves.
const (
	pVCICode  = "vc/" // sha256(code): expiry (a redeemed pre-authorized code)
	pVCITries = "vx/" // sha256(offer id): expiry, wrong tx_codes (uint32)
	pVCIToken = "vt/" // sha256(access token): expiry, VCIGrant JSON
	pVCINonce = "vn/" // sha256(c_nonce): expiry
)

var vciPrefixes = []string{pVCICode, pVCITries, pVCIToken, pVCINonce}

// VCIGrant is what an access token grants: the claim offer it was
// redeemed for.
type VCIGrant struct {
	OfferID    string `json:"offerId"`
	OfferToken string `json:"offerToken"`
}

func vciKey(prefix, s string) []byte {
	h := sha256.Sum256([]byte(s))
	return append([]byte(prefix), h[:]...)
}

// putExp stores the expiry (Unix nanoseconds) followed by rest.
func (t *Txn) putExp(key []byte, exp time.Time, rest []byte) error {
	v := binary.BigEndian.AppendUint64(nil, uint64(exp.UnixNano()))
	return t.txn.Set(key, append(v, rest...))
}

// getExp returns what follows the expiry of an entry that has not expired
// at now, and whether there is one.
func (t *Txn) getExp(key []byte, now time.Time) ([]byte, bool, error) {
	v, err := t.get(key)
	if errors.Is(err, ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if len(v) < 8 || now.UnixNano() > int64(binary.BigEndian.Uint64(v)) {
		return nil, false, nil
	}
	return v[8:], true, nil
}

// VCICodeUsed reports whether a pre-authorized code was redeemed.
func (t *Txn) VCICodeUsed(code string, now time.Time) (bool, error) {
	_, ok, err := t.getExp(vciKey(pVCICode, code), now)
	return ok, err
}

// UseVCICode records a redeemed pre-authorized code until exp (its
// offer's expiry, after which the code is refused anyway).
func (t *Txn) UseVCICode(code string, exp time.Time) error {
	return t.putExp(vciKey(pVCICode, code), exp, nil)
}

// VCITries returns the wrong tx_codes counted for an offer.
func (t *Txn) VCITries(offerID string, now time.Time) (int, error) {
	v, ok, err := t.getExp(vciKey(pVCITries, offerID), now)
	if err != nil || !ok || len(v) != 4 {
		return 0, err
	}
	return int(binary.BigEndian.Uint32(v)), nil
}

// SetVCITries records n wrong tx_codes for an offer until exp.
func (t *Txn) SetVCITries(offerID string, n int, exp time.Time) error {
	return t.putExp(vciKey(pVCITries, offerID), exp, binary.BigEndian.AppendUint32(nil, uint32(n)))
}

// PutVCIToken records an access token until exp.
func (t *Txn) PutVCIToken(token string, g VCIGrant, exp time.Time) error {
	b, err := json.Marshal(g)
	if err != nil {
		return err
	}
	return t.putExp(vciKey(pVCIToken, token), exp, b)
}

// VCIToken returns the grant of an access token, or nil when it is unknown
// or expired.
func (t *Txn) VCIToken(token string, now time.Time) (*VCIGrant, error) {
	v, ok, err := t.getExp(vciKey(pVCIToken, token), now)
	if err != nil || !ok {
		return nil, err
	}
	var g VCIGrant
	if err := decodeExact(v, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// PutVCINonce records a c_nonce until exp.
func (t *Txn) PutVCINonce(nonce string, exp time.Time) error {
	return t.putExp(vciKey(pVCINonce, nonce), exp, nil)
}

// TakeVCINonce uses a c_nonce up: it is deleted, and ok says whether it
// was known and fresh.
func (t *Txn) TakeVCINonce(nonce string, now time.Time) (ok bool, err error) {
	k := vciKey(pVCINonce, nonce)
	if _, ok, err = t.getExp(k, now); err != nil {
		return false, err
	}
	if err := t.txn.Delete(k); err != nil {
		return false, err
	}
	return ok, nil
}

// DropExpiredVCI deletes the OpenID4VCI entries expired at now and returns
// how many it dropped and how many c_nonces remain.
func (s *Store) DropExpiredVCI(now time.Time) (dropped, nonces int, err error) {
	var expired [][]byte
	err = s.View(func(t *Txn) error {
		for _, p := range vciPrefixes {
			err := t.iterate([]byte(p), true, func(k, v []byte) (bool, error) {
				if len(v) < 8 || now.UnixNano() > int64(binary.BigEndian.Uint64(v)) {
					expired = append(expired, k)
				} else if p == pVCINonce {
					nonces++
				}
				return true, nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	for len(expired) > 0 {
		n := min(len(expired), 1000) // well within one badger transaction
		if err := s.Update(func(t *Txn) error {
			for _, k := range expired[:n] {
				// Written anew since the scan: keep it.
				if _, ok, err := t.getExp(k, now); err != nil || ok {
					if err != nil {
						return err
					}
					continue
				}
				if err := t.txn.Delete(k); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return dropped, nonces, err
		}
		dropped += n
		expired = expired[n:]
	}
	return dropped, nonces, nil
}
