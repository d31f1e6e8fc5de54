package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/consensys/gnark/logger"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/zkcred/zkcred/circuits"
	testenv "github.com/zkcred/zkcred/internal/wallettest"
	"github.com/zkcred/zkcred/wallet"
)

// TestMain lets testscript run this binary's main as the "zkcred" command,
// and removes the binary buildZkcred made.
func TestMain(m *testing.M) {
	testscript.Main(cleanupM{m}, map[string]func(){
		"zkcred": func() {
			logger.Disable()
			os.Exit(run(os.Args[1:], os.Stderr))
		},
	})
}

type cleanupM struct{ m *testing.M }

func (c cleanupM) Run() int {
	code := c.m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	return code
}

// Scripts share one registry and run in parallel. A revocation of the
// newest leaf returns the tree to an earlier root, and the verifier looks a
// root up by its latest height, so a presentation in flight in another
// script could be refused; scripts issue a spare credential before they
// revoke.

// TestWalletScripts runs testdata/wallet/*.txtar against a real registry,
// issuer and verifier served in-process on loopback. Every script gets
// ZKCRED_HOME=$WORK/home (with the cached test keys), $REGISTRY and
// $GENESIS, and these commands:
//
//	issue FILE [gpa]      issue a diploma to the script's wallet
//	issue-expired FILE    one that expired yesterday
//	issue-other FILE      one bound to another holder
//	issue-rogue FILE      one from an issuer the registry does not know
//	tamper FILE           change a signed claim of a credential file
//	revoke FILE           revoke a credential file's credential
//	offer VAR             make a claim offer, its URL in $VAR
//	request POLICY VAR    make a presentation request, its URL in $VAR
//	credid VAR            the wallet ID of the newest credential in $VAR
//	lockwallet            hold the wallet's lock until the script ends
//	perm FILE MODE        check a file's permission bits (octal)
//	capture VAR REGEXP    the first group of REGEXP in the last stdout, in $VAR
func TestWalletScripts(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	holder := func(ts *testscript.TestScript) circuits.Field {
		w, err := wallet.Open(ts.Getenv("ZKCRED_HOME")+"/wallet.age", ts.Getenv("ZKCRED_PASSPHRASE"), wallet.Options{})
		ts.Check(err)
		return w.HolderCommit()
	}
	write := func(ts *testscript.TestScript, name string, b []byte) {
		ts.Check(os.WriteFile(ts.MkAbs(name), b, 0o600))
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/wallet",
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			if err := os.MkdirAll(home, 0o700); err != nil {
				return err
			}
			if err := os.Symlink(testenv.KeyDir(), filepath.Join(home, "keys")); err != nil {
				return err
			}
			env.Setenv("ZKCRED_HOME", home)
			env.Setenv(envTestWorkFactor, "1") // --work-factor 10 keeps the scripts fast
			env.Setenv("REGISTRY", e.RegistryURL)
			env.Setenv("GENESIS", e.GenesisFile(env.WorkDir))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"status": statusCmd,
			"issue": func(ts *testscript.TestScript, neg bool, args []string) {
				gpa := "3.72"
				if len(args) > 1 {
					gpa = args[1]
				}
				write(ts, args[0], e.Issue(holder(ts), gpa, time.Time{}))
			},
			"issue-expired": func(ts *testscript.TestScript, neg bool, args []string) {
				write(ts, args[0], e.IssueExpired(holder(ts)))
			},
			"issue-other": func(ts *testscript.TestScript, neg bool, args []string) {
				write(ts, args[0], e.Issue(circuits.F(circuits.RandomElement()), "3.00", time.Time{}))
			},
			"issue-rogue": func(ts *testscript.TestScript, neg bool, args []string) {
				write(ts, args[0], e.IssueRogue(holder(ts)))
			},
			"tamper": func(ts *testscript.TestScript, neg bool, args []string) {
				var m map[string]any
				ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &m))
				m["credential"].(map[string]any)["credentialSubject"].(map[string]any)["claims"].(map[string]any)["degree"] = "PhD"
				b, _ := json.Marshal(m)
				write(ts, args[0], b)
			},
			"revoke": func(ts *testscript.TestScript, neg bool, args []string) {
				e.Revoke([]byte(ts.ReadFile(args[0])))
			},
			"offer": func(ts *testscript.TestScript, neg bool, args []string) {
				ts.Setenv(args[0], e.Offer("3.50"))
			},
			"request": func(ts *testscript.TestScript, neg bool, args []string) {
				ts.Setenv(args[1], e.Request(args[0]))
			},
			"credid": func(ts *testscript.TestScript, neg bool, args []string) {
				w, err := wallet.Open(ts.Getenv("ZKCRED_HOME")+"/wallet.age", ts.Getenv("ZKCRED_PASSPHRASE"), wallet.Options{})
				ts.Check(err)
				if len(w.Credentials()) == 0 {
					ts.Fatalf("wallet holds no credentials")
				}
				ts.Setenv(args[0], w.Credentials()[len(w.Credentials())-1].ID)
			},
			"lockwallet": func(ts *testscript.TestScript, neg bool, args []string) {
				unlock, err := wallet.Lock(ts.Getenv("ZKCRED_HOME") + "/wallet.age")
				ts.Check(err)
				ts.Defer(unlock)
			},
			"capture": func(ts *testscript.TestScript, neg bool, args []string) {
				m := regexp.MustCompile(args[1]).FindStringSubmatch(ts.ReadFile("stdout"))
				if len(m) < 2 {
					ts.Fatalf("no match of %s in stdout", args[1])
				}
				ts.Setenv(args[0], m[1])
			},
			"perm": func(ts *testscript.TestScript, neg bool, args []string) {
				st, err := os.Stat(ts.MkAbs(args[0]))
				ts.Check(err)
				want, _ := strconv.ParseUint(args[1], 8, 32)
				if got := st.Mode().Perm(); uint64(got) != want {
					ts.Fatalf("%s has mode %#o, want %#o", args[0], got, want)
				}
			},
		},
	})
}

var _ = fmt.Sprint
