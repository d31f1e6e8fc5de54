package wallet_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkcred/zkcred/internal/didweb"
	testenv "github.com/zkcred/zkcred/internal/wallettest"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/verifier"
	"github.com/zkcred/zkcred/wallet"
	"github.com/zkcred/zkcred/wire"
)

// didSite is the web site of a did:web domain: it serves the DID
// document the test chooses.
type didSite struct {
	srv *httptest.Server
	did string
	mu  sync.Mutex
	key ed25519.PublicKey
}

func newDIDSite(t *testing.T) *didSite {
	s := &didSite{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		k := s.key
		s.mu.Unlock()
		if r.URL.Path != didweb.Path || k == nil {
			http.NotFound(w, r)
			return
		}
		didweb.Handler(didweb.NewDocument(s.did, k)).ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	s.did, _ = didweb.FromOrigin(s.srv.URL, true)
	return s
}

func (s *didSite) serve(k ed25519.PublicKey) { s.mu.Lock(); s.key = k; s.mu.Unlock() }

// TestDIDWebIssuer: a credential whose issuer is did:web:<domain> is
// received when the registry binds that domain to the key that signed it
// (and the domain's DID document names the same key), and a verifier
// naming the issuer by its did:web accepts its presentation through the
// registry record alone. Refused, each with a clear error: a credential
// claiming the domain signed by a registered key the registry does not
// bind to it; a DID document naming another key; a domain bound to
// another issuer; a policy's did:web that no issuer binds. did:key
// credentials keep working beside them.
func TestDIDWebIssuer(t *testing.T) {
	site := newDIDSite(t)
	e := testenv.Start(t, testenv.Options{DIDWeb: site.did})
	w := newWalletWith(t, e, wallet.Options{AllowLoopbackHTTP: true})
	ctx := context.Background()
	uniPub := e.Issuer.Key().Public()
	site.serve(uniPub)

	// Before governance binds the domain, a policy naming it has no issuer.
	if _, err := e.Verifier.CreateRequest("did-web"); !errors.Is(err, verifier.ErrUnboundDIDWeb) {
		t.Fatalf("request of a policy naming an unbound did:web: %v", err)
	}
	bundle := e.IssueWith(e.WithDIDWeb(false, site.did), w.HolderCommit())
	if _, err := w.Receive(ctx, bundle); !errors.Is(err, wallet.ErrDIDWeb) || !strings.Contains(err.Error(), "binds no did:web") {
		t.Fatalf("did:web credential before the binding: %v", err)
	}
	bind := registry.UpdateIssuer{PubKey: hex.EncodeToString(uniPub), Name: "University of Examples", Kind: "university", Active: true, DIDWeb: site.did}
	if err := e.Govern(bind); err != nil {
		t.Fatal(err)
	}
	en, err := w.Receive(ctx, bundle)
	if err != nil {
		t.Fatalf("did:web credential: %v", err)
	}
	if c := en.Credential(); c.Issuer != site.did || c.Proof == nil || c.Proof.VerificationMethod != site.did+"#key-1" || en.Private().IssuerKey != hex.EncodeToString(uniPub) {
		t.Fatalf("credential names issuer %q, method %+v", c.Issuer, c.Proof)
	}
	// did:key credentials of the same issuer keep working.
	if _, err := w.Receive(ctx, e.Issue(w.HolderCommit(), "3.72", time.Time{})); err != nil {
		t.Fatalf("did:key credential: %v", err)
	}

	// The verifier names the issuer by its did:web; the trust list holds
	// the bound issuer's ID, and the presentation verifies.
	req, err := w.ReadRequest(ctx, e.Request("did-web"))
	if err != nil {
		t.Fatal(err)
	}
	if got := req.TrustList.Issuers; len(got) != 1 || got[0].El() != e.Issuer.Key().IssuerID() {
		t.Fatalf("trust list of the did:web policy: %v", got)
	}
	done, err := w.Present(ctx, req, wallet.PresentOptions{Keys: e.Keys, CredentialID: en.ID})
	if err != nil || done.Result.Status != wire.StatusVerified {
		t.Fatalf("presentation of the did:web credential: %+v %v", done, err)
	}

	// A registered issuer (not bound to the domain) signing as the domain.
	e.RegisterRogue()
	forged := e.IssueWith(e.WithDIDWeb(true, site.did), w.HolderCommit())
	if _, err := w.Receive(ctx, forged); !errors.Is(err, wallet.ErrDIDWeb) || !strings.Contains(err.Error(), "names "+site.did) {
		t.Fatalf("credential claiming the domain with another key: %v", err)
	}
	// The domain's DID document naming another key than the registry binds.
	_, other, _ := ed25519.GenerateKey(nil)
	site.serve(other.Public().(ed25519.PublicKey))
	if _, err := w.Receive(ctx, e.IssueWith(e.WithDIDWeb(false, site.did), w.HolderCommit())); !errors.Is(err, wallet.ErrDIDWeb) || !strings.Contains(err.Error(), "names another key") {
		t.Fatalf("DID document with another key: %v", err)
	}
	// The domain cannot be bound to another issuer while the university
	// holds it.
	rogue := registry.UpdateIssuer{PubKey: hex.EncodeToString(e.Rogue.Key().Public()), Name: "Rogue", Kind: "university", Active: true, DIDWeb: site.did}
	if err := e.Govern(rogue); !errors.Is(err, registry.ErrConflict) || !strings.Contains(err.Error(), "did:web is bound to another issuer") {
		t.Fatalf("binding the domain to a second issuer: %v", err)
	}
}
