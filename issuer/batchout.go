package issuer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/zkcred/zkcred/wire"
)

// A batch's outputs, in its output directory: row-NNNNNN.credential.json
// (a bundle) or row-NNNNNN.offer.json (a BatchOffer) and
// row-NNNNNN.offer.png (its OpenID4VCI offer link as a QR code) per row,
// and report.json (the BatchReport).

func rowFile(row int, kind string) string { return fmt.Sprintf("row-%06d.%s.json", row, kind) }

// fileWriter writes row files in place, without a sync each, then makes
// them durable together (one syncfs on Linux) before the rows they belong to
// are recorded. A file torn by a crash belongs to a row that is either not
// recorded yet (and is written again) or issued (and RunBatch rewrites every
// issued row's file when it resumes), so no temporary file and rename is
// needed per row.
type fileWriter struct {
	dir   string
	mu    sync.Mutex
	paths []string
}

func (w *fileWriter) writeJSON(name string, v any) error {
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
	return w.writeFile(name, b)
}

// writeFile writes a row's file (its bundle, links or offer QR code) and
// records its path.
func (w *fileWriter) writeFile(name string, b []byte) error {
	path := filepath.Join(w.dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return err
	}
	w.mu.Lock()
	w.paths = append(w.paths, path)
	w.mu.Unlock()
	return nil
}

// BatchOffer is a row's offer file: the claim link and the same offer as
// OpenID4VCI 1.0 credential offers (by value, and by reference, which the
// row's QR code PNG holds), with the PIN when the batch asks for one.
type BatchOffer struct {
	*OfferLink
	OpenID4VCIURI      string `json:"openid4vciUri"`
	OpenID4VCIOfferURI string `json:"openid4vciOfferUri"`
	TxCode             string `json:"txCode,omitempty"`
}

func (is *Issuer) batchOffer(l *OfferLink, schemaName string, txCode bool) (*BatchOffer, error) {
	bo := &BatchOffer{OfferLink: l}
	var err error
	bo.OpenID4VCIURI, bo.OpenID4VCIOfferURI, err = is.OfferURIs(is.NewCredentialOffer(is.PreAuthorizedCode(l, txCode), ConfigurationID(schemaName)))
	if txCode {
		bo.TxCode = is.TxCode(l.ID)
	}
	return bo, err
}

// writeBundles writes the credential files of a chunk's rows, then makes
// them durable.
func (w *fileWriter) writeBundles(rows []int, bundles []*wire.Bundle) error {
	errs := make([]error, len(bundles))
	parallel(len(bundles), func(i int) {
		errs[i] = w.writeJSON(rowFile(rows[i], "credential"), bundles[i])
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return w.flush()
}

func (w *fileWriter) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.paths) == 0 {
		return nil
	}
	err := syncFiles(w.dir, w.paths)
	w.paths = w.paths[:0]
	return err
}

func writeReport(dir string, rep *BatchReport) error {
	rb, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, "report.json"), append(rb, '\n'), 0o600)
}
