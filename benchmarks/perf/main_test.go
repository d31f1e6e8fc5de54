package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

const benchOut = `goos: linux
goarch: amd64
pkg: github.com/zkcred/zkcred/registry/node
cpu: AMD EPYC
BenchmarkAnchor/inprocess-2         	  100000	     16061 ns/op	     62262 commitments/s	        32.10 cpu-µs/commitment	         7.000 blocks
BenchmarkAnchor/http-2              	  100000	     19000 ns/op	     52631 commitments/s	        35.00 cpu-µs/commitment	         8.000 blocks
BenchmarkPresent/prove-only         	       5	 160000000 ns/op
BenchmarkBroken-2 	 notanumber	 1 ns/op
PASS
ok  	github.com/zkcred/zkcred/registry/node	12.3s
`

func TestParseBench(t *testing.T) {
	rs := parseBench(benchOut)
	if len(rs) != 3 {
		t.Fatalf("got %d results, want 3: %+v", len(rs), rs)
	}
	b, err := find(rs, "Anchor/inprocess")
	if err != nil {
		t.Fatal(err)
	}
	if b.N != 100000 || b.Metrics["commitments/s"] != 62262 || b.Metrics["cpu-µs/commitment"] != 32.1 || b.Metrics["blocks"] != 7 {
		t.Fatalf("Anchor/inprocess parsed as %+v", b)
	}
	if p, err := find(rs, "Present/prove-only"); err != nil || p.Metrics["ns/op"] != 160000000 {
		t.Fatalf("a name without a GOMAXPROCS suffix: %+v, %v", p, err)
	}
	if _, err := find(rs, "Anchor"); err == nil {
		t.Fatal("find matched a prefix")
	}
	if _, err := metric(b, "p99-µs"); err == nil {
		t.Fatal("metric invented a missing unit")
	}
}

func block(name, body string) string {
	return beginMarker(name) + "\n" + body + "\n" + endMarker(name)
}

func TestReplaceBlocksKeepsTextOutsideMarkers(t *testing.T) {
	doc := "# Performance\n\nhand-written intro\n\n" + block("circuit", "old circuit") +
		"\n\nhand-written middle\n\n" + block("verifier", "old verifier") + "\n\nhand-written end\n"
	got, err := replaceBlocks(doc, map[string]string{"circuit": block("circuit", "new circuit")})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(doc, "old circuit", "new circuit", 1)
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestReplaceBlocksAddsMissingOnes(t *testing.T) {
	doc := "# Performance\n\n## Registry\n\nhand-written\n"
	got, err := replaceBlocks(doc, map[string]string{"registry": block("registry", "R"), "circuit": block("circuit", "C")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, doc[:len(doc)-1]) {
		t.Fatalf("hand-written text changed:\n%s", got)
	}
	hi, ci, ri := strings.Index(got, generatedHeading), strings.Index(got, "C\n"), strings.Index(got, "R\n")
	if hi < 0 || ci < hi || ri < ci {
		t.Fatalf("want the heading, then circuit, then registry:\n%s", got)
	}
	// A second run replaces in place and adds nothing.
	again, err := replaceBlocks(got, map[string]string{"registry": block("registry", "R2"), "circuit": block("circuit", "C2"), "wallet": block("wallet", "W")})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(again, generatedHeading) != 1 || strings.Contains(again, "R\n") || !strings.Contains(again, "R2") || !strings.Contains(again, "C2") {
		t.Fatalf("second run:\n%s", again)
	}
	if wi, ri := strings.Index(again, "W\n"), strings.Index(again, "R2"); wi < ri {
		t.Fatalf("a new block goes after the existing ones:\n%s", again)
	}
}

func TestReplaceBlocksRefusesBrokenMarkers(t *testing.T) {
	for _, doc := range []string{
		beginMarker("circuit") + "\nno end\n",
		endMarker("circuit") + "\n" + beginMarker("circuit") + "\n",
		block("circuit", "a") + "\n" + block("circuit", "b"),
	} {
		if _, err := replaceBlocks(doc, map[string]string{"circuit": block("circuit", "x")}); err == nil {
			t.Errorf("accepted %q", doc)
		}
	}
}

func TestRenderBlockNamesTheMachine(t *testing.T) {
	m := machineInfo{CPU: "Test CPU 9000", NumCPU: 2, Go: "go1.99", OS: "linux/amd64", Time: time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC), LoadAvg: "1.00 2.00 3.00"}
	tb := &table{header: []string{"a", "b"}}
	tb.add("x", "y")
	s := renderBlock("verifier", tb, m, m, 3*time.Second, true)
	for _, want := range []string{beginMarker("verifier"), endMarker("verifier"), "Test CPU 9000", "`nproc` = 2", "go1.99", "2026-11-28 14:00 UTC", "1.00 2.00 3.00", "| x | y |", "Quick run"} {
		if !strings.Contains(s, want) {
			t.Errorf("block lacks %q:\n%s", want, s)
		}
	}
}

func TestParseConfig(t *testing.T) {
	c, err := parseConfig([]string{"-only", "verifier, circuit,verifier", "-quick"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.only, ",") != "verifier,circuit" || c.leaves != 1<<14 {
		t.Fatalf("%+v", c)
	}
	for _, args := range [][]string{{"-only", "nosuch"}, {"-only", ","}, {"-leaves", "10"}, {"extra"}} {
		if _, err := parseConfig(args, io.Discard); err == nil {
			t.Errorf("accepted %v", args)
		}
	}
}

func TestFormatting(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{thousands(62262.4), "62,262"}, {thousands(999), "999"}, {thousands(1048576), "1,048,576"},
		{dur(1.5e9), "1.50 s"}, {dur(2.25e6), "2.2 ms"}, {dur(630e3), "630 µs"}, {dur(12), "12 ns"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
