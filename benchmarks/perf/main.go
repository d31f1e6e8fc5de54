// Command perf runs zkcred's benchmarks and writes their tables into
// PERFORMANCE.md, between marker comments, leaving the hand-written text
// around them as it is.
//
// Usage (from the module root):
//
//	go run ./benchmarks/perf                       # every suite, default sizes (a few minutes)
//	go run ./benchmarks/perf -only circuit,verifier
//	go run ./benchmarks/perf -quick -print         # small sizes, print instead of writing
//
// Suites (-only takes a comma-separated list):
//
//   - circuit:  `zkcred bench circuit --json` (constraints, prove and verify medians, sizes)
//   - registry: registry/node BenchmarkAnchor (durable anchoring, in-process and over HTTP)
//     and registry/api BenchmarkMillion (witness latency and reopen at -leaves leaves)
//   - issuer:   issuer BenchmarkRunBatch10k (local chain) and issuer/regchain
//     BenchmarkRunBatch10kRegistry (a real registry)
//   - wallet:   wallet BenchmarkPresent (warm keys) and cmd/zkcred
//     BenchmarkWalletPresentCLI (the CLI, keys loaded from disk)
//   - verifier: verifier BenchmarkPipeline (everything but the pairing) and
//     the load tool benchmarks/verifierload
//
// Each suite's table sits between <!-- perf:NAME:begin --> and
// <!-- perf:NAME:end --> and names the machine it was measured on (CPU
// model, cores, Go version, date, load average before and after), so a
// partial run updates only its own tables. Missing markers are added at
// the end of the file under one heading. If any benchmark fails, nothing
// is written and the command exits 1 with that benchmark's output.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/zkcred/zkcred/internal/bench"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "perf:", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	only    []string
	quick   bool
	print   bool
	out     string
	keys    string
	leaves  int
	timeout time.Duration
}

// suiteNames are the suites in the order they run and appear.
var suiteNames = []string{"circuit", "registry", "issuer", "wallet", "verifier"}

func parseConfig(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("perf", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &config{}
	only := fs.String("only", strings.Join(suiteNames, ","), "suites to run, comma-separated: "+strings.Join(suiteNames, ", "))
	fs.BoolVar(&c.quick, "quick", false, "small sizes (a check that everything runs, not figures to publish)")
	fs.BoolVar(&c.print, "print", false, "print the tables instead of writing PERFORMANCE.md")
	fs.StringVar(&c.out, "out", "PERFORMANCE.md", "file to update")
	fs.StringVar(&c.keys, "keys", "", "Groth16 key directory (default: zkcred's default, made on first use)")
	fs.IntVar(&c.leaves, "leaves", 1<<18, "registry leaves for the witness and reopen benchmarks (1048576 for the published 2^20 figures)")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Minute, "bound on each benchmark command")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, s := range strings.Split(*only, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(suiteNames, s) {
			return nil, fmt.Errorf("unknown suite %q (suites: %s)", s, strings.Join(suiteNames, ", "))
		}
		if !slices.Contains(c.only, s) {
			c.only = append(c.only, s)
		}
	}
	if len(c.only) == 0 {
		return nil, errors.New("-only names no suite")
	}
	if c.leaves < 1<<12 {
		return nil, errors.New("-leaves must be at least 4096")
	}
	if c.quick && c.leaves == 1<<18 {
		c.leaves = 1 << 14
	}
	return c, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	c, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	r := &runner{cfg: c, root: root, log: stderr}
	tmp, err := os.MkdirTemp("", "zkcred-perf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	r.tmp = tmp
	blocks := map[string]string{}
	start := time.Now()
	for _, name := range suiteNames {
		if !slices.Contains(c.only, name) {
			continue
		}
		fmt.Fprintf(stderr, "== %s\n", name)
		m0 := machine()
		t0 := time.Now()
		table, err := suites[name](r)
		if err != nil {
			return fmt.Errorf("suite %s: %w", name, err)
		}
		m1 := machine()
		if r.goCPU != "" && r.goCPU != m0.CPU {
			m0.CPU += " (\"" + r.goCPU + "\")"
		}
		blocks[name] = renderBlock(name, table, m0, m1, time.Since(t0), c.quick)
		fmt.Fprintf(stderr, "   %s done in %s\n", name, time.Since(t0).Round(time.Second))
	}
	fmt.Fprintf(stderr, "all suites done in %s\n", time.Since(start).Round(time.Second))
	if c.print {
		for _, name := range suiteNames {
			if b, ok := blocks[name]; ok {
				fmt.Fprintln(stdout, b)
			}
		}
		return nil
	}
	path := c.out
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	updated, err := replaceBlocks(string(old), blocks)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(updated), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s (%s)\n", path, strings.Join(c.only, ", "))
	return nil
}

// moduleRoot finds the directory of zkcred's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run perf inside the zkcred module (go run ./benchmarks/perf)")
	}
	return filepath.Dir(mod), nil
}

// runner runs benchmark commands.
type runner struct {
	cfg  *config
	root string
	tmp  string
	log  io.Writer
	bin  string // the zkcred binary, built on first use
	// goCPU is the processor name `go test` prints (its CPUID brand
	// string), which can be more precise than /proc/cpuinfo's model name.
	goCPU string
}

// command runs name args in the module root with extra environment and
// returns its stdout; on failure the error carries all of its output.
func (r *runner) command(env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = r.root
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	progress := prefixWriter(r.log)
	defer progress.Close()
	cmd.Stdout = io.MultiWriter(&out, progress)
	cmd.Stderr = &errb
	line := strings.TrimSpace(strings.Join(env, " ") + " " + name + " " + strings.Join(args, " "))
	fmt.Fprintf(r.log, "   $ %s\n", line)
	t0 := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		return "", fmt.Errorf("%s: timed out after %s (raise -timeout)", line, r.cfg.timeout)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %v\n%s%s", line, err, out.String(), errb.String())
	}
	fmt.Fprintf(r.log, "     (%s)\n", time.Since(t0).Round(100*time.Millisecond))
	return out.String(), nil
}

// prefixWriter indents a command's output in the progress log; Close
// flushes it.
func prefixWriter(w io.Writer) io.WriteCloser {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintf(w, "     %s\n", sc.Text())
		}
		io.Copy(io.Discard, pr)
	}()
	return &flushCloser{pw, done}
}

type flushCloser struct {
	*io.PipeWriter
	done chan struct{}
}

func (f *flushCloser) Close() error {
	err := f.PipeWriter.Close()
	<-f.done
	return err
}

// goBench runs `go test -run ^$ -bench pattern -benchtime bt pkg` and
// parses the results.
func (r *runner) goBench(env []string, pkg, pattern, benchtime string) ([]benchResult, error) {
	out, err := r.command(env, "go", "test", "-run", "^$", "-bench", pattern, "-benchtime", benchtime, "-count", "1", "-timeout", r.cfg.timeout.String(), pkg)
	if err != nil {
		return nil, err
	}
	if r.goCPU == "" {
		for _, line := range strings.Split(out, "\n") {
			if v, ok := strings.CutPrefix(line, "cpu: "); ok {
				r.goCPU = strings.TrimSpace(v)
				break
			}
		}
	}
	res := parseBench(out)
	if len(res) == 0 {
		return nil, fmt.Errorf("go test -bench %s %s printed no result:\n%s", pattern, pkg, out)
	}
	return res, nil
}

func (r *runner) keysArgs() []string {
	if r.cfg.keys == "" {
		return nil
	}
	return []string{"--keys", r.cfg.keys}
}

func (r *runner) zkcred(args ...string) (string, error) {
	if r.bin == "" {
		bin := filepath.Join(r.tmp, "zkcred")
		if _, err := r.command(nil, "go", "build", "-o", bin, "./cmd/zkcred"); err != nil {
			return "", err
		}
		r.bin = bin
	}
	return r.command(nil, r.bin, args...)
}

// pick returns quick when -quick is set, else full.
func (r *runner) pick(full, quick string) string {
	if r.cfg.quick {
		return quick
	}
	return full
}

// benchResult is one line of `go test -bench` output.
type benchResult struct {
	Name    string             // without the Benchmark prefix and the -GOMAXPROCS suffix
	N       int                // iterations
	Metrics map[string]float64 // unit → value ("ns/op", "commitments/s", ...)
}

// parseBench reads the result lines of `go test -bench` output.
func parseBench(out string) []benchResult {
	var res []benchResult
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndex(name, "-"); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		br := benchResult{Name: name, N: n, Metrics: map[string]float64{}}
		ok := true
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				ok = false
				break
			}
			br.Metrics[f[i+1]] = v
		}
		if ok {
			res = append(res, br)
		}
	}
	return res
}

// find returns the named result or an error naming what was printed.
func find(rs []benchResult, name string) (benchResult, error) {
	var names []string
	for _, r := range rs {
		if r.Name == name {
			return r, nil
		}
		names = append(names, r.Name)
	}
	return benchResult{}, fmt.Errorf("no result for %s (have %s)", name, strings.Join(names, ", "))
}

// metric returns a metric that must be present.
func metric(b benchResult, unit string) (float64, error) {
	v, ok := b.Metrics[unit]
	if !ok {
		return 0, fmt.Errorf("%s reports no %q", b.Name, unit)
	}
	return v, nil
}

// table is a markdown table plus notes under it.
type table struct {
	header []string
	rows   [][]string
	notes  []string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) markdown() string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(t.header, " | ") + " |\n")
	b.WriteString("|" + strings.Repeat(" --- |", len(t.header)) + "\n")
	for _, r := range t.rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	for _, n := range t.notes {
		b.WriteString("\n" + n + "\n")
	}
	return b.String()
}

var suites = map[string]func(*runner) (*table, error){
	"circuit":  circuitSuite,
	"registry": registrySuite,
	"issuer":   issuerSuite,
	"wallet":   walletSuite,
	"verifier": verifierSuite,
}

func circuitSuite(r *runner) (*table, error) {
	args := append([]string{"bench", "circuit", "--json"}, r.keysArgs()...)
	out, err := r.zkcred(args...)
	if err != nil {
		return nil, err
	}
	var c bench.CircuitResult
	if err := json.Unmarshal([]byte(lastLine(out)), &c); err != nil {
		return nil, fmt.Errorf("zkcred bench circuit --json: %w: %s", err, out)
	}
	t := &table{header: []string{"presentation circuit", "value"}}
	t.add("constraints", thousands(float64(c.Constraints)))
	t.add("public inputs", fmt.Sprintf("%d", c.PublicInputs))
	t.add(fmt.Sprintf("prove, median of %d", c.Proofs), fmt.Sprintf("**%.1f ms**", c.ProveMS))
	t.add("prove from a prover state (new request)", fmt.Sprintf("**%.1f ms**", c.ProveWarmMS))
	t.add(fmt.Sprintf("verify, median of %d", c.Verifies), fmt.Sprintf("**%.2f ms**", c.VerifyMS))
	t.add("batch verify (64 proofs)", fmt.Sprintf("%.3f ms per proof", c.BatchVerifyMS))
	t.add("proving key", fmt.Sprintf("%.1f MB", float64(c.PKBytes)/1e6))
	t.add("proof", fmt.Sprintf("%d bytes", c.ProofBytes))
	t.notes = append(t.notes, "Command: `zkcred bench circuit --json`.")
	return t, nil
}

func registrySuite(r *runner) (*table, error) {
	bt := r.pick("100000x", "20000x")
	anchor, err := r.goBench(nil, "./registry/node", "^BenchmarkAnchor$", bt)
	if err != nil {
		return nil, err
	}
	t := &table{header: []string{"benchmark", "result", "CPU", "command"}}
	for _, sub := range []string{"inprocess", "http"} {
		b, err := find(anchor, "Anchor/"+sub)
		if err != nil {
			return nil, err
		}
		rate, err := metric(b, "commitments/s")
		if err != nil {
			return nil, err
		}
		cpu, err := metric(b, "cpu-µs/commitment")
		if err != nil {
			return nil, err
		}
		what := map[string]string{"inprocess": "durable anchoring, 8 issuers × 2,500-commitment transactions, in-process",
			"http": "durable anchoring over HTTP (echo server, Go client)"}[sub]
		t.add(what, fmt.Sprintf("**%s commitments/s** (%s commitments, %.0f blocks)", thousands(rate), thousands(float64(b.N)), b.Metrics["blocks"]),
			fmt.Sprintf("%.1f µs/commitment", cpu), fmt.Sprintf("`go test -bench Anchor/%s -benchtime %s ./registry/node`", sub, bt))
	}
	wt := r.pick("2000x", "300x")
	env := []string{fmt.Sprintf("ZKCRED_BENCH_LEAVES=%d", r.cfg.leaves)}
	t0 := time.Now()
	million, err := r.goBench(env, "./registry/api", "^BenchmarkMillion$", wt)
	if err != nil {
		return nil, err
	}
	build := time.Since(t0)
	w, err := find(million, "Million/witness")
	if err != nil {
		return nil, err
	}
	p50, err := metric(w, "p50-µs")
	if err != nil {
		return nil, err
	}
	p99, err := metric(w, "p99-µs")
	if err != nil {
		return nil, err
	}
	t.add(fmt.Sprintf("witness bucket `GET /v1/witness/{b}` at %s leaves, random buckets, over HTTP", thousands(float64(r.cfg.leaves))),
		fmt.Sprintf("p50 %s, **p99 %s** (%s requests)", micros(p50), micros(p99), thousands(float64(w.N))), "–",
		fmt.Sprintf("`ZKCRED_BENCH_LEAVES=%d go test -bench Million/witness -benchtime %s ./registry/api`", r.cfg.leaves, wt))
	ro, err := find(million, "Million/reopen")
	if err != nil {
		return nil, err
	}
	ns, err := metric(ro, "ns/op")
	if err != nil {
		return nil, err
	}
	t.add(fmt.Sprintf("reopen of the %s-leaf registry", thousands(float64(r.cfg.leaves))), fmt.Sprintf("**%s**", dur(ns)), "–", "same command, `Million/reopen`")
	t.notes = append(t.notes, fmt.Sprintf("The registry/api benchmark run, building the %s-leaf registry included, took %s.", thousands(float64(r.cfg.leaves)), build.Round(time.Second)))
	return t, nil
}

func issuerSuite(r *runner) (*table, error) {
	t := &table{header: []string{"benchmark", "wall clock", "rows/s", "CPU", "command"}}
	local, err := r.goBench(nil, "./issuer", "^BenchmarkRunBatch10k$", "1x")
	if err != nil {
		return nil, err
	}
	b, err := find(local, "RunBatch10k")
	if err != nil {
		return nil, err
	}
	ns, err := metric(b, "ns/op")
	if err != nil {
		return nil, err
	}
	cpu := "–"
	if v, ok := b.Metrics["cpu-s/op"]; ok {
		cpu = fmt.Sprintf("%.1f s", v)
	}
	t.add("10,000 CSV rows → signed credentials and files, anchored on the durable local chain", fmt.Sprintf("**%s**", dur(ns)),
		thousands(10000/(ns/1e9)), cpu, "`go test -bench RunBatch10k -benchtime 1x ./issuer`")
	if !r.cfg.quick {
		reg, err := r.goBench(nil, "./issuer/regchain", "^BenchmarkRunBatch10kRegistry$", "1x")
		if err != nil {
			return nil, err
		}
		b, err := find(reg, "RunBatch10kRegistry")
		if err != nil {
			return nil, err
		}
		ns, err := metric(b, "ns/op")
		if err != nil {
			return nil, err
		}
		t.add("the same 10,000 rows on a real registry (badger, block producer, HTTP on loopback)", fmt.Sprintf("**%s**", dur(ns)),
			thousands(10000/(ns/1e9)), "–", "`go test -bench RunBatch10kRegistry -benchtime 1x ./issuer/regchain`")
	}
	return t, nil
}

func walletSuite(r *runner) (*table, error) {
	bt := r.pick("5x", "2x")
	rs, err := r.goBench(nil, "./wallet", "^BenchmarkPresent$", bt)
	if err != nil {
		return nil, err
	}
	t := &table{header: []string{"benchmark", "time per presentation", "command"}}
	for _, sub := range []struct{ name, what string }{
		{"Present/present", "present with warm keys: request, witness, prove, submit, verdict (real verifier on loopback)"},
		{"Present/request-and-witness", "the steps around the proof: fetch and check the request, choose, fetch and check the witness"},
		{"Present/prove-only", "the Groth16 proof alone"},
	} {
		b, err := find(rs, sub.name)
		if err != nil {
			if sub.name == "Present/request-and-witness" {
				continue // older wallet benchmarks lack it
			}
			return nil, err
		}
		ns, err := metric(b, "ns/op")
		if err != nil {
			return nil, err
		}
		t.add(sub.what, fmt.Sprintf("**%s**", dur(ns)), fmt.Sprintf("`go test -bench %s -benchtime %s ./wallet`", sub.name, bt))
	}
	ct := r.pick("3x", "1x")
	cli, err := r.goBench(nil, "./cmd/zkcred", "^BenchmarkWalletPresentCLI$", ct)
	if err != nil {
		return nil, err
	}
	b, err := find(cli, "WalletPresentCLI")
	if err != nil {
		return nil, err
	}
	ns, err := metric(b, "ns/op")
	if err != nil {
		return nil, err
	}
	t.add("`zkcred wallet present --yes` in-process: open the wallet, load and check the keys, prove, submit", fmt.Sprintf("**%s**", dur(ns)),
		fmt.Sprintf("`go test -bench WalletPresentCLI -benchtime %s ./cmd/zkcred`", ct))
	return t, nil
}

func verifierSuite(r *runner) (*table, error) {
	bt := r.pick("2000x", "300x")
	rs, err := r.goBench(nil, "./verifier", "^BenchmarkPipeline$", bt)
	if err != nil {
		return nil, err
	}
	t := &table{header: []string{"benchmark", "result", "command"}}
	for _, ep := range []string{"verify", "submit"} {
		b, err := find(rs, "Pipeline/"+ep)
		if err != nil {
			return nil, err
		}
		ns, err := metric(b, "ns/op")
		if err != nil {
			return nil, err
		}
		path := map[string]string{"verify": "`POST /v1/verify`", "submit": "`POST /v1/requests/{id}/presentations`"}[ep]
		t.add("pipeline without the pairing check, "+path, fmt.Sprintf("%s per presentation (%s/s on one client)", dur(ns), thousands(1e9/ns)),
			fmt.Sprintf("`go test -bench Pipeline/%s -benchtime %s ./verifier`", ep, bt))
	}
	largs := []string{"run", "./benchmarks/verifierload", "--json"}
	if r.cfg.quick {
		largs = append(largs, "--valid", "16", "--batch", "8", "--duration", "3s")
	} else {
		largs = append(largs, "--valid", "128", "--batch", "64", "--duration", "10s")
	}
	largs = append(largs, r.keysArgs()...)
	out, err := r.command(nil, "go", largs...)
	if err != nil {
		return nil, err
	}
	var rep struct {
		Concurrency int     `json:"concurrency"`
		ProveMs     float64 `json:"proveMsEach"`
		Phases      []struct {
			Name      string         `json:"name"`
			Items     int            `json:"items"`
			Seconds   float64        `json:"seconds"`
			PerSecond float64        `json:"perSecond"`
			P50ms     float64        `json:"p50ms"`
			P99ms     float64        `json:"p99ms"`
			Outcomes  map[string]int `json:"outcomes"`
			CPUms     float64        `json:"cpuMsPerItem"`
			Capacity  float64        `json:"capacityPerSecond"`
		} `json:"phases"`
	}
	if err := json.Unmarshal([]byte(lastLine(out)), &rep); err != nil {
		return nil, fmt.Errorf("verifierload --json: %w: %s", err, out)
	}
	if len(rep.Phases) == 0 {
		return nil, fmt.Errorf("verifierload reported no phase: %s", out)
	}
	shown := largs[:len(largs)-len(r.keysArgs())]
	for _, p := range rep.Phases {
		t.add(fmt.Sprintf("load, %s: %s presentations, %d clients", p.Name, thousands(float64(p.Items)), rep.Concurrency),
			fmt.Sprintf("**%s/s**, p50 %.2f ms, p99 %.2f ms; %.2f CPU-ms each (≈ %s/s on free cores)", thousands(p.PerSecond), p.P50ms, p.P99ms, p.CPUms, thousands(p.Capacity)),
			"load tool, below")
	}
	t.notes = append(t.notes, fmt.Sprintf("Load tool: `go %s` (real Groth16 proofs, a verifier on loopback; preparing each valid presentation took %.0f ms of proving). "+
		"CPU-ms counts the server and the load generator in one process; \"free cores\" is nproc × 1000 / CPU-ms.", strings.Join(shown, " "), rep.ProveMs))
	return t, nil
}

// lastLine returns the last non-empty line (JSON after any chatter).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// thousands formats a count with thousands separators and no decimals.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// dur formats nanoseconds with a sensible unit.
func dur(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.0f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func micros(us float64) string { return dur(us * 1e3) }

// machineInfo describes where and when a suite ran.
type machineInfo struct {
	CPU     string
	NumCPU  int
	Go      string
	OS      string
	Time    time.Time
	LoadAvg string
}

func machine() machineInfo {
	m := machineInfo{CPU: cpuModel(), NumCPU: runtime.NumCPU(), Go: goVersion(), OS: runtime.GOOS + "/" + runtime.GOARCH, Time: time.Now().UTC()}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}

// cpuModel is the "model name" of /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// goVersion is the toolchain that builds the benchmarks.
func goVersion() string {
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	return runtime.Version()
}

func beginMarker(name string) string { return "<!-- perf:" + name + ":begin -->" }
func endMarker(name string) string   { return "<!-- perf:" + name + ":end -->" }

// renderBlock is a suite's block, markers included.
func renderBlock(name string, t *table, before, after machineInfo, took time.Duration, quick bool) string {
	var b strings.Builder
	b.WriteString(beginMarker(name) + "\n")
	b.WriteString("<!-- written by `go run ./benchmarks/perf`; edits inside the markers are overwritten -->\n\n")
	title := map[string]string{"circuit": "Circuit", "registry": "Registry", "issuer": "Issuance", "wallet": "Wallet", "verifier": "Verifier"}[name]
	fmt.Fprintf(&b, "### %s (measured)\n\n", title)
	fmt.Fprintf(&b, "Measured %s on %s, `nproc` = %d, %s, %s; load average %s before, %s after; the suite took %s.",
		before.Time.Format("2006-01-02 15:04 UTC"), before.CPU, before.NumCPU, before.OS, before.Go, orDash(before.LoadAvg), orDash(after.LoadAvg), took.Round(time.Second))
	if quick {
		b.WriteString(" **Quick run (-quick): small sizes, not for comparison.**")
	}
	b.WriteString("\n\n")
	b.WriteString(t.markdown())
	b.WriteString(endMarker(name))
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// generatedHeading introduces blocks that had no markers yet.
const generatedHeading = "## Measured by `go run ./benchmarks/perf`"

// replaceBlocks puts each block in place of its markers in doc, or, for a
// block whose markers are absent, appends it under generatedHeading.
// Everything outside the markers is kept byte for byte.
func replaceBlocks(doc string, blocks map[string]string) (string, error) {
	var missing []string
	for _, name := range suiteNames {
		blk, ok := blocks[name]
		if !ok {
			continue
		}
		bm, em := beginMarker(name), endMarker(name)
		i, j := strings.Index(doc, bm), strings.Index(doc, em)
		switch {
		case i < 0 && j < 0:
			missing = append(missing, blk)
			continue
		case i < 0 || j < 0 || j < i:
			return "", fmt.Errorf("%s: markers %s and %s are unpaired or out of order; fix them by hand", name, bm, em)
		case strings.Count(doc, bm) > 1 || strings.Count(doc, em) > 1:
			return "", fmt.Errorf("%s: markers appear more than once", name)
		}
		doc = doc[:i] + blk + doc[j+len(em):]
	}
	if len(missing) == 0 {
		return doc, nil
	}
	if !strings.Contains(doc, generatedHeading) {
		doc = strings.TrimRight(doc, "\n")
		if doc != "" {
			doc += "\n\n"
		}
		doc += generatedHeading + "\n\nTables between `perf` markers are rewritten by `go run ./benchmarks/perf` (`-only` to choose suites, `-quick` for a smoke run, `-print` to see them without writing).\n"
	}
	// After the last block already there, else at the end.
	last := -1
	for _, name := range suiteNames {
		if j := strings.Index(doc, endMarker(name)); j >= 0 {
			last = max(last, j+len(endMarker(name)))
		}
	}
	insert := ""
	for _, blk := range missing {
		insert += "\n\n" + blk
	}
	if last < 0 {
		return strings.TrimRight(doc, "\n") + insert + "\n", nil
	}
	return doc[:last] + insert + doc[last:], nil
}
