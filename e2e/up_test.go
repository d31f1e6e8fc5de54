package e2e

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer"
)

// freePorts returns the first of n consecutive loopback ports that were
// free a moment ago.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for range 100 {
		base := 20000 + rand.IntN(40000)
		var lns []net.Listener
		for i := range n {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+i))
			if err != nil {
				break
			}
			lns = append(lns, ln)
		}
		for _, ln := range lns {
			ln.Close()
		}
		if len(lns) == n {
			return base
		}
	}
	t.Fatal("no run of free ports")
	return 0
}

// TestUp runs 'zkcred up' as a person would: a wallet receives a diploma
// from its university and presents it to its verifier; Ctrl-C (SIGINT)
// stops every service cleanly; a restart on the same data directory
// resumes: the chain, the issued credential and a new presentation work.
func TestUp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and proves")
	}
	t.Parallel()
	dir := t.TempDir()
	w := &world{t: t, dir: dir}
	t.Cleanup(w.cleanup)
	w.bin = buildBinary(t)
	keys := keyDir()
	operator := w.newParty("operator", "")
	func() {
		setupMu.Lock()
		defer setupMu.Unlock()
		w.run("setup", operator, "setup", "--keys", keys, "--json")
	}()

	port := freePorts(t, 5) // registry, two issuers, verifier, key server
	url := func(i int) string { return fmt.Sprintf("http://127.0.0.1:%d", port+i) }
	data := filepath.Join(dir, "up")
	args := []string{"up", "--dir", data, "--keys", keys, "--addr", fmt.Sprintf("127.0.0.1:%d", port)}
	up := w.start("zkcred up", operator, args...)
	w.waitHTTP(up, url(0)+"/healthz")
	w.waitHTTP(up, url(1)+"/v1/issuer")
	w.waitHTTP(up, url(2)+"/v1/issuer")
	w.waitHTTP(up, url(3)+"/healthz")
	// The services answer before the banner is printed: give it a moment.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(up.out.String(), "wallet present "+url(3)); {
		if time.Now().After(deadline) {
			t.Fatalf("zkcred up did not print the verifier URL and the commands to try:\n%s", up.out)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The holder has no keys of its own: it fetches them from the key
	// server of zkcred up (and checks them against the chain).
	holder := w.newParty("holder", "holder passphrase")
	wallet := filepath.Join(holder.home(), "wallet.age")
	holderKeys := filepath.Join(holder.home(), "keys")
	w.run("holder: wallet init", holder, "wallet", "init", "--wallet", wallet, "--registry", url(0),
		"--genesis", filepath.Join(data, "registry", "genesis.json"), "--keys-url", url(4)+"/keys", "--work-factor", "10")

	token, err := os.ReadFile(filepath.Join(data, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	diploma := issuer.ExampleSchemas()["diploma"]
	var link issuer.OfferLink
	status, body := httpJSON(t, http.MethodPost, url(1)+"/v1/offers", strings.TrimSpace(string(token)), map[string]any{
		"schemaId": circuits.Dec(diploma.ID()),
		"subject": map[string]any{"name": "Ada Lovelace", "birthDate": "1995-12-10", "degree": "MSc",
			"field": "Mathematics", "graduationDate": "2024-06-30", "gpa": "3.72", "honours": true},
	}, &link)
	if status != http.StatusCreated {
		t.Fatalf("POST /v1/offers: %d %s", status, body)
	}
	w.run("holder: wallet receive", holder, "wallet", "receive", "--wallet", wallet, "--keys", holderKeys, link.URL)

	present := func(step string) {
		t.Helper()
		req := newRequest(t, url(3), "", "graduate") // the example policies are public
		var res resultWire
		w.runJSON(step, holder, &res, "wallet", "present", "--wallet", wallet, "--keys", holderKeys, "--yes", "--json", req.url)
		if res.Status != "verified" || res.Disclosed["degree"] != "MSc" {
			t.Fatalf("%s: %+v", step, res)
		}
	}
	present("holder: present to the verifier of zkcred up")

	w.stop(up)
	if !strings.Contains(up.out.String(), "shutting down") {
		t.Fatalf("no clean shutdown:\n%s", up.out)
	}

	again := w.start("zkcred up (restart)", operator, args...)
	w.waitHTTP(again, url(3)+"/healthz")
	w.waitHTTP(again, url(1)+"/v1/issuer")
	// Same genesis, same issuers: the wallet's credential still verifies.
	present("holder: present after the restart")
	w.stop(again)
}
