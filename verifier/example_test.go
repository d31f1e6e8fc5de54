package verifier_test

import (
	"fmt"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/verifier"
)

type noProofs struct{}

func (noProofs) Verify([]byte, *circuits.Public) error { return fmt.Errorf("not in this example") }
func (noProofs) VerifyBatch(p [][]byte, _ []*circuits.Public) []error {
	return make([]error, len(p))
}

// A verifier issues a request under its policy; the wallet reads the
// request's query, trust list and date thresholds from it.
func Example() {
	cfg, err := verifier.ParseConfig([]byte(`{"audience":"https://jobs.example","policies":[{
	  "name":"adult",
	  "schema":{"name":"id","version":"1","attributes":[{"name":"birthDate","type":"date"}]},
	  "issuers":{"ids":["42"]},
	  "predicates":[{"attribute":"birthDate","op":"age_at_least","years":18}]}]}`))
	if err != nil {
		panic(err)
	}
	roots, _ := verifier.NewPinned(nil, nil)
	o := cfg.Options()
	o.InMemory = true
	o.Proofs = noProofs{} // keys.Verifier() in a real verifier
	o.Roots = roots       // the registry light client in a real verifier
	o.Clock = func() time.Time { return time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC) }
	srv, err := verifier.New(o)
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	r, err := srv.CreateRequest("adult")
	if err != nil {
		panic(err)
	}
	p := r.Predicates[0]
	fmt.Println(p.Attribute, p.Op, p.Values[0], "from", p.Helper)
	q, _ := r.Query.Circuit()
	fmt.Println("circuit range:", q.Predicates[0].Values[0].String(), "..", q.Predicates[0].Values[1].String())
	fmt.Println("expires after", r.Expires-r.Now, "seconds; submit to", r.SubmitURL[:len("https://jobs.example/v1/requests/")])
	var zero fr.Element
	fmt.Println("nullifier scope set:", r.ScopeID.El() != zero)
	// Output:
	// birthDate lte 2008-11-28 from age_at_least 18 years
	// circuit range: 0 .. 20081128
	// expires after 600 seconds; submit to https://jobs.example/v1/requests/
	// nullifier scope set: false
}
