package issuer

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer/store"
)

// Listing limits.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// ErrQuery is wrapped by errors in a credential query (HTTP 400).
var ErrQuery = errors.New("bad query")

// Credential statuses in a listing.
const (
	StatusActive    = "active"
	StatusRevoked   = "revoked"
	StatusUnclaimed = "unclaimed" // a claim offer not used yet: no credential exists
)

// Query selects credentials; its filters are ANDed, and the zero Query
// lists everything.
type Query struct {
	Job   string // batch job ID (BatchReport.Job)
	Row   int    // CSV record number (the header is row 1); without Job, that row of every job
	Offer string // offer ID
	// Subject holds attribute → value pairs that the subject must match
	// exactly, values as written in a CSV or JSON subject (booleans
	// true/false, numbers in decimal).
	Subject map[string]string
	Limit   int    // 0 means DefaultListLimit; at most MaxListLimit
	After   string // CredentialList.Next of the previous page
}

// CredentialInfo is one credential, or one unclaimed offer, as the issuer
// recorded it.
type CredentialInfo struct {
	ID           string         `json:"id,omitempty"` // empty for an unclaimed offer
	Status       string         `json:"status"`       // StatusActive, StatusRevoked or StatusUnclaimed
	SchemaID     string         `json:"schemaId"`
	Subject      map[string]any `json:"subject"`
	LeafIndex    *uint64        `json:"leafIndex,omitempty"`
	BlockHeight  *uint64        `json:"blockHeight,omitempty"`
	ValidFrom    string         `json:"validFrom,omitempty"`
	ValidUntil   string         `json:"validUntil,omitempty"`
	Offer        string         `json:"offer,omitempty"`
	OfferExpires string         `json:"offerExpires,omitempty"` // unclaimed offers
	Job          string         `json:"job,omitempty"`
	Row          int            `json:"row,omitempty"`
}

// key orders a listing: credential IDs, offer IDs for unclaimed offers.
func (c *CredentialInfo) key() string {
	if c.ID != "" {
		return c.ID
	}
	return c.Offer
}

// CredentialList is one page of a listing.
type CredentialList struct {
	Credentials []CredentialInfo `json:"credentials"`
	// Next, when set, is Query.After for the next page.
	Next string `json:"next,omitempty"`
}

// ParseSubjectFilter parses "attribute:value" into a Query.Subject entry.
func ParseSubjectFilter(s string) (attr, value string, err error) {
	attr, value, ok := strings.Cut(s, ":")
	if !ok || attr == "" {
		return "", "", fmt.Errorf("%w: subject filter %q is not attribute:value", ErrQuery, s)
	}
	return attr, value, nil
}

// Credentials lists the credentials and unclaimed offers that match q, in
// the order of their IDs: by batch row (job and row), by offer, by subject
// field, or all of them. Each says whether it was revoked. A job or offer
// query reads only that job's rows or that offer; a subject query reads
// every credential and offer.
func (is *Issuer) Credentials(q Query) (*CredentialList, error) {
	if q.Limit == 0 {
		q.Limit = DefaultListLimit
	}
	if q.Limit < 0 || q.Limit > MaxListLimit {
		return nil, fmt.Errorf("%w: limit %d is not between 1 and %d", ErrQuery, q.Limit, MaxListLimit)
	}
	if q.Row != 0 && q.Row < 2 {
		return nil, fmt.Errorf("%w: row %d: data rows start at 2 (the header is row 1)", ErrQuery, q.Row)
	}
	var out []CredentialInfo
	err := is.store.View(func(tx *store.Txn) error {
		add := func(ci *CredentialInfo) {
			if ci != nil && q.matches(ci) {
				out = append(out, *ci)
			}
		}
		switch {
		case q.Offer != "":
			o, err := tx.Offer(q.Offer)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			ci, err := offerInfo(tx, o)
			if err != nil {
				return err
			}
			add(ci)
		case q.Job != "" || q.Row != 0:
			return tx.JobRows(q.Job, q.Row, func(job string, row int, r store.Row) (bool, error) {
				ci, err := rowInfo(tx, job, row, r)
				if err != nil {
					return false, err
				}
				add(ci)
				return true, nil
			})
		default:
			if err := tx.Credentials(func(c *store.Credential) (bool, error) {
				ci, err := credentialInfo(c)
				if err != nil {
					return false, err
				}
				add(ci)
				return true, nil
			}); err != nil {
				return err
			}
			// Offers not claimed yet, and claims in progress (bound to a
			// holder, not yet anchored): the credentials above hold the rest.
			return tx.Offers(func(o *store.Offer) (bool, error) {
				if o.CredentialID != "" {
					_, err := tx.Credential(o.CredentialID)
					if err == nil {
						return true, nil
					}
					if !errors.Is(err, store.ErrNotFound) {
						return false, err
					}
				}
				add(unclaimedInfo(o))
				return true, nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	start := sort.Search(len(out), func(i int) bool { return out[i].key() > q.After })
	if q.After == "" {
		start = 0
	}
	out = out[start:]
	list := &CredentialList{Credentials: out}
	if len(out) > q.Limit {
		list.Credentials = out[:q.Limit]
		list.Next = out[q.Limit-1].key()
	}
	if list.Credentials == nil {
		list.Credentials = []CredentialInfo{}
	}
	return list, nil
}

func (q *Query) matches(ci *CredentialInfo) bool {
	if q.Job != "" && ci.Job != q.Job || q.Row != 0 && ci.Row != q.Row || q.Offer != "" && ci.Offer != q.Offer {
		return false
	}
	for attr, want := range q.Subject {
		v, ok := ci.Subject[attr]
		if !ok || valueText(v) != want {
			return false
		}
	}
	return true
}

// valueText is a subject value as a CSV cell writes it.
func valueText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// storedBundle is the part of a recorded bundle that a listing shows.
type storedBundle struct {
	Credential struct {
		ValidFrom         string `json:"validFrom"`
		ValidUntil        string `json:"validUntil"`
		CredentialSubject struct {
			Claims map[string]any `json:"claims"`
		} `json:"credentialSubject"`
	} `json:"credential"`
	Private struct {
		SchemaID    string `json:"schemaId"`
		LeafIndex   uint64 `json:"leafIndex"`
		BlockHeight uint64 `json:"blockHeight"`
	} `json:"private"`
}

func credentialInfo(c *store.Credential) (*CredentialInfo, error) {
	var b storedBundle
	if err := decodeExact(c.Bundle, &b); err != nil {
		return nil, fmt.Errorf("credential %s: stored bundle: %w", c.ID, err)
	}
	ci := &CredentialInfo{
		ID: c.ID, Status: StatusActive, SchemaID: b.Private.SchemaID,
		Subject:   b.Credential.CredentialSubject.Claims,
		LeafIndex: &b.Private.LeafIndex, BlockHeight: &b.Private.BlockHeight,
		ValidFrom: b.Credential.ValidFrom, ValidUntil: b.Credential.ValidUntil,
		Offer: c.Origin.Offer, Job: c.Origin.Job, Row: c.Origin.Row,
	}
	if c.Revoked {
		ci.Status = StatusRevoked
	}
	return ci, nil
}

func unclaimedInfo(o *store.Offer) *CredentialInfo {
	sid := o.Schema.ID()
	ci := &CredentialInfo{
		Status: StatusUnclaimed, SchemaID: circuits.Dec(sid), Subject: o.Subject,
		Offer: o.ID, OfferExpires: o.Expires.UTC().Format(time.RFC3339), Job: o.Job, Row: o.Row,
	}
	if !o.ValidUntil.IsZero() {
		ci.ValidUntil = o.ValidUntil.UTC().Format(time.RFC3339)
	}
	return ci
}

// offerInfo is the credential an offer was claimed as, or the offer while
// it is unclaimed.
func offerInfo(tx *store.Txn, o *store.Offer) (*CredentialInfo, error) {
	if o.CredentialID != "" {
		c, err := tx.Credential(o.CredentialID)
		if err == nil {
			ci, err := credentialInfo(c)
			if err == nil {
				ci.Offer, ci.Job, ci.Row = o.ID, o.Job, o.Row
			}
			return ci, err
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		// A claim in progress: bound to a holder, not yet anchored.
	}
	return unclaimedInfo(o), nil
}

func rowInfo(tx *store.Txn, job string, row int, r store.Row) (*CredentialInfo, error) {
	switch r.Status {
	case store.RowIssued:
		c, err := tx.Credential(r.Credential)
		if err != nil {
			return nil, err
		}
		ci, err := credentialInfo(c)
		if err == nil {
			ci.Job, ci.Row = job, row
		}
		return ci, err
	case store.RowOffered:
		o, err := tx.Offer(r.Offer)
		if err != nil {
			return nil, err
		}
		ci, err := offerInfo(tx, o)
		if err == nil {
			ci.Job, ci.Row = job, row
		}
		return ci, err
	}
	return nil, nil // rejected: no credential (the batch report says why)
}
