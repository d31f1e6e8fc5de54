package wallet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkcred/zkcred/wire"

	"github.com/zkcred/zkcred/circuits"
	testenv "github.com/zkcred/zkcred/internal/wallettest"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/wallet"
)

func newWallet(t testing.TB, e *testenv.Env) *wallet.Wallet {
	t.Helper()
	return newWalletWith(t, e, wallet.Options{})
}

func newWalletWith(t testing.TB, e *testenv.Env, o wallet.Options) *wallet.Wallet {
	t.Helper()
	w, err := wallet.Create(filepath.Join(t.TempDir(), "wallet.age"), "pw", wallet.CreateOptions{
		WorkFactor: wallet.MinWorkFactor,
		Config:     wallet.Config{Registry: e.RegistryURL, Genesis: e.Genesis},
		Options:    o,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// editJSON decodes a bundle, lets f change it, and encodes it again.
func editJSON(t *testing.T, b []byte, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReceive(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	w := newWallet(t, e)
	ctx := context.Background()
	good := e.Issue(w.HolderCommit(), "3.72", time.Time{})

	refuse := func(name string, b []byte, want error) {
		t.Helper()
		_, err := w.Receive(ctx, b)
		if !errors.Is(err, want) || !errors.Is(err, wallet.ErrRefused) {
			t.Errorf("%s: got %v, want %v", name, err, want)
		}
	}
	// tampered signed credential: a claim changed
	refuse("tampered claim", editJSON(t, good, func(m map[string]any) {
		m["credential"].(map[string]any)["credentialSubject"].(map[string]any)["claims"].(map[string]any)["gpa"] = "4.00"
	}), wallet.ErrBadCredential)
	// tampered private values: the salt no longer opens the commitment
	refuse("tampered salt", editJSON(t, good, func(m map[string]any) {
		m["private"].(map[string]any)["salt"] = "12345"
	}), wallet.ErrBadCredential)
	// tampered private slot
	refuse("tampered slot", editJSON(t, good, func(m map[string]any) {
		m["private"].(map[string]any)["slots"].([]any)[5] = "400"
	}), wallet.ErrBadCredential)
	// issued to someone else
	other := newWallet(t, e)
	refuse("other holder", e.Issue(other.HolderCommit(), "3.10", time.Time{}), wallet.ErrNotMine)
	// a well-signed credential from an issuer the registry does not know
	rogue := e.IssueRogue(w.HolderCommit())
	refuse("unregistered issuer", rogue, wallet.ErrIssuerUnknown)
	if len(w.Credentials()) != 0 {
		t.Fatal("a refused credential was stored")
	}

	// the good one is accepted
	ent, err := w.Receive(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if ent.Credential().CredentialSubject.Claims["degree"] != "MSc" || len(w.Credentials()) != 1 {
		t.Fatal("stored credential")
	}
	// receiving it twice keeps one copy
	if _, err := w.Receive(ctx, good); err != nil || len(w.Credentials()) != 1 {
		t.Fatalf("second receive: %v, %d credentials", err, len(w.Credentials()))
	}

	// revoked before it is received
	rev := e.Issue(w.HolderCommit(), "3.00", time.Time{})
	e.Revoke(rev)
	refuse("revoked", rev, wallet.ErrRevokedLeaf)
}

// A signed credential whose commitment the registry does not hold at the
// stated leaf is refused, even though its issuer is registered.
func TestReceiveNotInTree(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	w := newWallet(t, e)
	ctx := context.Background()
	// The rogue issuer anchored in its own chain; once governance
	// registers it, it is a registered, active issuer whose leaf is not in
	// the registry's tree.
	b1 := e.IssueRogue(w.HolderCommit())
	e.Issue(w.HolderCommit(), "3.00", time.Time{}) // leaf 0 holds another issuer's commitment
	b2 := e.IssueRogue(w.HolderCommit())           // rogue leaf 1: no such leaf in the registry yet
	e.RegisterRogue()
	for i, b := range [][]byte{b1, b2} {
		_, err := w.Receive(ctx, b)
		if !errors.Is(err, wallet.ErrNotAnchored) {
			t.Errorf("bundle %d: got %v, want ErrNotAnchored", i, err)
		}
	}
}

func TestReceiveInactiveIssuer(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	w := newWallet(t, e)
	b := e.Issue(w.HolderCommit(), "3.00", time.Time{})
	e.Deactivate()
	if _, err := w.Receive(context.Background(), b); !errors.Is(err, wallet.ErrIssuerInactive) {
		t.Fatalf("got %v", err)
	}
}

func TestClaimOffer(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	w := newWallet(t, e)
	ctx := context.Background()
	u := e.Offer("3.50")
	o, err := w.FetchOffer(ctx, u)
	if err != nil || len(o.Display) == 0 {
		t.Fatalf("offer: %v %+v", err, o)
	}
	ent, err := w.Claim(ctx, u, e.Keys)
	if err != nil {
		t.Fatal(err)
	}
	if ent.Private().HolderCommit != w.HolderCommit() {
		t.Fatal("claimed credential is not bound to the wallet")
	}
	// the same wallet claiming again gets the same credential; another
	// wallet is refused
	again, err := w.Claim(ctx, u, e.Keys)
	if err != nil || again.ID != ent.ID || len(w.Credentials()) != 1 {
		t.Fatalf("second claim: %v", err)
	}
	var re *wallet.RemoteError
	if _, err := newWallet(t, e).Claim(ctx, u, e.Keys); !errors.As(err, &re) || re.Status != http.StatusConflict {
		t.Fatalf("claim by another wallet: %v", err)
	}
	// a wrong token is refused
	bad := strings.Replace(e.Offer("3.50"), "token=", "token=x", 1)
	if _, err := w.Claim(ctx, bad, e.Keys); !errors.As(err, &re) || re.Status != http.StatusForbidden {
		t.Fatalf("wrong token: %v", err)
	}
}

// recorder records the paths a wallet asks the registry for.
type recorder struct {
	mu    sync.Mutex
	paths []string
}

// reset returns the paths recorded so far and forgets them.
func (r *recorder) reset() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.paths
	r.paths = nil
	return p
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.paths = append(r.paths, req.URL.RequestURI())
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func TestPresent(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	rec := &recorder{}
	w := newWalletWith(t, e, wallet.Options{HTTP: &http.Client{Transport: rec}})
	ctx := context.Background()
	// a few leaves first, so that the leaf index is not its bucket number
	for range 3 {
		e.Issue(w.HolderCommit(), "2.00", time.Time{})
	}
	b := e.Issue(w.HolderCommit(), "3.72", time.Time{})
	ent, err := w.Receive(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := wallet.CheckKeys(ctx, e.Keys, e.Proven()); err != nil {
		t.Fatal(err)
	}

	req, err := w.ReadRequest(ctx, e.Request("graduate"))
	if err != nil {
		t.Fatal(err)
	}
	var desc bytes.Buffer
	var witness []string
	done, err := w.Present(ctx, req, wallet.PresentOptions{Keys: e.Keys, Confirm: func(p *wallet.Plan) error {
		p.Describe(&desc)
		rec.reset()
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Degree: MSc", "Grade point average", "Date of birth", "Not disclosed:",
		"Verifier " + e.VerifierURL + " asks", "The presentation goes to " + req.SubmitURL} {
		if !strings.Contains(desc.String(), s) {
			t.Errorf("description lacks %q:\n%s", s, desc.String())
		}
	}
	// bucket privacy: the registry is asked for the bucket, never the
	// leaf, and every request went through the wallet's HTTP client
	idx := ent.Private().LeafIndex
	paths := rec.reset()
	for _, p := range paths {
		if strings.HasPrefix(p, "/v1/witness/") {
			witness = append(witness, p)
		}
	}
	if idx == 0 || len(witness) != 1 || witness[0] != "/v1/witness/0" {
		t.Fatalf("leaf %d: witness requests %v, want only the bucket /v1/witness/0", idx, witness)
	}
	if !slices.Contains(paths, "/v1/requests/"+req.ID+"/presentations") {
		t.Fatalf("the submission did not go through the wallet's client: %v", paths)
	}
	res := done.Result
	if res.Status != wire.StatusVerified || res.Disclosed["degree"] != "MSc" || done.Plan.Entry.ID != ent.ID {
		t.Fatalf("verdict %+v", res)
	}
	// the same presentation again is refused by the verifier (nonce used)
	var re *wallet.RemoteError
	if _, err := w.Submit(ctx, req, done.Presentation); !errors.As(err, &re) || re.Code != wire.CodeReplay {
		t.Fatalf("replay: %v", err)
	}

	// A request no credential satisfies is explained.
	req2, err := w.ReadRequest(ctx, e.Request("excellent"))
	if err != nil {
		t.Fatal(err)
	}
	var nm *wallet.NoMatchError
	if _, err := w.Present(ctx, req2, wallet.PresentOptions{Keys: e.Keys}); !errors.As(err, &nm) || !strings.Contains(err.Error(), "Grade point average is 3.72, which does not satisfy") {
		t.Fatalf("unsatisfiable request: %v", err)
	}
	req3, _ := w.ReadRequest(ctx, e.Request("other-issuer"))
	if _, err := w.Present(ctx, req3, wallet.PresentOptions{Keys: e.Keys}); !errors.As(err, &nm) || !strings.Contains(err.Error(), "is not among the 1 issuers") {
		t.Fatalf("untrusted issuer: %v", err)
	}

	// Revoked: reported before proving; the verifier hears nothing.
	if err := w.CheckStatus(ctx, ent); err != nil {
		t.Fatalf("status before revocation: %v", err)
	}
	var chosen *wallet.Plan
	stop := errors.New("stop")
	req5, _ := w.ReadRequest(ctx, e.Request("graduate"))
	if _, err := w.Present(ctx, req5, wallet.PresentOptions{Keys: e.Keys, Confirm: func(p *wallet.Plan) error { chosen = p; return stop }}); !errors.Is(err, stop) {
		t.Fatal(err)
	}
	e.Revoke(b)
	// A plan chosen before the revocation cannot be proved after it.
	if _, err := w.Prove(ctx, chosen, e.Keys); !errors.Is(err, wallet.ErrRevoked) {
		t.Fatalf("proving a plan revoked since it was chosen: %v", err)
	}
	if err := w.CheckStatus(ctx, ent); !errors.Is(err, wallet.ErrRevoked) {
		t.Fatalf("status after revocation: %v", err)
	}
	req4, _ := w.ReadRequest(ctx, e.Request("graduate"))
	confirmed := false
	_, err = w.Present(ctx, req4, wallet.PresentOptions{CredentialID: ent.ID, Keys: e.Keys, Confirm: func(*wallet.Plan) error { confirmed = true; return nil }})
	if !errors.Is(err, wallet.ErrRevoked) || confirmed {
		t.Fatalf("revoked: %v (confirm asked: %v)", err, confirmed)
	}
	if r, err := e.Result(req4.ID); err != nil || r.Status != wire.StatusPending {
		t.Fatalf("verifier saw something for the revoked credential: %+v %v", r, err)
	}
}

// TestRelayedRequestRefused: a site that serves a genuine verifier's
// request (as it is, or with its own submitUrl) does not get a
// presentation: the wallet holds the audience to the origin it fetched the
// request from and to the submit URL's origin.
func TestRelayedRequestRefused(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	w := newWallet(t, e)
	ctx := context.Background()
	genuine := e.Request("graduate")
	if _, err := w.ReadRequest(ctx, genuine); err != nil {
		t.Fatalf("the verifier's own request: %v", err)
	}
	// The relay fetches the genuine request and serves it, optionally
	// pointing submitUrl at itself.
	var rewrite bool
	relay := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(e.VerifierURL + r.URL.Path)
		if err != nil {
			http.Error(rw, err.Error(), 502)
			return
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		if rewrite {
			m["submitUrl"] = "http://" + r.Host + r.URL.Path + "/presentations"
		}
		json.NewEncoder(rw).Encode(m)
	}))
	defer relay.Close()
	relayed := relay.URL + strings.TrimPrefix(genuine, e.VerifierURL)
	for _, rw := range []bool{false, true} {
		rewrite = rw
		_, err := w.ReadRequest(ctx, relayed)
		if !errors.Is(err, wallet.ErrAudience) || !strings.Contains(err.Error(), "served by "+relay.URL) {
			t.Errorf("relayed (own submitUrl %v): %v", rw, err)
		}
	}
	// As a file, the request's submitUrl must have the audience's origin,
	// and the audience must be an origin at all.
	b, err := http.Get(genuine)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.NewDecoder(b.Body).Decode(&m)
	b.Body.Close()
	file := func(edit func(map[string]any)) string {
		c := map[string]any{}
		for k, v := range m {
			c[k] = v
		}
		edit(c)
		out, _ := json.Marshal(c)
		p := filepath.Join(t.TempDir(), "request.json")
		os.WriteFile(p, out, 0o600)
		return p
	}
	if _, err := w.ReadRequest(ctx, file(func(map[string]any) {})); err != nil {
		t.Fatalf("the genuine request as a file: %v", err)
	}
	elsewhere := file(func(c map[string]any) { c["submitUrl"] = relay.URL + "/collect" })
	if _, err := w.ReadRequest(ctx, elsewhere); !errors.Is(err, wallet.ErrAudience) || !strings.Contains(err.Error(), "would go to "+relay.URL) {
		t.Errorf("file with another submitUrl: %v", err)
	}
	named := file(func(c map[string]any) {
		c["audience"] = "employer-example"
		c["audienceId"] = circuits.F(circuits.AudienceID("employer-example")).String()
	})
	if _, err := w.ReadRequest(ctx, named); !errors.Is(err, wallet.ErrAudience) || !strings.Contains(err.Error(), "not a web origin") {
		t.Errorf("audience that is no origin: %v", err)
	}
}

// Present skips a revoked candidate for a good one, and says so.
func TestPresentSkipsRevoked(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	w := newWallet(t, e)
	ctx := context.Background()
	old := e.Issue(w.HolderCommit(), "3.50", time.Time{})
	oldEnt, err := w.Receive(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	good, err := w.Receive(ctx, e.Issue(w.HolderCommit(), "3.60", time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	e.Revoke(old)
	req, err := w.ReadRequest(ctx, e.Request("graduate"))
	if err != nil {
		t.Fatal(err)
	}
	var skipped []string
	done, err := w.Present(ctx, req, wallet.PresentOptions{Keys: e.Keys, Skipped: func(en *wallet.Entry, err error) {
		if errors.Is(err, wallet.ErrRevoked) {
			skipped = append(skipped, en.ID)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if done.Plan.Entry.ID != good.ID || !slices.Equal(skipped, []string{oldEnt.ID}) || done.Result.Status != wire.StatusVerified {
		t.Fatalf("presented %s, skipped %v, verdict %+v; want %s presented and %s skipped", done.Plan.Entry.ID, skipped, done.Result, good.ID, oldEnt.ID)
	}
	// Once both are revoked, nothing is presented.
	e.Revoke(good.Bundle)
	req2, _ := w.ReadRequest(ctx, e.Request("graduate"))
	if _, err := w.Present(ctx, req2, wallet.PresentOptions{Keys: e.Keys}); !errors.Is(err, wallet.ErrRevoked) {
		t.Fatalf("both revoked: %v", err)
	}
}

// Confirm's refusal stops Present before it proves or submits; ProveOnly
// proves without submitting.
func TestPresentConfirmAndProveOnly(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	w := newWallet(t, e)
	ctx := context.Background()
	if _, err := w.Receive(ctx, e.Issue(w.HolderCommit(), "3.72", time.Time{})); err != nil {
		t.Fatal(err)
	}
	req, _ := w.ReadRequest(ctx, e.Request("graduate"))
	no := errors.New("not now")
	done, err := w.Present(ctx, req, wallet.PresentOptions{Keys: e.Keys, Confirm: func(*wallet.Plan) error { return no }})
	if !errors.Is(err, no) || done == nil || done.Plan == nil || done.Presentation != nil {
		t.Fatalf("refused: %v %+v", err, done)
	}
	done, err = w.Present(ctx, req, wallet.PresentOptions{Keys: e.Keys, ProveOnly: true})
	if err != nil || done.Presentation == nil || done.Result != nil {
		t.Fatalf("prove only: %v %+v", err, done)
	}
	if r, err := e.Result(req.ID); err != nil || r.Status != wire.StatusPending {
		t.Fatalf("the verifier heard of a presentation that was not submitted: %+v %v", r, err)
	}
	if res, err := w.Submit(ctx, req, done.Presentation); err != nil || res.Status != wire.StatusVerified {
		t.Fatalf("submitting the proved presentation: %v %+v", err, res)
	}
}

// The wallet's light client uses the HTTP client of its options: a wallet
// whose client cannot reach anything fails, naming that client's error.
func TestOptionsHTTPClientIsUsed(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	down := errors.New("transport refused by test")
	w := newWalletWith(t, e, wallet.Options{HTTP: &http.Client{Transport: failing{down}}})
	if _, err := w.Receive(context.Background(), e.Issue(w.HolderCommit(), "3.72", time.Time{})); !errors.Is(err, down) {
		t.Fatalf("receive through a failing client: %v", err)
	}
}

type failing struct{ err error }

func (f failing) RoundTrip(*http.Request) (*http.Response, error) { return nil, f.err }

func TestPresentExpired(t *testing.T) {
	e := testenv.Start(t, testenv.Options{})
	w := newWallet(t, e)
	ctx := context.Background()
	b := e.IssueExpired(w.HolderCommit())
	ent, err := w.Receive(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := w.ReadRequest(ctx, e.Request("graduate"))
	_, err = w.Present(ctx, req, wallet.PresentOptions{CredentialID: ent.ID, Keys: e.Keys})
	if !errors.Is(err, wallet.ErrExpired) {
		t.Fatalf("expired, named: %v", err)
	}
	var nm *wallet.NoMatchError
	if _, err = w.Present(ctx, req, wallet.PresentOptions{Keys: e.Keys}); !errors.As(err, &nm) || !strings.Contains(err.Error(), "expired on") {
		t.Fatalf("expired, chosen: %v", err)
	}
}

func TestKeysCheckedAgainstChain(t *testing.T) {
	ctx := context.Background()
	keys := testenv.Keys(t)
	e := testenv.Start(t, testenv.Options{VKHash: strings.Repeat("ab", 32)})
	if err := wallet.CheckKeys(ctx, keys, e.Proven()); !errors.Is(err, wallet.ErrKeysMismatch) {
		t.Fatalf("other published hash: %v", err)
	}
	// Keys absent from the data directory are fetched from the configured
	// URL, then checked against the chain: here they do not match.
	ks := httptest.NewServer(http.FileServer(http.Dir(testenv.KeyDir())))
	defer ks.Close()
	w0, _ := wallet.Create(filepath.Join(t.TempDir(), "w.age"), "pw", wallet.CreateOptions{WorkFactor: wallet.MinWorkFactor,
		Config: wallet.Config{Registry: e.RegistryURL, Genesis: e.Genesis, KeysURL: ks.URL}})
	defer w0.Close()
	kdir := t.TempDir()
	if _, err := w0.LoadKeys(ctx, kdir); !errors.Is(err, wallet.ErrKeysMismatch) {
		t.Fatalf("fetched keys, other published hash: %v", err)
	}
	if _, err := os.Stat(filepath.Join(kdir, filepath.Base(circuits.PresentationID)+".pk")); err != nil {
		t.Fatalf("keys not fetched: %v", err)
	}
	e = testenv.Start(t, testenv.Options{SkipCircuit: true})
	if err := wallet.CheckKeys(ctx, keys, e.Proven()); !errors.Is(err, wallet.ErrKeysUnpublished) {
		t.Fatalf("unpublished: %v", err)
	}
	// keys missing from the directory, fetched from the configured URL
	w, _ := wallet.Create(filepath.Join(t.TempDir(), "w.age"), "pw", wallet.CreateOptions{WorkFactor: wallet.MinWorkFactor,
		Config: wallet.Config{Registry: e.RegistryURL, Genesis: e.Genesis}})
	defer w.Close()
	if _, err := w.LoadKeys(ctx, t.TempDir()); !errors.Is(err, wallet.ErrNoKeys) {
		t.Fatalf("no keys: %v", err)
	}
}

// A fetched proving key that does not belong to the verifying key served
// with it (and published on the chain) is refused and removed.
func TestFetchedKeysMismatchedPair(t *testing.T) {
	if testing.Short() {
		t.Skip("makes a second set of keys once")
	}
	ctx := context.Background()
	other, err := circuits.LoadOrSetup(testenv.KeyDir()+"-other", nil)
	if err != nil {
		t.Fatal(err)
	}
	mixed := t.TempDir()
	pres, holder := filepath.Base(circuits.PresentationID), filepath.Base(circuits.HolderID)
	for _, f := range []struct{ from, name string }{
		{testenv.KeyDir(), pres + ".pk"}, {testenv.KeyDir() + "-other", pres + ".vk"},
		{testenv.KeyDir(), holder + ".pk"}, {testenv.KeyDir(), holder + ".vk"},
	} {
		b, err := os.ReadFile(filepath.Join(f.from, f.name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(mixed, f.name), b, 0o644)
	}
	e := testenv.Start(t, testenv.Options{VKHash: other.Verifier().Hash()})
	ks := httptest.NewServer(http.FileServer(http.Dir(mixed)))
	defer ks.Close()
	w, _ := wallet.Create(filepath.Join(t.TempDir(), "w.age"), "pw", wallet.CreateOptions{WorkFactor: wallet.MinWorkFactor,
		Config: wallet.Config{Registry: e.RegistryURL, Genesis: e.Genesis, KeysURL: ks.URL}})
	defer w.Close()
	kdir := t.TempDir()
	if _, err := w.LoadKeys(ctx, kdir); !errors.Is(err, wallet.ErrKeysMismatch) || !strings.Contains(err.Error(), "does not match its verifying key") {
		t.Fatalf("mismatched pair: %v", err)
	}
	if _, err := os.Stat(filepath.Join(kdir, pres+".pk")); !os.IsNotExist(err) {
		t.Fatal("refused keys were kept")
	}
}

var _ = registry.ErrNotFound
var _ = wire.ErrCredential
var _ = circuits.Slots
