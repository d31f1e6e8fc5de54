package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/webui"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/wire"
)

// MaxCSV bounds an uploaded batch file.
const MaxCSV = 16 << 20

// batchJob is one CSV batch the desk runs in the background.
type batchJob struct {
	ID, Schema, File string
	Started          time.Time
	dir              string

	mu          sync.Mutex
	done, total int
	finished    bool
	report      *issuer.BatchReport
	err         string
}

// batchStatus is what the progress page polls.
type batchStatus struct {
	Done     int    `json:"done"`
	Total    int    `json:"total"`
	Finished bool   `json:"finished"`
	Issued   int    `json:"issued"`
	Offered  int    `json:"offered"`
	Rejected int    `json:"rejected"`
	Error    string `json:"error,omitempty"`
	Summary  string `json:"summary"`
}

func (j *batchJob) status() batchStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := batchStatus{Done: j.done, Total: j.total, Finished: j.finished, Error: j.err}
	if r := j.report; r != nil {
		s.Issued, s.Offered, s.Rejected, s.Total, s.Done = r.Issued, r.Offered, r.Rejected, r.Rows, r.Rows
	}
	switch {
	case !s.Finished && s.Total == 0:
		s.Summary = "Reading the file…"
	case !s.Finished:
		s.Summary = fmt.Sprintf("%d of %d rows done…", s.Done, s.Total)
	case s.Error != "" && j.report == nil:
		s.Summary = "The batch stopped: " + s.Error
	default:
		s.Summary = fmt.Sprintf("Finished: %d rows, %d claim links, %d credentials issued directly, %d rejected.", s.Total, s.Offered, s.Issued, s.Rejected)
	}
	return s
}

func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// batch starts a CSV batch from an uploaded file.
func (d *desk) batch(w http.ResponseWriter, r *http.Request, sid string) {
	if d.opts.BatchDir == "" {
		d.home(w, r, sid, http.StatusNotFound, "Batches are not enabled on this desk.")
		return
	}
	s, err := d.schemaOf(r.FormValue("schema"))
	if err != nil {
		d.home(w, r, sid, http.StatusNotFound, err.Error())
		return
	}
	f, hdr, err := r.FormFile("csv")
	if err != nil {
		d.home(w, r, sid, http.StatusBadRequest, "Choose a CSV file to upload.")
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxCSV+1))
	if err != nil || len(data) > MaxCSV {
		d.home(w, r, sid, http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is over %d MiB; split it.", MaxCSV>>20))
		return
	}
	d.mu.Lock()
	for _, j := range d.jobs {
		if j.status().Finished {
			continue
		}
		d.mu.Unlock()
		d.home(w, r, sid, http.StatusConflict, "A batch is running; wait for it to finish.")
		return
	}
	j := &batchJob{ID: newID(), Schema: s.Name, File: hdr.Filename, Started: time.Now()}
	j.dir = filepath.Join(d.opts.BatchDir, time.Now().UTC().Format("20060102-150405")+"-"+j.ID)
	d.jobs[j.ID] = j
	d.mu.Unlock()
	go d.run(j, s, data)
	http.Redirect(w, r, "/ui/batches/"+j.ID, http.StatusSeeOther)
}

func (d *desk) run(j *batchJob, s *circuits.Schema, data []byte) {
	rep, err := d.is.RunBatch(context.Background(), issuer.BatchOptions{
		Schema: s, CSV: data, OutDir: j.dir,
		Progress: func(done, total int) {
			j.mu.Lock()
			j.done, j.total = done, total
			j.mu.Unlock()
		},
	})
	j.mu.Lock()
	defer j.mu.Unlock()
	j.finished, j.report = true, rep
	var rej *issuer.RejectedError
	if err != nil && !errors.As(err, &rej) {
		j.err = err.Error()
	}
}

func (d *desk) job(id string) *batchJob {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.jobs[id]
}

// batchPage serves /ui/batches/{id}[/status|/errors.csv|/links.csv].
func (d *desk) batchPage(w http.ResponseWriter, r *http.Request, sid, rest string) {
	id, what, _ := strings.Cut(rest, "/")
	j := d.job(id)
	if j == nil {
		webui.Error(w, http.StatusNotFound, wire.CodeNotFound, "no batch "+id+" on this desk")
		return
	}
	switch what {
	case "":
		d.render(w, r, "batch.html", http.StatusOK, sid, "Batch "+j.File, map[string]any{"Job": j, "Status": j.status()})
	case "status":
		webui.JSON(w, http.StatusOK, j.status())
	case "errors.csv":
		st := j.status()
		if !st.Finished {
			webui.Error(w, http.StatusConflict, "running", "the batch is still running")
			return
		}
		var b bytes.Buffer
		cw := csv.NewWriter(&b)
		cw.Write([]string{"row", "field", "reason"})
		j.mu.Lock()
		if j.report != nil {
			for _, rj := range j.report.Rejections {
				cw.Write([]string{fmt.Sprint(rj.Row), rj.Field, rj.Reason})
			}
		}
		j.mu.Unlock()
		cw.Flush()
		download(w, "rejected-rows.csv", b.Bytes())
	case "links.csv":
		if !j.status().Finished {
			webui.Error(w, http.StatusConflict, "running", "the batch is still running")
			return
		}
		b, err := links(j.dir)
		if err != nil {
			webui.Error(w, http.StatusNotFound, wire.CodeNotFound, "the batch's claim links: "+err.Error())
			return
		}
		download(w, "claim-links.csv", b)
	default:
		webui.Error(w, http.StatusNotFound, wire.CodeNotFound, "no such page: "+r.URL.Path)
	}
}

func download(w http.ResponseWriter, name string, b []byte) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Write(b)
}

// links gathers the claim links of a batch's rows (row-N.offer.json).
func links(dir string) ([]byte, error) {
	names, err := filepath.Glob(filepath.Join(dir, "row-*.offer.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write([]string{"row", "url", "expires"})
	for _, n := range names {
		raw, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var l issuer.OfferLink
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(n), err)
		}
		row := strings.TrimLeft(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(n), "row-"), ".offer.json"), "0")
		cw.Write([]string{row, l.URL, l.Expires.UTC().Format(time.RFC3339)})
	}
	cw.Flush()
	return b.Bytes(), nil
}
