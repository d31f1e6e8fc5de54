package store

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var schema = &circuits.Schema{Name: "S", Version: "1", Attributes: []circuits.Attribute{{Name: "n", Type: circuits.TypeInteger}}}

func TestCredentials(t *testing.T) {
	s := open(t)
	bundle := []byte(`{"private":{"leafIndex":7}}`)
	err := s.Update(func(tx *Txn) error {
		if err := tx.PutCredential(Credential{ID: "urn:uuid:a", LeafIndex: 7, Bundle: bundle, Origin: Origin{Job: "j", Row: 3}}); err != nil {
			return err
		}
		return tx.PutCredential(Credential{ID: "urn:uuid:b", LeafIndex: 8, Bundle: []byte(`{"private":{"leafIndex":8}}`)})
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Credential("urn:uuid:a")
	if err != nil || string(c.Bundle) != string(bundle) || c.LeafIndex != 7 || c.Origin != (Origin{Job: "j", Row: 3}) || c.Revoked {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := s.Credential("urn:uuid:nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown credential: %v", err)
	}
	var id string
	s.View(func(tx *Txn) error { id, err = tx.CredentialAtLeaf(8); return err })
	if err != nil || id != "urn:uuid:b" {
		t.Fatalf("leaf 8: %q %v", id, err)
	}
	s.View(func(tx *Txn) error { _, err = tx.CredentialAtLeaf(9); return err })
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("leaf 9: %v", err)
	}
	for range 2 { // idempotent
		if err := s.Update(func(tx *Txn) error { return tx.MarkRevoked("urn:uuid:b") }); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Update(func(tx *Txn) error { return tx.MarkRevoked("urn:uuid:nope") }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoked an unknown credential: %v", err)
	}
	var got []string
	s.View(func(tx *Txn) error {
		return tx.Credentials(func(c *Credential) (bool, error) {
			got = append(got, c.ID)
			if c.ID == "urn:uuid:b" && !c.Revoked {
				t.Error("b not revoked")
			}
			return true, nil
		})
	})
	if n, _ := s.CountCredentials(); len(got) != 2 || n != 2 {
		t.Fatalf("listed %v, counted %d", got, n)
	}
}

func TestUpdateIsAtomic(t *testing.T) {
	s := open(t)
	boom := errors.New("boom")
	err := s.Update(func(tx *Txn) error {
		tx.PutCredential(Credential{ID: "urn:uuid:a", Bundle: []byte(`{}`)})
		tx.PutRow("j", 2, Row{Status: RowIssued, Credential: "urn:uuid:a"})
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if n, _ := s.CountCredentials(); n != 0 {
		t.Fatal("a failed transaction recorded a credential")
	}
	if rows, _ := s.Rows("j"); len(rows) != 0 {
		t.Fatal("a failed transaction recorded a row")
	}
}

func TestOffersPendingRowsSchemas(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	o := &Offer{ID: "o1", Schema: schema, Subject: map[string]any{"n": json.Number("18446744073709551615")},
		Expires: now.Add(time.Hour), Created: now, TokenHash: "ab", Job: "j", Row: 4}
	p := &Pending{ID: "p1", Since: 3, Offer: "o1", Drafts: []*Draft{{CredentialID: "urn:uuid:d", Schema: schema, Subject: o.Subject, ValidFrom: now}}}
	err = s.Update(func(tx *Txn) error {
		return errors.Join(tx.PutOffer(o), tx.PutPending(p), tx.PutSchema(schema),
			tx.PutRow("j", 2, Row{Status: RowRejected, Field: "n", Reason: "bad"}),
			tx.PutRow("j", 300, Row{Status: RowOffered, Offer: "o1"}),
			tx.PutRow("k", 2, Row{Status: RowIssued, Credential: "urn:uuid:x"}))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Everything survives a reopen; numbers stay exact.
	if s, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Offer("o1")
	if err != nil || got.Subject["n"] != json.Number("18446744073709551615") || got.Row != 4 || !got.Expires.Equal(o.Expires) {
		t.Fatalf("offer %+v %v", got, err)
	}
	ps, err := s.Pendings()
	if err != nil || len(ps) != 1 || ps[0].Drafts[0].Subject["n"] != json.Number("18446744073709551615") {
		t.Fatalf("pending %+v %v", ps, err)
	}
	rows, err := s.Rows("j")
	if err != nil || len(rows) != 2 || rows[300].Offer != "o1" || rows[2].Field != "n" {
		t.Fatalf("rows %+v %v", rows, err)
	}
	id := schema.ID()
	if sc, err := s.Schema(circuits.Dec(id)); err != nil || sc.Name != "S" {
		t.Fatalf("schema %v %v", sc, err)
	}
	if _, err := s.Schema("1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown schema: %v", err)
	}
	if _, err := s.Offer("o2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown offer: %v", err)
	}
	s.Update(func(tx *Txn) error { return tx.DeletePending("p1") })
	if ps, _ := s.Pendings(); len(ps) != 0 {
		t.Fatal("pending entry not deleted")
	}
}

func TestOpenBusy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrBusy) {
		t.Fatalf("second open: %v", err)
	}
}
