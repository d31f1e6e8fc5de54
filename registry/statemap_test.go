package registry

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry/internal/layout"
)

// TestStateMapProofs registers issuers and checks, for every record and
// for absent keys, that its proof verifies against the header's app hash,
// and that it stops verifying when the record, the key, the proof or the
// app hash changes.
func TestStateMapProofs(t *testing.T) {
	g, gov, prod, err := NewGenesis("statemap", time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewChain(g, prod)
	if err != nil {
		t.Fatal(err)
	}
	var ids []circuits.Field
	for i := range 20 {
		pub, _, _ := ed25519.GenerateKey(nil)
		tx, _ := NewTx(g.ChainID, gov, uint64(i+1), RegisterIssuer{PubKey: hex.EncodeToString(pub), Name: fmt.Sprint("Issuer ", i), Kind: []string{"university", "hospital"}[i%2]})
		rc, err := c.Submit(tx)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, *rc.IssuerID)
	}
	h := c.Latest()
	if err := h.CheckAppHash(); err != nil {
		t.Fatal(err)
	}
	if root, _ := StateRoot(c.state); root != h.StateRoot {
		t.Fatal("stored state root is not the header's")
	}
	prove := func(key []byte) *StateProof {
		t.Helper()
		p, err := ProveState(c.state, h.Height, h.CredRoot, h.CredSize, key)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for i, id := range ids {
		key := layout.IssuerKey(id.El())
		var is Issuer
		if ok, err := (&Builder{r: c.state, writes: map[string][]byte{}}).getJSON(key, &is); !ok || err != nil {
			t.Fatalf("issuer %d not stored: %v", i, err)
		}
		p := prove(key)
		if err := p.Verify(h.AppHash, key, &is); err != nil {
			t.Fatalf("issuer %d: %v", i, err)
		}
		other := is
		other.Active = false
		if p.Verify(h.AppHash, key, &other) == nil {
			t.Fatalf("issuer %d: altered record verified", i)
		}
		if p.Verify(h.AppHash, key, nil) == nil {
			t.Fatalf("issuer %d: absence of a present record verified", i)
		}
		if p.Verify(h.AppHash, layout.IssuerKey(ids[(i+1)%len(ids)].El()), &is) == nil {
			t.Fatalf("issuer %d: record verified under another key", i)
		}
		bad := h.AppHash
		bad[0] ^= 1
		if p.Verify(bad, key, &is) == nil {
			t.Fatalf("issuer %d: verified against another app hash", i)
		}
		if len(p.Levels) > 0 {
			q := *p
			q.Levels = append([]uint16(nil), p.Levels...)
			q.Levels[0]++
			if q.Levels[0] < 256 && q.Verify(h.AppHash, key, &is) == nil {
				t.Fatalf("issuer %d: proof with a moved sibling verified", i)
			}
		}
	}
	absent := layout.SchemaKey(circuits.U64(77))
	p := prove(absent)
	if err := p.Verify(h.AppHash, absent, nil); err != nil {
		t.Fatalf("absence: %v", err)
	}
	if p.Verify(h.AppHash, absent, &SchemaRecord{}) == nil {
		t.Fatal("a record verified where there is none")
	}
	var unis KindList
	if _, err := (&Builder{r: c.state, writes: map[string][]byte{}}).getJSON(layout.KindKey("university"), &unis); err != nil || len(unis.Issuers) != 10 {
		t.Fatalf("university list %+v: %v", unis, err)
	}
	for i, m := range unis.Issuers {
		if m.ID != ids[2*i] || !m.Active {
			t.Fatalf("university list out of registration order at %d", i)
		}
	}
}

// TestKindListsFollowUpdates moves an issuer between kinds and
// deactivates it: each list says what the issuer record says.
func TestKindListsFollowUpdates(t *testing.T) {
	g, gov, prod, _ := NewGenesis("kinds", time.Unix(1700000000, 0))
	c, _ := NewChain(g, prod)
	n := uint64(0)
	submit := func(b Body) *Receipt {
		t.Helper()
		n++
		tx, _ := NewTx(g.ChainID, gov, n, b)
		rc, err := c.Submit(tx)
		if err != nil {
			t.Fatal(err)
		}
		return rc
	}
	var pubs []string
	for range 3 {
		pub, _, _ := ed25519.GenerateKey(nil)
		pubs = append(pubs, hex.EncodeToString(pub))
		submit(RegisterIssuer{PubKey: pubs[len(pubs)-1], Name: "U", Kind: "university"})
	}
	list := func(kind string) []string {
		var l KindList
		(&Builder{r: c.state, writes: map[string][]byte{}}).getJSON(layout.KindKey(kind), &l)
		var out []string
		for _, m := range l.Issuers {
			out = append(out, fmt.Sprint(m.Active))
		}
		return out
	}
	submit(UpdateIssuer{PubKey: pubs[0], Name: "U", Kind: "college", Active: true})
	submit(DeactivateIssuer{PubKey: pubs[2]})
	if got := fmt.Sprint(list("university"), list("college")); got != "[true false] [true]" {
		t.Fatalf("lists after move and deactivation: %s", got)
	}
	submit(UpdateIssuer{PubKey: pubs[0], Name: "U", Kind: "university", Active: true})
	var l KindList
	(&Builder{r: c.state, writes: map[string][]byte{}}).getJSON(layout.KindKey("university"), &l)
	pub0, _ := ParsePubKey(pubs[0])
	if len(l.Issuers) != 3 || l.Issuers[0].ID.El() != circuits.IssuerID(pub0) {
		t.Fatalf("an issuer back in its kind is not in registration order: %+v", l)
	}
	if got := list("college"); len(got) != 0 {
		t.Fatalf("college list after the move back: %v", got)
	}
}

// FuzzStateProof decodes arbitrary proof JSON and checks it against a real
// app hash: no input panics, and none but the real proof proves the
// record (a second preimage of SHA-256 aside).
func FuzzStateProof(f *testing.F) {
	g, gov, prod, _ := NewGenesis("fuzz", time.Unix(1700000000, 0))
	c, _ := NewChain(g, prod)
	pub, _, _ := ed25519.GenerateKey(nil)
	tx, _ := NewTx(g.ChainID, gov, 1, RegisterIssuer{PubKey: hex.EncodeToString(pub), Name: "U", Kind: "university"})
	rc, err := c.Submit(tx)
	if err != nil {
		f.Fatal(err)
	}
	h := c.Latest()
	key := layout.IssuerKey(rc.IssuerID.El())
	var is Issuer
	(&Builder{r: c.state, writes: map[string][]byte{}}).getJSON(key, &is)
	p, _ := ProveState(c.state, h.Height, h.CredRoot, h.CredSize, key)
	real, _ := json.Marshal(p)
	f.Add(real)
	f.Add([]byte(`{"levels":[255,0],"siblings":["00"]}`))
	f.Add([]byte(`{"levels":[300],"siblings":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var q StateProof
		if json.Unmarshal(b, &q) != nil {
			return
		}
		err := q.Verify(h.AppHash, key, &is)
		if err == nil {
			if q.StateRoot != h.StateRoot || q.CredRoot != h.CredRoot || q.CredSize != h.CredSize {
				t.Fatalf("a proof with other roots verified: %s", b)
			}
			return
		}
		if !errors.Is(err, ErrProof) {
			t.Fatalf("refusal outside ErrProof: %v", err)
		}
	})
}
