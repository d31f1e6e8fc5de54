package registry

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/zkcred/zkcred/internal/didkey"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/canonjson"
	"github.com/zkcred/zkcred/registry/internal/layout"
)

// IssuerDepth is the depth of the issuer-registry tree (2^20 issuers).
const IssuerDepth = 20

// Reader reads the committed state. A missing key is reported with ok false.
type Reader interface {
	Get(key []byte) (value []byte, ok bool, err error)
}

// Issuer is an issuer's registry record.
type Issuer struct {
	ID         circuits.Field `json:"id"` // circuits.IssuerID(pubkey)
	PubKey     string         `json:"pubkey"`
	DID        string         `json:"did"`
	Name       string         `json:"name"`
	Kind       string         `json:"kind"`
	Active     bool           `json:"active"`
	Index      uint64         `json:"index"` // leaf index in the issuer tree
	Registered uint64         `json:"registered"`
	Updated    uint64         `json:"updated"`

	// DIDWeb is the did:web (did:web:host[%3Aport]) governance bound to
	// the issuer, whose credentials may then name it as their issuer;
	// empty for an issuer known by its did:key only. No two issuers bind
	// the same did:web.
	DIDWeb string `json:"did_web,omitempty"`
	// RegisteredBy is the accreditor that registered the issuer (hex
	// pubkey); omitted for an issuer that governance registered, so that
	// such records, and their leaves, are as before accreditation.
	RegisteredBy string `json:"registered_by,omitempty"`
	// DeactivatedBy is the accreditor that deactivated an inactive
	// issuer (hex pubkey); omitted for an active issuer and for one that
	// governance deactivated. Only that accreditor, or governance, may
	// reactivate it: an issuer governance deactivated (a leaked key) stays
	// inactive until governance says otherwise.
	DeactivatedBy string `json:"deactivated_by,omitempty"`
}

// Accreditor is an accreditation record: a key that governance allowed to
// register, update and deactivate issuers of some kinds (a ministry that
// registers universities).
type Accreditor struct {
	PubKey     string   `json:"pubkey"`
	Name       string   `json:"name"`
	Kinds      []string `json:"kinds"`
	Active     bool     `json:"active"`     // false once withdrawn
	Accredited uint64   `json:"accredited"` // height of the first accreditation
	Updated    uint64   `json:"updated"`
}

// May reports whether the accreditor may act on issuers of kind.
func (a *Accreditor) May(kind string) bool { return a.Active && slices.Contains(a.Kinds, kind) }

// issuerLeafPrefix starts the bytes an issuer-tree leaf hashes. Version 2
// hashes RFC 8785 canonical JSON; version 1 hashed encoding/json's output.
const issuerLeafPrefix = "zkcred-issuer/v2\x00"

// Leaf returns the issuer-tree leaf: HashBytes(TagBytes, "zkcred-issuer/v2\0"
// || RFC 8785 canonical JSON of the record). Every number of a record is an
// index below 2^IssuerDepth or a block height, which NewBuilder keeps below
// 2^53, so the encoding cannot fail for a record the registry wrote; for
// one that is beyond it the document part is empty, which no such record
// has.
func (is *Issuer) Leaf() fr.Element {
	b, err := canonjson.Marshal(is)
	if err != nil {
		b = nil
	}
	return circuits.HashBytes(circuits.TagBytes, append([]byte(issuerLeafPrefix), b...))
}

// SchemaRecord is a published schema.
type SchemaRecord struct {
	ID     circuits.Field  `json:"id"`
	Issuer circuits.Field  `json:"issuer"`
	Schema json.RawMessage `json:"schema"` // canonical JSON
	Height uint64          `json:"height"`
}

// CircuitRecord is a circuit's published verifying-key hash, with its
// ceremony transcript's hash when governance published one.
type CircuitRecord struct {
	Circuit        string `json:"circuit"`
	VKHash         string `json:"vk_hash"`
	TranscriptHash string `json:"transcript_hash,omitempty"`
	Height         uint64 `json:"height"`
}

// KindMember is one issuer in a KindList.
type KindMember struct {
	ID     circuits.Field `json:"id"`
	Active bool           `json:"active"`
}

// KindList is the list of the issuers of one kind, active or not, in
// registration order: what a verifier's policy that accepts "every active
// university" reads, proven by one state proof.
type KindList struct {
	Kind    string       `json:"kind"`
	Issuers []KindMember `json:"issuers"`
}

// Active returns the IDs of the list's active issuers.
func (l *KindList) Active() []circuits.Field {
	out := []circuits.Field{}
	for _, m := range l.Issuers {
		if m.Active {
			out = append(out, m.ID)
		}
	}
	return out
}

// Governance is the governance record: the keys that may sign governance
// transactions and how many of them must.
type Governance struct {
	Keys      []string `json:"keys"`
	Threshold int      `json:"threshold"`
}

// Validator is a member of the validator set.
type Validator struct {
	PubKey string `json:"pubkey"` // hex ed25519
	Power  int64  `json:"power"`
}

// ValidatorSet is the set of keys that sign blocks.
type ValidatorSet struct {
	Validators []Validator `json:"validators"`
}

// Receipt tells a submitter what its transaction did.
type Receipt struct {
	TxHash Hash   `json:"tx_hash"`
	Type   string `json:"type"`
	Height uint64 `json:"height"` // block that holds the transaction
	// FirstLeaf and Count give the leaf indices of an anchor: FirstLeaf,
	// FirstLeaf+1, ... in the order of the commitments.
	FirstLeaf uint64          `json:"first_leaf,omitempty"`
	Count     int             `json:"count,omitempty"`
	IssuerID  *circuits.Field `json:"issuer_id,omitempty"`
	SchemaID  *circuits.Field `json:"schema_id,omitempty"`
}

// Indices returns the leaf indices of an anchor receipt.
func (r *Receipt) Indices() []uint64 {
	out := make([]uint64, r.Count)
	for i := range out {
		out[i] = r.FirstLeaf + uint64(i)
	}
	return out
}

// Builder applies transactions on top of a committed state to form the next
// block. It buffers every write; Finish returns them with the header.
type Builder struct {
	g      *Genesis
	r      Reader
	height uint64
	prev   Hash
	prevT  int64

	writes     map[string][]byte
	credLeaves map[uint64]fr.Element
	credSize   uint64
	issLeaves  map[uint64]fr.Element
	issCount   uint64
	txs        []*Tx
	hashes     [][32]byte
	// records holds the value hash of every state-map record set in this
	// block, by state key.
	records map[string]Hash
	// valUpdates holds the validator power changes of this block, by key.
	valUpdates map[string]int64
}

// NewBuilder starts block prev.Height+1 on state r, which must be the state
// after prev. With prev nil it starts block 0 and applies the genesis
// issuers.
func NewBuilder(g *Genesis, r Reader, prev *Header) (*Builder, error) {
	b := &Builder{g: g, r: r, writes: map[string][]byte{}, credLeaves: map[uint64]fr.Element{}, issLeaves: map[uint64]fr.Element{},
		records: map[string]Hash{}, valUpdates: map[string]int64{}}
	if prev == nil {
		b.prev = g.Hash()
		b.prevT = g.Time
		if err := b.putRecord(layout.GovernanceKey(), g.governance()); err != nil {
			return nil, err
		}
		if err := b.putRecord(layout.ValidatorsKey(), g.validators()); err != nil {
			return nil, err
		}
		for _, is := range g.Issuers {
			if err := b.registerIssuer(is); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	if prev.Height >= canonjson.MaxInteger {
		// Issuer records carry block heights, and canonical JSON carries
		// integers exactly only up to 2^53-1.
		return nil, fmt.Errorf("%w: height %d is the last one", ErrTreeFull, prev.Height)
	}
	b.height = prev.Height + 1
	b.prev = prev.Hash()
	b.prevT = prev.Time
	b.credSize = prev.CredSize
	b.issCount = prev.IssuerCount
	return b, nil
}

// Height returns the height of the block being built.
func (b *Builder) Height() uint64 { return b.height }

// Pending returns the number of transactions applied so far.
func (b *Builder) Pending() int { return len(b.txs) }

// Get reads through the buffered writes to the committed state.
func (b *Builder) Get(key []byte) ([]byte, bool, error) {
	if v, ok := b.writes[string(key)]; ok {
		return v, true, nil
	}
	return b.r.Get(key)
}

func (b *Builder) set(key []byte, v []byte) { b.writes[string(key)] = v }

// putRecord stores a state-map record as JSON and marks it for the map.
func (b *Builder) putRecord(key []byte, rec any) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return b.putRecordBytes(key, v, rec)
}

// putRecordBytes stores v, the JSON encoding of rec, under key and marks
// rec's hash for the state map.
func (b *Builder) putRecordBytes(key, v []byte, rec any) error {
	h, err := RecordHash(rec)
	if err != nil {
		return err
	}
	b.set(key, v)
	b.records[string(key)] = h
	return nil
}

func (b *Builder) getJSON(key []byte, v any) (bool, error) {
	raw, ok, err := b.Get(key)
	if err != nil || !ok {
		return false, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("state record %q: %w", printableKey(key), err)
	}
	return true, nil
}

// setKindMember puts or removes (remove true) an issuer in its kind's
// list, keeping registration order.
func (b *Builder) setKindMember(kind string, is *Issuer, remove bool) error {
	var l KindList
	if _, err := b.getJSON(layout.KindKey(kind), &l); err != nil {
		return err
	}
	l.Kind = kind
	out := make([]KindMember, 0, len(l.Issuers)+1)
	for _, m := range l.Issuers {
		if m.ID != is.ID {
			out = append(out, m)
		}
	}
	if !remove {
		out = append(out, KindMember{ID: is.ID, Active: is.Active})
		// registration order: an issuer that comes back to a kind goes
		// back to its place
		for i := len(out) - 1; i > 0; i-- {
			prev, err := b.getIssuer(out[i-1].ID.El())
			if err != nil {
				return err
			}
			if prev == nil || prev.Index < is.Index {
				break
			}
			out[i-1], out[i] = out[i], out[i-1]
		}
	}
	l.Issuers = out
	return b.putRecord(layout.KindKey(kind), &l)
}

// nodeReader reads a tree's nodes, seeing leaves set in this block.
type nodeReader struct {
	b      *Builder
	prefix byte
}

func (n nodeReader) Node(level int, index uint64) (fr.Element, bool, error) {
	var e fr.Element
	v, ok, err := n.b.Get(layout.NodeKey(n.prefix, level, index))
	if err != nil || !ok {
		return e, ok, err
	}
	if len(v) != 32 {
		return e, false, fmt.Errorf("tree node %c/%d/%d: %d bytes", n.prefix, level, index, len(v))
	}
	e.SetBytes(v)
	return e, true, nil
}

func (b *Builder) leaf(index uint64) (fr.Element, error) {
	if v, ok := b.credLeaves[index]; ok {
		return v, nil
	}
	v, ok, err := nodeReader{b, layout.CredNode}.Node(0, index)
	if !ok && err == nil {
		return circuits.ZeroHash(0), nil
	}
	return v, err
}

func (b *Builder) getIssuer(id fr.Element) (*Issuer, error) {
	v, ok, err := b.Get(layout.IssuerKey(id))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nil
	}
	var is Issuer
	if err := json.Unmarshal(v, &is); err != nil {
		return nil, fmt.Errorf("issuer record: %w", err)
	}
	return &is, nil
}

// putIssuer stores an issuer record and keeps the lists by kind in step
// with it (old is the record before, nil for a new issuer).
func (b *Builder) putIssuer(old, is *Issuer) error {
	if old != nil && old.Kind != is.Kind {
		if err := b.setKindMember(old.Kind, old, true); err != nil {
			return err
		}
	}
	if err := b.putRecord(layout.IssuerKey(is.ID.El()), is); err != nil {
		return err
	}
	b.issLeaves[is.Index] = is.Leaf()
	if old == nil || old.Kind != is.Kind || old.Active != is.Active {
		return b.setKindMember(is.Kind, is, false)
	}
	return nil
}

func (b *Builder) registerIssuer(r RegisterIssuer) error { return b.registerIssuerBy(r, "") }

// registerIssuerBy registers an issuer; by is the hex key of the
// accreditor that does, "" for governance.
func (b *Builder) registerIssuerBy(r RegisterIssuer, by string) error {
	pub, err := ParsePubKey(r.PubKey)
	if err != nil {
		return malformed("pubkey: %v", err)
	}
	id := circuits.IssuerID(pub)
	old, err := b.getIssuer(id)
	if err != nil {
		return err
	}
	if old != nil {
		return fmt.Errorf("%w: %s", ErrIssuerExists, r.PubKey)
	}
	if b.issCount >= 1<<IssuerDepth {
		return ErrTreeFull
	}
	is := &Issuer{ID: circuits.F(id), PubKey: r.PubKey, DID: didkey.Encode(pub), Name: r.Name, Kind: r.Kind, Active: true,
		Index: b.issCount, Registered: b.height, Updated: b.height, RegisteredBy: by}
	if err := b.bindDIDWeb(nil, is, r.DIDWeb); err != nil {
		return err
	}
	b.issCount++
	ib := id.Bytes()
	b.set(layout.IssuerIndexKey(is.Index), ib[:])
	return b.putIssuer(nil, is)
}

// bindDIDWeb sets nw.DIDWeb to did (old is the record before, nil for a
// new issuer), refusing a did:web another issuer binds, and keeps the
// did:web index in step.
func (b *Builder) bindDIDWeb(old, nw *Issuer, did string) error {
	if did != "" && (old == nil || old.DIDWeb != did) {
		v, ok, err := b.Get(layout.DIDWebKey(did))
		if err != nil {
			return err
		}
		if ok && len(v) > 0 && !bytes.Equal(v, idBytes(nw.ID)) { // empty: unbound
			return fmt.Errorf("%w: %s", ErrDIDWebBound, did)
		}
	}
	if old != nil && old.DIDWeb != "" && old.DIDWeb != did {
		b.set(layout.DIDWebKey(old.DIDWeb), []byte{}) // writes cannot delete
	}
	if did != "" {
		b.set(layout.DIDWebKey(did), idBytes(nw.ID))
	}
	nw.DIDWeb = did
	return nil
}

func idBytes(id circuits.Field) []byte { e := id.El(); b := e.Bytes(); return b[:] }

// activeIssuer returns the signer's issuer record if it may act.
func (b *Builder) activeIssuer(tx *SignedTx) (*Issuer, error) {
	is, err := b.getIssuer(tx.SignerID)
	if err != nil {
		return nil, err
	}
	if is == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknownIssuer, hex.EncodeToString(tx.Signer))
	}
	if !is.Active {
		return nil, fmt.Errorf("%w: %s (%s)", ErrIssuerInactive, is.Name, is.PubKey)
	}
	return is, nil
}

// Apply validates tx against the state and, only if it is valid, applies
// it. A rejected transaction changes nothing.
func (b *Builder) Apply(tx *SignedTx) (*Receipt, error) {
	nk := layout.NonceKey(tx.Signer)
	last := uint64(0)
	v, ok, err := b.Get(nk)
	if err != nil {
		return nil, err
	}
	if ok {
		last = binary.BigEndian.Uint64(v)
	}
	if tx.Nonce <= last {
		return nil, fmt.Errorf("%w: nonce %d, last %d", ErrReplay, tx.Nonce, last)
	}
	rc := &Receipt{TxHash: tx.Hash, Type: tx.Type, Height: b.height}
	switch body := tx.Body.(type) {
	case RegisterIssuer, UpdateIssuer, DeactivateIssuer, PublishCircuit, GovernanceRevoke, UpdateValidators, Accredit, WithdrawAccreditation:
		acc, err := b.authorise(tx)
		if err != nil {
			return nil, err
		}
		if acc != nil {
			if err := b.accredited(acc, body); err != nil {
				return nil, err
			}
		}
		switch body := body.(type) {
		case RegisterIssuer:
			by := ""
			if acc != nil {
				by = acc.PubKey
			}
			if err := b.registerIssuerBy(body, by); err != nil {
				return nil, err
			}
			pub, _ := ParsePubKey(body.PubKey)
			id := circuits.F(circuits.IssuerID(pub))
			rc.IssuerID = &id
		case UpdateIssuer:
			is, err := b.issuerByKey(body.PubKey)
			if err != nil {
				return nil, err
			}
			nw := *is
			nw.Name, nw.Kind, nw.Active, nw.Updated = body.Name, body.Kind, body.Active, b.height
			nw.DeactivatedBy = deactivatedBy(is, body.Active, acc)
			if err := b.bindDIDWeb(is, &nw, body.DIDWeb); err != nil {
				return nil, err
			}
			if err := b.putIssuer(is, &nw); err != nil {
				return nil, err
			}
			rc.IssuerID = &is.ID
		case DeactivateIssuer:
			is, err := b.issuerByKey(body.PubKey)
			if err != nil {
				return nil, err
			}
			nw := *is
			nw.Active, nw.Updated = false, b.height
			nw.DeactivatedBy = deactivatedBy(is, false, acc)
			if err := b.putIssuer(is, &nw); err != nil {
				return nil, err
			}
			rc.IssuerID = &is.ID
		case GovernanceRevoke:
			is, err := b.issuerByKey(body.Issuer)
			if err != nil {
				return nil, err
			}
			if is.Active {
				return nil, fmt.Errorf("%w: %s (%s)", ErrIssuerActive, is.Name, is.PubKey)
			}
			if err := b.revoke(is.ID.El(), body.Leaves); err != nil {
				return nil, err
			}
			rc.IssuerID = &is.ID
		case UpdateValidators:
			if err := b.updateValidators(body.Validators); err != nil {
				return nil, err
			}
		case Accredit:
			if err := b.accredit(body); err != nil {
				return nil, err
			}
		case WithdrawAccreditation:
			a, err := b.accreditor(body.PubKey)
			if err != nil {
				return nil, err
			}
			if a == nil {
				return nil, fmt.Errorf("%w: accreditor %s", ErrNotFound, body.PubKey)
			}
			if !a.Active {
				return nil, fmt.Errorf("%w: accreditation of %s (%s) is already withdrawn", ErrConflict, a.Name, a.PubKey)
			}
			a.Active, a.Updated = false, b.height
			if err := b.putAccreditor(a); err != nil {
				return nil, err
			}
		case PublishCircuit:
			rec := &CircuitRecord{Circuit: body.Circuit, VKHash: body.VKHash, TranscriptHash: body.TranscriptHash, Height: b.height}
			if err := b.putRecord(layout.CircuitKey(body.Circuit), rec); err != nil {
				return nil, err
			}
		}
	case PublishSchema:
		is, err := b.activeIssuer(tx)
		if err != nil {
			return nil, err
		}
		s, err := circuits.ParseSchema(body.Schema)
		if err != nil {
			return nil, malformed("schema: %v", err)
		}
		id := s.ID()
		if _, ok, err := b.Get(layout.SchemaKey(id)); err != nil {
			return nil, err
		} else if ok {
			return nil, fmt.Errorf("%w: %s", ErrSchemaExists, FormatElement(id))
		}
		rec := SchemaRecord{ID: circuits.F(id), Issuer: is.ID, Schema: s.Canonical(), Height: b.height}
		if err := b.putRecordBytes(layout.SchemaKey(id), schemaRecord(rec), &rec); err != nil {
			return nil, err
		}
		fid := circuits.F(id)
		rc.SchemaID = &fid
		rc.IssuerID = &is.ID
	case Anchor:
		is, err := b.activeIssuer(tx)
		if err != nil {
			return nil, err
		}
		n := uint64(len(body.Commitments))
		if b.credSize+n > 1<<circuits.Depth {
			return nil, ErrTreeFull
		}
		tx.PrepareLeaves()
		leaves := tx.Leaves
		rc.FirstLeaf, rc.Count = b.credSize, len(leaves)
		for i, l := range leaves {
			b.credLeaves[b.credSize+uint64(i)] = l
		}
		b.credSize += n
		rc.IssuerID = &is.ID
	case Revoke:
		is, err := b.activeIssuer(tx)
		if err != nil {
			return nil, err
		}
		if err := b.revoke(tx.SignerID, body.Leaves); err != nil {
			return nil, err
		}
		rc.IssuerID = &is.ID
	default:
		return nil, malformed("unsupported body %T", body)
	}
	nv := make([]byte, 8)
	binary.BigEndian.PutUint64(nv, tx.Nonce)
	b.set(nk, nv)
	b.txs = append(b.txs, tx.Tx)
	b.hashes = append(b.hashes, tx.Hash)
	return rc, nil
}

// revoke checks every leaf (anchored, not yet 0, equal to
// LeafHash(issuer, C)) before it sets any of them to 0.
func (b *Builder) revoke(issuer fr.Element, leaves []RevokeLeaf) error {
	for _, l := range leaves {
		if l.Index >= b.credSize {
			return fmt.Errorf("%w: leaf %d not anchored (tree size %d)", ErrNotFound, l.Index, b.credSize)
		}
		cur, err := b.leaf(l.Index)
		if err != nil {
			return err
		}
		if cur.IsZero() {
			return fmt.Errorf("%w: leaf %d", ErrAlreadyRevoked, l.Index)
		}
		want := circuits.LeafHash(issuer, l.Commitment.El())
		if !cur.Equal(&want) {
			return fmt.Errorf("%w: leaf %d", ErrNotLeafOwner, l.Index)
		}
	}
	for _, l := range leaves {
		b.credLeaves[l.Index] = fr.Element{}
	}
	return nil
}

// authorise admits a transaction of a governance type. A governance
// key's goes through the threshold (checkGovernance). Register, update and
// deactivate issuer may instead be signed by an accreditor alone: authorise
// then returns its record, and the caller checks the kinds (accredited).
func (b *Builder) authorise(tx *SignedTx) (*Accreditor, error) {
	switch tx.Body.(type) {
	case RegisterIssuer, UpdateIssuer, DeactivateIssuer:
	default:
		return nil, b.checkGovernance(tx)
	}
	gv, err := b.governance()
	if err != nil {
		return nil, err
	}
	hk := hex.EncodeToString(tx.Signer)
	if slices.Contains(gv.Keys, hk) {
		return nil, b.checkGovernance(tx)
	}
	a, err := b.accreditor(hk)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, fmt.Errorf("%w: %s, nor an accreditor", ErrNotGovernance, hk)
	}
	if len(tx.Approvers) > 1 {
		return nil, malformed("an accreditor's %s carries no approvals", tx.Type)
	}
	if !a.Active {
		return nil, fmt.Errorf("%w: %s (%s) may no longer register, update or deactivate issuers", ErrWithdrawn, a.Name, a.PubKey)
	}
	return a, nil
}

// deactivatedBy returns the DeactivatedBy of issuer is once a transaction
// signed by acc (nil: governance) leaves it active or not: empty for an
// active issuer or one governance deactivates; acc's key when acc
// deactivates an active issuer; and, when acc deactivates an issuer that
// is already inactive, whoever deactivated it first, so that an
// accreditor cannot claim a deactivation governance made.
func deactivatedBy(is *Issuer, active bool, acc *Accreditor) string {
	switch {
	case active || acc == nil:
		return ""
	case is.Active:
		return acc.PubKey
	default:
		return is.DeactivatedBy
	}
}

// accredited checks that accreditor a may do what body asks: every kind
// it touches (an issuer's current kind and, for a registration or an
// update, the new one) is one of a's, it leaves the did:web binding as it
// is, and it reactivates only an issuer that a itself deactivated.
func (b *Builder) accredited(a *Accreditor, body Body) error {
	var kinds []string
	var key string
	didWeb := "" // the did:web binding the transaction asks for
	switch body := body.(type) {
	case RegisterIssuer:
		kinds, didWeb = append(kinds, body.Kind), body.DIDWeb
	case UpdateIssuer:
		kinds, key, didWeb = append(kinds, body.Kind), body.PubKey, body.DIDWeb
	case DeactivateIssuer:
		key = body.PubKey
	}
	bound := ""
	if key != "" {
		is, err := b.issuerByKey(key)
		if err != nil {
			return err
		}
		kinds, bound = append(kinds, is.Kind), is.DIDWeb
		if _, ok := body.(DeactivateIssuer); ok {
			didWeb = bound
		}
		if u, ok := body.(UpdateIssuer); ok && u.Active && !is.Active && is.DeactivatedBy != a.PubKey {
			// governance (or another accreditor) took this issuer out
			// of service, perhaps for a leaked key: only governance
			// brings it back
			who := "governance"
			if is.DeactivatedBy != "" {
				who = "accreditor " + is.DeactivatedBy
			}
			return fmt.Errorf("%w: %s (%s) may not reactivate %s, which %s deactivated", ErrNotAccredited, a.Name, a.PubKey, is.Name, who)
		}
	}
	if didWeb != bound {
		// a did:web binding says which domain speaks for an issuer: that
		// stays with governance
		return fmt.Errorf("%w: %s (%s) may not bind or change an issuer's did:web", ErrNotAccredited, a.Name, a.PubKey)
	}
	for _, k := range kinds {
		if !a.May(k) {
			return fmt.Errorf("%w: %s (%s) is accredited for %s, not %q", ErrNotAccredited, a.Name, a.PubKey, strings.Join(a.Kinds, ", "), k)
		}
	}
	return nil
}

// accreditor returns the accreditor record of a hex key, nil if none.
func (b *Builder) accreditor(pubHex string) (*Accreditor, error) {
	pub, err := ParsePubKey(pubHex)
	if err != nil {
		return nil, malformed("pubkey: %v", err)
	}
	var a Accreditor
	ok, err := b.getJSON(layout.AccreditorKey(pub), &a)
	if err != nil || !ok {
		return nil, err
	}
	return &a, nil
}

// accredit creates or replaces an accreditation.
func (b *Builder) accredit(body Accredit) error {
	a, err := b.accreditor(body.PubKey)
	if err != nil {
		return err
	}
	if a == nil {
		a = &Accreditor{PubKey: body.PubKey, Accredited: b.height}
	}
	a.Name, a.Kinds, a.Active, a.Updated = body.Name, slices.Clone(body.Kinds), true, b.height
	return b.putAccreditor(a)
}

// putAccreditor stores an accreditor record.
func (b *Builder) putAccreditor(a *Accreditor) error {
	pub, err := ParsePubKey(a.PubKey)
	if err != nil {
		return malformed("pubkey: %v", err)
	}
	return b.putRecord(layout.AccreditorKey(pub), a)
}

// governance returns the governance record of the state.
func (b *Builder) governance() (*Governance, error) {
	var gv Governance
	ok, err := b.getJSON(layout.GovernanceKey(), &gv)
	if err != nil {
		return nil, err
	}
	if !ok {
		return b.g.governance(), nil
	}
	return &gv, nil
}

// checkGovernance admits a governance transaction: its signer and every
// approver are governance keys, and the distinct ones reach the threshold.
func (b *Builder) checkGovernance(tx *SignedTx) error {
	gv, err := b.governance()
	if err != nil {
		return err
	}
	approvers := tx.Approvers
	if len(approvers) == 0 {
		approvers = []ed25519.PublicKey{tx.Signer}
	}
	n := 0
	for _, k := range approvers {
		hk := hex.EncodeToString(k)
		if !slices.Contains(gv.Keys, hk) {
			return fmt.Errorf("%w: %s", ErrNotGovernance, hk)
		}
		n++
	}
	if n < gv.Threshold {
		return fmt.Errorf("%w: signed by %d of the %d governance keys it needs", ErrBelowThreshold, n, gv.Threshold)
	}
	return nil
}

// updateValidators applies power changes to the validator set.
func (b *Builder) updateValidators(changes []Validator) error {
	var vs ValidatorSet
	ok, err := b.getJSON(layout.ValidatorsKey(), &vs)
	if err != nil {
		return err
	}
	if !ok {
		vs = *b.g.validators()
	}
	for _, c := range changes {
		i := slices.IndexFunc(vs.Validators, func(v Validator) bool { return v.PubKey == c.PubKey })
		switch {
		case c.Power == 0 && i < 0:
			return fmt.Errorf("%w: validator %s is not in the set", ErrNotFound, c.PubKey)
		case c.Power == 0:
			vs.Validators = slices.Delete(vs.Validators, i, i+1)
		case i < 0:
			vs.Validators = append(vs.Validators, c)
		default:
			vs.Validators[i].Power = c.Power
		}
	}
	if len(vs.Validators) == 0 {
		return fmt.Errorf("%w: the validator set may not become empty", ErrConflict)
	}
	if len(vs.Validators) > MaxValidators {
		return fmt.Errorf("%w: %d validators, limit %d", ErrTxTooLarge, len(vs.Validators), MaxValidators)
	}
	if err := b.putRecord(layout.ValidatorsKey(), &vs); err != nil {
		return err
	}
	for _, c := range changes {
		b.valUpdates[c.PubKey] = c.Power
	}
	return nil
}

// ValidatorUpdates returns the validator power changes the block's
// transactions made, in key order (power 0 removes): what the consensus
// engine applies to its validator set.
func (b *Builder) ValidatorUpdates() []Validator {
	out := make([]Validator, 0, len(b.valUpdates))
	for k, p := range b.valUpdates {
		out = append(out, Validator{PubKey: k, Power: p})
	}
	slices.SortFunc(out, func(x, y Validator) int { return strings.Compare(x.PubKey, y.PubKey) })
	return out
}

// schemaRecord encodes a schema record, keeping the canonical schema's
// bytes as they are (encoding/json would escape its '&', '<' and '>').
func schemaRecord(r SchemaRecord) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(r) // plain data: cannot fail
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func (b *Builder) issuerByKey(pubHex string) (*Issuer, error) {
	pub, err := ParsePubKey(pubHex)
	if err != nil {
		return nil, malformed("pubkey: %v", err)
	}
	is, err := b.getIssuer(circuits.IssuerID(pub))
	if err != nil {
		return nil, err
	}
	if is == nil {
		return nil, fmt.Errorf("%w: issuer %s", ErrNotFound, pubHex)
	}
	return is, nil
}

// Finish computes the roots and returns the unsigned header, the block's
// transactions and every state write (tree nodes included). t is the block
// time; it is raised to the previous block's time if earlier.
func (b *Builder) Finish(t int64) (*Header, []*Tx, map[string][]byte, error) {
	if t < b.prevT {
		t = b.prevT
	}
	credRoot, err := b.updateTree(layout.CredNode, circuits.Depth, b.credLeaves)
	if err != nil {
		return nil, nil, nil, err
	}
	issRoot, err := b.updateTree(layout.IssuerNode, IssuerDepth, b.issLeaves)
	if err != nil {
		return nil, nil, nil, err
	}
	stateRoot, err := b.updateState()
	if err != nil {
		return nil, nil, nil, err
	}
	h := &Header{ChainID: b.g.ChainID, Height: b.height, PrevHash: b.prev, Time: t,
		TxRoot: txRoot(b.hashes), TxCount: uint32(len(b.txs)),
		CredRoot: circuits.F(credRoot), CredSize: b.credSize,
		IssuerRoot: circuits.F(issRoot), IssuerCount: b.issCount,
		StateRoot: stateRoot}
	h.AppHash = AppHash(h.CredRoot, h.CredSize, h.StateRoot)
	txs := b.txs
	if txs == nil {
		txs = []*Tx{}
	}
	return h, txs, b.writes, nil
}

// updateState writes the state-map records of this block, in key order,
// and returns the map's root.
func (b *Builder) updateState() (Hash, error) {
	keys := make([]string, 0, len(b.records))
	for k := range b.records {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		kh := stateKeyHash([]byte(k))
		if _, err := b.updateStateMap(kh, stateLeaf(kh, b.records[k])); err != nil {
			return Hash{}, err
		}
	}
	b.records = map[string]Hash{}
	return StateRoot(b)
}

func (b *Builder) updateTree(prefix byte, depth int, leaves map[uint64]fr.Element) (fr.Element, error) {
	nr := nodeReader{b, prefix}
	if len(leaves) == 0 {
		v, ok, err := nr.Node(depth, 0)
		if !ok && err == nil {
			return circuits.ZeroHash(depth), nil
		}
		return v, err
	}
	nodes, err := parallelUpdate(nr, depth, leaves)
	if err != nil {
		return fr.Element{}, err
	}
	for k, v := range nodes {
		vb := v.Bytes()
		b.set(layout.NodeKey(prefix, k.Level, k.Index), vb[:])
	}
	return nodes[circuits.NodeKey{Level: depth, Index: 0}], nil
}

// ActiveIssuer reports whether the signer of tx is an active issuer in
// state r: a cheap check before work is spent on its transaction.
func ActiveIssuer(r Reader, tx *SignedTx) (bool, error) {
	v, ok, err := r.Get(layout.IssuerKey(tx.SignerID))
	if err != nil || !ok {
		return false, err
	}
	var is Issuer
	if err := json.Unmarshal(v, &is); err != nil {
		return false, err
	}
	return is.Active, nil
}
