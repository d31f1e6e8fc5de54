package api_test

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zkcred/zkcred/issuer"
)

// TestVCICodeKeptToTheOffersEnd: a used pre-authorized code, and the wrong
// tx_codes counted for an offer, hold for as long as the offer does: in
// the last second of an offer whose expiry has a fraction of a second (an
// OfferTTL that has one; the offer's RFC 3339 view drops it), the code
// still reads as used and the tries as spent.
func TestVCICodeKeptToTheOffersEnd(t *testing.T) {
	e := newEnv(t)
	var clock atomic.Int64
	t0 := time.Now().Truncate(time.Second) // offers start on a whole second
	const ttl = time.Hour + 500*time.Millisecond
	clock.Store(t0.UnixNano())
	is := issuer.New(e.is.Key(), e.flaky, e.is.Store(), issuer.Options{
		PublicURL: "https://issuer.example", HolderProof: knowsSecret, OfferTTL: ttl,
		Now: func() time.Time { return time.Unix(0, clock.Load()) },
	})
	h := e.handler(t, is)
	do := func(method, path, ctype, body string, hdr ...string) (int, string) {
		t.Helper()
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	offer := func() (code, tx string) {
		t.Helper()
		body := e.offerBody()
		body["txCode"] = true
		j, _ := json.Marshal(body)
		st, out := do("POST", "/v1/offers", "application/json", string(j), "Authorization", bearer)
		var ans struct {
			OpenID4VCIRefURI string `json:"openid4vciOfferUri"`
			TxCode           string `json:"txCode"`
		}
		if st != 201 || json.NewDecoder(bytes.NewReader([]byte(out))).Decode(&ans) != nil {
			t.Fatalf("offer: %d %s", st, out)
		}
		u, _ := url.Parse(ans.OpenID4VCIRefURI)
		ref, _ := url.Parse(u.Query().Get("credential_offer_uri"))
		return strings.TrimPrefix(ref.Path, issuer.OfferPath), ans.TxCode
	}
	token := func(code, tx string) (int, string) {
		t.Helper()
		v := url.Values{"grant_type": {issuer.GrantPreAuthorizedCode}, "pre-authorized_code": {code}, "tx_code": {tx}}
		return do("POST", "/v1/oid4vci/token", "application/x-www-form-urlencoded", v.Encode())
	}
	wrongOf := func(tx string) string {
		if tx == "000000" {
			return "111111"
		}
		return "000000"
	}

	used, usedTx := offer()
	if st, out := token(used, usedTx); st != 200 {
		t.Fatalf("token: %d %s", st, out)
	}
	spent, spentTx := offer()
	for range 5 {
		if st, out := token(spent, wrongOf(spentTx)); st != 400 || !strings.Contains(out, "wrong tx_code") {
			t.Fatalf("wrong tx_code: %d %s", st, out)
		}
	}

	// 0.3 s into the offer's last (half) second, 0.2 s before it expires.
	clock.Store(t0.Add(ttl - 200*time.Millisecond).UnixNano())
	if st, out := token(used, usedTx); st != 400 || !strings.Contains(out, "already used") {
		t.Fatalf("a used code in its offer's last second: %d %s", st, out)
	}
	if st, out := token(spent, spentTx); st != 400 || !strings.Contains(out, "too many wrong tx_codes") {
		t.Fatalf("spent tries in the offer's last second: %d %s", st, out)
	}
	// Once the offer has expired, its code is refused as expired.
	clock.Store(t0.Add(ttl + time.Millisecond).UnixNano())
	if st, out := token(used, usedTx); st != 400 || !strings.Contains(out, "invalid_grant") {
		t.Fatalf("a code of an expired offer: %d %s", st, out)
	}
}
