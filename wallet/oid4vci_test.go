package wallet_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	testenv "github.com/zkcred/zkcred/internal/wallettest"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/wallet"
)

// offerLinks makes an offer and returns its OpenID4VCI links.
func offerLinks(t *testing.T, e *testenv.Env, txCode bool) (byValue, byRef, pin string) {
	t.Helper()
	l, err := e.Issuer.CreateOffer(context.Background(), issuer.OfferRequest{Schema: testenv.Schema(), Subject: testenv.Subject("3.72")})
	if err != nil {
		t.Fatal(err)
	}
	code := e.Issuer.PreAuthorizedCode(l, txCode)
	byValue, byRef, err = e.Issuer.OfferURIs(e.Issuer.NewCredentialOffer(code, issuer.ConfigurationID(testenv.Schema().Name)))
	if err != nil {
		t.Fatal(err)
	}
	return byValue, byRef, e.Issuer.TxCode(l.ID)
}

// TestReceiveOffer: an OpenID4VCI offer by value → token → nonce →
// credential → stored and checked on the chain; by reference with a
// tx_code: missing, wrong, right, then reused.
func TestReceiveOffer(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	w := newWallet(t, e)
	ctx := context.Background()
	byValue, _, _ := offerLinks(t, e, false)
	ent, err := w.ReceiveOffer(ctx, byValue, "", e.Keys)
	if err != nil {
		t.Fatal(err)
	}
	if ent.Private().HolderCommit != w.HolderCommit() {
		t.Fatal("the credential is not bound to this wallet's holder commitment")
	}
	if _, err := w.ReceiveOffer(ctx, byValue, "", e.Keys); !isOAuth(err, "invalid_grant") {
		t.Fatalf("the same offer again: %v", err)
	}

	_, byRef, pin := offerLinks(t, e, true)
	if _, err := w.ReceiveOffer(ctx, byRef, "", e.Keys); !errors.Is(err, wallet.ErrTxCode) {
		t.Fatalf("no tx_code: %v", err)
	}
	wrong := "000000"
	if wrong == pin {
		wrong = "111111"
	}
	if _, err := w.ReceiveOffer(ctx, byRef, wrong, e.Keys); !isOAuth(err, "invalid_grant") || !strings.Contains(err.Error(), "wrong tx_code") {
		t.Fatalf("wrong tx_code: %v", err)
	}
	if _, err := w.ReceiveOffer(ctx, byRef, pin, e.Keys); err != nil {
		t.Fatalf("right tx_code: %v", err)
	}
	if _, err := w.ReceiveOffer(ctx, byRef, pin, e.Keys); !isOAuth(err, "invalid_grant") || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("reused code and tx_code: %v", err)
	}
	if len(w.Credentials()) != 2 {
		t.Fatalf("%d credentials, want 2", len(w.Credentials()))
	}
}

func isOAuth(err error, code string) bool {
	var re *wallet.RemoteError
	return errors.As(err, &re) && re.Status == http.StatusBadRequest && re.Code == code
}
