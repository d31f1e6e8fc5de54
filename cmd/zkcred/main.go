// Command zkcred is the one binary of zkcred: registry, issuer, wallet and
// verifier services and tools, key setup, benchmarks and the demo.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/consensys/gnark/logger"
)

// command is one subcommand. run receives the arguments after its name and
// returns an error to print; a usageError also prints the usage line.
type command struct {
	summary string
	run     func(args []string) error
}

var commands = map[string]command{}

// register adds a subcommand; each file of this package registers its own.
func register(name, summary string, run func(args []string) error) {
	commands[name] = command{summary, run}
}

// usageError is an error that is the user's to fix: its hint is printed too.
type usageError struct {
	msg, hint string
}

func (e *usageError) Error() string { return e.msg }

func usagef(hint, format string, a ...any) error {
	return &usageError{fmt.Sprintf(format, a...), hint}
}

func main() {
	logger.Disable() // gnark's own logs; zkcred reports what matters itself
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "zkcred: unknown command %q\nhint: run 'zkcred help' for the list of commands\n", args[0])
		return 2
	}
	if err := cmd.run(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "zkcred %s: %v\n", args[0], err)
		var ue *usageError
		if errors.As(err, &ue) && ue.hint != "" {
			fmt.Fprintf(stderr, "hint: %s\n", ue.hint)
			return 2
		}
		return 1
	}
	return 0
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "zkcred: zero-knowledge credentials for issuers, holders and verifiers")
	fmt.Fprintln(w, "\nusage: zkcred <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nrun 'zkcred <command> -h' for a command's flags")
}

// subcommands dispatches a command group such as "registry init".
func subcommands(group string, args []string, subs map[string]func([]string) error) error {
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 {
		return usagef("run 'zkcred "+group+" <"+strings.Join(names, "|")+"> -h' for a subcommand's flags", "missing subcommand (one of %s)", strings.Join(names, ", "))
	}
	f, ok := subs[args[0]]
	if !ok {
		return usagef("subcommands are: "+strings.Join(names, ", "), "unknown subcommand %q", args[0])
	}
	return f(args[1:])
}

// flagSet is the flag set every command uses.
type flagSet = flag.FlagSet

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("zkcred "+name, flag.ContinueOnError)
	return fs
}
