package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	testenv "github.com/zkcred/zkcred/internal/wallettest"
)

// The walkthrough tests run README.md's code blocks as a person pastes
// them into a terminal: each command through 'sh -c' (with the block's
// exports before it), the built zkcred binary and curl on PATH, in a fresh
// directory with its own HOME. Placeholders such as <the "url" of that
// offer> are filled from the outputs before them, as a person would copy
// them. The only other change is the ports: every 127.0.0.1:PORT becomes a
// free port (and 'zkcred up' gets the --addr of the first), so that the
// tests can run beside anything else on the machine.
//
// A line ending in '&' is a background job, as in an interactive shell:
// the test waits until its --addr accepts connections, and 'kill %N'
// stops job N. A comment with "exit status N" says the command must exit
// with N; every other command must succeed.

// readmeBlocks returns README.md's code blocks that follow a
// "<!-- walkthrough: NAME -->" line, by name.
func readmeBlocks(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	re := regexp.MustCompile("(?s)<!-- walkthrough: ([a-z0-9-]+) -->\\s*```sh\n(.*?)```")
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = m[2]
	}
	return out
}

// commandLines splits a shell block into commands: continuation lines
// joined, blank and comment-only lines dropped.
func commandLines(block string) []string {
	var out []string
	var cur strings.Builder
	for _, l := range strings.Split(block, "\n") {
		if strings.HasSuffix(l, "\\") {
			cur.WriteString(strings.TrimSuffix(l, "\\"))
			continue
		}
		cur.WriteString(l)
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}

// terminal is one shell session of the walkthrough.
type terminal struct {
	t       *testing.T
	name    string
	w       *walk
	dir     string   // its working directory
	exports []string // export lines seen so far, run before each command
}

// walk is the state the terminals of one walkthrough share: the working
// directory, the environment, what was printed, the jobs and the ports.
type walk struct {
	t       *testing.T
	dir     string
	env     []string
	mu      sync.Mutex
	outputs []string // stdout of every command so far, oldest first
	jobs    []*job
	ports   map[string]string // "127.0.0.1:8640" → a free address
}

type job struct {
	line string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

// syncBuffer collects a job's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newWalk makes a fresh directory and HOME, with zkcred (built from this
// package) and the system's curl and sh on PATH, and no ZKCRED_ settings.
func newWalk(t *testing.T, bin string) *walk {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the README's walkthrough uses curl: install it (apt-get install curl); .ci/run does")
	}
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + home, "PATH=" + filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH"), "LANG=C"}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TMPDIR=") {
			env = append(env, kv)
		}
	}
	w := &walk{t: t, dir: filepath.Join(dir, "work"), env: env, ports: map[string]string{}}
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.stopJobs)
	return w
}

func (w *walk) terminal(name string) *terminal {
	return &terminal{t: w.t, name: name, w: w, dir: w.dir}
}

// seedKeys puts the test's cached circuit keys where a command will look
// for them, so that each walkthrough does not make new ones (the keys are
// the same kind 'zkcred setup' makes; making them is tested elsewhere).
func (w *walk) seedKeys(dir string) {
	w.t.Helper()
	testenv.Keys(w.t)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.Symlink(testenv.KeyDir(), dir); err != nil {
		w.t.Fatal(err)
	}
}

// addrRE finds the loopback addresses of the README's commands.
var addrRE = regexp.MustCompile(`127\.0\.0\.1:(\d{4,5})`)

// remap replaces every loopback address by its free stand-in.
func (w *walk) remap(s string) string {
	return addrRE.ReplaceAllStringFunc(s, func(a string) string {
		w.mu.Lock()
		defer w.mu.Unlock()
		if r, ok := w.ports[a]; ok {
			return r
		}
		for _, r := range w.ports {
			if r == a { // already a stand-in (printed by a service)
				return a
			}
		}
		r := freeLoopback(w.t)
		w.ports[a] = r
		return r
	})
}

// mapPortRun maps first, first+1, … to n consecutive free ports (for
// 'zkcred up', whose services take consecutive ports).
func (w *walk) mapPortRun(first, n int) string {
	base := freePortRun(w.t, n)
	for i := range n {
		w.ports[fmt.Sprintf("127.0.0.1:%d", first+i)] = fmt.Sprintf("127.0.0.1:%d", base+i)
	}
	return fmt.Sprintf("127.0.0.1:%d", base)
}

func freeLoopback(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func freePortRun(t *testing.T, n int) int {
	t.Helper()
	for range 200 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if base+n > 65535 {
			continue
		}
		ok := true
		for i := range n {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+i))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no run of free ports")
	return 0
}

// placeholderRE finds a placeholder: <text with a space> (never a shell
// redirection, which has no closing '>' after a word).
var placeholderRE = regexp.MustCompile(`<([a-z][^<>]* [^<>]*)>`)

// fill replaces each placeholder of line with the value it names.
func (w *walk) fill(line string) string {
	return placeholderRE.ReplaceAllStringFunc(line, func(p string) string {
		v, err := w.resolve(strings.Trim(p, "<>"))
		if err != nil {
			w.t.Fatalf("placeholder %s in %q: %v", p, line, err)
		}
		return v
	})
}

var (
	ofThatRE = regexp.MustCompile(`^the "([A-Za-z]+)" of that [a-z]+$`)
	inFileRE = regexp.MustCompile(`^the "([A-Za-z]+)" in (\S+)$`)
	schemaRE = regexp.MustCompile(`"schemaId":"([0-9]+)"|\bID ([0-9]{20,})\b`)
	credIDRE = regexp.MustCompile(`urn:uuid:[0-9a-f-]{36}`)
)

func (w *walk) resolve(p string) (string, error) {
	w.mu.Lock()
	outs := append([]string(nil), w.outputs...)
	w.mu.Unlock()
	if m := ofThatRE.FindStringSubmatch(p); m != nil {
		if len(outs) == 0 {
			return "", errors.New("no output before it")
		}
		return jsonField([]byte(outs[len(outs)-1]), m[1])
	}
	if m := inFileRE.FindStringSubmatch(p); m != nil {
		b, err := os.ReadFile(filepath.Join(w.dir, m[2]))
		if err != nil {
			return "", err
		}
		return jsonField(b, m[1])
	}
	var re *regexp.Regexp
	switch p {
	case "diploma schema ID":
		re = schemaRE
	case "the credential ID":
		re = credIDRE
		outs = outs[len(outs)-1:] // the one just found
	default:
		return "", errors.New("unknown placeholder")
	}
	for i := len(outs) - 1; i >= 0; i-- {
		if m := re.FindStringSubmatch(outs[i]); m != nil {
			for _, g := range append(m[1:], m[0]) {
				if g != "" {
					return g, nil
				}
			}
		}
	}
	return "", errors.New("no earlier output holds it")
}

func jsonField(b []byte, key string) (string, error) {
	var m map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(b), &m); err != nil {
		return "", fmt.Errorf("not a JSON object (%v): %s", err, b)
	}
	v, ok := m[key].(string)
	if !ok {
		return "", fmt.Errorf("no string %q in %s", key, b)
	}
	return v, nil
}

var (
	exitStatusRE = regexp.MustCompile(`#.*exit status (\d)`)
	killRE       = regexp.MustCompile(`^kill %(\d+)$`)
	listenRE     = regexp.MustCompile(`--addr (\S+)`)
)

// run runs one line of the walkthrough and returns its stdout.
func (tm *terminal) run(line string) string {
	t := tm.t
	t.Helper()
	w := tm.w
	if strings.HasPrefix(line, "export ") {
		tm.exports = append(tm.exports, line)
		return ""
	}
	if m := killRE.FindStringSubmatch(line); m != nil {
		n, _ := strconv.Atoi(m[1])
		w.stopJob(n)
		return ""
	}
	want := 0
	if m := exitStatusRE.FindStringSubmatch(line); m != nil {
		want, _ = strconv.Atoi(m[1])
	}
	cmdline := w.fill(w.remap(line))
	if strings.HasSuffix(strings.TrimSpace(stripComment(cmdline)), "&") {
		w.startJob(tm, strings.TrimSuffix(strings.TrimSpace(stripComment(cmdline)), "&"), "")
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", tm.script(cmdline))
	cmd.Dir, cmd.Env = tm.dir, w.env
	cmd.Stdin = strings.NewReader("y\n") // a person answers yes
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: $ %s: %v", tm.name, cmdline, err)
	}
	t.Logf("%s $ %s   (%.2fs, exit %d)", tm.name, cmdline, time.Since(start).Seconds(), got)
	if got != want {
		w.dumpJobs()
		t.Fatalf("%s: $ %s\nexit status %d, want %d\n--- stdout:\n%s--- stderr:\n%s", tm.name, cmdline, got, want, stdout.String(), stderr.String())
	}
	w.mu.Lock()
	w.outputs = append(w.outputs, stdout.String())
	w.mu.Unlock()
	return stdout.String() + stderr.String()
}

// script is what sh runs for one command: the exports, then the command.
func (tm *terminal) script(cmdline string) string {
	return strings.Join(append(append([]string{}, tm.exports...), cmdline), "\n")
}

func stripComment(s string) string {
	// Comments in the README follow two spaces and a '#'.
	if i := strings.Index(s, "  #"); i >= 0 {
		return s[:i]
	}
	return s
}

// startJob starts a background job and waits until it serves: until its
// --addr accepts connections, or, with banner, until its output holds it.
func (w *walk) startJob(tm *terminal, cmdline, banner string) *job {
	t := w.t
	t.Helper()
	cmd := exec.Command("sh", "-c", tm.script("exec "+cmdline))
	cmd.Dir, cmd.Env = tm.dir, w.env
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	j := &job{line: cmdline, cmd: cmd, out: out, done: make(chan struct{})}
	go func() { j.err = cmd.Wait(); close(j.done) }()
	w.jobs = append(w.jobs, j)
	t.Logf("%s $ %s &   [%d]", tm.name, cmdline, len(w.jobs))
	addr := ""
	if m := listenRE.FindStringSubmatch(cmdline); m != nil {
		addr = m[1]
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ready := false
		switch {
		case banner != "":
			ready = strings.Contains(out.String(), banner)
		case addr != "":
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				ready = true
			}
		default:
			ready = true
		}
		if ready {
			return j
		}
		select {
		case <-j.done:
			t.Fatalf("job %q exited: %v\n%s%s", cmdline, j.err, out, w.logs())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %q does not serve after 2 minutes:\n%s%s", cmdline, out, w.logs())
		}
	}
}

// stopJob stops job n (1-based) as 'kill %n' does, and waits for it.
func (w *walk) stopJob(n int) {
	w.t.Helper()
	if n < 1 || n > len(w.jobs) {
		w.t.Fatalf("kill %%%d: no such job", n)
	}
	j := w.jobs[n-1]
	j.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-j.done:
	case <-time.After(30 * time.Second):
		j.cmd.Process.Kill()
		<-j.done
		w.t.Fatalf("job %q did not stop on SIGTERM:\n%s", j.line, j.out)
	}
	if j.err != nil {
		w.t.Fatalf("job %q did not exit cleanly: %v\n%s", j.line, j.err, j.out)
	}
}

func (w *walk) stopJobs() {
	for _, j := range w.jobs {
		select {
		case <-j.done:
		default:
			j.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-j.done:
			case <-time.After(15 * time.Second):
				j.cmd.Process.Kill()
				<-j.done
			}
		}
	}
	if w.t.Failed() {
		w.dumpJobs()
	}
}

func (w *walk) dumpJobs() {
	for i, j := range w.jobs {
		w.t.Logf("--- job %d: %s\n%s", i+1, j.line, j.out)
	}
	w.t.Log(w.logs())
}

// logs are the *.log files the walkthrough's services write.
func (w *walk) logs() string {
	var b strings.Builder
	files, _ := filepath.Glob(filepath.Join(w.dir, "*.log"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		fmt.Fprintf(&b, "\n--- %s:\n%s", filepath.Base(f), data)
	}
	return b.String()
}

// upTryLines are the commands 'zkcred up' prints for a second terminal.
func upTryLines(banner string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(banner))
	in := false
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "Try it in a second terminal") {
			in = true
			continue
		}
		if in && strings.HasPrefix(l, "  ") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}

// TestReadmeTryIt runs README.md's "Try it by hand" section: 'zkcred up'
// in one terminal, the walkthrough in a second, ending with a verified
// presentation. Then it pastes the commands that 'zkcred up' printed into a
// third terminal, in another directory, that has only the README's
// exports: its ZKCRED_HOME is not the one 'zkcred up' keeps its keys in,
// so the wallet fetches them from the key server 'zkcred up' names.
func TestReadmeTryIt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, runs zkcred up and proves")
	}
	t.Parallel()
	blocks := readmeBlocks(t)
	one, two := blocks["up-1"], blocks["up-2"]
	if one == "" || two == "" {
		t.Fatal("README.md has no walkthrough blocks up-1 and up-2")
	}
	w := newWalk(t, buildZkcred(t))
	w.seedKeys(filepath.Join(w.dir, "zkcred-data", "keys"))
	first := w.mapPortRun(8640, 5)
	t1 := w.terminal("terminal 1")
	lines := commandLines(one)
	for _, l := range lines[:len(lines)-1] {
		t1.run(l)
	}
	up := lines[len(lines)-1]
	if up != "zkcred up" {
		t.Fatalf("the first terminal's block should end with 'zkcred up', not %q", up)
	}
	j := w.startJob(t1, up+" --addr "+first, "Try it in a second terminal")
	banner := j.out.String()
	w.mu.Lock()
	w.outputs = append(w.outputs, banner)
	w.mu.Unlock()

	t2 := w.terminal("terminal 2")
	var last string
	for _, l := range commandLines(two) {
		last = t2.run(l)
	}
	if !strings.Contains(last, "verified by the verifier") || !strings.Contains(last, "it read degree=MSc") {
		t.Fatalf("the walkthrough does not end with a verified presentation that disclosed the degree:\n%s", last)
	}

	try := upTryLines(banner)
	if len(try) < 5 {
		t.Fatalf("zkcred up printed %d commands to try:\n%s", len(try), banner)
	}
	t3 := w.terminal("terminal 3")
	t3.dir = filepath.Join(filepath.Dir(w.dir), "elsewhere")
	if err := os.MkdirAll(t3.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, l := range commandLines(two) {
		if strings.HasPrefix(l, "export ") {
			t3.run(l) // only the README's exports
		}
	}
	for _, l := range try {
		last = t3.run(l)
	}
	if !strings.Contains(last, "verified by the verifier") {
		t.Fatalf("the commands zkcred up printed do not end with a verified presentation:\n%s", last)
	}
	if _, err := os.Stat(filepath.Join(t3.dir, "zkcred-data", "keys")); err != nil {
		t.Fatalf("the third terminal's wallet did not fetch its keys from zkcred up's key server: %v", err)
	}
}

// TestReadmeServices runs README.md's "Running each service on its own"
// section as written: keys, registry, a university that registers,
// publishes, issues a CSV batch of claim links and serves; a verifier
// whose policy comes from the published schema; a graduate who claims
// and presents; a revocation while the issuer serves, after which the
// presentation is refused; and the operator's audit.
func TestReadmeServices(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, starts every service and proves")
	}
	t.Parallel()
	block := readmeBlocks(t)["services"]
	if block == "" {
		t.Fatal("README.md has no walkthrough block services")
	}
	bin := buildZkcred(t)
	w := newWalk(t, bin)
	w.seedKeys(filepath.Join(w.dir, "keys"))
	sh := w.terminal("shell")
	verified, refused := false, false
	for _, l := range commandLines(block) {
		out := sh.run(l)
		if strings.Contains(l, "govern publish-circuits") {
			for _, id := range circuitIDs {
				if !strings.Contains(out, "published circuit "+id+" (vk sha256 ") {
					t.Fatalf("publish-circuits does not name circuit %s:\n%s", id, out)
				}
			}
		}
		if strings.Contains(l, "# shows it revoked") && !regexp.MustCompile(`(?m)UniversityDiploma.*\brevoked$`).MatchString(out) {
			t.Fatalf("the wallet's list does not show the diploma revoked:\n%s", out)
		}
		if strings.Contains(l, "wallet present") {
			if strings.Contains(out, "verified by the verifier") {
				verified = true
			}
			if exitStatusRE.MatchString(l) {
				refused = true
			}
		}
	}
	if !verified || !refused {
		t.Fatalf("the section should verify a presentation, then refuse one after the revocation (verified %v, refused %v)", verified, refused)
	}
}
