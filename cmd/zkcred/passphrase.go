package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"
)

// passSource says where readPassphrase looks, in order: the file, then the
// environment variable, then a prompt on the terminal.
type passSource struct {
	file    string // a file whose first line is the passphrase
	env     string // environment variable; "" means ZKCRED_PASSPHRASE
	prompt  string
	confirm bool   // ask twice on a terminal (a new passphrase)
	explain string // printed on the terminal before the first prompt
	flag    string // the file flag's name, for the hint; "" means --passphrase-file
	what    string // what it is, for errors; "" means passphrase
}

// errNoPassphrase: no file, no environment variable, no terminal.
var errNoPassphrase = errors.New("no passphrase")

// readPassphrase returns the passphrase from the first source that has one.
func readPassphrase(src passSource) (string, error) {
	if src.env == "" {
		src.env = passphraseEnv
	}
	if src.flag == "" {
		src.flag = "--passphrase-file"
	}
	if src.file != "" {
		b, err := os.ReadFile(src.file)
		if err != nil {
			return "", usagef("give "+src.flag+" a readable file whose first line is the passphrase", "passphrase file: %v", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			return "", usagef("write the passphrase on the file's first line", "passphrase file %s: first line is empty", src.file)
		}
		return line, nil
	}
	if p := os.Getenv(src.env); p != "" {
		return p, nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil || !term.IsTerminal(int(tty.Fd())) {
		if tty != nil {
			tty.Close()
		}
		err := errNoPassphrase
		if src.what != "" {
			err = fmt.Errorf("no %s", src.what)
		}
		return "", newErr(errUsage, "no_passphrase", "use "+src.flag+" FILE, set "+src.env+", or run on a terminal", err)
	}
	defer tty.Close()
	if src.explain != "" {
		fmt.Fprintln(tty, src.explain)
	}
	prompt := src.prompt
	if prompt == "" {
		prompt = "passphrase: "
	}
	fmt.Fprint(tty, prompt)
	p, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return "", err
	}
	if len(p) == 0 {
		return "", usagef("type a passphrase, or set "+src.env, "empty passphrase")
	}
	if src.confirm {
		fmt.Fprint(tty, "again: ")
		p2, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		if err != nil {
			return "", err
		}
		if !bytes.Equal(p, p2) {
			return "", usagef("type the same passphrase twice", "passphrases do not match")
		}
	}
	return string(p), nil
}
