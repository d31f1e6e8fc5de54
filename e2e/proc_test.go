package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
)

// This file runs the zkcred binary as separate processes: one-shot
// commands (run, runFail) and services (start), whose output is kept and
// printed when a step fails.

// stepTimeout bounds one CLI command; a service gets the test's lifetime.
const stepTimeout = 2 * time.Minute

// syncBuffer is an output buffer written by a process and read by the test.
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

// world is the test's set of processes and files.
type world struct {
	t    *testing.T
	bin  string // the zkcred binary
	dir  string // working directory of the whole story
	mu   sync.Mutex
	svcs []*service
}

// party is one actor's environment: its own ZKCRED_HOME and passphrase.
type party struct {
	name string
	env  []string
}

// newParty makes a home directory for name and an environment that carries
// nothing of the user's zkcred settings.
func (w *world) newParty(name, passphrase string) *party {
	home := filepath.Join(w.dir, name)
	if err := os.MkdirAll(home, 0o700); err != nil {
		w.t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ZKCRED_") {
			env = append(env, kv)
		}
	}
	env = append(env, "ZKCRED_HOME="+home, "ZKCRED_INSECURE_TEST_WORK_FACTOR=1") // --work-factor 10 for speed
	if passphrase != "" {
		env = append(env, "ZKCRED_PASSPHRASE="+passphrase)
	}
	return &party{name: name, env: env}
}

func (p *party) home() string {
	for _, kv := range p.env {
		if h, ok := strings.CutPrefix(kv, "ZKCRED_HOME="); ok {
			return h
		}
	}
	return ""
}

// result is a finished command.
type result struct {
	cmdline        string
	stdout, stderr string
	err            error
}

func (r *result) String() string {
	return fmt.Sprintf("$ %s\n--- stdout:\n%s\n--- stderr:\n%s\n--- exit: %v", r.cmdline, r.stdout, r.stderr, r.err)
}

func (w *world) exec(p *party, args ...string) *result {
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.bin, args...)
	cmd.Env = p.env
	cmd.Dir = w.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %v: %w", stepTimeout, err)
	}
	return &result{cmdline: p.name + ": zkcred " + strings.Join(args, " "), stdout: out.String(), stderr: errb.String(), err: err}
}

// run runs a command that must succeed and returns its stdout.
func (w *world) run(step string, p *party, args ...string) string {
	w.t.Helper()
	start := time.Now()
	r := w.exec(p, args...)
	if r.err != nil {
		w.t.Fatalf("step %q failed:\n%s", step, r)
	}
	w.t.Logf("%-45s %6.2fs", step, time.Since(start).Seconds())
	return r.stdout
}

// runJSON runs a command that must succeed and decodes its stdout.
func (w *world) runJSON(step string, p *party, v any, args ...string) {
	w.t.Helper()
	out := w.run(step, p, args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		w.t.Fatalf("step %q: stdout is not the expected JSON (%v):\n%s", step, err, out)
	}
}

// runFail runs a command that must fail with exit status want (the CLI's
// documented statuses: 1 refused by the other party, 2 usage, 3
// unreachable, 4 bad local state) and returns its combined output.
func (w *world) runFail(step string, p *party, want int, args ...string) string {
	w.t.Helper()
	start := time.Now()
	r := w.exec(p, args...)
	var ee *exec.ExitError
	if !errors.As(r.err, &ee) {
		w.t.Fatalf("step %q: the command should have failed with an exit status:\n%s", step, r)
	}
	if ee.ExitCode() != want {
		w.t.Fatalf("step %q: exit status %d, want %d:\n%s", step, ee.ExitCode(), want, r)
	}
	w.t.Logf("%-45s %6.2fs (refused, as it should be)", step, time.Since(start).Seconds())
	return r.stdout + r.stderr
}

// service is a long-running process.
type service struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error // valid after done
}

func (s *service) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// start starts a service; the test's cleanup kills it if it still runs.
func (w *world) start(name string, p *party, args ...string) *service {
	w.t.Helper()
	cmd := exec.Command(w.bin, args...)
	cmd.Env = p.env
	cmd.Dir = w.dir
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		w.t.Fatalf("start %s: %v", name, err)
	}
	s := &service{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	w.mu.Lock()
	w.svcs = append(w.svcs, s)
	w.mu.Unlock()
	return s
}

// stop asks a service to shut down (SIGINT) and waits for a clean exit.
func (w *world) stop(s *service) {
	w.t.Helper()
	if s.exited() {
		w.t.Fatalf("%s exited early: %v\n%s", s.name, s.err, s.out)
	}
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		w.t.Fatalf("%s did not stop within 15 s of SIGINT:\n%s", s.name, s.out)
	}
	if s.err != nil {
		w.t.Fatalf("%s did not exit cleanly: %v\n%s", s.name, s.err, s.out)
	}
}

// cleanup kills every service still running and, if the test failed,
// prints the services' output.
func (w *world) cleanup() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.svcs {
		if !s.exited() {
			s.cmd.Process.Kill()
			<-s.done
		}
		if os.Getenv("ZKCRED_E2E_KEEP") != "" {
			os.WriteFile(filepath.Join(w.dir, strings.ReplaceAll(s.name, " ", "-")+".log"), []byte(s.out.String()), 0o600)
		}
		if w.t.Failed() {
			w.t.Logf("--- output of %s (%s):\n%s", s.name, strings.Join(s.cmd.Args[1:], " "), s.out)
		}
	}
}

// waitHTTP waits until GET url answers 200, failing if s exits first.
func (w *world) waitHTTP(s *service, url string) {
	w.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if s.exited() {
			w.t.Fatalf("%s exited before serving %s: %v\n%s", s.name, url, s.err, s.out)
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%s does not answer %s after 60 s (last error %v):\n%s", s.name, url, err, s.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago (services that must know their own URL in advance take it).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// httpJSON sends a JSON request and decodes a JSON answer of any status
// into out (when non-nil); it returns the status code and the raw body.
func httpJSON(t *testing.T, method, url, bearer string, in, out any) (int, []byte) {
	t.Helper()
	var body io.Reader
	if in != nil {
		switch v := in.(type) {
		case []byte:
			body = bytes.NewReader(v)
		default:
			b, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			body = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	c := &http.Client{Timeout: 60 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, url, err)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: answer %d is not the expected JSON (%v): %s", method, url, resp.StatusCode, err, b)
		}
	}
	return resp.StatusCode, b
}
