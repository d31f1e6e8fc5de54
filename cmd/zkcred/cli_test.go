package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// statusCmd is the script command 'status N PROGRAM ARGS...': it runs the
// program like exec and fails unless its exit status is N, so that every
// documented exit status is checked where a script produces it. stdout and
// stderr can be checked afterwards as after exec.
func statusCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: %v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("status: %v", err)
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// TestCLIScripts runs testdata/cli/*.txtar: what a person sees from every
// command group without any service running (help, usage errors, local
// state errors, unreachable services, the issuer on a local chain, policy
// files). Every script gets ZKCRED_HOME=$WORK/home.
func TestCLIScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir: "testdata/cli",
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			repo, err := filepath.Abs("../..")
			if err != nil {
				return err
			}
			env.Setenv("REPO", repo)
			env.Setenv("ZKCRED_HOME", home)
			env.Setenv("ZKCRED_PASSPHRASE", "")
			env.Setenv("ZKCRED_WALLET", "")
			env.Setenv("ZKCRED_ADMIN_TOKEN", "")
			return os.MkdirAll(home, 0o700)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"status": statusCmd,
		},
	})
}
