package circuits

import (
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
)

// sample is a self-contained presentation: a diploma credential anchored in
// a small tree, a trust list holding its issuer, and a query with a
// disclosure and four predicates. Tests use it; SampleWitness hands its
// witness to benchmarks and to the wallet's check of fetched keys.
type sample struct {
	Witness *Witness
	Tree    *Tree
	Trust   *TrustList
}

// Slots of the sample credential.
const (
	sampleName   = 0 // string
	sampleBirth  = 1 // date
	sampleDegree = 2 // enum: 0 BSc, 1 MSc, 2 PhD
	sampleGPA    = 3 // decimal, scale 2
	sampleGrad   = 4 // date
	sampleHonour = 5 // boolean
)

// newSample builds a fresh sample with random secrets.
func newSample() (*sample, error) {
	secret := RandomElement()
	issuer := IssuerID([]byte("university-of-examples-ed25519-k"))
	cred := Credential{
		SchemaID:     HashBytes(TagSchema, []byte(`{"name":"diploma"}`)),
		HolderCommit: HolderCommit(secret),
		Expiry:       2_000_000_000,
		Salt:         RandomElement(),
	}
	cred.Attrs[sampleName] = StringValue("Ada Lovelace")
	cred.Attrs[sampleBirth] = U64(19951210)
	cred.Attrs[sampleDegree] = U64(1)
	cred.Attrs[sampleGPA] = U64(372)
	cred.Attrs[sampleGrad] = U64(20240630)
	cred.Attrs[sampleHonour] = U64(1)

	tree := NewTree(Depth)
	for range 5 {
		tree.Append(RandomElement())
	}
	idx, err := tree.Append(LeafHash(issuer, cred.Commitment()))
	if err != nil {
		return nil, err
	}
	for range 3 {
		tree.Append(RandomElement())
	}
	trust, err := NewTrustList([]fr.Element{IssuerID([]byte("a")), issuer, IssuerID([]byte("b"))})
	if err != nil {
		return nil, err
	}
	ti, tp, _ := trust.Path(issuer)
	var q Query
	q.Disclose = 1<<sampleDegree | 1<<sampleHonour
	preds := []struct {
		slot int
		op   string
		vals []fr.Element
	}{
		{sampleBirth, "lte", []fr.Element{U64(20081128)}},
		{sampleDegree, "in", []fr.Element{U64(1), U64(2)}},
		{sampleName, "ne", []fr.Element{StringValue("Bob")}},
		{sampleGPA, "between", []fr.Element{U64(300), U64(400)}},
	}
	for i, p := range preds {
		if q.Predicates[i], err = NewPredicate(p.slot, p.op, p.vals...); err != nil {
			return nil, err
		}
	}
	w := &Witness{
		Credential:   cred,
		HolderSecret: secret,
		IssuerID:     issuer,
		LeafIndex:    idx,
		Path:         tree.Path(idx),
		TrustIndex:   ti,
		TrustPath:    tp,
		Root:         tree.Root(),
		Height:       42,
		TrustRoot:    trust.Root(),
		Now:          1_800_000_000,
		Nonce:        RandomBytes31(),
		Audience:     AudienceID("https://employer.example"),
		Scope:        ScopeID("job-application-42"),
		Query:        q,
	}
	return &sample{Witness: w, Tree: tree, Trust: trust}, nil
}

// SampleWitness returns a fresh, valid presentation witness (a diploma
// credential anchored in a small tree, its issuer trusted, a disclosure
// and four predicates), for benchmarks and for checking that a proving key
// matches its verifying key.
func SampleWitness() (*Witness, error) {
	s, err := newSample()
	if err != nil {
		return nil, err
	}
	return s.Witness, nil
}
