package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/cobra"
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
			env.Setenv(envTestWorkFactor, "1")
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

// TestEveryCommandHasHelp walks the command tree: every group and leaf
// has a one-line synopsis and an example, and answers -h (exit 0) with
// both, flags anywhere or not.
func TestEveryCommandHasHelp(t *testing.T) {
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		for _, s := range c.Commands() {
			if !s.IsAvailableCommand() || s.Name() == "help" || s.Name() == "completion" {
				continue
			}
			walk(s)
		}
		if !c.HasParent() {
			return
		}
		n++
		path := strings.Fields(c.CommandPath())[1:]
		if c.Short == "" || c.Example == "" {
			t.Errorf("%s: synopsis %q, example %q", c.CommandPath(), c.Short, c.Example)
		}
		var stderr bytes.Buffer
		var code int
		out := captureStdout(t, func() { code = run(append(path, "-h"), &stderr) })
		desc := c.Short
		if c.Long != "" { // cobra shows Long instead of Short
			desc, _, _ = strings.Cut(c.Long, "\n")
		}
		if code != 0 || !strings.Contains(out, desc) || !strings.Contains(out, "Examples:") || !strings.Contains(out, "Usage:") {
			t.Errorf("%s -h: exit %d\n%s%s", c.CommandPath(), code, out, stderr.String())
		}
	}
	walk(newRoot())
	if n < 30 {
		t.Fatalf("walked %d commands, want every one of them", n)
	}
}
