package circuits_test

import (
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/zkcred/zkcred/circuits"
)

// A holder checks a presentation natively before proving; once the issuer
// revokes the credential (its leaf becomes 0), the check names the reason.
func Example() {
	s, err := circuits.NewSample()
	if err != nil {
		panic(err)
	}
	fmt.Println("before revocation:", s.Witness.Check())

	s.Tree.Set(s.Witness.LeafIndex, fr.Element{})
	s.Witness.Root, s.Witness.Path = s.Tree.Root(), s.Tree.Path(s.Witness.LeafIndex)
	err = s.Witness.Check()
	fmt.Println("after revocation:", errors.Is(err, circuits.ErrNotInTree))
	// Output:
	// before revocation: <nil>
	// after revocation: true
}
