package store

import (
	"testing"
	"time"
)

// TestVCIState: OpenID4VCI entries survive closing and reopening the
// store, read as absent once expired, and DropExpiredVCI deletes exactly
// the expired ones; a c_nonce is taken once.
func TestVCIState(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_800_000_000, 0)
	soon, later := t0.Add(time.Minute), t0.Add(time.Hour)
	err = s.Update(func(tx *Txn) error {
		for _, err := range []error{
			tx.UseVCICode("code-a", later),
			tx.SetVCITries("offer-a", 3, later),
			tx.PutVCIToken("tok-a", VCIGrant{OfferID: "offer-a", OfferToken: "t"}, soon),
			tx.PutVCINonce("nonce-a", soon),
			tx.PutVCINonce("nonce-b", later),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check := func(now time.Time, used bool, tries int, token bool) {
		t.Helper()
		err := s.View(func(tx *Txn) error {
			u, err := tx.VCICodeUsed("code-a", now)
			if err != nil {
				return err
			}
			n, err := tx.VCITries("offer-a", now)
			if err != nil {
				return err
			}
			g, err := tx.VCIToken("tok-a", now)
			if err != nil {
				return err
			}
			if u != used || n != tries || (g != nil) != token || (g != nil && g.OfferID != "offer-a") {
				t.Errorf("at %v: used %v tries %d token %+v", now.Sub(t0), u, n, g)
			}
			if u, _ := tx.VCICodeUsed("code-b", now); u {
				t.Error("an unknown code reads as used")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check(t0, true, 3, true)
	check(soon.Add(time.Second), true, 3, false) // the token expired
	// Dropping at t0 drops nothing; after soon, the token and nonce-a.
	if d, n, err := s.DropExpiredVCI(t0); err != nil || d != 0 || n != 2 {
		t.Fatalf("drop at t0: %d dropped, %d nonces, %v", d, n, err)
	}
	if d, n, err := s.DropExpiredVCI(soon.Add(time.Second)); err != nil || d != 2 || n != 1 {
		t.Fatalf("drop after soon: %d dropped, %d nonces, %v", d, n, err)
	}
	check(t0, true, 3, false) // deleted, not only expired
	take := func(nonce string) bool {
		var ok bool
		if err := s.Update(func(tx *Txn) (err error) { ok, err = tx.TakeVCINonce(nonce, t0); return }); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if take("nonce-a") || !take("nonce-b") || take("nonce-b") {
		t.Fatal("c_nonces: the dropped one or a second use was accepted, or the live one refused")
	}
	if d, _, err := s.DropExpiredVCI(later.Add(time.Second)); err != nil || d != 2 {
		t.Fatalf("drop after later: %d, %v", d, err)
	}
	check(t0, false, 0, false)
}
