package api_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/apitest"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/issuer/api"
	"github.com/zkcred/zkcred/wire"
)

// TestProbe sends the bad-input prober's requests, generated from the
// OpenAPI document, to every route of the issuer API: no 5xx, no dropped
// connection, no success for what the document refuses.
func TestProbe(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.handler(t, e.is))
	defer srv.Close()
	ctx := context.Background()
	link, err := e.is.CreateOffer(ctx, issuer.OfferRequest{Schema: issuer.ExampleSchemas()["diploma"], Subject: diplomaSubject()})
	if err != nil {
		t.Fatal(err)
	}
	_, hc := holder()
	b, err := e.is.Issue(ctx, issuer.Request{Schema: issuer.ExampleSchemas()["diploma"], Subject: diplomaSubject(), HolderCommit: hc})
	if err != nil {
		t.Fatal(err)
	}
	secret, claimer := holder()
	js := func(v any) func() string {
		return func() string { b, _ := json.Marshal(v); return string(b) }
	}
	apitest.Probe(t, api.OpenAPI(), srv.URL, apitest.ProbeOptions{
		Header:    []string{"Authorization", bearer},
		BodyLimit: 4096,
		PathParams: map[string]string{
			"GET /v1/schemas/{id} id":       e.sid,
			"GET /v1/offers/{id} id":        link.ID,
			"POST /v1/offers/{id}/claim id": link.ID,
			"GET /v1/credentials/{id} id":   b.Private.CredentialID,
		},
		Query: map[string]string{"GET /v1/offers/{id} token": link.Token, "GET /v1/credentials job": "j"},
		Bodies: map[string]func() string{
			"POST /v1/offers":      js(e.offerBody()),
			"POST /v1/credentials": js(e.issueBody()),
			"POST /v1/revocations": js(map[string]any{"credentialIds": []string{b.Private.CredentialID}, "leafIndices": []uint64{b.Private.LeafIndex}}),
			"POST /v1/offers/{id}/claim": js(wire.ClaimBody{Token: link.Token, HolderCommitment: circuits.F(claimer),
				Proof: proofFor(secret, wire.ClaimChallenge(link.ID, link.Token))}),
		},
	})
}
