package issuer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/zkcred/zkcred/circuits"
)

func diplomaCSV(n int, holderCommits bool, bad map[int]string) []byte {
	var b strings.Builder
	b.WriteString("name,birthDate,degree,field,graduationDate,gpa,honours")
	if holderCommits {
		b.WriteString(",holderCommitment")
	}
	b.WriteString("\n")
	for i := range n {
		row := i + 2
		line := fmt.Sprintf("Student %d,2001-02-03,BSc,\"Physics, applied\",2026-06-30,3.%02d,false", i, i%100)
		if r, ok := bad[row]; ok {
			line = r
		}
		if holderCommits {
			hc := circuits.HolderCommit(circuits.U64(uint64(i + 1)))
			line += "," + circuits.Dec(hc)
		}
		b.WriteString(line + "\n")
	}
	return []byte(b.String())
}

func TestRunBatchRejectsBadRowsAndIssuesGoodOnes(t *testing.T) {
	env := newEnv(t, Options{AnchorBatch: 4})
	bad := map[int]string{
		3: "Eve,2001-02-30,BSc,Physics,2026-06-30,3.10,false",
		5: "Mallory,2001-02-03,Diploma,Physics,2026-06-30,3.10,false",
		8: "Trent,2001-02-03,BSc,Physics,2026-06-30,3.1,maybe",
	}
	csvData := diplomaCSV(10, true, bad)
	// Row 10 gets a malformed holder commitment.
	lines := strings.Split(string(csvData), "\n")
	lines[9] = lines[9][:strings.LastIndex(lines[9], ",")+1] + "12x"
	csvData = []byte(strings.Join(lines, "\n"))
	out := t.TempDir()
	var calls int
	rep, err := env.is.RunBatch(context.Background(), BatchOptions{Schema: ExampleSchemas()["diploma"], CSV: csvData, OutDir: out, Progress: func(int, int) { calls++ }})
	var rejected *RejectedError
	if !errors.As(err, &rejected) || !errors.Is(err, ErrRowsRejected) || rejected.Rejected != 4 || rejected.Rows != 10 || rep == nil {
		t.Fatalf("a batch with rejected rows: %v, %+v", err, rep)
	}
	if rep.Issued != 6 || rep.Rejected != 4 || rep.Rows != 10 || calls != 3 {
		t.Fatalf("report %+v, %d progress calls", rep, calls)
	}
	want := map[int]string{3: "birthDate", 5: "degree", 8: "honours", 10: "holderCommitment"}
	for _, r := range rep.Rejections {
		if want[r.Row] != r.Field || r.Reason == "" {
			t.Errorf("rejection %+v", r)
		}
		delete(want, r.Row)
	}
	if len(want) != 0 {
		t.Errorf("rows not rejected: %v", want)
	}
	for row := 2; row <= 11; row++ {
		_, isBad := bad[row]
		raw, err := os.ReadFile(filepath.Join(out, rowFile(row, "credential")))
		if isBad || row == 10 {
			if err == nil {
				t.Errorf("row %d rejected but has a credential file", row)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := wire.ParseBundle(raw)
		if err != nil {
			t.Fatal(err)
		}
		c, err := b.Check()
		if err != nil {
			t.Fatalf("row %d: %v", row, err)
		}
		if c.CredentialSubject.Claims["name"] != fmt.Sprintf("Student %d", row-2) {
			t.Errorf("row %d holds %v", row, c.CredentialSubject.Claims["name"])
		}
	}
	// A second run of the same job issues nothing new.
	rep2, err := env.is.RunBatch(context.Background(), BatchOptions{Schema: ExampleSchemas()["diploma"], CSV: csvData, OutDir: out})
	if !errors.Is(err, ErrRowsRejected) {
		t.Fatalf("rerun of a batch with rejected rows: %v", err)
	}
	if _, _, size, _ := env.chain.Root(); size != 6 || rep2.Issued != 6 || rep2.Resumed != 10 {
		t.Fatalf("rerun: %d leaves, report %+v", size, rep2)
	}
	if _, err := os.Stat(filepath.Join(out, "report.json")); err != nil {
		t.Fatal(err)
	}
}

func TestRunBatchOffersWithoutHolderColumn(t *testing.T) {
	env := newEnv(t, Options{PublicURL: "https://registrar.example"})
	out := t.TempDir()
	rep, err := env.is.RunBatch(context.Background(), BatchOptions{Schema: ExampleSchemas()["diploma"], CSV: diplomaCSV(3, false, nil), OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Offered != 3 || rep.Issued != 0 {
		t.Fatalf("%+v", rep)
	}
	raw, err := os.ReadFile(filepath.Join(out, rowFile(2, "offer")))
	if err != nil || !strings.Contains(string(raw), "https://registrar.example/v1/offers/") {
		t.Fatalf("offer file: %s %v", raw, err)
	}
	var bo BatchOffer
	if err := json.Unmarshal(raw, &bo); err != nil || !strings.HasPrefix(bo.OpenID4VCIOfferURI, "openid-credential-offer://?credential_offer_uri=") ||
		!strings.HasPrefix(bo.OpenID4VCIURI, "openid-credential-offer://?credential_offer=") {
		t.Fatalf("offer file's OpenID4VCI links: %s %v", raw, err)
	}
	if png, err := os.ReadFile(filepath.Join(out, "row-000002.offer.png")); err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("offer QR code: %v", err)
	}
}

func TestRunBatchHeaderErrors(t *testing.T) {
	env := newEnv(t, Options{PublicURL: publicURL})
	for _, csvData := range []string{
		"",
		"name,birthDate,degree,field,graduationDate,gpa,honours\n\"open\n", // bad quoting
	} {
		_, err := env.is.RunBatch(context.Background(), BatchOptions{Schema: ExampleSchemas()["diploma"], CSV: []byte(csvData), OutDir: t.TempDir()})
		if !errors.Is(err, ErrBatch) {
			t.Errorf("%q: %v", csvData, err)
		}
	}
	// Every problem of a header is named in one error.
	for _, tc := range []struct {
		header                      string
		missing, unknown, duplicate []string
	}{
		{"name,degree,field,gpa\n", []string{"birthDate", "graduationDate", "honours"}, nil, nil},
		{"name,birthDate,degree,field,graduationDate,gpa,honours,shoe,hat\n", nil, []string{"shoe", "hat"}, nil},
		{"name,name,birthDate,degree,field,graduationDate,gpa\n", []string{"honours"}, nil, []string{"name"}},
		{"nmae,birthDate,degree,field,graduationDate,gpa,honours,holderCommitment\n", []string{"name"}, []string{"nmae"}, nil},
	} {
		_, err := env.is.RunBatch(context.Background(), BatchOptions{Schema: ExampleSchemas()["diploma"], CSV: []byte(tc.header), OutDir: t.TempDir()})
		var he *HeaderError
		if !errors.As(err, &he) || !errors.Is(err, ErrBatch) {
			t.Fatalf("%q: %v", tc.header, err)
		}
		if !slices.Equal(he.Missing, tc.missing) || !slices.Equal(he.Unknown, tc.unknown) || !slices.Equal(he.Duplicate, tc.duplicate) {
			t.Errorf("%q: %+v", tc.header, he)
		}
		for _, c := range append(append(tc.missing, tc.unknown...), tc.duplicate...) {
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", c)) {
				t.Errorf("%q: the message does not name %q: %v", tc.header, c, err)
			}
		}
	}
}

// Rows without a holder commitment get claim links, which must be
// absolute: without a public URL the batch stops before any row.
func TestRunBatchClaimLinksNeedAPublicURL(t *testing.T) {
	env := newEnv(t, Options{})
	for _, csvData := range [][]byte{diplomaCSV(3, false, nil), append(diplomaCSV(2, true, nil), "Ada,1990-01-01,BSc,Maths,2026-06-30,3.50,true,\n"...)} {
		out := filepath.Join(t.TempDir(), "out")
		_, err := env.is.RunBatch(context.Background(), BatchOptions{Schema: ExampleSchemas()["diploma"], CSV: csvData, OutDir: out})
		if !errors.Is(err, ErrBatch) || !errors.Is(err, ErrNoPublicURL) || !strings.Contains(err.Error(), "--public-url") {
			t.Fatalf("batch with claim links and no public URL: %v", err)
		}
		if _, _, size, _ := env.chain.Root(); size != 0 {
			t.Fatal("anchored before refusing")
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatal("wrote outputs before refusing")
		}
	}
	// Every row with a holder commitment: no link, no URL needed.
	if _, err := env.is.RunBatch(context.Background(), BatchOptions{Schema: ExampleSchemas()["diploma"], CSV: diplomaCSV(2, true, nil), OutDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
}

func TestRunBatchAllRejected(t *testing.T) {
	env := newEnv(t, Options{})
	bad := map[int]string{2: "Eve,2001-02-30,BSc,Physics,2026-06-30,3.10,false", 3: "Eve,2001-02-03,BSc,Physics,2026-06-30,3.10,perhaps"}
	rep, err := env.is.RunBatch(context.Background(), BatchOptions{Schema: ExampleSchemas()["diploma"], CSV: diplomaCSV(2, true, bad), OutDir: t.TempDir()})
	var rejected *RejectedError
	if !errors.As(err, &rejected) || rejected.Rejected != 2 || rejected.Rows != 2 || !strings.Contains(err.Error(), "every row") {
		t.Fatalf("all rows rejected: %v", err)
	}
	if rep == nil || rep.Rejected != 2 || len(rep.Rejections) != 2 {
		t.Fatalf("report %+v", rep)
	}
}

// BenchmarkRunBatch10k issues 10,000 CSV rows with holder commitments:
// validated, committed, anchored on a durable local chain in batches of
// 1,000, signed, recorded and written one file per row, all synced.
func BenchmarkRunBatch10k(b *testing.B) {
	data := diplomaCSV(10000, true, nil)
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		env := newEnv(b, Options{})
		out := b.TempDir()
		c0 := cpuTime()
		b.StartTimer()
		rep, err := env.is.RunBatch(context.Background(), BatchOptions{Schema: ExampleSchemas()["diploma"], CSV: data, OutDir: out, ValidUntil: time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)})
		b.StopTimer()
		cpu += cpuTime() - c0
		b.StartTimer()
		if err != nil || rep.Issued != 10000 {
			b.Fatalf("%v %+v", err, rep)
		}
	}
	// CPU seconds (user+system, all threads) say what the run costs when
	// the machine is shared and wall time is not.
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
