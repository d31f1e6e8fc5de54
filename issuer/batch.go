package issuer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/dgraph-io/badger/v4"

	"github.com/zkcred/zkcred/circuits"
)

// DefaultHolderColumn is the CSV column that holds a row's holder
// commitment; rows without one get a claim offer instead.
const DefaultHolderColumn = "holderCommitment"

// ErrBatch is wrapped by errors that stop a whole batch (a bad header, an
// unreadable file).
var ErrBatch = errors.New("batch")

// BatchOptions describes one CSV batch.
type BatchOptions struct {
	Schema *circuits.Schema
	CSV    []byte // header: the schema's attribute names, plus HolderColumn optionally
	OutDir string // one file per row, and report.json
	// HolderColumn names the holder commitment column; "" means
	// DefaultHolderColumn.
	HolderColumn string
	ValidUntil   time.Time // zero: credentials never expire
	// Chunk is the number of rows journaled, anchored and recorded
	// together; 0 means the issuer's AnchorBatch.
	Chunk int
	// Progress, if set, is called after each chunk with rows done so far.
	Progress func(done, total int)
}

// Rejection is one row that was not issued, and why.
type Rejection struct {
	Row    int    `json:"row"` // record number in the file; the header is row 1
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// BatchReport sums up a batch run.
type BatchReport struct {
	Job        string      `json:"job"`
	Rows       int         `json:"rows"`
	Issued     int         `json:"issued"`  // credentials anchored and signed
	Offered    int         `json:"offered"` // claim offers created
	Rejected   int         `json:"rejected"`
	Resumed    int         `json:"resumed"` // rows done by an earlier run
	Rejections []Rejection `json:"rejections"`
}

// rowRecord is the journal's state of one row, written in the transaction
// that records its credential or offer.
type rowRecord struct {
	Status     string `json:"status"` // issued | offered | rejected
	Credential string `json:"credential,omitempty"`
	Offer      string `json:"offer,omitempty"`
	Field      string `json:"field,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

func rowKey(job string, row int) []byte {
	return binary.BigEndian.AppendUint64([]byte(pJob+job+"/"), uint64(row))
}

// RunBatch issues one credential (or claim offer) per CSV row. It is
// resumable: the job is named by the hash of the file, schema and output
// directory, every chunk is journaled before its commitments reach the chain
// and recorded with its row states in one transaction, so rerunning after a
// crash (even SIGKILL) finishes the job and issues no row twice. Bad rows are
// rejected with their row and field; the others still issue. Output files are
// row-<n>.credential.json (a Bundle) or row-<n>.offer.json (an OfferLink).
func (is *Issuer) RunBatch(ctx context.Context, o BatchOptions) (*BatchReport, error) {
	if o.Schema == nil {
		return nil, fmt.Errorf("%w: no schema", ErrBatch)
	}
	if err := o.Schema.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBatch, err)
	}
	if o.HolderColumn == "" {
		o.HolderColumn = DefaultHolderColumn
	}
	if o.Chunk <= 0 {
		o.Chunk = is.opts.AnchorBatch
	}
	out, err := filepath.Abs(o.OutDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return nil, fmt.Errorf("%w: output directory: %w", ErrBatch, err)
	}
	header, records, err := readCSV(o.CSV)
	if err != nil {
		return nil, err
	}
	holderCol, err := checkHeader(o.Schema, header, o.HolderColumn)
	if err != nil {
		return nil, err
	}
	sid := o.Schema.ID()
	h := sha256.New()
	h.Write(o.CSV)
	h.Write([]byte("\x00" + circuits.Dec(sid) + "\x00" + out + "\x00" + o.ValidUntil.UTC().Format(time.RFC3339)))
	job := hex.EncodeToString(h.Sum(nil))[:32]
	rep := &BatchReport{Job: job, Rows: len(records), Rejections: []Rejection{}}
	fw := newFileWriter()

	// Finish a chunk that a crash interrupted between journal and record.
	entries, err := is.store.pending()
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Job != job {
			continue
		}
		bundles, err := is.resume(ctx, e, is.rowFinalizer(job, e.Rows, nil, nil, nil))
		if err != nil {
			return nil, err
		}
		_ = bundles
	}
	done, err := is.jobRows(job)
	if err != nil {
		return nil, err
	}
	// Rewrite every issued row's file from the store: files of a run that
	// died after its last synced chunk are then complete again.
	for row, r := range done {
		if r.Status == "issued" {
			b, _, err := is.store.Credential(r.Credential)
			if err != nil {
				return nil, err
			}
			if err := fw.writeJSON(filepath.Join(out, rowFile(row, "credential")), b); err != nil {
				return nil, err
			}
		}
	}
	if err := fw.flush(out); err != nil {
		return nil, err
	}
	rep.Resumed = len(done)

	now := is.opts.Now()
	progress := len(done)
	for start := 0; start < len(records); start += o.Chunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(start+o.Chunk, len(records))
		type pendingRow struct {
			row     int
			subject map[string]any
			hc      fr.Element
			offer   bool
			draft   *draft
			rec     *offerRecord
			link    *OfferLink
			err     error
		}
		var rows []*pendingRow
		var rejects []Rejection
		for i := start; i < end; i++ {
			row := i + 2
			if _, ok := done[row]; ok {
				continue
			}
			subject, hcText, rej := rowSubject(o.Schema, header, records[i], holderCol, row)
			if rej != nil {
				rejects = append(rejects, *rej)
				continue
			}
			pr := &pendingRow{row: row, subject: subject, offer: hcText == ""}
			if !pr.offer {
				hc, err := circuits.ParseElement(hcText)
				if err != nil {
					rejects = append(rejects, Rejection{Row: row, Field: o.HolderColumn, Reason: err.Error()})
					continue
				}
				pr.hc = hc
			}
			rows = append(rows, pr)
		}
		parallel(len(rows), func(i int) {
			pr := rows[i]
			if pr.offer {
				pr.rec, pr.link, pr.err = is.newOffer(OfferRequest{Schema: o.Schema, Subject: pr.subject, ValidUntil: o.ValidUntil})
			} else {
				pr.draft, pr.err = newDraft(Request{Schema: o.Schema, Subject: pr.subject, HolderCommit: pr.hc, ValidUntil: o.ValidUntil}, sid, now)
			}
		})
		var drafts []*draft
		var draftRows []int
		var offers []*offerRecord
		var offerRows []int
		for _, pr := range rows {
			switch {
			case pr.err != nil:
				rejects = append(rejects, rejection(pr.row, pr.err))
			case pr.offer:
				offers = append(offers, pr.rec)
				offerRows = append(offerRows, pr.row)
				if err := fw.writeJSON(filepath.Join(out, rowFile(pr.row, "offer")), pr.link); err != nil {
					return nil, err
				}
			default:
				drafts = append(drafts, pr.draft)
				draftRows = append(draftRows, pr.row)
			}
		}
		if len(drafts)+len(offers)+len(rejects) == 0 {
			continue
		}
		// Offer files must be durable before the offers are recorded: a
		// crash in between only loses offers that were never recorded.
		writeBundles := func(bundles []*wire.Bundle) error {
			errs := make([]error, len(bundles))
			parallel(len(bundles), func(i int) {
				errs[i] = fw.writeJSON(filepath.Join(out, rowFile(draftRows[i], "credential")), bundles[i])
			})
			if err := errors.Join(errs...); err != nil {
				return err
			}
			return fw.flush(out)
		}
		e := &pendingEntry{ID: newUUID(), Drafts: drafts, Job: job, Rows: draftRows}
		if _, err := is.anchorAndSign(ctx, e, is.rowFinalizer(job, draftRows, offers, offerRows, rejects, writeBundles)); err != nil {
			return nil, err
		}
		progress += len(drafts) + len(offers) + len(rejects)
		if o.Progress != nil {
			o.Progress(progress, len(records))
		}
	}
	all, err := is.jobRows(job)
	if err != nil {
		return nil, err
	}
	for row := 2; row < len(records)+2; row++ {
		r, ok := all[row]
		if !ok {
			return nil, fmt.Errorf("%w: row %d has no recorded outcome", ErrBatch, row)
		}
		switch r.Status {
		case "issued":
			rep.Issued++
		case "offered":
			rep.Offered++
		case "rejected":
			rep.Rejected++
			rep.Rejections = append(rep.Rejections, Rejection{Row: row, Field: r.Field, Reason: r.Reason})
		}
	}
	rb, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := WriteFileAtomic(filepath.Join(out, "report.json"), append(rb, '\n'), 0o600); err != nil {
		return nil, err
	}
	return rep, nil
}

func rowFile(row int, kind string) string { return fmt.Sprintf("row-%06d.%s.json", row, kind) }

func rejection(row int, err error) Rejection {
	var fe *circuits.FieldError
	if errors.As(err, &fe) {
		return Rejection{Row: row, Field: fe.Field, Reason: fe.Err.Error()}
	}
	return Rejection{Row: row, Reason: err.Error()}
}

// rowFinalizer records a chunk's outcome in the transaction that records
// its credentials. before, if set, runs first (writing the row files) so
// that files are durable before the rows are marked done.
func (is *Issuer) rowFinalizer(job string, draftRows []int, offers []*offerRecord, offerRows []int, rejects []Rejection, before ...func([]*wire.Bundle) error) finalizer {
	return func(txn *badger.Txn, bundles []*wire.Bundle) error {
		for _, f := range before {
			if f != nil {
				if err := f(bundles); err != nil {
					return err
				}
			}
		}
		for i, b := range bundles {
			if err := setJSON(txn, rowKey(job, draftRows[i]), rowRecord{Status: "issued", Credential: b.Private.CredentialID}); err != nil {
				return err
			}
		}
		for i, rec := range offers {
			if err := setJSON(txn, []byte(pOffer+rec.ID), rec); err != nil {
				return err
			}
			if err := setJSON(txn, rowKey(job, offerRows[i]), rowRecord{Status: "offered", Offer: rec.ID}); err != nil {
				return err
			}
		}
		for _, r := range rejects {
			if err := setJSON(txn, rowKey(job, r.Row), rowRecord{Status: "rejected", Field: r.Field, Reason: r.Reason}); err != nil {
				return err
			}
		}
		return nil
	}
}

func (is *Issuer) jobRows(job string) (map[int]rowRecord, error) {
	out := map[int]rowRecord{}
	prefix := []byte(pJob + job + "/")
	err := is.store.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = prefix
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			row := int(binary.BigEndian.Uint64(k[len(prefix):]))
			var r rowRecord
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &r) }); err != nil {
				return err
			}
			out[row] = r
		}
		return nil
	})
	return out, err
}

func readCSV(b []byte) ([]string, [][]string, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	all, err := r.ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: CSV: %w", ErrBatch, err)
	}
	if len(all) == 0 {
		return nil, nil, fmt.Errorf("%w: CSV is empty (want a header row)", ErrBatch)
	}
	header := all[0]
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	return header, all[1:], nil
}

// checkHeader requires every attribute once, allows the holder column, and
// refuses anything else, so that a misspelt column is caught before any row.
func checkHeader(s *circuits.Schema, header []string, holderColumn string) (int, error) {
	seen := map[string]bool{}
	holder := -1
	for i, h := range header {
		if seen[h] {
			return 0, fmt.Errorf("%w: column %q appears twice", ErrBatch, h)
		}
		seen[h] = true
		if h == holderColumn {
			holder = i
			continue
		}
		if _, ok := s.Slot(h); !ok {
			return 0, fmt.Errorf("%w: column %q is not an attribute of schema %s (nor %q)", ErrBatch, h, s.Name, holderColumn)
		}
	}
	for _, a := range s.Attributes {
		if !seen[a.Name] {
			return 0, fmt.Errorf("%w: no column for attribute %q", ErrBatch, a.Name)
		}
	}
	return holder, nil
}

// rowSubject turns a CSV row into subject values: booleans from
// true/false, everything else as the string the schema's encoder parses.
func rowSubject(s *circuits.Schema, header, rec []string, holderCol, row int) (map[string]any, string, *Rejection) {
	if len(rec) != len(header) {
		return nil, "", &Rejection{Row: row, Reason: fmt.Sprintf("%d fields, want %d", len(rec), len(header))}
	}
	subject := make(map[string]any, len(rec))
	hc := ""
	for i, v := range rec {
		if i == holderCol {
			hc = strings.TrimSpace(v)
			continue
		}
		slot, _ := s.Slot(header[i])
		a := s.Attributes[slot]
		if a.Type == circuits.TypeBoolean {
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true":
				subject[header[i]] = true
			case "false":
				subject[header[i]] = false
			default:
				return nil, "", &Rejection{Row: row, Field: header[i], Reason: fmt.Sprintf("%q is not true or false", v)}
			}
			continue
		}
		if a.Type != circuits.TypeString {
			v = strings.TrimSpace(v)
		}
		if v == "" && a.Type != circuits.TypeString {
			return nil, "", &Rejection{Row: row, Field: header[i], Reason: "empty"}
		}
		subject[header[i]] = v
	}
	return subject, hc, nil
}

// fileWriter writes row files in place, without a sync each, then makes
// them durable together (one syncfs on Linux) before the rows they belong to
// are recorded. A file torn by a crash belongs to a row that is either not
// recorded yet (and is written again) or issued (and RunBatch rewrites every
// issued row's file when it resumes), so no temporary file and rename is
// needed per row.
type fileWriter struct {
	mu    sync.Mutex
	paths []string
}

func newFileWriter() *fileWriter { return &fileWriter{} }

func (w *fileWriter) writeJSON(path string, v any) error {
	var b []byte
	var err error
	if bu, ok := v.(*wire.Bundle); ok {
		b, err = bu.Encode()
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return err
	}
	w.mu.Lock()
	w.paths = append(w.paths, path)
	w.mu.Unlock()
	return nil
}

func (w *fileWriter) flush(dir string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.paths) == 0 {
		return nil
	}
	err := syncFiles(dir, w.paths)
	w.paths = w.paths[:0]
	return err
}
