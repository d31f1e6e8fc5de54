package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkcred/zkcred/wire"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/stack"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/wallet"
)

func newDemoCmd() *cobra.Command {
	var keep bool
	c := leaf("demo", "run the whole story once on embedded defaults in a temporary directory",
		"  zkcred demo\n  zkcred demo --keep   # keep the data and print where",
		noArgs, func(*cobra.Command, []string) error { return runDemo(keep) })
	c.Long = `Demo makes development keys, starts a registry, a university, a hospital and a
verifier on loopback, issues a diploma and a vaccination record through claim
links, presents both over HTTP, shows a replay rejected, revokes the diploma
and shows the wallet refuse to present it. Each step prints its timing; with
--json only the timings are printed, as one JSON object.`
	c.Flags().BoolVar(&keep, "keep", false, "keep the temporary directory and print its path")
	return c
}

// story prints numbered steps and keeps their timings.
type story struct {
	out     io.Writer
	step    int
	start   time.Time
	timings []string
	steps   []demoStep
}

// demoStep is one timed step, as --json prints it.
type demoStep struct {
	Step string  `json:"step"`
	MS   float64 `json:"ms"`
}

func (s *story) say(format string, a ...any) {
	s.step++
	fmt.Fprintf(s.out, "\n%2d. %s\n", s.step, fmt.Sprintf(format, a...))
}

func (s *story) note(format string, a ...any) {
	fmt.Fprintf(s.out, "    %s\n", fmt.Sprintf(format, a...))
}

// timed runs f and records how long it took under what.
func (s *story) timed(what string, f func() error) error {
	start := time.Now()
	if err := f(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	d := time.Since(start).Round(time.Millisecond)
	s.note("(%s: %v)", what, d)
	s.timings = append(s.timings, fmt.Sprintf("%-28s %v", what, d))
	s.steps = append(s.steps, demoStep{what, ms(d)})
	return nil
}

func runDemo(keep bool) error {
	dir, err := os.MkdirTemp("", "zkcred-demo-")
	if err != nil {
		return err
	}
	if keep {
		defer fmt.Fprintf(os.Stderr, "data kept in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return demo(ctx, dir)
}

func demo(ctx context.Context, dir string) error {
	s := &story{start: time.Now(), out: os.Stdout}
	if jsonOutput {
		s.out = io.Discard
	}
	fmt.Fprintln(s.out, "zkcred demo: a university and a hospital issue credentials; a graduate proves facts about them.")

	var keys *circuits.Keys
	s.say("Trusted setup: development Groth16 keys (single party, so unsafe for production)")
	if err := s.timed("setup (cold keys)", func() (err error) {
		keys, err = circuits.LoadOrSetup(filepath.Join(dir, "keys"), nil)
		return err
	}); err != nil {
		return err
	}
	s.note("%d constraints; verifying key sha256 %s…", keys.Constraints(), keys.Verifier().Hash()[:16])

	s.say("Registry chain, issuers and verifier start on loopback")
	var st *stack.Stack
	if err := s.timed("start services", func() (err error) {
		st, err = stack.Start(ctx, stack.Options{Dir: filepath.Join(dir, "services"), Keys: keys, KeyWorkFactor: 10})
		return err
	}); err != nil {
		return err
	}
	defer st.Close()
	s.note("registry %s (governance registered both issuers in genesis; verifying-key hashes published)", st.RegistryURL)
	for _, in := range stack.Institutions {
		is := st.Issuers[in.Kind]
		s.note("%-10s %s at %s, schema %s published", in.Kind, in.Name, is.URL, is.Schema.Name)
	}
	s.note("verifier %s", st.VerifierURL)
	for _, p := range stackPages(st) {
		s.note("in a browser: %s %s", p.Name, p.URL)
	}

	s.say("The holder makes a wallet: a secret that never leaves it, and its commitment")
	w, err := wallet.Create(filepath.Join(dir, "wallet.age"), "demo passphrase", wallet.CreateOptions{
		WorkFactor: wallet.MinWorkFactor,
		Config:     wallet.Config{Registry: st.RegistryURL, Genesis: st.Genesis},
	})
	if err != nil {
		return err
	}
	defer w.Close()
	s.note("holder commitment %s…", w.HolderCommit().String()[:16])

	birth := time.Now().AddDate(-25, 0, 0).Format(time.DateOnly)
	subjects := map[string]map[string]any{
		"university": {"name": "Ada Lovelace", "birthDate": birth, "degree": "MSc", "field": "Mathematics",
			"graduationDate": "2024-06-30", "gpa": "3.72", "honours": true},
		"hospital": {"name": "Ada Lovelace", "birthDate": birth, "vaccine": "measles", "dose": 2,
			"vaccinationDate": "2021-03-15", "lot": "MX-2291"},
	}
	entries := map[string]*wallet.Entry{}
	for _, in := range stack.Institutions {
		is := st.Issuers[in.Kind]
		s.say("%s issues a %s: a claim link; the wallet claims it with a proof that it knows its secret", in.Name, is.Schema.Name)
		if err := s.timed("issue "+in.Schema+" (anchored)", func() error {
			link, err := is.Issuer.CreateOffer(ctx, issuer.OfferRequest{Schema: is.Schema, Subject: subjects[in.Kind]})
			if err != nil {
				return err
			}
			e, err := w.Claim(ctx, link.URL, keys)
			entries[in.Kind] = e
			return err
		}); err != nil {
			return err
		}
		p := entries[in.Kind].Private()
		s.note("W3C VC signed with eddsa-jcs-2022; leaf %d in block %d, checked by the wallet against the chain", p.LeafIndex, p.BlockHeight)
	}

	present := func(policy, what string) (*wire.Request, *wire.Presentation, *wire.Result, error) {
		s.say("An employer asks: %s", what)
		r, err := st.Verifier.CreateRequest(policy)
		if err != nil {
			return nil, nil, nil, err
		}
		req, err := w.ReadRequest(ctx, st.VerifierURL+"/v1/requests/"+r.ID)
		if err != nil {
			return nil, nil, nil, err
		}
		var done *wallet.Presented
		describe := func(plan *wallet.Plan) error {
			var b bytes.Buffer
			plan.Describe(&b)
			for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
				s.note("| %s", line)
			}
			return nil
		}
		if err := s.timed("prove ("+policy+")", func() (err error) {
			done, err = w.Present(ctx, req, wallet.PresentOptions{Keys: keys, Confirm: describe, ProveOnly: true})
			return err
		}); err != nil {
			return req, nil, nil, err
		}
		var res *wire.Result
		err = s.timed("verify over HTTP", func() (err error) {
			res, err = w.Submit(ctx, req, done.Presentation)
			return err
		})
		return req, done.Presentation, res, err
	}
	expectVerified := func(res *wire.Result) error {
		if res.Status != wire.StatusVerified {
			return fmt.Errorf("presentation %s: %s (%s)", res.Status, res.Reason, res.Code)
		}
		s.note("verdict: %s; disclosed %v", res.Status, res.Disclosed)
		return nil
	}

	req, pres, res, err := present("graduate", "a degree from an accredited university, and born 18 or more years ago")
	if err != nil {
		return err
	}
	if err := expectVerified(res); err != nil {
		return err
	}

	s.say("Someone replays that presentation")
	if res, err := w.Submit(ctx, req, pres); err == nil && res.Status == wire.StatusVerified {
		return errors.New("a replayed presentation was accepted")
	} else {
		s.note("rejected: %s", describeRejection(res, err))
	}

	_, _, res, err = present("measles", "vaccinated against measles after 2020-01-01 (nothing else disclosed)")
	if err != nil {
		return err
	}
	if err := expectVerified(res); err != nil {
		return err
	}

	uni := st.Issuers["university"]
	s.say("%s revokes the diploma: its leaf becomes 0 in the next block", uni.Name)
	if err := s.timed("revoke", func() error {
		_, err := uni.Issuer.Revoke(ctx, []string{entries["university"].Private().CredentialID}, nil)
		return err
	}); err != nil {
		return err
	}
	_, _, _, err = present("graduate", "the same again, after the revocation")
	if !errors.Is(err, wallet.ErrRevoked) {
		return fmt.Errorf("presenting a revoked credential: want the wallet to refuse, got %v", err)
	}
	s.note("the wallet refuses without submitting: %v", err)
	s.note("and no proof is possible: the credential's leaf is 0 under every root published since")

	total := time.Since(s.start)
	if jsonOutput {
		return printJSON(map[string]any{"steps": s.steps, "totalMs": ms(total), "cpus": numCPU()})
	}
	fmt.Fprintf(s.out, "\nTimings (this machine, %d CPUs):\n", numCPU())
	for _, t := range s.timings {
		fmt.Fprintf(s.out, "  %s\n", t)
	}
	fmt.Fprintf(s.out, "demo finished in %v\n", total.Round(time.Millisecond))
	return nil
}

func describeRejection(res *wire.Result, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%s (%s)", res.Reason, res.Code)
}
