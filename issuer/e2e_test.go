package issuer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/home"
)

// presentation builds the circuit witness of an issued credential against
// the local chain's current root, with the issuer in a trust list and a
// query that discloses the degree.
func presentation(t *testing.T, env *testEnv, b *wire.Bundle, secret fr.Element) *circuits.Witness {
	t.Helper()
	trust, err := circuits.NewTrustList([]fr.Element{circuits.IssuerID([]byte("other")), env.key.IssuerID()})
	if err != nil {
		t.Fatal(err)
	}
	ti, tp, ok := trust.Path(env.key.IssuerID())
	if !ok {
		t.Fatal("issuer not in trust list")
	}
	_, path, err := env.chain.Leaf(b.Private.LeafIndex)
	if err != nil {
		t.Fatal(err)
	}
	root, height, _, _ := env.chain.Root()
	var q circuits.Query
	q.Disclose = 1 << 2 // degree
	return &circuits.Witness{
		Credential:   b.Private.CircuitCredential(),
		HolderSecret: secret,
		IssuerID:     b.Private.IssuerID.El(),
		LeafIndex:    b.Private.LeafIndex,
		Path:         path,
		TrustIndex:   ti,
		TrustPath:    tp,
		Root:         root,
		Height:       height,
		TrustRoot:    trust.Root(),
		Now:          uint64(time.Now().Unix()),
		Nonce:        circuits.RandomBytes31(),
		Audience:     circuits.AudienceID("https://employer.example"),
		Scope:        circuits.ScopeID("job-42"),
		Query:        q,
	}
}

// TestEndToEndWithCircuit claims an offer with a real Groth16 holder proof,
// proves a presentation of the credential, revokes it, and checks that no
// presentation verifies against the later root. It needs the circuit keys
// that 'zkcred setup' caches (home.KeysDir); the native checks run
// regardless.
func TestEndToEndWithCircuit(t *testing.T) {
	keys, keyErr := circuits.LoadKeysDir(home.KeysDir())
	var hv HolderProofVerifier = knowsSecret
	if keyErr == nil {
		hv = keys.HolderVerifier().VerifyHolder
	}
	a := newEnv(t, Options{HolderProof: hv, Now: time.Now, PublicURL: publicURL})
	ctx := context.Background()
	link, err := a.is.CreateOffer(ctx, OfferRequest{Schema: ExampleSchemas()["diploma"], Subject: diplomaSubject(), ValidUntil: time.Now().Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	secret, hc := holder()
	challenge := wire.ClaimChallenge(link.ID, link.Token)
	var proof []byte
	if keyErr == nil {
		p, err := keys.ProveHolder(secret, challenge)
		if err != nil {
			t.Fatal(err)
		}
		// A proof for another challenge is refused by the real verifier.
		other, _ := keys.ProveHolder(secret, wire.ClaimChallenge(link.ID, link.Token+"x"))
		if _, _, err := a.is.Claim(ctx, link.ID, link.Token, hc, other); !errors.Is(err, ErrHolderProof) {
			t.Fatalf("Groth16 proof for another offer accepted: %v", err)
		}
		proof = p
	} else {
		t.Logf("no circuit keys (%v): holder proof checked by the test stand-in", keyErr)
		proof = proofFor(secret, challenge)
	}
	b, _, err := a.is.Claim(ctx, link.ID, link.Token, hc, proof)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Check(); err != nil {
		t.Fatal(err)
	}

	w := presentation(t, a, b, secret)
	if err := w.Check(); err != nil {
		t.Fatalf("fresh credential does not satisfy the statement: %v", err)
	}
	var oldProof []byte
	var oldPub *circuits.Public
	if keyErr == nil {
		oldProof, oldPub, err = keys.Prove(w)
		if err != nil {
			t.Fatal(err)
		}
		if err := keys.Verifier().Verify(oldProof, oldPub); err != nil {
			t.Fatalf("presentation before revocation: %v", err)
		}
	}

	if _, err := a.is.Revoke(ctx, []string{b.Private.CredentialID}, nil); err != nil {
		t.Fatal(err)
	}
	w2 := presentation(t, a, b, secret)
	if w2.Root == w.Root {
		t.Fatal("root did not change")
	}
	if err := w2.Check(); !errors.Is(err, circuits.ErrNotInTree) {
		t.Fatalf("revoked credential against the later root: %v", err)
	}
	if keyErr == nil {
		if _, _, err := keys.Prove(w2); err == nil {
			t.Fatal("proved a revoked credential against the later root")
		}
		// The proof made before revocation does not verify for the later
		// root either.
		later := *oldPub
		later.Root, later.Height = w2.Root, w2.Height
		if err := keys.Verifier().Verify(oldProof, &later); err == nil {
			t.Fatal("old proof verifies against the later root")
		}
	}
}
