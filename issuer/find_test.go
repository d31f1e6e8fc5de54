package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/zkcred/zkcred/wire"
)

func TestCredentialsByRowOfferAndSubject(t *testing.T) {
	env := newEnv(t, Options{HolderProof: knowsSecret, PublicURL: publicURL})
	ctx := context.Background()
	d := ExampleSchemas()["diploma"]
	// Rows 2 and 3 have holder commitments, 4 and 5 get claim links, 6 is
	// rejected.
	csvData := string(diplomaCSV(2, true, nil)) +
		"Student 2,2001-02-03,BSc,Physics,2026-06-30,3.02,false,\n" +
		"Student 3,2001-02-03,BSc,Physics,2026-06-30,3.03,true,\n" +
		"Student 4,2001-02-30,BSc,Physics,2026-06-30,3.04,false,\n"
	out := t.TempDir()
	rep, err := env.is.RunBatch(ctx, BatchOptions{Schema: d, CSV: []byte(csvData), OutDir: out})
	if !errors.Is(err, ErrRowsRejected) || rep.Issued != 2 || rep.Offered != 2 {
		t.Fatalf("%+v %v", rep, err)
	}
	_, hc := holder()
	direct, err := env.is.Issue(ctx, Request{Schema: d, Subject: diplomaSubject(), HolderCommit: hc})
	if err != nil {
		t.Fatal(err)
	}
	find := func(q Query) []CredentialInfo {
		t.Helper()
		l, err := env.is.Credentials(q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		return l.Credentials
	}
	one := func(q Query) CredentialInfo {
		t.Helper()
		got := find(q)
		if len(got) != 1 {
			t.Fatalf("%+v: %d results %+v, want 1", q, len(got), got)
		}
		return got[0]
	}

	row2 := one(Query{Job: rep.Job, Row: 2})
	if row2.ID == "" || row2.Status != StatusActive || row2.Job != rep.Job || row2.Row != 2 || row2.Subject["name"] != "Student 0" || row2.LeafIndex == nil {
		t.Fatalf("row 2: %+v", row2)
	}
	row4 := one(Query{Job: rep.Job, Row: 4})
	if row4.ID != "" || row4.Status != StatusUnclaimed || row4.Offer == "" || row4.LeafIndex != nil || row4.OfferExpires == "" {
		t.Fatalf("row 4 before its claim: %+v", row4)
	}
	if got := find(Query{Job: rep.Job, Row: 6}); len(got) != 0 {
		t.Fatalf("rejected row: %+v", got)
	}
	if got := find(Query{Job: rep.Job}); len(got) != 4 {
		t.Fatalf("the job: %d results", len(got))
	}
	if one(Query{Row: 3}).Subject["name"] != "Student 1" {
		t.Fatal("row 3 of every job")
	}

	// Row 4's holder claims with the link from the row's file; the row now
	// names the credential.
	var link OfferLink
	raw, err := os.ReadFile(filepath.Join(out, rowFile(4, "offer")))
	if err != nil || json.Unmarshal(raw, &link) != nil || link.ID != row4.Offer {
		t.Fatalf("row 4's link file: %s %v", raw, err)
	}
	s, hc4 := holder()
	b4, _, err := env.is.Claim(ctx, row4.Offer, link.Token, hc4, proofFor(s, wire.ClaimChallenge(row4.Offer, link.Token)))
	if err != nil {
		t.Fatal(err)
	}
	claimed := one(Query{Job: rep.Job, Row: 4})
	if claimed.ID != b4.Private.CredentialID || claimed.Status != StatusActive || claimed.Offer != row4.Offer || claimed.Row != 4 {
		t.Fatalf("row 4 after its claim: %+v", claimed)
	}
	if byOffer := one(Query{Offer: row4.Offer}); byOffer.ID != b4.Private.CredentialID || byOffer.Job != rep.Job {
		t.Fatalf("by offer: %+v", byOffer)
	}
	if got := find(Query{Offer: "no-such-offer"}); len(got) != 0 {
		t.Fatalf("unknown offer: %+v", got)
	}

	// Subject fields, exactly as written; several are ANDed.
	if got := one(Query{Subject: map[string]string{"name": "Student 1"}}); got.Row != 3 {
		t.Fatalf("by name: %+v", got)
	}
	if got := one(Query{Subject: map[string]string{"name": "Ada Lovelace", "honours": "true"}}); got.ID != direct.Private.CredentialID || got.Job != "" {
		t.Fatalf("by name and honours: %+v", got)
	}
	if got := find(Query{Subject: map[string]string{"name": "Ada Lovelace", "honours": "false"}}); len(got) != 0 {
		t.Fatalf("contradicting filters: %+v", got)
	}
	if got := find(Query{Subject: map[string]string{"name": "student 1"}}); len(got) != 0 {
		t.Fatal("subject match is not exact")
	}
	if got := one(Query{Subject: map[string]string{"name": "Student 3"}}); got.Status != StatusUnclaimed {
		t.Fatalf("unclaimed offer by subject: %+v", got)
	}

	// Revocation shows.
	if _, err := env.is.Revoke(ctx, []string{row2.ID}, nil); err != nil {
		t.Fatal(err)
	}
	if got := one(Query{Job: rep.Job, Row: 2}); got.Status != StatusRevoked {
		t.Fatalf("after revocation: %+v", got)
	}

	// Everything, in pages.
	all := find(Query{})
	if len(all) != 5 { // rows 2, 3, 4 (claimed), 5 (unclaimed), direct
		t.Fatalf("all: %d %+v", len(all), all)
	}
	seen := map[string]bool{}
	q := Query{Limit: 2}
	for pages := 0; ; pages++ {
		l, err := env.is.Credentials(q)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range l.Credentials {
			k := c.key()
			if seen[k] {
				t.Fatalf("%s listed twice", k)
			}
			seen[k] = true
		}
		if l.Next == "" {
			if pages != 2 {
				t.Fatalf("%d pages of 2 for 5", pages+1)
			}
			break
		}
		q.After = l.Next
	}
	if len(seen) != 5 {
		t.Fatalf("pages listed %d", len(seen))
	}

	for _, q := range []Query{{Limit: MaxListLimit + 1}, {Limit: -1}, {Row: 1}} {
		if _, err := env.is.Credentials(q); !errors.Is(err, ErrQuery) {
			t.Errorf("%+v: %v", q, err)
		}
	}
	for _, f := range []string{"name", ":x", ""} {
		if _, _, err := ParseSubjectFilter(f); !errors.Is(err, ErrQuery) {
			t.Errorf("subject filter %q: %v", f, err)
		}
	}
	if a, v, err := ParseSubjectFilter("name:Ada: the first"); err != nil || a != "name" || v != "Ada: the first" {
		t.Errorf("%q %q %v", a, v, err)
	}
}
