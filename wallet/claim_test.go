package wallet_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	testenv "github.com/zkcred/zkcred/internal/wallettest"
	"github.com/zkcred/zkcred/wallet"
)

// lossy forwards every request; it loses the answer of the first claim
// (the issuer handled it) and fails every registry request while down.
type lossy struct {
	registry  string
	loseClaim atomic.Bool
	down      atomic.Bool
	claims    atomic.Int32
}

var errLost = errors.New("connection reset (test)")

func (l *lossy) RoundTrip(req *http.Request) (*http.Response, error) {
	if l.down.Load() && strings.HasPrefix(req.URL.String(), l.registry) {
		return nil, errors.New("registry unreachable (test)")
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/claim") {
		return resp, err
	}
	l.claims.Add(1)
	if l.loseClaim.CompareAndSwap(true, false) {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, errLost
	}
	return resp, nil
}

// The issuer handled the claim but its answer was lost: claiming again
// gets the credential, anchored once.
func TestClaimAnswerLost(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	tr := &lossy{registry: e.RegistryURL}
	tr.loseClaim.Store(true)
	w := newWalletWith(t, e, wallet.Options{HTTP: &http.Client{Transport: tr}})
	ctx := context.Background()
	u := e.Offer("3.50")
	if _, err := w.Claim(ctx, u, e.Keys); !errors.Is(err, errLost) {
		t.Fatalf("first claim: %v, want the lost answer", err)
	}
	if len(w.Credentials()) != 0 {
		t.Fatal("a credential was stored from a lost answer")
	}
	n, err := e.Issuer.CountCredentials()
	if err != nil || n != 1 {
		t.Fatalf("the issuer recorded %d credentials (%v)", n, err)
	}
	ent, err := w.Claim(ctx, u, e.Keys)
	if err != nil {
		t.Fatalf("claim after the lost answer: %v", err)
	}
	if ent.Unchecked || len(w.Credentials()) != 1 || tr.claims.Load() != 2 {
		t.Fatalf("entry %+v, %d credentials, %d claims", ent, len(w.Credentials()), tr.claims.Load())
	}
	if n, _ := e.Issuer.CountCredentials(); n != 1 {
		t.Fatalf("claiming again issued another credential: %d", n)
	}
	if err := w.CheckStatus(ctx, ent); err != nil {
		t.Fatalf("the claimed credential is not anchored: %v", err)
	}
}

// The registry is briefly unreachable when a claim's answer arrives: the
// wallet keeps the credential, saved and marked unchecked, and checks it
// on the chain once the registry answers again.
func TestClaimRegistryDown(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	tr := &lossy{registry: e.RegistryURL}
	hc := &http.Client{Transport: tr}
	w := newWalletWith(t, e, wallet.Options{HTTP: hc})
	ctx := context.Background()
	u := e.Offer("3.50")
	tr.down.Store(true)
	ent, err := w.Claim(ctx, u, e.Keys)
	if !errors.Is(err, wallet.ErrUnchecked) || ent == nil || !ent.Unchecked {
		t.Fatalf("claim with the registry down: %v %+v", err, ent)
	}
	// Saved before the chain was asked: a wallet opened from the file has it.
	reopened, err := wallet.Open(w.Path(), "pw", wallet.Options{HTTP: hc})
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	if len(reopened.Credentials()) != 1 || !reopened.Credentials()[0].Unchecked {
		t.Fatal("the received credential is not in the saved wallet")
	}
	got := reopened.Credentials()[0]
	if err := reopened.CheckStatus(ctx, got); !errors.Is(err, wallet.ErrUnchecked) {
		t.Fatalf("status while the registry is down: %v", err)
	}
	tr.down.Store(false)
	if err := reopened.CheckStatus(ctx, got); err != nil {
		t.Fatalf("status once the registry answers: %v", err)
	}
	if got.Unchecked {
		t.Fatal("still unchecked after the chain checks passed")
	}
	again, err := wallet.Open(w.Path(), "pw", wallet.Options{HTTP: hc})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if len(again.Credentials()) != 1 || again.Credentials()[0].Unchecked {
		t.Fatal("the check was not saved")
	}
}

// A credential stored unchecked that the chain then refuses (its issuer is
// unknown there) is removed when it is checked, as Receive would have
// refused it; Sync checks stored credentials the same way.
func TestUncheckedThenRefused(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	tr := &lossy{registry: e.RegistryURL}
	w := newWalletWith(t, e, wallet.Options{HTTP: &http.Client{Transport: tr}})
	ctx := context.Background()
	tr.down.Store(true)
	rogue, err := w.Receive(ctx, e.IssueRogue(w.HolderCommit()))
	if !errors.Is(err, wallet.ErrUnchecked) || !rogue.Unchecked {
		t.Fatalf("receive with the registry down: %v", err)
	}
	good, err := w.Receive(ctx, e.Issue(w.HolderCommit(), "3.10", time.Time{}))
	if !errors.Is(err, wallet.ErrUnchecked) {
		t.Fatalf("receive with the registry down: %v", err)
	}
	if err := w.Save(); err != nil {
		t.Fatal(err)
	}
	tr.down.Store(false)
	if err := w.CheckStatus(ctx, rogue); !errors.Is(err, wallet.ErrIssuerUnknown) {
		t.Fatalf("status of the rogue credential: %v", err)
	}
	if len(w.Credentials()) != 1 || w.Credentials()[0] != good {
		t.Fatal("the refused credential was kept")
	}
	revoked, err := w.Sync(ctx, e.Keys)
	if err != nil || len(revoked) != 0 || good.Unchecked {
		t.Fatalf("sync: %v %v unchecked=%v", err, revoked, good.Unchecked)
	}
	reopened, err := wallet.Open(w.Path(), "pw", wallet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	if len(reopened.Credentials()) != 1 || reopened.Credentials()[0].Unchecked || !bytes.Equal(reopened.Credentials()[0].Bundle, good.Bundle) {
		t.Fatal("the saved wallet does not hold the checked credential alone")
	}
}
