package issuer

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/zkcred/zkcred/circuits"
)

// HeaderError says everything that is wrong with a batch CSV's header at
// once: the attributes without a column, the columns that are no attribute,
// and the columns named twice. It wraps ErrBatch.
type HeaderError struct {
	Schema       string   // the schema's name
	Missing      []string // attributes without a column
	Unknown      []string // columns that are neither an attribute nor the holder column
	Duplicate    []string // columns named more than once
	Attributes   []string // the schema's attributes, in order
	HolderColumn string
}

func (e *HeaderError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "no column for "+plural(len(e.Missing), "attribute")+" "+quoteList(e.Missing))
	}
	if len(e.Unknown) > 0 {
		parts = append(parts, plural(len(e.Unknown), "column")+" "+quoteList(e.Unknown)+" not in schema "+e.Schema)
	}
	if len(e.Duplicate) > 0 {
		parts = append(parts, plural(len(e.Duplicate), "column")+" "+quoteList(e.Duplicate)+" given twice")
	}
	return fmt.Sprintf("%v: CSV header: %s (the header is %s, the last column optional)", ErrBatch,
		strings.Join(parts, "; "), strings.Join(append(append([]string(nil), e.Attributes...), e.HolderColumn), ","))
}

func (e *HeaderError) Unwrap() error { return ErrBatch }

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

// batchInput is a batch's CSV read and checked: the first job of RunBatch.
type batchInput struct {
	header    []string
	records   [][]string
	holderCol int // -1: no holder column
	schemaID  fr.Element
	job       string
	offers    int // rows without a holder commitment: they get claim links
}

// readBatch reads and checks a batch's CSV before anything is issued: the
// header names every attribute, rows that get claim links have a public
// URL to start them with, and the job is named by the hash of what it
// issues.
func (is *Issuer) readBatch(o *BatchOptions, outDir string) (*batchInput, error) {
	header, records, err := readCSV(o.CSV)
	if err != nil {
		return nil, err
	}
	holderCol, err := checkHeader(o.Schema, header, o.HolderColumn)
	if err != nil {
		return nil, err
	}
	in := &batchInput{header: header, records: records, holderCol: holderCol, schemaID: o.Schema.ID()}
	for _, rec := range records {
		if holderCol < 0 || holderCol >= len(rec) || strings.TrimSpace(rec[holderCol]) == "" {
			in.offers++
		}
	}
	if in.offers > 0 {
		if err := CheckPublicURL(is.opts.PublicURL); err != nil {
			return nil, fmt.Errorf("%w: %d of %d rows have no %s and get a claim link: %w", ErrBatch, in.offers, len(records), o.HolderColumn, err)
		}
	}
	h := sha256.New()
	h.Write(o.CSV)
	h.Write([]byte("\x00" + circuits.Dec(in.schemaID) + "\x00" + outDir + "\x00" + o.ValidUntil.UTC().Format(time.RFC3339)))
	in.job = hex.EncodeToString(h.Sum(nil))[:32]
	return in, nil
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
// refuses anything else, so that a misspelt column is caught before any
// row. It reports every problem at once (*HeaderError).
func checkHeader(s *circuits.Schema, header []string, holderColumn string) (int, error) {
	he := &HeaderError{Schema: s.Name, HolderColumn: holderColumn}
	seen := map[string]bool{}
	holder := -1
	for i, h := range header {
		if seen[h] {
			he.Duplicate = append(he.Duplicate, h)
			continue
		}
		seen[h] = true
		if h == holderColumn {
			holder = i
			continue
		}
		if _, ok := s.Slot(h); !ok {
			he.Unknown = append(he.Unknown, h)
		}
	}
	for _, a := range s.Attributes {
		he.Attributes = append(he.Attributes, a.Name)
		if !seen[a.Name] {
			he.Missing = append(he.Missing, a.Name)
		}
	}
	if len(he.Missing)+len(he.Unknown)+len(he.Duplicate) > 0 {
		return 0, he
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
