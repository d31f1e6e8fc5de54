package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/zkcred/zkcred/circuits"
)

func init() {
	register("demo", "run the whole story once on embedded defaults in a temporary directory", runDemo)
}

// story prints numbered steps with their timings.
type story struct {
	step  int
	start time.Time
}

func (s *story) say(format string, a ...any) {
	s.step++
	fmt.Printf("%2d. %s\n", s.step, fmt.Sprintf(format, a...))
}

func (s *story) timed(what string, f func() error) error {
	start := time.Now()
	err := f()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	fmt.Printf("    %s in %v\n", what, time.Since(start).Round(time.Millisecond))
	return nil
}

func runDemo(args []string) error {
	fs := newFlags("demo")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "zkcred-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s := &story{start: time.Now()}

	var keys *circuits.Keys
	s.say("Trusted setup (development keys, single party: unsafe for production)")
	if err := s.timed("setup", func() (err error) {
		keys, err = circuits.LoadOrSetup(dir, nil)
		return err
	}); err != nil {
		return err
	}
	fmt.Printf("    %d constraints; verifying key sha256 %s\n", keys.Constraints(), keys.Verifier().Hash())

	sample, err := circuits.NewSample()
	if err != nil {
		return err
	}
	w := sample.Witness
	s.say("A university anchors a diploma; leaf %d of the credential tree, root %s…", w.LeafIndex, circuits.Dec(w.Root)[:12])

	var proof []byte
	var pub *circuits.Public
	s.say("The graduate proves: degree disclosed, born on or before 2008-11-28, degree MSc or PhD, GPA 3.00–4.00")
	if err := s.timed("prove", func() (err error) {
		proof, pub, err = keys.Prove(w)
		return err
	}); err != nil {
		return err
	}
	s.say("The employer verifies the %d-byte proof against the published root", len(proof))
	if err := s.timed("verify", func() error { return keys.Verifier().Verify(proof, pub) }); err != nil {
		return err
	}

	s.say("The university revokes the diploma: its leaf becomes 0 and a new root is published")
	if err := sample.Tree.Set(w.LeafIndex, fr.Element{}); err != nil {
		return err
	}
	w.Root, w.Path = sample.Tree.Root(), sample.Tree.Path(w.LeafIndex)
	if _, _, err := keys.Prove(w); !errors.Is(err, circuits.ErrNotInTree) {
		return fmt.Errorf("revoked credential: want ErrNotInTree, got %v", err)
	}
	fmt.Println("    the wallet refuses: credential is not in the tree under the new root")
	if err := keys.Verifier().Verify(proof, func() *circuits.Public { p := *pub; p.Root = w.Root; return &p }()); err == nil {
		return errors.New("old proof verified against the new root")
	}
	fmt.Println("    and the old proof does not verify against the new root")
	fmt.Printf("\ndemo finished in %v\n", time.Since(s.start).Round(time.Millisecond))
	return nil
}
