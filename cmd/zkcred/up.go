package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/home"
	"github.com/zkcred/zkcred/internal/stack"
)

func init() {
	register("up", "run registry, issuers and verifier in one process on localhost", runUp)
}

func runUp(args []string) error {
	fs := newFlags("up")
	keysDefault := home.KeysDir()
	home := os.Getenv("ZKCRED_HOME")
	if home == "" {
		home = "zkcred-data"
	}
	dir := fs.String("dir", filepath.Join(home, "up"), "persistent data directory (a restart resumes from it)")
	keysDir := fs.String("keys", keysDefault, "proving/verifying key directory")
	host := fs.String("host", "127.0.0.1", "address to listen on")
	port := fs.Int("port", 8640, "first port: registry, then university, hospital, verifier")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("zkcred up [--dir DIR] [--keys DIR] [--host H] [--port P]", "unexpected argument %q", fs.Arg(0))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	keys, err := circuits.LoadOrSetup(*keysDir, os.Stderr)
	if err != nil {
		return err
	}
	addr := func(i int) string { return fmt.Sprintf("%s:%d", *host, *port+i) }
	st, err := stack.Start(ctx, stack.Options{
		Dir: *dir, Keys: keys,
		RegistryAddr: addr(0), VerifierAddr: addr(3),
		IssuerAddrs: map[string]string{"university": addr(1), "hospital": addr(2)},
	})
	if err != nil {
		return usagef("another zkcred up may be running, or choose --port/--dir", "%v", err)
	}
	defer st.Close()

	abs, _ := filepath.Abs(*dir)
	fmt.Printf("zkcred is up (data in %s; Ctrl-C stops it, a restart resumes)\n\n", abs)
	fmt.Printf("  registry    %s   genesis %s\n", st.RegistryURL, stack.GenesisFile(abs))
	for _, in := range stack.Institutions {
		is := st.Issuers[in.Kind]
		fmt.Printf("  %-11s %s   %s, schema %s (%s)\n", in.Kind, is.URL, in.Name, in.Schema, circuits.Dec(is.Schema.ID())[:12]+"…")
	}
	fmt.Printf("  verifier    %s   policies graduate, measles; OpenAPI at /openapi.json\n", st.VerifierURL)
	fmt.Printf("  admin token %s (issuer admin API: Authorization: Bearer …)\n\n", st.AdminToken)
	uni := st.Issuers["university"].URL
	fmt.Printf(`Try it:
  zkcred wallet init --registry %s --genesis %s
  curl -s -H "Authorization: Bearer %s" -H 'Content-Type: application/json' -d '{"schemaId":"%s","subject":{"name":"Ada Lovelace","birthDate":"1995-12-10","degree":"MSc","field":"Mathematics","graduationDate":"2024-06-30","gpa":"3.72","honours":true}}' %s/v1/offers
  zkcred wallet receive <the "url" of that offer>
  curl -s -H 'Content-Type: application/json' -d '{"policy":"graduate"}' %s/v1/requests
  zkcred wallet present %s/v1/requests/<the "id" of that request>
`, st.RegistryURL, stack.GenesisFile(abs), st.AdminToken, circuits.Dec(st.Issuers["university"].Schema.ID()), uni, st.VerifierURL, st.VerifierURL)
	<-ctx.Done()
	fmt.Println("\nshutting down")
	return nil
}
