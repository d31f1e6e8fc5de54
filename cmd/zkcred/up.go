package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/stack"
)

func newUpCmd() *cobra.Command {
	var dir, keys, addr string
	var validators int
	c := leaf("up", "run a registry, two issuers and a verifier in one process on localhost",
		"  zkcred up\n  zkcred up --addr 127.0.0.1:9000 --dir /tmp/zkcred-up\n  zkcred up --validators 4 --dir /tmp/zkcred-4",
		noArgs, func(*cobra.Command, []string) error {
			if validators < 1 || validators > 100 {
				return usagef("give --validators 1 to 100", "--validators %d", validators)
			}
			return runUp(dir, keys, addr, validators)
		})
	c.Long = `Up runs a registry, a university, a hospital and a verifier in one process, on
five consecutive ports from --addr (registry, university, hospital,
verifier, and a key server for 'wallet init --keys-url'), with their data
in --dir: a restart resumes where it stopped.
It prints every URL, the genesis file, the issuers' admin token and commands
to try in a second terminal. Ctrl-C stops it.`
	addDirFlag(c, &dir, "up", "persistent data directory (a restart resumes from it)")
	addKeysFlag(c, &keys)
	addAddrFlag(c, &addr, defaultUpAddr, "address of the registry; the issuers, the verifier and the key server listen on the next four ports")
	c.Flags().IntVar(&validators, "validators", 1, "registry validators (CometBFT, on loopback in this process; the services use the first's API)")
	return c
}

// upAddrs splits --addr into the five listeners' addresses.
func upAddrs(addr string) ([5]string, error) {
	var out [5]string
	host, p, err := net.SplitHostPort(addr)
	port, perr := strconv.Atoi(p)
	if err != nil || perr != nil || port <= 0 || port > 65535-4 {
		return out, usagef("give --addr host:port, e.g. "+defaultUpAddr, "bad --addr %q", addr)
	}
	for i := range out {
		out[i] = net.JoinHostPort(host, strconv.Itoa(port+i))
	}
	return out, nil
}

func runUp(dir, keysDir, addr string, validators int) error {
	addrs, err := upAddrs(addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	keys, err := circuits.LoadOrSetup(keysDir, progressWriter(jsonOutput))
	if err != nil {
		return withHint(err, "make the keys again with 'zkcred setup --force --keys "+keysDir+"'")
	}
	st, err := stack.Start(ctx, stack.Options{
		Dir: dir, Keys: keys,
		RegistryAddr: addrs[0], VerifierAddr: addrs[3],
		IssuerAddrs: map[string]string{"university": addrs[1], "hospital": addrs[2]},
		KeysDir:     keysDir, KeysAddr: addrs[4],
		Validators: validators,
	})
	if err != nil {
		if strings.Contains(err.Error(), "address already in use") {
			return usagef("another zkcred up may be running; stop it, or choose another --addr", "%v", err)
		}
		return withHint(err, "another zkcred up may be using "+dir+"; stop it, or choose another --dir")
	}
	defer st.Close()

	abs, _ := filepath.Abs(dir)
	b := upBanner(st, abs)
	if jsonOutput {
		if err := printJSON(b); err != nil {
			return err
		}
	} else {
		fmt.Print(b.text())
	}
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "\nshutting down")
	return nil
}

// banner is what 'zkcred up' prints once its services answer.
type banner struct {
	Dir            string            `json:"dir"`
	Registry       string            `json:"registry"`
	Genesis        string            `json:"genesis"`
	Issuers        map[string]string `json:"issuers"`
	Schemas        map[string]string `json:"schemas"` // schema ID by issuer kind
	Verifier       string            `json:"verifier"`
	Policies       []string          `json:"policies"`
	AdminToken     string            `json:"adminToken"`
	AdminTokenFile string            `json:"adminTokenFile"`
	KeysURL        string            `json:"keysUrl,omitempty"`
	Pages          []webPage         `json:"pages"` // in a browser
	Try            []string          `json:"try"`   // commands for a second terminal
}

func upBanner(st *stack.Stack, abs string) banner {
	b := banner{
		Dir: abs, Registry: st.RegistryURL, Genesis: stack.GenesisFile(abs),
		Issuers: map[string]string{}, Schemas: map[string]string{},
		Verifier: st.VerifierURL, Policies: []string{"graduate", "measles"},
		AdminToken: st.AdminToken, AdminTokenFile: filepath.Join(abs, "admin-token"),
		KeysURL: st.KeysURL, Pages: stackPages(st),
	}
	for _, in := range stack.Institutions {
		is := st.Issuers[in.Kind]
		b.Issuers[in.Kind] = is.URL
		b.Schemas[in.Kind] = circuits.Dec(is.Schema.ID())
	}
	init := "zkcred wallet init --registry " + b.Registry + " --genesis " + shellQuote(b.Genesis)
	if b.KeysURL != "" {
		init += " --keys-url " + b.KeysURL
	}
	offer := `{"schemaId":"` + b.Schemas["university"] + `","subject":{"name":"Ada Lovelace","birthDate":"1995-12-10","degree":"MSc","field":"Mathematics","graduationDate":"2024-06-30","gpa":"3.72","honours":true}}`
	b.Try = []string{
		init,
		"curl -s -H 'Content-Type: application/json' -H 'Authorization: Bearer " + b.AdminToken + "' -d '" + offer + "' " + b.Issuers["university"] + "/v1/offers",
		`zkcred wallet receive '<the "url" of that offer>'`,
		"curl -s -H 'Content-Type: application/json' -d '{\"policy\":\"graduate\"}' " + b.Verifier + "/v1/requests",
		`zkcred wallet present ` + b.Verifier + `/v1/requests/<the "id" of that request>`,
	}
	return b
}

func (b banner) text() string {
	var s strings.Builder
	fmt.Fprintf(&s, "zkcred is up (data in %s; Ctrl-C stops it, a restart resumes)\n\n", b.Dir)
	fmt.Fprintf(&s, "  registry    %s   genesis %s\n", b.Registry, b.Genesis)
	for _, in := range stack.Institutions {
		fmt.Fprintf(&s, "  %-11s %s   %s, schema %s (%s…)\n", in.Kind, b.Issuers[in.Kind], in.Name, in.Schema, b.Schemas[in.Kind][:12])
	}
	fmt.Fprintf(&s, "  verifier    %s   policies %s; OpenAPI at /openapi.json\n", b.Verifier, strings.Join(b.Policies, ", "))
	if b.KeysURL != "" {
		fmt.Fprintf(&s, "  keys        %s   (wallet init --keys-url fetches them)\n", b.KeysURL)
	}
	s.WriteString("              development keys, unsafe for production ('zkcred ceremony' makes those);\n              their verifying-key hashes are published on this chain\n")
	fmt.Fprintf(&s, "  admin token %s (in %s; issuer admin API: Authorization: Bearer …)\n\n", b.AdminToken, b.AdminTokenFile)
	s.WriteString("In a browser:\n")
	for _, p := range b.Pages {
		fmt.Fprintf(&s, "  %-34s %s\n", p.Name, p.URL)
	}
	s.WriteString("\n")
	s.WriteString("Try it in a second terminal (fill in each <…> from the answer before it):\n")
	for _, c := range b.Try {
		s.WriteString("  " + c + "\n")
	}
	return s.String()
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
