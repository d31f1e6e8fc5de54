package oid4vp_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/zkcred/zkcred/internal/dcql"
	"github.com/zkcred/zkcred/internal/oid4vp"
	"github.com/zkcred/zkcred/wallet"
)

// TestSpecVectors reads the specifications' own examples
// (testdata/spec-vectors.json: DCQL queries, request objects, links,
// credential offers, issuer metadata, each naming its section) and checks
// what zkcred's parsers do with each.
func TestSpecVectors(t *testing.T) {
	b, err := os.ReadFile("testdata/spec-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []struct {
			Name, Source, Kind, Want string
			Document                 json.RawMessage
		}
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	parse := map[string]func(doc json.RawMessage) error{
		"dcql": func(doc json.RawMessage) error { _, err := dcql.Parse(doc); return err },
		"request_object": func(doc json.RawMessage) error {
			ar, err := oid4vp.ParseRequest(doc)
			if err == nil && (ar.Nonce == "" || ar.DCQLQuery == nil) {
				t.Error("parsed without nonce or query")
			}
			return err
		},
		"link": func(doc json.RawMessage) error {
			var s string
			if err := json.Unmarshal(doc, &s); err != nil {
				return err
			}
			_, err := oid4vp.ParseLink(s)
			return err
		},
		"credential_offer": func(doc json.RawMessage) error { _, err := wallet.ParseCredentialOffer(doc); return err },
		"issuer_metadata": func(doc json.RawMessage) error {
			m, err := wallet.ParseIssuerMetadata(doc)
			if err == nil {
				for id, c := range m.Configs {
					if c.CredentialMetadata == nil || len(c.ProofTypes) == 0 {
						t.Errorf("configuration %s: credential_metadata or proof_types_supported not read", id)
					}
				}
			}
			return err
		},
	}
	kinds := map[string]int{}
	for _, v := range file.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			f, ok := parse[v.Kind]
			if !ok {
				t.Fatalf("unknown kind %q", v.Kind)
			}
			kinds[v.Kind]++
			err := f(v.Document)
			switch {
			case v.Want == "ok" && err != nil:
				t.Fatalf("%s: refused: %v", v.Source, err)
			case v.Want != "ok" && (err == nil || !strings.Contains(err.Error(), v.Want)):
				t.Fatalf("%s: got %v, want an error saying %q", v.Source, err, v.Want)
			}
		})
	}
	if len(kinds) != len(parse) {
		t.Fatalf("vectors of kinds %v, want every one of %d", kinds, len(parse))
	}
}
