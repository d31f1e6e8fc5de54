package web_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/browsertest"
	"github.com/zkcred/zkcred/internal/stack"
	"github.com/zkcred/zkcred/internal/wallettest"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/registry"
)

func TestMain(m *testing.M) { os.Exit(browsertest.Main(m)) }

// The explorer shows the blocks, issuers, schemas and published key
// hashes, then the block of a new credential and a revocation.
func TestExplorer(t *testing.T) {
	ctx := context.Background()
	keys := wallettest.Keys(t)
	st, err := stack.Start(ctx, stack.Options{
		Dir: filepath.Join(t.TempDir(), "stack"), Keys: keys, KeyWorkFactor: 10,
		Institutions: []stack.Institution{{Kind: "university", Name: "University of Examples", Schema: "diploma"}},
		Badger: func(o badger.Options) badger.Options {
			return o.WithMemTableSize(8 << 20).WithValueLogFileSize(16 << 20)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	uni := st.Issuers["university"].Issuer

	p := browsertest.New(t)
	p.Open(st.RegistryURL+"/", 200)
	p.WaitText("#issuers-table", "University of Examples")
	if got := p.Text("#issuers-table"); !strings.Contains(got, "university") || !strings.Contains(got, "active") {
		t.Fatalf("issuers: %q", got)
	}
	p.WaitText("#schemas-table", "UniversityDiploma")
	p.WaitText("#circuits-table", keys.Verifier().Hash())
	p.WaitText("#circuits-table", circuits.PresentationID)
	p.WaitText("#revocations-table", "None yet")
	// The one validator of the embedded chain signed the newest commit.
	p.WaitText("#validators-table", "signed")
	if got := p.Text("#validators-table"); strings.Contains(got, "did not sign") {
		t.Fatalf("validators: %q", got)
	}

	// A new credential (after another, so that its leaf index is 1): its
	// block appears, with its anchoring in words.
	if _, err := uni.Issue(ctx, issuer.Request{Schema: wallettest.Schema(), Subject: wallettest.Subject("2.50"), HolderCommit: circuits.U64(41)}); err != nil {
		t.Fatal(err)
	}
	b, err := uni.Issue(ctx, issuer.Request{Schema: wallettest.Schema(), Subject: wallettest.Subject("3.72"), HolderCommit: circuits.U64(42)})
	if err != nil {
		t.Fatal(err)
	}
	// Its block: the first whose tree holds its leaf.
	latest, err := st.Registry.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := st.Registry.Headers(ctx, 0, latest.Height)
	if err != nil {
		t.Fatal(err)
	}
	var height uint64
	for _, h := range hs {
		if h.CredSize > b.Private.LeafIndex {
			height = h.Height
			break
		}
	}
	p.Open(st.RegistryURL+"/", 200)
	row := fmt.Sprintf(`#blocks-table tr[data-height="%d"]`, height)
	p.WaitVisible(row)
	p.Follow(row+" a", 200)
	p.WaitText("h1", fmt.Sprintf("Block %d", height))
	p.WaitText("#txs", "anchors 1 credential commitment")
	p.WaitText("#txs", "University of Examples")
	p.WaitText("#signers", "signed") // an older block: the next commit exists

	// The revocation: on the front page and in its block.
	if _, err := uni.Revoke(ctx, []string{b.Private.CredentialID}, nil); err != nil {
		t.Fatal(err)
	}
	p.Open(st.RegistryURL+"/", 200)
	got := p.WaitText("#revocations-table", "University of Examples")
	if leaves := p.Text("#revocations-table td.leaves"); b.Private.LeafIndex != 1 || leaves != "1" {
		t.Fatalf("revoked leaves %q, want %d: %q", leaves, b.Private.LeafIndex, got)
	}
	p.Screenshot("explorer")
	p.Follow("#revocations-table a", 200)
	p.WaitText("#txs", fmt.Sprintf("revokes leaf %d", b.Private.LeafIndex))
	p.Screenshot("explorer-block")
	// An accreditor registers a college: the issuers table says who
	// registered each issuer.
	_, ministry, _ := ed25519.GenerateKey(nil)
	_, college, _ := ed25519.GenerateKey(nil)
	if _, err := st.Governance.Do(ctx, registry.Accredit{PubKey: hex.EncodeToString(ministry.Public().(ed25519.PublicKey)), Name: "Ministry of Education", Kinds: []string{"college"}}); err != nil {
		t.Fatal(err)
	}
	ms, err := st.Registry.NewSigner(ctx, st.Genesis.ChainID, ministry)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ms.Do(ctx, registry.RegisterIssuer{PubKey: hex.EncodeToString(college.Public().(ed25519.PublicKey)), Name: "Example College", Kind: "college"}); err != nil {
		t.Fatal(err)
	}
	p.Open(st.RegistryURL+"/", 200)
	p.WaitText("#issuers-table", "Example College")
	if got := p.Text("#issuers-table"); !strings.Contains(got, "by Ministry of Education") || !strings.Contains(got, "by governance") {
		t.Fatalf("issuers: %q", got)
	}
	p.Phone()

	// Bad input answers JSON 4xx; the pages change nothing.
	for path, want := range map[string]int{"/ui/blocks/x": 400, "/ui/blocks/01": 400, "/ui/blocks/99999999": 404, "/ui/nope": 404} {
		resp, err := http.Get(st.RegistryURL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %s, want %d JSON", path, resp.StatusCode, resp.Header.Get("Content-Type"), want)
		}
	}
	resp, err := http.Post(st.RegistryURL+"/", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d", resp.StatusCode)
	}
	resp, err = http.Get(st.RegistryURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("no CSP on the explorer: %v", resp.Header)
	}
}
