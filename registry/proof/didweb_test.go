package proof_test

import (
	"context"
	"errors"
	"testing"

	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/proof"
)

// TestIssuerByDIDWeb: a did:web maps to the proven record of the issuer
// that binds it; a did:web nobody binds is ErrNoDIDWeb; a record whose
// binding a registry node forged is refused by its proof.
func TestIssuerByDIDWeb(t *testing.T) {
	k := newKit(t)
	ctx := context.Background()
	k.submit(k.gov, registry.UpdateIssuer{PubKey: k.hospPub, Name: "Hospital", Kind: "hospital", Active: true, DIDWeb: "did:web:hospital.example"})
	if _, err := k.lc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	is, err := k.rd.IssuerByDIDWeb(ctx, "did:web:hospital.example")
	if err != nil || is.PubKey != k.hospPub || is.DIDWeb != "did:web:hospital.example" {
		t.Fatalf("hospital by did:web: %+v %v", is, err)
	}
	if _, err := k.rd.IssuerByDIDWeb(ctx, "did:web:uni.example"); !errors.Is(err, proof.ErrNoDIDWeb) || !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("unbound did:web: %v", err)
	}
	// A node claiming that the university binds it: its record's proof
	// fails.
	k.tamper.set("/v1/issuers/"+k.uniID.String(), func(m map[string]any) { m["did_web"] = "did:web:uni.example" })
	if _, err := k.rd.Issuer(ctx, k.uniID.El()); !errors.Is(err, proof.ErrProof) {
		t.Fatalf("forged did_web in the university's record: %v", err)
	}
}
