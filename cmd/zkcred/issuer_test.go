package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	testenv "github.com/zkcred/zkcred/internal/wallettest"
	"github.com/zkcred/zkcred/wire"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer"
	istore "github.com/zkcred/zkcred/issuer/store"
	"github.com/zkcred/zkcred/registry/client"
)

// The zkcred binary the tests run, built once per test run into
// buildDir (removed by TestMain).
var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

// buildZkcred builds this command once and returns the binary.
func buildZkcred(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "zkcred-cmd-test-"); buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "zkcred")
		if out, err := exec.Command("go", "build", "-o", buildBin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

func countFiles(dir, suffix string) int {
	es, _ := os.ReadDir(dir)
	n := 0
	for _, e := range es {
		if strings.HasSuffix(e.Name(), suffix) {
			n++
		}
	}
	return n
}

// TestIssueBatchSurvivesSIGKILL runs the real binary on a CSV, kills it
// with SIGKILL several times mid-batch, restarts it, and checks that every
// good row was issued exactly once: one leaf per row on the chain, one
// credential per row in the store, each row's file verifying and naming its
// own leaf.
func TestIssueBatchSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := buildZkcred(t)
	dir := t.TempDir()
	home := filepath.Join(dir, "issuer")
	env := append(os.Environ(), issuer.PassphraseEnv+"=kill-test-passphrase")
	run := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		return cmd
	}
	if out, err := run("issuer", "init", "--dir", home, "--local", "--work-factor", "10").CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	const rows = 2000
	bad := map[int]bool{7: true, 500: true, 1999: true}
	var csv strings.Builder
	csv.WriteString("name,birthDate,degree,field,graduationDate,gpa,honours,holderCommitment\n")
	for i := range rows {
		row := i + 2
		degree := "BSc"
		if bad[row] {
			degree = "Diploma"
		}
		hc := circuits.HolderCommit(circuits.U64(uint64(i + 1)))
		fmt.Fprintf(&csv, "Graduate %d,2000-01-01,%s,Physics,2026-06-30,3.50,true,%s\n", row, degree, circuits.Dec(hc))
	}
	csvPath := filepath.Join(dir, "graduates.csv")
	os.WriteFile(csvPath, []byte(csv.String()), 0o600)
	out := filepath.Join(dir, "out")
	batch := []string{"issuer", "issue-batch", "--dir", home, "--schema", "diploma", "--csv", csvPath, "--out", out, "--chunk", "100", "--json"}

	kills := 0
	for attempt := range 4 {
		cmd := run(batch...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Wait for progress beyond the previous run, then kill at a random
		// point of the following chunks.
		before := countFiles(out, ".credential.json")
		deadline := time.Now().Add(60 * time.Second)
		finished := false
		for countFiles(out, ".credential.json") <= before && time.Now().Before(deadline) {
			select {
			case <-exited:
				finished = true
			case <-time.After(5 * time.Millisecond):
				continue
			}
			break
		}
		if finished {
			break
		}
		time.Sleep(time.Duration(rand.IntN(150)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err == nil {
			err := <-exited
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				kills++
			} else {
				t.Logf("attempt %d ended before the kill: %v", attempt, err)
			}
		}
	}
	if kills == 0 {
		t.Fatal("no run was killed mid-batch; the test proved nothing")
	}
	if _, err := os.Stat(filepath.Join(out, "report.json")); err == nil {
		t.Fatal("a killed run wrote the final report")
	}
	// Rows were rejected: the final run says so with exit status 1 and a
	// JSON error, after the report.
	finalCmd := run(batch...)
	var finalErr strings.Builder
	finalCmd.Stderr = &finalErr
	final, err := finalCmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitRefused || !strings.Contains(finalErr.String(), `"code":"rows_rejected"`) {
		t.Fatalf("final run with rejected rows: %v, want exit %d and a rows_rejected error\n%s%s", err, exitRefused, final, finalErr.String())
	}
	var rep issuer.BatchReport
	if err := json.Unmarshal(final, &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, final)
	}
	good := rows - len(bad)
	if rep.Issued != good || rep.Rejected != len(bad) || rep.Resumed == 0 {
		t.Fatalf("after %d kills: report %+v", kills, rep)
	}
	for _, r := range rep.Rejections {
		if !bad[r.Row] || r.Field != "degree" {
			t.Errorf("rejection %+v", r)
		}
	}

	// Check the chain and the store directly.
	pass := []byte("kill-test-passphrase")
	k, err := issuer.LoadKey(filepath.Join(home, issuer.KeyFile), pass)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := issuer.OpenLocalChain(filepath.Join(home, "chain"), k.IssuerID())
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close()
	st, err := istore.Open(filepath.Join(home, issuer.StoreDir), istore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, _, size, _ := chain.Root()
	n, _ := st.CountCredentials()
	if size != uint64(good) || n != good {
		t.Fatalf("after %d kills: %d leaves on the chain, %d credentials stored, want %d each", kills, size, n, good)
	}
	coms := make([]fr.Element, 0, good)
	leaves := map[uint64]int{}
	for i := range rows {
		row := i + 2
		raw, err := os.ReadFile(filepath.Join(out, fmt.Sprintf("row-%06d.credential.json", row)))
		if bad[row] {
			if err == nil {
				t.Errorf("rejected row %d has a credential", row)
			}
			continue
		}
		if err != nil {
			t.Fatalf("row %d: %v", row, err)
		}
		b, err := wire.ParseBundle(raw)
		if err != nil {
			t.Fatal(err)
		}
		c, err := b.Check()
		if err != nil {
			t.Fatalf("row %d: %v", row, err)
		}
		if c.CredentialSubject.Claims["name"] != fmt.Sprintf("Graduate %d", row) {
			t.Fatalf("row %d file holds %v", row, c.CredentialSubject.Claims["name"])
		}
		if prev, dup := leaves[b.Private.LeafIndex]; dup {
			t.Fatalf("rows %d and %d share leaf %d", prev, row, b.Private.LeafIndex)
		}
		leaves[b.Private.LeafIndex] = row
		coms = append(coms, b.Private.Commitment.El())
	}
	_, found, err := chain.Lookup(context.Background(), coms, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, ok := range found {
		if !ok {
			t.Fatalf("credential %d's commitment is not on the chain", i)
		}
	}
	t.Logf("%d SIGKILLs, %d rows resumed by the final run", kills, rep.Resumed)
}

func TestIssuerCLIErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := buildZkcred(t)
	dir := t.TempDir()
	env := append(os.Environ(), issuer.PassphraseEnv+"=pw")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"issuer", "issue", "--dir", dir}, "hint: pass --subject"},
		{[]string{"issuer", "revoke", "--dir", dir, "--id", "x"}, "run 'zkcred issuer init' first"},
		{[]string{"issuer", "nope"}, "subcommands are"},
		{[]string{"issuer", "init", "--dir", dir, "--registry", "ftp://x"}, "is not an http(s) URL"},
	} {
		cmd := exec.Command(bin, tc.args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: %v\n%s", tc.args, err, out)
		}
	}
	// An issuer bound to a registry that does not answer says so.
	home := filepath.Join(dir, "remote")
	cmd := exec.Command(bin, "issuer", "init", "--dir", home, "--registry", "http://127.0.0.1:1", "--work-factor", "10")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	cmd = exec.Command(bin, "issuer", "revoke", "--dir", home, "--leaf", "1")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "is the registry running?") {
		t.Errorf("remote chain: %v\n%s", err, out)
	}
}

// TestIssuerOnRegistry drives the binary against a real registry process:
// the issuer's registration entry goes into the registry's genesis, then
// schema publication, issuance, batch issuance and revocation go through
// signed registry transactions.
func TestIssuerOnRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := buildZkcred(t)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := append(os.Environ(), issuer.PassphraseEnv+"=pw")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("%v: %v\n%s%s", args, err, out, stderr)
		}
		return string(out)
	}
	home := filepath.Join(dir, "hospital")
	run("issuer", "init", "--dir", home, "--registry", "http://"+addr, "--work-factor", "10")
	entry := run("issuer", "register", "--dir", home, "--name", "Example Hospital", "--kind", "hospital", "--json")
	issuers := filepath.Join(dir, "issuers.json")
	os.WriteFile(issuers, []byte("["+entry+"]"), 0o600)
	reg := filepath.Join(dir, "registry")
	run("registry", "init", "--dir", reg, "--issuers", issuers, "--work-factor", "10")
	srv := exec.Command(bin, "registry", "start", "--dir", reg, "--addr", addr, "--heartbeat", "-1s")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() }()
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if i > 200 {
			t.Fatal("registry did not start")
		}
		time.Sleep(25 * time.Millisecond)
	}
	run("issuer", "schema", "publish", "--dir", home, "--schema", "vaccination")
	subject := filepath.Join(dir, "subject.json")
	os.WriteFile(subject, []byte(`{"name":"Bo Chen","birthDate":"2001-01-01","vaccine":"measles","dose":2,"vaccinationDate":"2025-03-01","lot":"MMR-1"}`), 0o600)
	out := filepath.Join(dir, "bo.json")
	run("issuer", "issue", "--dir", home, "--schema", "vaccination", "--subject", subject, "--holder-commitment", "777", "--out", out)
	raw, _ := os.ReadFile(out)
	b, err := wire.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Check(); err != nil {
		t.Fatal(err)
	}
	// The registry holds the credential's leaf; after revocation it is 0.
	cl, _ := client.New("http://"+addr, client.Options{})
	ctx := context.Background()
	leafOf := func() fr.Element {
		w, err := cl.Witness(ctx, b.Private.LeafIndex)
		if err != nil {
			t.Fatal(err)
		}
		l, _, err := w.Path(b.Private.LeafIndex)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if leafOf() != circuits.LeafHash(b.Private.IssuerID.El(), b.Private.Commitment.El()) {
		t.Fatal("registry leaf is not the credential's")
	}
	run("issuer", "revoke", "--dir", home, "--id", b.Private.CredentialID)
	if l := leafOf(); !l.IsZero() {
		t.Fatal("leaf not revoked on the registry")
	}
	csvPath := filepath.Join(dir, "v.csv")
	os.WriteFile(csvPath, []byte("name,birthDate,vaccine,dose,vaccinationDate,lot,holderCommitment\nA,2001-01-01,measles,1,2025-01-01,L1,5\nB,2001-01-01,flu,1,2025-01-01,L1,6\n"), 0o600)
	var rep issuer.BatchReport
	batch := exec.Command(bin, "issuer", "issue-batch", "--dir", home, "--schema", "vaccination", "--csv", csvPath, "--json")
	batch.Env = env
	bout, err := batch.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitRefused {
		t.Fatalf("batch with a rejected row: %v, want exit %d\n%s", err, exitRefused, bout)
	}
	json.Unmarshal(bout, &rep)
	if rep.Issued != 1 || rep.Rejected != 1 || rep.Rejections[0].Field != "vaccine" {
		t.Fatalf("batch on the registry: %+v", rep)
	}
	if h, _ := cl.Latest(ctx); h.CredSize != 2 {
		t.Fatalf("registry holds %d leaves, want 2", h.CredSize)
	}
}

// TestIssuerServe starts 'zkcred issuer serve' and checks that it answers,
// refuses admin calls without the token and creates an offer with it. It
// uses the holder circuit's verifying key from the test keys (made once).
func TestIssuerServe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	keys := testenv.KeyDir()
	testenv.Keys(t) // makes them the first time
	if _, err := readVerifyingKey(keys, "", circuits.HolderID); err != nil {
		t.Fatal(err)
	}
	bin := buildZkcred(t)
	dir := t.TempDir()
	home := filepath.Join(dir, "issuer")
	const token = "serve-test-admin-token-0123"
	env := append(os.Environ(), issuer.PassphraseEnv+"=pw", "ZKCRED_ADMIN_TOKEN="+token)
	cmd := exec.Command(bin, "issuer", "init", "--dir", home, "--local", "--work-factor", "10")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := exec.Command(bin, "issuer", "serve", "--dir", home, "--addr", addr, "--keys", keys)
	srv.Env = env
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() }()
	base := "http://" + addr
	var resp *http.Response
	for i := 0; ; i++ {
		resp, err = http.Get(base + "/v1/issuer")
		if err == nil {
			break
		}
		if i > 400 {
			t.Fatalf("server did not start: %v", err)
		}
		time.Sleep(25 * time.Millisecond)
	}
	var info map[string]string
	json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if !strings.HasPrefix(info["did"], "did:key:z6Mk") {
		t.Fatalf("issuer info %v", info)
	}
	d := issuer.ExampleSchemas()["diploma"]
	body := `{"schemaId":"` + circuits.Dec(d.ID()) + `","subject":{"name":"Ada","birthDate":"1990-12-10","degree":"MSc","field":"Math","graduationDate":"2026-06-30","gpa":"3.85","honours":true}}`
	post := func(auth string) int {
		req, _ := http.NewRequest("POST", base+"/v1/offers", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if code := post(""); code != http.StatusUnauthorized {
		t.Fatalf("offer without token: %d", code)
	}
	if code := post(token); code != http.StatusCreated {
		t.Fatalf("offer with token: %d", code)
	}

	// While serve runs, 'issuer revoke' on the same directory goes through
	// the service's admin API (the database is the service's), and asks
	// for no passphrase.
	issued := `{"schemaId":"` + circuits.Dec(d.ID()) + `","holderCommitment":"777","subject":{"name":"Ada","birthDate":"1990-12-10","degree":"MSc","field":"Math","graduationDate":"2026-06-30","gpa":"3.85","honours":true}}`
	req, _ := http.NewRequest("POST", base+"/v1/credentials", strings.NewReader(issued))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := wire.ParseBundle(mustRead(t, r))
	if err != nil {
		t.Fatal(err)
	}
	revoke := exec.Command(bin, "issuer", "revoke", "--dir", home, "--id", b.Private.CredentialID, "--json")
	revoke.Env = append(os.Environ(), "ZKCRED_ADMIN_TOKEN="+token) // no passphrase
	out, err := revoke.CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprintf(`"revokedLeaves":[%d]`, b.Private.LeafIndex)) {
		t.Fatalf("revoke while serving: %v\n%s", err, out)
	}
	// A wrong token is named as such (bad local state), not retried.
	revoke = exec.Command(bin, "issuer", "revoke", "--dir", home, "--leaf", "0")
	revoke.Env = append(os.Environ(), "ZKCRED_ADMIN_TOKEN=not-the-service-token")
	out, err = revoke.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitLocal || !strings.Contains(string(out), "admin token") {
		t.Fatalf("revoke with a wrong token: %v\n%s", err, out)
	}
}

func mustRead(t *testing.T, r *http.Response) []byte {
	t.Helper()
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if r.StatusCode/100 != 2 {
		t.Fatalf("%s: %d %s", r.Request.URL, r.StatusCode, b)
	}
	return b
}
