package registry

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// TestDIDWebBinding: governance binds a did:web to an issuer on register
// and update; the binding is in the record (and so in its leaf and
// proof); a did:web bound to another issuer, or malformed, is refused;
// unbinding frees it.
func TestDIDWebBinding(t *testing.T) {
	k := newGovKit(t)
	a, b := k.keys[0], k.keys[1]
	uniPub := hex.EncodeToString(k.uni.Public().(ed25519.PublicKey))
	if is := k.issuer(uniPub); is.DIDWeb != "" {
		t.Fatalf("genesis issuer binds %q", is.DIDWeb)
	}
	k.mustSubmit(k.tx(a, UpdateIssuer{PubKey: uniPub, Name: "Uni", Kind: "university", Active: true, DIDWeb: "did:web:uni.example"}, b))
	is := k.issuer(uniPub)
	if is.DIDWeb != "did:web:uni.example" {
		t.Fatalf("record binds %q", is.DIDWeb)
	}
	unbound := *is
	unbound.DIDWeb = ""
	if is.Leaf() == unbound.Leaf() {
		t.Fatal("the issuer leaf does not commit to the did:web")
	}

	// Another issuer cannot bind it, neither at registration nor by update.
	_, hosp, _ := ed25519.GenerateKey(nil)
	hospPub := hex.EncodeToString(hosp.Public().(ed25519.PublicKey))
	if _, err := k.submit(k.tx(a, RegisterIssuer{PubKey: hospPub, Name: "H", Kind: "hospital", DIDWeb: "did:web:uni.example"}, b)); !errors.Is(err, ErrDIDWebBound) {
		t.Fatalf("registering with another issuer's did:web: %v", err)
	}
	if k.issuer(hospPub) != nil {
		t.Fatal("a refused registration registered the issuer")
	}
	k.mustSubmit(k.tx(a, RegisterIssuer{PubKey: hospPub, Name: "H", Kind: "hospital", DIDWeb: "did:web:hospital.example%3A8443"}, b))
	if got := k.issuer(hospPub).DIDWeb; got != "did:web:hospital.example%3A8443" {
		t.Fatalf("hospital binds %q", got)
	}
	if _, err := k.submit(k.tx(a, UpdateIssuer{PubKey: hospPub, Name: "H", Kind: "hospital", Active: true, DIDWeb: "did:web:uni.example"}, b)); !errors.Is(err, ErrDIDWebBound) {
		t.Fatalf("updating to another issuer's did:web: %v", err)
	}
	if got := k.issuer(hospPub).DIDWeb; got != "did:web:hospital.example%3A8443" {
		t.Fatalf("a refused update changed the binding to %q", got)
	}
	// The same issuer updating with its own did:web keeps it.
	k.mustSubmit(k.tx(a, UpdateIssuer{PubKey: uniPub, Name: "University", Kind: "university", Active: true, DIDWeb: "did:web:uni.example"}, b))
	// Unbinding frees the did:web for another issuer.
	k.mustSubmit(k.tx(a, UpdateIssuer{PubKey: uniPub, Name: "University", Kind: "university", Active: true}, b))
	if got := k.issuer(uniPub).DIDWeb; got != "" {
		t.Fatalf("after unbinding: %q", got)
	}
	k.mustSubmit(k.tx(a, UpdateIssuer{PubKey: hospPub, Name: "H", Kind: "hospital", Active: true, DIDWeb: "did:web:uni.example"}, b))

	for _, bad := range []string{"uni.example", "did:key:z6Mk", "did:web:Uni.example", "did:web:uni.example#key-1", "did:web:uni.example:path", "did:web:"} {
		_, err := k.submit(k.tx(a, RegisterIssuer{PubKey: uniPub, Name: "U", Kind: "university", DIDWeb: bad}, b))
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("did_web %q: %v", bad, err)
		}
	}
	// Other spellings of did:web:uni.example, which the hospital binds,
	// cannot bind another issuer: only the canonical form is accepted.
	for _, alias := range []string{"did:web:uni.example%3A443", "did:web:uni.example%3a443", "did:web:uni.example%3A0443", "did:web:uni.example.", "did:web:uni%2Eexample"} {
		_, key, _ := ed25519.GenerateKey(nil)
		_, err := k.submit(k.tx(a, RegisterIssuer{PubKey: hexPub(key), Name: "Alias", Kind: "university", DIDWeb: alias}, b))
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), `write "did:web:uni.example"`) {
			t.Errorf("did_web %q: %v", alias, err)
		}
		if k.issuer(hexPub(key)) != nil {
			t.Errorf("did_web %q: registered", alias)
		}
	}
}
