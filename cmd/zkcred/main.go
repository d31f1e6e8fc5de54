// Command zkcred is the one binary of zkcred: registry, issuer, wallet and
// verifier services and tools, key setup, benchmarks and the demo.
//
// Every command returns its error to run, which prints it once (as text
// with a hint, or as a JSON object with --json) and maps its kind to the
// exit status documented in the root command's help (errors.go).
package main

import (
	"io"
	"os"
	"strings"

	"github.com/consensys/gnark/logger"
	"github.com/spf13/cobra"
)

func main() {
	logger.Disable() // gnark's own logs; zkcred reports what matters itself
	os.Exit(run(os.Args[1:], os.Stderr))
}

// jsonOutput is the global --json flag of the current run.
var jsonOutput bool

// run executes one command line and returns its exit status.
func run(args []string, stderr io.Writer) int {
	jsonOutput = false
	root := newRoot()
	root.SetArgs(args)
	root.SetErr(stderr)
	root.SetOut(os.Stdout)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	asJSON := jsonOutput || wantsJSON(args)
	name := root.Name()
	if cmd != nil {
		name = cmd.CommandPath()
	}
	return report(stderr, name, err, asJSON)
}

// wantsJSON finds --json in arguments that failed to parse, so that even
// a flag error is reported as JSON when the caller asked for it.
func wantsJSON(args []string) bool {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--json" || a == "--json=true" {
			return true
		}
	}
	return false
}

const rootLong = `zkcred: zero-knowledge credentials for issuers, holders and verifiers.

Issuers anchor credentials in a registry chain; holders keep them in an
encrypted wallet and answer a verifier's request with one Groth16 proof that
discloses only what the request asks for.

Files: ZKCRED_HOME (default: the user config directory's zkcred/) holds the
wallet (wallet.age), the issuer (issuer/), the verifier (verifier/), the
registry (registry/) and 'zkcred up' (up/). The circuit keys are in
ZKCRED_HOME/keys when ZKCRED_HOME is set, else in the user cache directory's
zkcred/keys. Every command that needs keys uses that same place (--keys).

Passphrases (issuer key, wallet): --passphrase-file FILE, else the
environment variable ZKCRED_PASSPHRASE, else a prompt on the terminal.

Exit status:
  0  ok
  1  refused by the other party (verifier rejected, credential revoked,
     claim refused, rows of a batch rejected), or another failure
  2  usage: a wrong command, flag or argument
  3  a service (registry, issuer, verifier) is unreachable
  4  bad local state: wrong passphrase, missing or corrupt wallet, keys or
     data directory

With --json, results go to stdout as JSON and errors to stderr as
{"error": "...", "code": "...", "hint": "..."}.`

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "zkcred",
		Short: "zero-knowledge credentials for issuers, holders and verifiers",
		Long:  rootLong,
		Example: `  zkcred demo                       # the whole story once, in a temporary directory
  zkcred up                         # every service on localhost, for trying by hand
  zkcred wallet present URL --yes   # answer a verifier's request`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE:          groupRun,
	}
	root.PersistentFlags().BoolVar(&jsonOutput, "json", false, "print JSON on stdout (and errors as JSON on stderr), no progress")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usagef("run '"+c.CommandPath()+" -h' for the flags", "%v", err)
	})
	root.CompletionOptions.HiddenDefaultCmd = false
	root.AddCommand(
		newSetupCmd(), newBenchCmd(), newVersionCmd(),
		newDemoCmd(), newUpCmd(),
		newRegistryCmd(), newIssuerCmd(), newWalletCmd(), newVerifierCmd(),
		newCeremonyCmd(),
	)
	return root
}

// group makes a command that only holds subcommands: run without one (or
// with an unknown one) it is a usage error naming them.
func group(use, short, long, example string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use: use, Short: short, Long: long, Example: example,
		Args: cobra.ArbitraryArgs,
		RunE: groupRun,
	}
	c.AddCommand(subs...)
	return c
}

func groupRun(c *cobra.Command, args []string) error {
	var names []string
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	list := strings.Join(names, ", ")
	if len(args) == 0 {
		if !c.HasParent() {
			c.SetOut(c.ErrOrStderr())
			c.Help()
			return usagef("", "missing command")
		}
		return usagef("run '"+c.CommandPath()+" -h' for what each does", "missing subcommand (one of %s)", list)
	}
	hint := "the subcommands are: " + list
	c.SuggestionsMinimumDistance = 2
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		hint = "did you mean '" + c.CommandPath() + " " + s[0] + "'? The subcommands are: " + list
	}
	if !c.HasParent() {
		return usagef(strings.Replace(hint, "subcommands", "commands", 1), "unknown command %q", args[0])
	}
	return usagef(hint, "unknown subcommand %q", args[0])
}

// leaf makes a command that does something: use is its synopsis line
// ("present <request-url | file>"), short its one-line summary.
func leaf(use, short, example string, args cobra.PositionalArgs, run func(c *cobra.Command, args []string) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Example: example, Args: args, RunE: run}
}

// noArgs refuses positional arguments.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("usage: "+c.UseLine(), "unexpected argument %q", args[0])
	}
	return nil
}

// exactArgs wants n positional arguments; what says what they are.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("usage: "+c.UseLine(), "%s", what)
		}
		return nil
	}
}
