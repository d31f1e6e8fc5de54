package circuits_test

import (
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/zkcred/zkcred/circuits"
)

// A holder checks a presentation natively before proving: the credential's
// leaf is in the registry tree, its issuer in the verifier's trust list,
// and the query holds. Once the issuer revokes the credential (its leaf
// becomes 0), the check names the reason.
func Example() {
	schema, err := circuits.ParseSchema([]byte(`{"name":"diploma","version":"1","attributes":[
		{"name":"degree","type":"enum","values":["BSc","MSc","PhD"]},{"name":"born","type":"date"}]}`))
	if err != nil {
		panic(err)
	}
	attrs, err := schema.Encode(map[string]any{"degree": "MSc", "born": "1995-12-10"})
	if err != nil {
		panic(err)
	}
	secret := circuits.RandomElement()
	issuer := circuits.IssuerID([]byte("an issuer's ed25519 public key.."))
	cred := circuits.Credential{SchemaID: schema.ID(), HolderCommit: circuits.HolderCommit(secret),
		Expiry: circuits.NoExpiry, Salt: circuits.RandomElement(), Attrs: attrs}

	tree := circuits.NewTree(circuits.Depth) // the registry's credential tree
	idx, _ := tree.Append(circuits.LeafHash(issuer, cred.Commitment()))
	trust, _ := circuits.NewTrustList([]fr.Element{issuer})
	ti, tp, _ := trust.Path(issuer)

	var q circuits.Query // disclose the degree, prove birth before 2008-11-28
	q.Disclose = 1 << 0
	q.Predicates[0], _ = circuits.NewPredicate(1, "lte", circuits.U64(20081128))
	w := &circuits.Witness{Credential: cred, HolderSecret: secret, IssuerID: issuer,
		LeafIndex: idx, Path: tree.Path(idx), TrustIndex: ti, TrustPath: tp,
		Root: tree.Root(), Height: 7, TrustRoot: trust.Root(), Now: 1_800_000_000,
		Nonce: circuits.RandomBytes31(), Audience: circuits.AudienceID("https://employer.example"), Query: q}
	fmt.Println("before revocation:", w.Check())

	tree.Set(idx, fr.Element{})
	w.Root, w.Path = tree.Root(), tree.Path(idx)
	fmt.Println("after revocation:", errors.Is(w.Check(), circuits.ErrNotInTree))
	// Output:
	// before revocation: <nil>
	// after revocation: true
}
