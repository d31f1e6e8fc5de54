package registry

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry/internal/layout"
)

func hexPub(k ed25519.PrivateKey) string { return hex.EncodeToString(k.Public().(ed25519.PublicKey)) }

// accreditor returns the accreditor record of key in the latest state.
func (k *govKit) accreditor(key ed25519.PrivateKey) *Accreditor {
	k.t.Helper()
	a, err := k.c.Next().accreditor(hexPub(key))
	if err != nil {
		k.t.Fatal(err)
	}
	return a
}

// refused submits tx, wants an error wrapping want and containing text,
// and checks that nothing changed: no block, the same state.
func (k *govKit) refused(name string, tx *Tx, want error, text string) {
	k.t.Helper()
	before := *k.c.Latest()
	_, err := k.submit(tx)
	if !errors.Is(err, want) || !strings.Contains(err.Error(), text) {
		k.t.Fatalf("%s: got %v, want %v (%q)", name, err, want, text)
	}
	if after := *k.c.Latest(); after != before {
		k.t.Fatalf("%s: a refused transaction made a block", name)
	}
}

// TestAccreditation: governance (2 of 3) accredits a ministry for
// universities; the ministry alone then registers, updates and deactivates
// universities, and nothing else: another kind, moving an issuer to
// another kind, a withdrawn accreditation and a key that is no accreditor
// are refused and change nothing.
func TestAccreditation(t *testing.T) {
	k := newGovKit(t)
	a, b := k.keys[0], k.keys[1]
	_, ministry, _ := ed25519.GenerateKey(nil)
	_, outsider, _ := ed25519.GenerateKey(nil)
	_, uni2, _ := ed25519.GenerateKey(nil)
	_, hosp, _ := ed25519.GenerateKey(nil)
	acc := Accredit{PubKey: hexPub(ministry), Name: "Ministry of Education", Kinds: []string{"university", "college"}}

	k.refused("accredit below threshold", k.tx(a, acc), ErrBelowThreshold, "1 of the 2")
	k.refused("accredit by an outsider", k.tx(outsider, acc, a), ErrNotGovernance, "")
	k.refused("ministry accredits itself", k.tx(ministry, acc), ErrNotGovernance, "")
	if k.accreditor(ministry) != nil {
		t.Fatal("a refused accreditation left a record")
	}
	k.mustSubmit(k.tx(a, acc, b))
	rec := k.accreditor(ministry)
	if rec == nil || !rec.Active || rec.Name != acc.Name || strings.Join(rec.Kinds, ",") != "university,college" {
		t.Fatalf("accreditor record %+v", rec)
	}

	// The record is in the state map: proven against the app hash.
	hd := k.c.Latest()
	p, err := ProveState(k.c.state, hd.Height, hd.CredRoot, hd.CredSize, layout.AccreditorKey(ministry.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	ans := AccreditorAnswer{PubKey: rec.PubKey, Record: rec, Proof: *p}
	if err := ans.Verify(hd.AppHash, rec.PubKey); err != nil {
		t.Fatalf("accreditor proof: %v", err)
	}
	forged := *rec
	forged.Kinds = []string{"university", "hospital"}
	if err := (&AccreditorAnswer{PubKey: rec.PubKey, Record: &forged, Proof: *p}).Verify(hd.AppHash, rec.PubKey); !errors.Is(err, ErrProof) {
		t.Fatalf("forged kinds: %v", err)
	}
	if err := (&AccreditorAnswer{PubKey: rec.PubKey, Proof: *p}).Verify(hd.AppHash, rec.PubKey); !errors.Is(err, ErrProof) {
		t.Fatalf("record hidden: %v", err)
	}
	if err := ans.Verify(hd.AppHash, hexPub(outsider)); !errors.Is(err, ErrProof) {
		t.Fatalf("answer for another key: %v", err)
	}
	// An outsider is proven not accredited.
	po, err := ProveState(k.c.state, hd.Height, hd.CredRoot, hd.CredSize, layout.AccreditorKey(outsider.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	if err := (&AccreditorAnswer{PubKey: hexPub(outsider), Proof: *po}).Verify(hd.AppHash, hexPub(outsider)); err != nil {
		t.Fatalf("absence proof: %v", err)
	}

	// The ministry registers a university, alone.
	reg := RegisterIssuer{PubKey: hexPub(uni2), Name: "Second University", Kind: "university"}
	k.mustSubmit(k.tx(ministry, reg))
	is := k.issuer(reg.PubKey)
	if is == nil || !is.Active || is.RegisteredBy != hexPub(ministry) {
		t.Fatalf("registered issuer %+v", is)
	}
	// A governance-registered issuer names nobody: its record and leaf
	// are as before accreditation existed.
	if g := k.issuer(hexPub(k.uni)); g.RegisteredBy != "" {
		t.Fatalf("genesis issuer registered by %q", g.RegisteredBy)
	} else if j, _ := json.Marshal(g); strings.Contains(string(j), "registered_by") {
		t.Fatalf("genesis issuer record %s", j)
	}

	// ... and nothing outside its kinds.
	k.refused("another kind", k.tx(ministry, RegisterIssuer{PubKey: hexPub(hosp), Name: "Hospital", Kind: "hospital"}), ErrNotAccredited, `not "hospital"`)
	k.refused("moved to another kind", k.tx(ministry, UpdateIssuer{PubKey: reg.PubKey, Name: reg.Name, Kind: "hospital", Active: true}), ErrNotAccredited, "hospital")
	k.refused("binds a did:web", k.tx(ministry, RegisterIssuer{PubKey: hexPub(hosp), Name: "College", Kind: "college", DIDWeb: "did:web:college.example"}), ErrNotAccredited, "did:web")
	k.refused("changes a did:web", k.tx(ministry, UpdateIssuer{PubKey: reg.PubKey, Name: reg.Name, Kind: reg.Kind, Active: true, DIDWeb: "did:web:uni2.example"}), ErrNotAccredited, "did:web")
	k.refused("with approvals", k.tx(ministry, RegisterIssuer{PubKey: hexPub(hosp), Name: "College", Kind: "college"}, a), ErrMalformed, "carries no approvals")
	k.refused("an outsider", k.tx(outsider, RegisterIssuer{PubKey: hexPub(hosp), Name: "College", Kind: "college"}), ErrNotGovernance, "nor an accreditor")
	k.refused("outsider deactivates", k.tx(outsider, DeactivateIssuer{PubKey: reg.PubKey}), ErrNotGovernance, "nor an accreditor")
	k.refused("publish circuit", k.tx(ministry, PublishCircuit{Circuit: "x", VKHash: strings.Repeat("ab", 32)}), ErrNotGovernance, "")
	k.refused("accreditor accredits", k.tx(ministry, Accredit{PubKey: hexPub(outsider), Name: "X", Kinds: []string{"university"}}), ErrNotGovernance, "")
	if k.issuer(hexPub(hosp)) != nil {
		t.Fatal("a refused registration left a record")
	}

	// Updates and deactivation within its kinds, a university that
	// governance registered included.
	k.mustSubmit(k.tx(ministry, UpdateIssuer{PubKey: reg.PubKey, Name: "Second University of X", Kind: "college", Active: true}))
	if is := k.issuer(reg.PubKey); is.Kind != "college" || is.Name != "Second University of X" || is.RegisteredBy != hexPub(ministry) {
		t.Fatalf("updated issuer %+v", is)
	}
	// A did:web governance bound stays: the accreditor updates around it.
	k.mustSubmit(k.tx(a, UpdateIssuer{PubKey: hexPub(k.uni), Name: "Uni", Kind: "university", Active: true, DIDWeb: "did:web:uni.example"}, b))
	k.refused("unbinds a did:web", k.tx(ministry, UpdateIssuer{PubKey: hexPub(k.uni), Name: "Uni of Y", Kind: "university", Active: true}), ErrNotAccredited, "did:web")
	k.mustSubmit(k.tx(ministry, UpdateIssuer{PubKey: hexPub(k.uni), Name: "Uni of Y", Kind: "university", Active: true, DIDWeb: "did:web:uni.example"}))
	if is := k.issuer(hexPub(k.uni)); is.Name != "Uni of Y" || is.DIDWeb != "did:web:uni.example" {
		t.Fatalf("updated issuer %+v", is)
	}
	k.mustSubmit(k.tx(ministry, DeactivateIssuer{PubKey: hexPub(k.uni)}))
	if k.issuer(hexPub(k.uni)).Active {
		t.Fatal("deactivation by the accreditor did not apply")
	}

	// Governance withdraws the accreditation: the ministry can do nothing.
	k.refused("withdraw below threshold", k.tx(a, WithdrawAccreditation{PubKey: acc.PubKey}), ErrBelowThreshold, "")
	k.mustSubmit(k.tx(b, WithdrawAccreditation{PubKey: acc.PubKey}, a))
	if r := k.accreditor(ministry); r == nil || r.Active {
		t.Fatalf("withdrawn record %+v", r)
	}
	k.refused("withdrawn registers", k.tx(ministry, RegisterIssuer{PubKey: hexPub(hosp), Name: "College", Kind: "college"}), ErrWithdrawn, "may no longer")
	k.refused("withdrawn deactivates", k.tx(ministry, DeactivateIssuer{PubKey: reg.PubKey}), ErrWithdrawn, "")
	k.refused("withdrawn twice", k.tx(b, WithdrawAccreditation{PubKey: acc.PubKey}, a), ErrConflict, "already withdrawn")
	k.refused("withdraw unknown", k.tx(b, WithdrawAccreditation{PubKey: hexPub(outsider)}, a), ErrNotFound, "")

	// Accredited again, for hospitals only.
	k.mustSubmit(k.tx(a, Accredit{PubKey: acc.PubKey, Name: acc.Name, Kinds: []string{"hospital"}}, b))
	if r := k.accreditor(ministry); !r.Active || r.Accredited != rec.Accredited || strings.Join(r.Kinds, ",") != "hospital" {
		t.Fatalf("re-accredited record %+v (first %+v)", r, rec)
	}
	k.refused("old kind after re-accreditation", k.tx(ministry, RegisterIssuer{PubKey: hexPub(hosp), Name: "College", Kind: "college"}), ErrNotAccredited, "")
	k.mustSubmit(k.tx(ministry, RegisterIssuer{PubKey: hexPub(hosp), Name: "Hospital", Kind: "hospital"}))
}

// TestAccreditDecode: malformed accreditations are refused at decoding.
func TestAccreditDecode(t *testing.T) {
	_, gov, _ := ed25519.GenerateKey(nil)
	pub := hexPub(gov)
	many := make([]string, MaxAccreditKinds+1)
	for i := range many {
		many[i] = "k" + strings.Repeat("x", i)
	}
	for name, body := range map[string]Body{
		"no kinds":       Accredit{PubKey: pub, Name: "M", Kinds: []string{}},
		"nil kinds":      Accredit{PubKey: pub, Name: "M"},
		"bad kind":       Accredit{PubKey: pub, Name: "M", Kinds: []string{"Uni"}},
		"kind twice":     Accredit{PubKey: pub, Name: "M", Kinds: []string{"uni", "uni"}},
		"too many kinds": Accredit{PubKey: pub, Name: "M", Kinds: many},
		"no name":        Accredit{PubKey: pub, Name: " ", Kinds: []string{"uni"}},
		"bad key":        Accredit{PubKey: "00", Name: "M", Kinds: []string{"uni"}},
		"withdraw bad":   WithdrawAccreditation{PubKey: strings.ToUpper(pub)},
	} {
		tx, err := NewTx("c", gov, 1, body)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(tx)
		if _, err := DecodeTx("c", b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// accredited accredits key for kinds, by governance (2 of 3).
func (k *govKit) accredited(key ed25519.PrivateKey, name string, kinds ...string) {
	k.t.Helper()
	k.mustSubmit(k.tx(k.keys[0], Accredit{PubKey: hexPub(key), Name: name, Kinds: kinds}, k.keys[1]))
}

// unchanged fails unless the issuer record of pub is still want.
func (k *govKit) unchanged(name, pub string, want *Issuer) {
	k.t.Helper()
	if got := k.issuer(pub); !reflect.DeepEqual(got, want) {
		k.t.Fatalf("%s: record %+v, was %+v", name, got, want)
	}
}

// TestAccreditorReactivation: an accreditor reactivates only an issuer it
// deactivated itself. One that governance deactivated (a leaked key, to
// be followed by governance_revoke) stays inactive whatever an accreditor
// of its kind sends, deactivating it once more included; one that
// another accreditor deactivated too.
func TestAccreditorReactivation(t *testing.T) {
	k := newGovKit(t)
	a, b := k.keys[0], k.keys[1]
	_, ministry, _ := ed25519.GenerateKey(nil)
	_, other, _ := ed25519.GenerateKey(nil)
	k.accredited(ministry, "Ministry of Education", "university")
	k.accredited(other, "Board of Universities", "university")
	uni := hexPub(k.uni)
	up := UpdateIssuer{PubKey: uni, Name: "Uni", Kind: "university", Active: true}

	// The university anchored a credential before its key leaked.
	c5 := circuits.F(circuits.U64(5))
	rc := k.mustSubmit(k.tx(k.uni, Anchor{Commitments: []circuits.Field{c5}}))

	// Governance deactivates: the record names nobody.
	k.mustSubmit(k.tx(a, DeactivateIssuer{PubKey: uni}, b))
	is := k.issuer(uni)
	if is.Active || is.DeactivatedBy != "" {
		t.Fatalf("deactivated by governance: %+v", is)
	} else if j, _ := json.Marshal(is); strings.Contains(string(j), "deactivated_by") {
		t.Fatalf("governance-deactivated record %s", j)
	}
	k.refused("reactivates governance's deactivation", k.tx(ministry, up), ErrNotAccredited, "which governance deactivated")
	k.unchanged("reactivation refused", uni, is)
	// Deactivating it again does not make the deactivation the ministry's.
	k.mustSubmit(k.tx(ministry, DeactivateIssuer{PubKey: uni}))
	k.mustSubmit(k.tx(ministry, UpdateIssuer{PubKey: uni, Name: "Uni", Kind: "university"}))
	if is = k.issuer(uni); is.Active || is.DeactivatedBy != "" {
		t.Fatalf("claimed by the accreditor: %+v", is)
	}
	k.refused("reactivates after deactivating again", k.tx(ministry, up), ErrNotAccredited, "which governance deactivated")
	k.unchanged("reactivation refused", uni, is)
	// ... and the issuer stays open to governance_revoke.
	k.mustSubmit(k.tx(a, GovernanceRevoke{Issuer: uni, Leaves: []RevokeLeaf{{Index: rc.FirstLeaf, Commitment: c5}}}, b))

	// Governance reactivates.
	k.mustSubmit(k.tx(a, up, b))
	if is = k.issuer(uni); !is.Active || is.DeactivatedBy != "" {
		t.Fatalf("reactivated by governance: %+v", is)
	}

	// The ministry deactivates: only it (or governance) brings it back.
	k.mustSubmit(k.tx(ministry, DeactivateIssuer{PubKey: uni}))
	if is = k.issuer(uni); is.Active || is.DeactivatedBy != hexPub(ministry) {
		t.Fatalf("deactivated by the ministry: %+v", is)
	}
	k.refused("another accreditor reactivates", k.tx(other, up), ErrNotAccredited, "which accreditor "+hexPub(ministry)+" deactivated")
	k.unchanged("reactivation refused", uni, is)
	k.mustSubmit(k.tx(ministry, up))
	if is = k.issuer(uni); !is.Active || is.DeactivatedBy != "" {
		t.Fatalf("reactivated by the ministry: %+v", is)
	}

	// Deactivated by an update, then by governance: governance's now.
	k.mustSubmit(k.tx(ministry, UpdateIssuer{PubKey: uni, Name: "Uni", Kind: "university"}))
	if is = k.issuer(uni); is.Active || is.DeactivatedBy != hexPub(ministry) {
		t.Fatalf("deactivated by the ministry's update: %+v", is)
	}
	k.mustSubmit(k.tx(b, DeactivateIssuer{PubKey: uni}, a))
	if is = k.issuer(uni); is.DeactivatedBy != "" {
		t.Fatalf("deactivated by governance after the ministry: %+v", is)
	}
	k.refused("reactivates after governance took over", k.tx(ministry, up), ErrNotAccredited, "which governance deactivated")
	k.unchanged("reactivation refused", uni, is)
}

// TestAccreditorCurrentKind: an accreditor's rights follow the issuer's
// kind as it is, not only the kind a transaction names: a university
// accreditor can neither deactivate a hospital nor move one into
// "university", and neither attempt changes anything.
func TestAccreditorCurrentKind(t *testing.T) {
	k := newGovKit(t)
	a, b := k.keys[0], k.keys[1]
	_, ministry, _ := ed25519.GenerateKey(nil)
	_, hosp, _ := ed25519.GenerateKey(nil)
	k.accredited(ministry, "Ministry of Education", "university")
	k.mustSubmit(k.tx(a, RegisterIssuer{PubKey: hexPub(hosp), Name: "Hospital", Kind: "hospital"}, b))
	is := k.issuer(hexPub(hosp))
	if is == nil || !is.Active {
		t.Fatalf("hospital %+v", is)
	}
	k.refused("deactivates a hospital", k.tx(ministry, DeactivateIssuer{PubKey: hexPub(hosp)}), ErrNotAccredited, `not "hospital"`)
	k.unchanged("deactivation refused", hexPub(hosp), is)
	k.refused("moves a hospital into university", k.tx(ministry, UpdateIssuer{PubKey: hexPub(hosp), Name: "Hospital", Kind: "university", Active: true}), ErrNotAccredited, `not "hospital"`)
	k.unchanged("move refused", hexPub(hosp), is)
}
