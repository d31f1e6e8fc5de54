package circuits

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	cs "github.com/consensys/gnark/constraint/bn254"
	"github.com/consensys/gnark/frontend"
)

// oracleSums computes a witness's four wire sums independently of the
// incremental prover: gnark's solver, then gnark-crypto's multi-
// exponentiations over the key's point slices with the wires filtered as
// gnark's own prover filters them.
func oracleSums(t testing.TB, k *Keys, w *Witness) wireSums {
	t.Helper()
	pk := k.pres.pk
	wit, err := frontend.NewWitness(w.assignment(), ecc.BN254.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	sol, err := k.pres.ccs.Solve(wit)
	if err != nil {
		t.Fatal(err)
	}
	wires := sol.(*cs.R1CSSolution).W
	var wa, wb []fr.Element
	for i := range wires {
		if !pk.InfinityA[i] {
			wa = append(wa, wires[i])
		}
		if !pk.InfinityB[i] {
			wb = append(wb, wires[i])
		}
	}
	var s wireSums
	cfg := ecc.MultiExpConfig{}
	if _, err := s.a.MultiExp(pk.G1.A, wa, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := s.b1.MultiExp(pk.G1.B, wb, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := s.b2.MultiExp(pk.G2.B, wb, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := s.k.MultiExp(pk.G1.K, wires[k.pres.ccs.GetNbPublicVariables():], cfg); err != nil {
		t.Fatal(err)
	}
	return s
}

// holder is one holder with several credentials anchored in one tree, for
// sequences of presentations.
type holder struct {
	s     *sample
	creds []Credential
	index []uint64
}

func newHolder(t testing.TB, n int) *holder {
	t.Helper()
	s, err := newSample()
	if err != nil {
		t.Fatal(err)
	}
	h := &holder{s: s, creds: []Credential{s.Witness.Credential}, index: []uint64{s.Witness.LeafIndex}}
	for i := 1; i < n; i++ {
		c := s.Witness.Credential
		c.Salt = RandomElement()
		c.Attrs[sampleGPA] = U64(300 + uint64(i))
		idx, err := s.Tree.Append(LeafHash(s.Witness.IssuerID, c.Commitment()))
		if err != nil {
			t.Fatal(err)
		}
		h.creds, h.index = append(h.creds, c), append(h.index, idx)
	}
	return h
}

// witness returns a witness for credential i against the tree's current
// root, with the sample's request.
func (h *holder) witness(i int) *Witness {
	w := *h.s.Witness
	w.Credential, w.LeafIndex = h.creds[i], h.index[i]
	w.Path, w.Root = h.s.Tree.Path(w.LeafIndex), h.s.Tree.Root()
	return &w
}

// newRequest changes everything a new verifier request changes: nonce,
// audience, now, disclosure and the four predicates.
func newRequest(t testing.TB, w *Witness, r *rand.Rand) {
	t.Helper()
	w.Nonce = RandomBytes31()
	w.Audience = AudienceID("https://verifier-" + string(rune('a'+r.IntN(26))) + ".example")
	w.Now = 1_800_000_000 + r.Uint64N(1_000_000)
	w.Query.Disclose = uint16(r.IntN(1 << Slots))
	preds := []struct {
		slot int
		op   string
		vals []fr.Element
	}{
		{sampleBirth, "lte", []fr.Element{U64(20081128 - r.Uint64N(100))}},
		{sampleGrad, "gte", []fr.Element{U64(20200101 + r.Uint64N(100))}},
		{sampleDegree, "in", []fr.Element{U64(1), U64(2)}},
		{sampleName, "ne", []fr.Element{StringValue("Bob")}},
		{sampleGPA, "between", []fr.Element{U64(300 - r.Uint64N(10)), U64(400 + r.Uint64N(10))}},
		{sampleHonour, "eq", []fr.Element{U64(1)}},
	}
	r.Shuffle(len(preds), func(i, j int) { preds[i], preds[j] = preds[j], preds[i] })
	for i := range w.Query.Predicates {
		p := preds[i]
		var err error
		if w.Query.Predicates[i], err = NewPredicate(p.slot, p.op, p.vals...); err != nil {
			t.Fatal(err)
		}
	}
}

func testRand(t testing.TB) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, 17))
}

// TestIncrementalSequences runs random sequences of presentations by one
// holder (new requests, new scopes, nonces alone, new roots, switches to
// another credential). Every proof made from the state must verify, must
// come from the state unless the credential changed, and the state's
// updated sums must equal an independent full computation.
func TestIncrementalSequences(t *testing.T) {
	k := keysT(t)
	v := k.Verifier()
	r := testRand(t)
	h := newHolder(t, 3)
	cur, stateCur := 0, 0 // credential of the last witness, of the state
	w := h.witness(cur)
	var st ProverState
	if err := k.UpdateState(&st, w); err != nil {
		t.Fatal(err)
	}
	steps := []string{"request", "scope", "nonce", "root", "credential"}
	for step := range 14 {
		kind := steps[r.IntN(len(steps))]
		if step < len(steps) {
			kind = steps[step] // each kind at least once
		}
		next := *w
		switch kind {
		case "request":
			newRequest(t, &next, r)
		case "scope":
			newRequest(t, &next, r)
			next.Scope = ScopeID("scope-" + string(rune('a'+r.IntN(26))))
		case "nonce":
			next.Nonce = RandomBytes31()
		case "root":
			leaves := make([]fr.Element, 1+r.IntN(3000))
			for i := range leaves {
				leaves[i] = RandomElement()
			}
			if _, err := h.s.Tree.Append(leaves...); err != nil {
				t.Fatal(err)
			}
			next.Path, next.Root = h.s.Tree.Path(next.LeafIndex), h.s.Tree.Root()
			next.Height++
		case "credential":
			cur = (cur + 1 + r.IntN(len(h.creds)-1)) % len(h.creds)
			nw := h.witness(cur)
			nw.Nonce, nw.Audience, nw.Now, nw.Query, nw.Scope = next.Nonce, next.Audience, next.Now, next.Query, next.Scope
			next = *nw
		}
		proof, pub, info, err := k.ProveFrom(&st, &next)
		if err != nil {
			t.Fatalf("step %d (%s): %v", step, kind, err)
		}
		if err := v.Verify(proof, pub); err != nil {
			t.Fatalf("step %d (%s): proof from the state rejected: %v", step, kind, err)
		}
		// A switch can land on the state's own credential, since the state
		// moves only every other step.
		wantInc := kind != "credential" || cur == stateCur
		if info.Incremental != wantInc {
			t.Fatalf("step %d (%s): incremental %v (fallback %v), want %v", step, kind, info.Incremental, info.Fallback, wantInc)
		}
		if !wantInc && !errors.Is(info.Fallback, ErrStateOtherCredential) {
			t.Fatalf("step %d: fallback %v, want ErrStateOtherCredential", step, info.Fallback)
		}
		t.Logf("step %d %-10s changed %5d wires, incremental %v", step, kind, info.Changed, info.Incremental)

		// Move the state along every other step; the others prove from an
		// ever older state, as a wallet resting at one witness does.
		if step%2 == 0 {
			if err := k.UpdateState(&st, &next); err != nil {
				t.Fatal(err)
			}
			if kind == "credential" {
				stateCur = cur
			}
			if want := oracleSums(t, k, &next); !st.sums.equal(&want) {
				t.Fatalf("step %d (%s): updated sums differ from a full computation", step, kind)
			}
			w = &next
		}
	}
}

// TestProverStateMismatch feeds states that do not belong to the witness:
// each is detected, named, and replaced by a full proof that verifies.
func TestProverStateMismatch(t *testing.T) {
	k := keysT(t)
	v := k.Verifier()
	h := newHolder(t, 2)
	w := h.witness(0)
	var st ProverState
	if err := k.UpdateState(&st, w); err != nil {
		t.Fatal(err)
	}
	_, _, g1Aff, g2Aff := bn254.Generators()
	other := func(f func(*ProverState)) *ProverState {
		c := st
		c.wires = append([]fr.Element(nil), st.wires...)
		f(&c)
		return &c
	}
	otherKeyState := func() *ProverState {
		k2 := otherKeysT(t)
		var s ProverState
		if err := k2.UpdateState(&s, w); err != nil {
			t.Fatal(err)
		}
		return &s
	}
	cases := []struct {
		name  string
		st    *ProverState
		w     *Witness
		wantF error
	}{
		{"nil", nil, w, ErrStateEmpty},
		{"empty", &ProverState{}, w, ErrStateEmpty},
		{"other credential", &st, h.witness(1), ErrStateOtherCredential},
		{"other key", otherKeyState(), w, ErrStateOtherKey},
		{"flipped A sum", other(func(s *ProverState) { s.sums.a.AddMixed(&g1Aff) }), w, ErrStateCorrupt},
		{"flipped B1 sum", other(func(s *ProverState) { s.sums.b1.AddMixed(&g1Aff) }), w, ErrStateCorrupt},
		{"flipped B2 sum", other(func(s *ProverState) { s.sums.b2.AddMixed(&g2Aff) }), w, ErrStateCorrupt},
		{"flipped K sum", other(func(s *ProverState) { s.sums.k.AddMixed(&g1Aff) }), w, ErrStateCorrupt},
		{"flipped wire", other(func(s *ProverState) {
			one := U64(1)
			s.wires[len(s.wires)/2].Add(&s.wires[len(s.wires)/2], &one)
		}), w, ErrStateCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			next := *c.w
			next.Nonce = RandomBytes31()
			proof, pub, info, err := k.ProveFrom(c.st, &next)
			if err != nil {
				t.Fatal(err)
			}
			if info.Incremental || !errors.Is(info.Fallback, c.wantF) {
				t.Fatalf("incremental %v, fallback %v; want a full proof after %v", info.Incremental, info.Fallback, c.wantF)
			}
			if err := v.Verify(proof, pub); err != nil {
				t.Fatalf("fallback proof rejected: %v", err)
			}
		})
	}

	// UpdateState over a mismatched state starts afresh: the sums are
	// those of the new witness, not carried over.
	s := *other(func(s *ProverState) {})
	w1 := h.witness(1)
	if err := k.UpdateState(&s, w1); err != nil {
		t.Fatal(err)
	}
	if want := oracleSums(t, k, w1); !s.sums.equal(&want) {
		t.Fatal("state moved to another credential has wrong sums")
	}
}

// otherKeys are a second, independent setup of the presentation circuit.
var otherKeys = sync.OnceValues(func() (*Keys, error) {
	pres, err := setupCircuit(PresentationID, &PresentationCircuit{})
	if err != nil {
		return nil, err
	}
	return &Keys{pres: pres}, nil
})

func otherKeysT(t testing.TB) *Keys {
	t.Helper()
	k, err := otherKeys()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestProverStateEncoding: a state round-trips, fits in 1 MB, and any
// flipped byte is refused; a state re-checksummed around a wrong sum
// decodes but is caught when proving.
func TestProverStateEncoding(t *testing.T) {
	k := keysT(t)
	h := newHolder(t, 1)
	w := h.witness(0)
	var st ProverState
	if _, err := st.MarshalBinary(); !errors.Is(err, ErrStateEmpty) {
		t.Fatalf("empty state encoded: %v", err)
	}
	if err := k.UpdateState(&st, w); err != nil {
		t.Fatal(err)
	}
	b, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("state: %d bytes for %d wires", len(b), len(st.wires))
	if len(b) > 1<<20 {
		t.Fatalf("state is %d bytes, over 1 MB", len(b))
	}
	var got ProverState
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got.key != st.key || !got.cred.Equal(&st.cred) || !got.sums.equal(&st.sums) || len(got.wires) != len(st.wires) {
		t.Fatal("decoded state differs")
	}
	for i := range got.wires {
		if !got.wires[i].Equal(&st.wires[i]) {
			t.Fatalf("wire %d differs after decoding", i)
		}
	}
	if b2, _ := got.MarshalBinary(); string(b2) != string(b) {
		t.Fatal("re-encoding differs")
	}
	next := *w
	next.Nonce = RandomBytes31()
	if _, _, info, err := k.ProveFrom(&got, &next); err != nil || !info.Incremental {
		t.Fatalf("decoded state not used: %v %v", err, info.Fallback)
	}

	// Every byte flipped (a sample of positions across every field).
	r := testRand(t)
	positions := []int{0, 7, 20, len(b) - 1, len(b) - 33, len(b) - 40, len(b) - 100}
	for range 40 {
		positions = append(positions, r.IntN(len(b)))
	}
	for _, pos := range positions {
		bad := append([]byte(nil), b...)
		bad[pos] ^= 1 << r.IntN(8)
		var s ProverState
		if err := s.UnmarshalBinary(bad); !errors.Is(err, ErrStateCorrupt) && !errors.Is(err, ErrWrongCircuit) {
			t.Fatalf("byte %d of %d flipped: decoded (%v)", pos, len(b), err)
		}
	}
	for _, n := range []int{0, 10, len(b) / 2, len(b) - 1} {
		var s ProverState
		if err := s.UnmarshalBinary(b[:n]); err == nil {
			t.Fatalf("state truncated to %d bytes decoded", n)
		}
	}

	// A wrong sum behind a valid checksum: decodes, then ProveFrom notices.
	forged := st
	_, _, g1, _ := bn254.Generators()
	forged.sums.k.AddMixed(&g1)
	fb, _ := forged.MarshalBinary()
	var s ProverState
	if err := s.UnmarshalBinary(fb); err != nil {
		t.Fatal(err)
	}
	proof, pub, info, err := k.ProveFrom(&s, &next)
	if err != nil {
		t.Fatal(err)
	}
	if info.Incremental || !errors.Is(info.Fallback, ErrStateCorrupt) {
		t.Fatalf("wrong sum not detected: %+v", info)
	}
	if err := k.Verifier().Verify(proof, pub); err != nil {
		t.Fatal(err)
	}
}

// TestIncrementalFreshRandomness: two proofs of one witness from one state
// share no proof element (r and s are drawn anew), and both verify.
func TestIncrementalFreshRandomness(t *testing.T) {
	k := keysT(t)
	h := newHolder(t, 1)
	w := h.witness(0)
	var st ProverState
	if err := k.UpdateState(&st, w); err != nil {
		t.Fatal(err)
	}
	next := *w
	next.Nonce = RandomBytes31()
	var proofs [2][]byte
	for i := range proofs {
		p, pub, info, err := k.ProveFrom(&st, &next)
		if err != nil || !info.Incremental {
			t.Fatal(err, info.Fallback)
		}
		if err := k.Verifier().Verify(p, pub); err != nil {
			t.Fatal(err)
		}
		proofs[i] = p
	}
	a, _ := decodeProof(PresentationID, proofs[0])
	b, _ := decodeProof(PresentationID, proofs[1])
	if a.Ar.Equal(&b.Ar) || a.Bs.Equal(&b.Bs) || a.Krs.Equal(&b.Krs) {
		t.Fatal("two proofs from one state share a proof element: r or s reused")
	}
}

// TestIncrementalSnarkJS: an incremental proof, exported, passes the
// independent verifier and, where installed, snarkjs itself. The Solidity
// export depends on the verifying key only and so does not change.
func TestIncrementalSnarkJS(t *testing.T) {
	k := keysT(t)
	h := newHolder(t, 1)
	w := h.witness(0)
	var st ProverState
	if err := k.UpdateState(&st, w); err != nil {
		t.Fatal(err)
	}
	next := *w
	newRequest(t, &next, testRand(t))
	p, pub, info, err := k.ProveFrom(&st, &next)
	if err != nil || !info.Incremental {
		t.Fatal(err, info.Fallback)
	}
	sp, err := SnarkJSProofOf(PresentationID, p)
	if err != nil {
		t.Fatal(err)
	}
	vk, _ := json.Marshal(k.Verifier().SnarkJS())
	proof, _ := json.Marshal(sp)
	public, _ := json.Marshal(SnarkJSPublic(pub.Vector()))
	if err := VerifySnarkJS(vk, proof, public); err != nil {
		t.Fatalf("incremental proof rejected by the independent verifier: %v", err)
	}
	var alt []string
	json.Unmarshal(public, &alt)
	alt[5] = "1"
	altered, _ := json.Marshal(alt)
	if err := VerifySnarkJS(vk, proof, altered); err == nil {
		t.Fatal("incremental proof accepted with an altered nonce")
	}

	bin := os.Getenv("SNARKJS")
	if bin == "" {
		bin, _ = exec.LookPath("snarkjs")
	}
	if bin == "" {
		if os.Getenv("ZKCRED_REQUIRE_SNARKJS") != "" {
			t.Fatal("snarkjs not found and ZKCRED_REQUIRE_SNARKJS is set")
		}
		t.Skip("snarkjs not installed (npm install snarkjs@0.7.6)")
	}
	dir := t.TempDir()
	run := func(public []byte) (string, error) {
		for name, b := range map[string][]byte{"verification_key.json": vk, "proof.json": proof, "public.json": public} {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(bin, "groth16", "verify", "verification_key.json", "public.json", "proof.json")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(public); err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("snarkjs rejected the incremental proof: %v\n%s", err, out)
	}
	if out, err := run(altered); err == nil && !strings.Contains(out, "Invalid") {
		t.Fatalf("snarkjs accepted an altered public input:\n%s", out)
	}
}

func FuzzProverState(f *testing.F) {
	// A small well-formed state (the encoding does not depend on the key):
	// zero, small and large wires, and sums that are points and infinity.
	st := ProverState{cred: RandomElement(), wires: []fr.Element{{}, U64(1), U64(300), RandomElement()}}
	st.key[0] = 7
	g1, g2, _, _ := bn254.Generators()
	st.sums.a, st.sums.b2 = g1, g2
	st.sums.k.Double(&g1)
	b, err := st.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:100])
	f.Add(b[:len(b)-32]) // the body: the target appends its checksum
	f.Fuzz(func(t *testing.T, data []byte) {
		// As given, and with the checksum made to fit, so that the parser
		// behind it is explored too.
		sum := sha256.Sum256(data)
		for _, in := range [][]byte{data, append(append([]byte(nil), data...), sum[:]...)} {
			var s ProverState
			if err := s.UnmarshalBinary(in); err != nil {
				continue
			}
			out, err := s.MarshalBinary()
			if err != nil || string(out) != string(in) {
				t.Fatalf("decode → encode does not round-trip (%v)", err)
			}
		}
	})
}

// TestProveChecksEveryProof: with a proving key from another setup than
// the verifying key, no proof comes out, full or from a state.
func TestProveChecksEveryProof(t *testing.T) {
	good := keysT(t)
	mixed := &Keys{pres: good.pres, holder: good.holder}
	mixed.pres.pk = otherKeysT(t).pres.pk
	w := newFixture(t).w
	if _, _, err := mixed.Prove(w); err == nil || !strings.Contains(err.Error(), "do not match") {
		t.Fatalf("full proof with mismatched keys: err = %v", err)
	}
	var st ProverState
	if err := mixed.UpdateState(&st, w); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := mixed.ProveFrom(&st, w); err == nil {
		t.Fatal("proof from a state with mismatched keys returned")
	}
}
