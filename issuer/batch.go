package issuer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/qr"
	"github.com/zkcred/zkcred/issuer/store"
	"github.com/zkcred/zkcred/wire"
)

// DefaultHolderColumn is the CSV column that holds a row's holder
// commitment; rows without one get a claim offer instead.
const DefaultHolderColumn = "holderCommitment"

// ErrBatch is wrapped by errors that stop a whole batch before any row is
// issued (a bad header, an unreadable file, claim links without a public
// URL).
var ErrBatch = errors.New("batch")

// ErrRowsRejected is wrapped by the *RejectedError that RunBatch returns
// when any row was rejected.
var ErrRowsRejected = errors.New("rows rejected")

// RejectedError says how many rows of a batch were rejected; the report
// lists them. It wraps ErrRowsRejected.
type RejectedError struct {
	Rejected, Rows int
}

func (e *RejectedError) Error() string {
	if e.Rejected == e.Rows {
		return fmt.Sprintf("every row (%d) was rejected: %v", e.Rows, ErrRowsRejected)
	}
	return fmt.Sprintf("%d of %d rows rejected: %v", e.Rejected, e.Rows, ErrRowsRejected)
}

func (e *RejectedError) Unwrap() error { return ErrRowsRejected }

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
	// TxCode makes each offer's OpenID4VCI credential offer ask for a PIN
	// (tx_code), written to the row's offer file as txCode for the issuer
	// to send by another channel than the offer.
	TxCode bool
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

// RunBatch issues one credential (or claim offer) per CSV row. Its jobs,
// in order: read and check the CSV (every missing or unknown column named
// at once, claim links only with a public URL), finish a chunk a crash
// interrupted, then per chunk of rows draft the credentials and offers,
// anchor and record them, and at the end write the report.
//
// It is resumable: the job is named by the hash of the file, schema,
// output directory and expiry, every chunk is journaled before its
// commitments reach the chain and recorded with its row states in one
// transaction, so rerunning after a crash (even SIGKILL) finishes the job
// and issues no row twice. Bad rows are rejected with their row and field;
// the others still issue. Output files are row-<n>.credential.json (a
// bundle) or row-<n>.offer.json (an OfferLink, whose URL starts with
// Options.PublicURL).
//
// When any row was rejected, RunBatch returns the report together with a
// *RejectedError, so that a caller cannot take a partial batch for a whole
// one.
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
	in, err := is.readBatch(&o, out)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return nil, fmt.Errorf("%w: output directory: %w", ErrBatch, err)
	}
	fw := &fileWriter{dir: out}
	done, err := is.resumeJob(ctx, in.job, fw)
	if err != nil {
		return nil, err
	}
	progress := len(done)
	now := is.opts.Now()
	for start := 0; start < len(in.records); start += o.Chunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := is.draftChunk(&o, in, start, min(start+o.Chunk, len(in.records)), done, now)
		n, err := is.anchorChunk(ctx, in.job, c, fw)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			progress += n
			if o.Progress != nil {
				o.Progress(progress, len(in.records))
			}
		}
	}
	return is.batchReport(in, out, len(done))
}

// resumeJob finishes a chunk of job that a crash interrupted between its
// journal and its record, then rewrites every issued row's file from the
// store (files of a run that died after its last synced chunk are then
// complete again). It returns the rows done so far.
func (is *Issuer) resumeJob(ctx context.Context, job string, fw *fileWriter) (map[int]store.Row, error) {
	entries, err := is.store.Pendings()
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Job != job {
			continue
		}
		if _, err := is.resume(ctx, e, rowFinalizer(job, &chunk{draftRows: e.Rows})); err != nil {
			return nil, err
		}
	}
	done, err := is.store.Rows(job)
	if err != nil {
		return nil, err
	}
	for row, r := range done {
		if r.Status != store.RowIssued {
			continue
		}
		b, _, err := is.Credential(r.Credential)
		if err != nil {
			return nil, err
		}
		if err := fw.writeJSON(rowFile(row, "credential"), b); err != nil {
			return nil, err
		}
	}
	return done, fw.flush()
}

// chunk is a run of rows drafted together: credentials to anchor, offers
// to record, rows rejected.
type chunk struct {
	drafts    []*draft
	draftRows []int
	offers    []*store.Offer
	offerRows []int
	txCode    bool         // the offers' OpenID4VCI credential offers ask for a tx_code
	links     []*OfferLink // parallel to offers
	rejects   []Rejection
	// writeFiles writes the credential files once the drafts are signed.
	writeFiles func([]*wire.Bundle) error
}

func (c *chunk) size() int { return len(c.drafts) + len(c.offers) + len(c.rejects) }

// draftChunk turns rows [start, end) that are not done into drafts (rows
// with a holder commitment), offers (rows without; their link files are
// written here) and rejections.
func (is *Issuer) draftChunk(o *BatchOptions, in *batchInput, start, end int, done map[int]store.Row, now time.Time) *chunk {
	type pendingRow struct {
		row     int
		subject map[string]any
		hc      fr.Element
		offer   bool
		draft   *draft
		rec     *store.Offer
		link    *OfferLink
		err     error
	}
	c := &chunk{txCode: o.TxCode}
	var rows []*pendingRow
	for i := start; i < end; i++ {
		row := i + 2
		if _, ok := done[row]; ok {
			continue
		}
		subject, hcText, rej := rowSubject(o.Schema, in.header, in.records[i], in.holderCol, row)
		if rej != nil {
			c.rejects = append(c.rejects, *rej)
			continue
		}
		pr := &pendingRow{row: row, subject: subject, offer: hcText == ""}
		if !pr.offer {
			hc, err := circuits.ParseElement(hcText)
			if err != nil {
				c.rejects = append(c.rejects, Rejection{Row: row, Field: o.HolderColumn, Reason: err.Error()})
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
			pr.draft, pr.err = newDraft(Request{Schema: o.Schema, Subject: pr.subject, HolderCommit: pr.hc, ValidUntil: o.ValidUntil}, in.schemaID, now)
		}
	})
	for _, pr := range rows {
		switch {
		case pr.err != nil:
			c.rejects = append(c.rejects, rejection(pr.row, pr.err))
		case pr.offer:
			pr.rec.Job, pr.rec.Row = in.job, pr.row
			c.offers = append(c.offers, pr.rec)
			c.offerRows = append(c.offerRows, pr.row)
			c.links = append(c.links, pr.link)
		default:
			c.drafts = append(c.drafts, pr.draft)
			c.draftRows = append(c.draftRows, pr.row)
		}
	}
	return c
}

// anchorChunk anchors a chunk's drafts and records the chunk: credentials,
// offers and row outcomes in one transaction, after its files (offer links
// first, then credentials) are durable. It returns the rows it recorded.
func (is *Issuer) anchorChunk(ctx context.Context, job string, c *chunk, fw *fileWriter) (int, error) {
	if c.size() == 0 {
		return 0, nil
	}
	// Offer files must be durable before the offers are recorded: a crash
	// in between only loses offers that were never recorded.
	for i, l := range c.links {
		bo, err := is.batchOffer(l, c.offers[i].Schema.Name, c.txCode)
		if err != nil {
			return 0, err
		}
		if err := fw.writeJSON(rowFile(c.offerRows[i], "offer"), bo); err != nil {
			return 0, err
		}
		png, err := qr.PNG(bo.OpenID4VCIOfferURI)
		if err != nil {
			return 0, err
		}
		if err := fw.writeFile(fmt.Sprintf("row-%06d.offer.png", c.offerRows[i]), png); err != nil {
			return 0, err
		}
	}
	c.writeFiles = func(bundles []*wire.Bundle) error { return fw.writeBundles(c.draftRows, bundles) }
	e := &store.Pending{ID: newUUID(), Drafts: c.drafts, Job: job, Rows: c.draftRows}
	if _, err := is.anchorAndSign(ctx, e, rowFinalizer(job, c)); err != nil {
		return 0, err
	}
	return c.size(), nil
}

// rowFinalizer records a chunk's outcome in the transaction that records
// its credentials, after writing its files (c.writeFiles) so that they are
// durable before the rows are marked done.
func rowFinalizer(job string, c *chunk) finalizer {
	return func(tx *store.Txn, bundles []*wire.Bundle) ([]store.Origin, error) {
		if c.writeFiles != nil {
			if err := c.writeFiles(bundles); err != nil {
				return nil, err
			}
		}
		origins := make([]store.Origin, len(bundles))
		for i, b := range bundles {
			origins[i] = store.Origin{Job: job, Row: c.draftRows[i]}
			if err := tx.PutRow(job, c.draftRows[i], store.Row{Status: store.RowIssued, Credential: b.Private.CredentialID}); err != nil {
				return nil, err
			}
		}
		for i, rec := range c.offers {
			if err := tx.PutOffer(rec); err != nil {
				return nil, err
			}
			if err := tx.PutRow(job, c.offerRows[i], store.Row{Status: store.RowOffered, Offer: rec.ID}); err != nil {
				return nil, err
			}
		}
		for _, r := range c.rejects {
			if err := tx.PutRow(job, r.Row, store.Row{Status: store.RowRejected, Field: r.Field, Reason: r.Reason}); err != nil {
				return nil, err
			}
		}
		return origins, nil
	}
}

// batchReport sums up the job from its recorded rows and writes
// report.json.
func (is *Issuer) batchReport(in *batchInput, out string, resumed int) (*BatchReport, error) {
	all, err := is.store.Rows(in.job)
	if err != nil {
		return nil, err
	}
	rep := &BatchReport{Job: in.job, Rows: len(in.records), Resumed: resumed, Rejections: []Rejection{}}
	for row := 2; row < len(in.records)+2; row++ {
		r, ok := all[row]
		if !ok {
			return nil, fmt.Errorf("%w: row %d has no recorded outcome", ErrBatch, row)
		}
		switch r.Status {
		case store.RowIssued:
			rep.Issued++
		case store.RowOffered:
			rep.Offered++
		case store.RowRejected:
			rep.Rejected++
			rep.Rejections = append(rep.Rejections, Rejection{Row: row, Field: r.Field, Reason: r.Reason})
		}
	}
	if err := writeReport(out, rep); err != nil {
		return nil, err
	}
	if rep.Rejected > 0 {
		return rep, &RejectedError{Rejected: rep.Rejected, Rows: rep.Rows}
	}
	return rep, nil
}

func rejection(row int, err error) Rejection {
	var fe *circuits.FieldError
	if errors.As(err, &fe) {
		return Rejection{Row: row, Field: fe.Field, Reason: fe.Err.Error()}
	}
	return Rejection{Row: row, Reason: err.Error()}
}
