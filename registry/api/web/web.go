// Package web is the registry's explorer, served at "/" beside its API:
// the latest blocks (height, time, transaction count, roots), each block's
// transactions in words, the issuers (name, kind, active), the published
// schemas and circuits' verifying-key hashes, the latest revocations, and
// the validators with which of them signed each block (from CometBFT's
// commits, when the registry runs on CometBFT).
// It reads only the state accessors the API itself answers from (State),
// never the block producer, so that it does not depend on how blocks are
// made. Every page is a GET: nothing here changes state.
package web

import (
	"context"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/webui"
	"github.com/zkcred/zkcred/registry"
)

//go:embed files
var files embed.FS

// State is what the explorer reads: the registry store's accessors.
type State interface {
	Genesis() *registry.Genesis
	Latest() registry.Header
	Block(height uint64) (*registry.Block, error)
	Issuers(kind string, active *bool) ([]registry.Issuer, error)
	Circuits() ([]registry.CircuitRecord, error)
}

// Commits gives CometBFT's light blocks (signed header and validator set,
// in CometBFT's JSON) by CometBFT height, and its latest height: the
// registry API's Commits. The explorer reads from them which validators
// signed.
type Commits interface {
	LightBlockJSON(ctx context.Context, height int64) ([]byte, error)
	Height() int64
}

// Limits of the pages.
const (
	LatestBlocks = 20   // blocks on the front page
	ScanPerLoad  = 5000 // blocks one page load reads to follow schemas and revocations
	keepRevoked  = 20
)

// Handler returns the explorer. Mount it at "/" and under webui.Prefix.
// commits may be nil (a registry not driven by CometBFT): the pages then
// show no signatures.
func Handler(st State, commits Commits) (http.Handler, error) {
	sub, err := fs.Sub(files, "files")
	if err != nil {
		return nil, err
	}
	tmpl, err := webui.Templates(sub, "*.html", template.FuncMap{"short": short, "when": when})
	if err != nil {
		return nil, err
	}
	return &explorer{st: st, commits: commits, tmpl: tmpl, files: sub, next: 1}, nil
}

type explorer struct {
	st      State
	commits Commits
	tmpl    map[string]*template.Template
	files   fs.FS

	mu      sync.Mutex
	next    uint64 // first block not scanned yet
	schemas []schemaView
	revoked []revocation // newest first
	// accreditors names the accreditors by hex key, from the blocks
	// scanned, for "registered by".
	accreditors map[string]string
}

type schemaView struct {
	ID, Name, Version, Issuer string
	Height                    uint64
	Attributes                []circuits.Attribute
}

type revocation struct {
	Height uint64
	Time   int64
	Issuer string
	Leaves []uint64
}

func short(s string) string {
	if len(s) > 20 {
		return s[:10] + "…" + s[len(s)-6:]
	}
	return s
}

func when(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05 UTC") }

func (x *explorer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	webui.Secure(w.Header())
	if webui.Static(x.files, w, r) {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		webui.Error(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on "+r.URL.Path)
		return
	}
	switch p := r.URL.Path; {
	case p == "/":
		x.home(w, r.Context())
	case strings.HasPrefix(p, "/ui/blocks/"):
		s := strings.TrimPrefix(p, "/ui/blocks/")
		h, err := strconv.ParseUint(s, 10, 64)
		if err != nil || (len(s) > 1 && s[0] == '0') {
			webui.Error(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("block height %q is not a decimal integer", short(s)))
			return
		}
		x.block(w, r.Context(), h)
	default:
		webui.Error(w, http.StatusNotFound, "not_found", "no such page: "+p)
	}
}

// issuerNames maps issuer IDs (decimal) to names.
func (x *explorer) issuerNames() (map[string]string, []registry.Issuer) {
	is, err := x.st.Issuers("", nil)
	names := map[string]string{}
	if err != nil {
		return names, nil
	}
	for _, i := range is {
		names[circuits.Dec(i.ID.El())] = i.Name
	}
	return names, is
}

// scan follows the blocks not read yet (at most ScanPerLoad per call)
// for published schemas and revocations.
func (x *explorer) scan(names map[string]string) (scanned uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	latest := x.st.Latest().Height
	g := x.st.Genesis()
	for n := 0; x.next <= latest && n < ScanPerLoad; n++ {
		b, err := x.st.Block(x.next)
		if err != nil {
			break
		}
		for _, tx := range b.Txs {
			st, err := registry.VerifyTx(g.ChainID, tx)
			if err != nil {
				continue
			}
			issuer := names[circuits.Dec(st.SignerID)]
			switch body := st.Body.(type) {
			case registry.PublishSchema:
				if s, err := circuits.ParseSchema(body.Schema); err == nil {
					x.schemas = append(x.schemas, schemaView{ID: circuits.Dec(s.ID()), Name: s.Name, Version: s.Version,
						Issuer: issuer, Height: b.Header.Height, Attributes: s.Attributes})
				}
			case registry.Accredit:
				if x.accreditors == nil {
					x.accreditors = map[string]string{}
				}
				x.accreditors[body.PubKey] = body.Name
			case registry.Revoke:
				rv := revocation{Height: b.Header.Height, Time: b.Header.Time, Issuer: issuer}
				for _, l := range body.Leaves {
					rv.Leaves = append(rv.Leaves, l.Index)
				}
				if issuer == "" {
					rv.Issuer = "governance"
				}
				x.revoked = append([]revocation{rv}, x.revoked...)
				if len(x.revoked) > keepRevoked {
					x.revoked = x.revoked[:keepRevoked]
				}
			}
		}
		x.next++
	}
	return x.next - 1
}

func (x *explorer) home(w http.ResponseWriter, ctx context.Context) {
	names, issuers := x.issuerNames()
	scanned := x.scan(names)
	latest := x.st.Latest()
	var blocks []registry.Header
	for h := latest.Height; ; h-- {
		b, err := x.st.Block(h)
		if err == nil {
			blocks = append(blocks, b.Header)
		}
		if h == 0 || len(blocks) == LatestBlocks {
			break
		}
	}
	circs, _ := x.st.Circuits()
	// The newest commit signs the state after the block before its own.
	var signedAt uint64
	var signers []signerView
	if x.commits != nil && x.commits.Height() > 0 {
		signedAt = min(uint64(x.commits.Height()-1), latest.Height)
		signers = x.signers(ctx, signedAt)
	}
	x.mu.Lock()
	schemas := append([]schemaView(nil), x.schemas...)
	revoked := append([]revocation(nil), x.revoked...)
	accreditors := maps.Clone(x.accreditors)
	x.mu.Unlock()
	webui.Render(w, x.tmpl["home.html"], http.StatusOK, webui.Page{Title: "Explorer", Service: "registry", Data: map[string]any{
		"Chain": x.st.Genesis().ChainID, "Latest": latest, "Blocks": blocks, "Issuers": issuers,
		"Schemas": schemas, "Circuits": circs, "Revoked": revoked, "Scanned": scanned, "Partial": scanned < latest.Height,
		"Validators": signers, "SignedAt": signedAt, "Accreditors": accreditors,
	}})
}

// txView is a transaction in words.
type txView struct {
	Hash, Type, Signer, Summary string
	Nonce                       uint64
}

func (x *explorer) block(w http.ResponseWriter, ctx context.Context, h uint64) {
	b, err := x.st.Block(h)
	if err != nil {
		webui.Error(w, http.StatusNotFound, "not_found", fmt.Sprintf("no block %d (the latest is %d)", h, x.st.Latest().Height))
		return
	}
	names, _ := x.issuerNames()
	var txs []txView
	for _, tx := range b.Txs {
		v := txView{Hash: registry.Hash(tx.Hash()).String()}
		st, err := registry.VerifyTx(x.st.Genesis().ChainID, tx)
		if err != nil {
			v.Type, v.Summary = "?", "undecodable: "+err.Error()
			txs = append(txs, v)
			continue
		}
		v.Type, v.Nonce = st.Type, st.Nonce
		v.Signer = names[circuits.Dec(st.SignerID)]
		if v.Signer == "" {
			v.Signer = "key " + short(fmt.Sprintf("%x", []byte(st.Signer)))
		}
		v.Summary = summary(st.Body)
		txs = append(txs, v)
	}
	webui.Render(w, x.tmpl["block.html"], http.StatusOK, webui.Page{Title: fmt.Sprintf("Block %d", h), Service: "registry", Data: map[string]any{
		"Header": b.Header, "Txs": txs, "Latest": x.st.Latest().Height, "Hash": b.Header.Hash().String(),
		"PrevHeight": max(h, 1) - 1, "NextHeight": h + 1, "Signers": x.signers(ctx, h),
		"Consortium": x.commits != nil,
	}})
}

// signerView is a validator of a commit, and whether it signed it.
type signerView struct {
	Name, PubKey string
	Power        int64
	Signed       bool
}

// signers returns the validators of the CometBFT commit that signs the
// state after registry block h (CometBFT block h+1), each with whether it
// signed; nil when there is no such commit yet or no CometBFT.
func (x *explorer) signers(ctx context.Context, h uint64) []signerView {
	if x.commits == nil || h >= uint64(x.commits.Height()) {
		return nil
	}
	b, err := x.commits.LightBlockJSON(ctx, int64(h)+1)
	if err != nil {
		return nil
	}
	var lb cmttypes.LightBlock
	if err := cmtjson.Unmarshal(b, &lb); err != nil || lb.SignedHeader == nil || lb.Commit == nil || lb.ValidatorSet == nil {
		return nil
	}
	names := map[string]string{}
	for _, v := range x.st.Genesis().Validators {
		names[strings.ToLower(v.PubKey)] = v.Name
	}
	signed := map[string]bool{}
	for _, sig := range lb.Commit.Signatures {
		if sig.BlockIDFlag == cmttypes.BlockIDFlagCommit {
			signed[sig.ValidatorAddress.String()] = true
		}
	}
	var out []signerView
	for _, v := range lb.ValidatorSet.Validators {
		pk := hex.EncodeToString(v.PubKey.Bytes())
		out = append(out, signerView{Name: names[pk], PubKey: pk, Power: v.VotingPower, Signed: signed[v.Address.String()]})
	}
	return out
}

func summary(b registry.Body) string {
	switch v := b.(type) {
	case registry.Anchor:
		return fmt.Sprintf("anchors %d credential commitment(s)", len(v.Commitments))
	case registry.Revoke:
		idx := make([]string, len(v.Leaves))
		for i, l := range v.Leaves {
			idx[i] = strconv.FormatUint(l.Index, 10)
		}
		return "revokes leaf " + strings.Join(idx, ", ")
	case registry.RegisterIssuer:
		return fmt.Sprintf("registers issuer %q (%s)", v.Name, v.Kind)
	case registry.UpdateIssuer:
		return fmt.Sprintf("updates issuer %q (%s, active %t)", v.Name, v.Kind, v.Active)
	case registry.DeactivateIssuer:
		return "deactivates issuer key " + short(v.PubKey)
	case registry.Accredit:
		return fmt.Sprintf("accredits %q (key %s) for issuers of kind %s", v.Name, short(v.PubKey), strings.Join(v.Kinds, ", "))
	case registry.WithdrawAccreditation:
		return "withdraws the accreditation of key " + short(v.PubKey)
	case registry.PublishCircuit:
		return fmt.Sprintf("publishes the verifying-key hash of %s: %s", v.Circuit, v.VKHash)
	case registry.PublishSchema:
		if s, err := circuits.ParseSchema(v.Schema); err == nil {
			return fmt.Sprintf("publishes schema %q version %s (%d attributes)", s.Name, s.Version, len(s.Attributes))
		}
		return "publishes a schema"
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}
