package issuer

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/wire"
)

// knowsSecret is a stand-in proof of knowledge for these tests: the proof
// is the secret and the challenge, in the clear. It accepts exactly what a
// sound zero-knowledge proof would (right secret, right challenge), so the
// issuer's handling of the verifier's answer is what is tested here.
func knowsSecret(hc, challenge fr.Element, proof []byte) error {
	if len(proof) != 64 {
		return errors.New("want 64 bytes")
	}
	var s, ch fr.Element
	s.SetBytes(proof[:32])
	ch.SetBytes(proof[32:])
	if circuits.HolderCommit(s) != hc {
		return errors.New("secret does not open the holder commitment")
	}
	if ch != challenge {
		return errors.New("proof is for another challenge")
	}
	return nil
}

func proofFor(secret, challenge fr.Element) []byte {
	a, b := secret.Bytes(), challenge.Bytes()
	return append(a[:], b[:]...)
}

const publicURL = "https://registrar.example"

// An offer binds to the first holder whose proof verifies. That holder can
// fetch the same credential again (an answer lost on the way loses
// nothing), never anchored twice; any other holder is refused.
func TestOfferBindsOneHolder(t *testing.T) {
	env := newEnv(t, Options{HolderProof: knowsSecret, PublicURL: publicURL})
	ctx := context.Background()
	link, err := env.is.CreateOffer(ctx, OfferRequest{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject(), ValidUntil: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if link.URL != publicURL+"/v1/offers/"+link.ID+"?token="+link.Token {
		t.Fatalf("link %+v", link)
	}
	view, err := env.is.OfferView(link.ID, link.Token)
	if err != nil || view.Issuer != env.key.DID() || len(view.Display) != 7 || view.ValidUntil == "" {
		t.Fatalf("view %+v %v", view, err)
	}
	challenge := wire.ClaimChallenge(link.ID, link.Token)
	if view.Challenge != circuits.Dec(challenge) {
		t.Fatal("offer view challenge differs")
	}
	if _, err := env.is.OfferView(link.ID, "AAAA"+link.Token[4:]); !errors.Is(err, ErrOfferToken) {
		t.Fatalf("view with a wrong token: %v", err)
	}
	secret, hc := holder()
	// Wrong token, then a proof for another challenge or another secret.
	if _, _, err := env.is.Claim(ctx, link.ID, link.Token+"x", hc, proofFor(secret, challenge)); !errors.Is(err, ErrOfferToken) {
		t.Fatalf("claim with wrong token: %v", err)
	}
	if _, _, err := env.is.Claim(ctx, link.ID, link.Token, hc, proofFor(secret, wire.ClaimChallenge("other", link.Token))); !errors.Is(err, ErrHolderProof) {
		t.Fatalf("claim with a proof for another offer: %v", err)
	}
	if _, _, err := env.is.Claim(ctx, link.ID, link.Token, hc, proofFor(circuits.RandomElement(), challenge)); !errors.Is(err, ErrHolderProof) {
		t.Fatalf("claim without knowing the secret: %v", err)
	}
	if _, _, size, _ := env.chain.Root(); size != 0 {
		t.Fatal("failed claims anchored something")
	}
	b, _, err := env.is.Claim(ctx, link.ID, link.Token, hc, proofFor(secret, challenge))
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.Check()
	if err != nil {
		t.Fatal(err)
	}
	if c.CredentialSubject.HolderCommitment != circuits.Dec(hc) {
		t.Fatal("credential is not bound to the claiming holder")
	}
	// The answer is lost: the same holder claims again with a fresh proof
	// and gets the same credential, byte for byte.
	for range 2 {
		again, redelivered, err := env.is.Claim(ctx, link.ID, link.Token, hc, proofFor(secret, challenge))
		if err != nil || !redelivered {
			t.Fatalf("second claim by the same holder: %v (again %v)", err, redelivered)
		}
		b1, _ := b.Encode()
		b2, _ := again.Encode()
		if !bytes.Equal(b1, b2) {
			t.Fatal("the second claim delivered another credential")
		}
	}
	// Still not without the proof, nor for another holder.
	if _, _, err := env.is.Claim(ctx, link.ID, link.Token, hc, proofFor(circuits.RandomElement(), challenge)); !errors.Is(err, ErrHolderProof) {
		t.Fatalf("second claim without the secret: %v", err)
	}
	if _, _, err := env.is.Claim(ctx, link.ID, link.Token+"x", hc, proofFor(secret, challenge)); !errors.Is(err, ErrOfferToken) {
		t.Fatalf("second claim with a wrong token: %v", err)
	}
	s2, hc2 := holder()
	if _, _, err := env.is.Claim(ctx, link.ID, link.Token, hc2, proofFor(s2, challenge)); !errors.Is(err, ErrOfferClaimed) {
		t.Fatalf("claim by another holder: %v", err)
	}
	if v, err := env.is.OfferView(link.ID, link.Token); err != nil || !v.Claimed {
		t.Fatalf("view after claim: %+v %v", v, err)
	}
	if _, _, size, _ := env.chain.Root(); size != 1 {
		t.Fatalf("%d leaves anchored for one offer", size)
	}
	if n, _ := env.is.CountCredentials(); n != 1 {
		t.Fatalf("%d credentials recorded for one offer", n)
	}
}

// After the offer's lifetime even its holder cannot fetch it again.
func TestClaimAgainEndsWithTheOffer(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	env := newEnv(t, Options{HolderProof: knowsSecret, Now: clock, OfferTTL: time.Hour, PublicURL: publicURL})
	ctx := context.Background()
	link, err := env.is.CreateOffer(ctx, OfferRequest{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject()})
	if err != nil {
		t.Fatal(err)
	}
	s, hc := holder()
	ch := wire.ClaimChallenge(link.ID, link.Token)
	if _, _, err := env.is.Claim(ctx, link.ID, link.Token, hc, proofFor(s, ch)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	if _, _, err := env.is.Claim(ctx, link.ID, link.Token, hc, proofFor(s, ch)); !errors.Is(err, ErrOfferExpired) {
		t.Fatalf("claim again after the offer expired: %v", err)
	}
}

// Claim links are absolute: without a public URL no offer is made.
func TestOffersNeedAPublicURL(t *testing.T) {
	for _, u := range []string{"", "/v1", "issuer.example", "ftp://issuer.example", "https://", "https://issuer.example?x=1"} {
		env := newEnv(t, Options{PublicURL: u})
		_, err := env.is.CreateOffer(context.Background(), OfferRequest{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject()})
		if !errors.Is(err, ErrNoPublicURL) || !strings.Contains(err.Error(), "--public-url") {
			t.Errorf("public URL %q: %v", u, err)
		}
	}
	env := newEnv(t, Options{PublicURL: "http://127.0.0.1:8641/"})
	link, err := env.is.CreateOffer(context.Background(), OfferRequest{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject()})
	if err != nil || !strings.HasPrefix(link.URL, "http://127.0.0.1:8641/v1/offers/") {
		t.Fatalf("%+v %v", link, err)
	}
}

func TestClaimsDisabledWithoutVerifier(t *testing.T) {
	env := newEnv(t, Options{PublicURL: publicURL})
	link, _ := env.is.CreateOffer(context.Background(), OfferRequest{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject()})
	secret, hc := holder()
	if _, _, err := env.is.Claim(context.Background(), link.ID, link.Token, hc, proofFor(secret, wire.ClaimChallenge(link.ID, link.Token))); !errors.Is(err, ErrNoHolderProof) {
		t.Fatal(err)
	}
}

func TestOfferExpiresAndConcurrentClaims(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	env := newEnv(t, Options{HolderProof: knowsSecret, Now: clock, OfferTTL: time.Hour, PublicURL: publicURL})
	ctx := context.Background()
	link, err := env.is.CreateOffer(ctx, OfferRequest{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject()})
	if err != nil {
		t.Fatal(err)
	}
	// Many holders race for one offer: exactly one gets the credential.
	var wg sync.WaitGroup
	var won atomic.Int32
	for range 8 {
		wg.Go(func() {
			s, hc := holder()
			_, _, err := env.is.Claim(ctx, link.ID, link.Token, hc, proofFor(s, wire.ClaimChallenge(link.ID, link.Token)))
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, ErrOfferClaimed):
			default:
				t.Errorf("claim: %v", err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d holders received the credential", won.Load())
	}
	if _, _, size, _ := env.chain.Root(); size != 1 {
		t.Fatalf("%d leaves anchored", size)
	}
	// An offer past its lifetime can be neither opened nor claimed.
	link2, _ := env.is.CreateOffer(ctx, OfferRequest{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject()})
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	if _, err := env.is.OfferView(link2.ID, link2.Token); !errors.Is(err, ErrOfferExpired) {
		t.Fatalf("view of an expired offer: %v", err)
	}
	s, hc := holder()
	if _, _, err := env.is.Claim(ctx, link2.ID, link2.Token, hc, proofFor(s, wire.ClaimChallenge(link2.ID, link2.Token))); !errors.Is(err, ErrOfferExpired) {
		t.Fatalf("claim of expired offer: %v", err)
	}
}

// A claim interrupted after its commitment reached the chain is finished by
// the same holder's retry, without anchoring again; another holder cannot
// take the offer over.
func TestClaimInterruptedThenRetried(t *testing.T) {
	env := newEnv(t, Options{HolderProof: knowsSecret, PublicURL: publicURL})
	ctx := context.Background()
	crashing := New(env.key, &crashChain{Chain: env.chain, failAfter: true}, env.store, Options{HolderProof: knowsSecret})
	link, err := env.is.CreateOffer(ctx, OfferRequest{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject()})
	if err != nil {
		t.Fatal(err)
	}
	ch := wire.ClaimChallenge(link.ID, link.Token)
	s, hc := holder()
	if _, _, err := crashing.Claim(ctx, link.ID, link.Token, hc, proofFor(s, ch)); !errors.Is(err, errCrash) {
		t.Fatalf("interrupted claim: %v", err)
	}
	// The listing shows the offer, once, until its credential is recorded.
	if l, err := env.is.Credentials(Query{}); err != nil || len(l.Credentials) != 1 || l.Credentials[0].Status != StatusUnclaimed {
		t.Fatalf("listing during an interrupted claim: %+v %v", l, err)
	}
	s2, hc2 := holder()
	if _, _, err := env.is.Claim(ctx, link.ID, link.Token, hc2, proofFor(s2, ch)); !errors.Is(err, ErrOfferClaimed) {
		t.Fatalf("another holder took over an interrupted claim: %v", err)
	}
	b, _, err := env.is.Claim(ctx, link.ID, link.Token, hc, proofFor(s, ch))
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if _, err := b.Check(); err != nil {
		t.Fatal(err)
	}
	if _, _, size, _ := env.chain.Root(); size != 1 {
		t.Fatalf("%d leaves after an interrupted claim and its retry", size)
	}
	if l, err := env.is.Credentials(Query{}); err != nil || len(l.Credentials) != 1 || l.Credentials[0].ID != b.Private.CredentialID || l.Credentials[0].Offer != link.ID {
		t.Fatalf("listing after the retry: %+v %v", l, err)
	}
	if _, again, err := env.is.Claim(ctx, link.ID, link.Token, hc, proofFor(s, ch)); err != nil || !again {
		t.Fatalf("third claim: %v (again %v)", err, again)
	}
	if _, _, size, _ := env.chain.Root(); size != 1 {
		t.Fatalf("%d leaves after three claims", size)
	}
}
