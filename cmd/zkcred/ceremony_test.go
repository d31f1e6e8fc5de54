package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zkcred/zkcred/ceremony"
	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/node"
)

// TestCeremonyProcesses runs a whole ceremony for zkcred's real circuits
// with the real binary, every party a separate process in its own
// directory: a coordinator starts a native phase 1, one member contributes
// to it, the coordinator seals it with a registry block and starts phase 2
// for the presentation and holder circuits, three members contribute in
// turn, anyone verifies, the coordinator finalizes with the announced
// block, governance publishes the hashes. Then: proofs with the keys
// verify in zkcred and in snarkjs, the chain holds the keys' and the
// transcript's hashes, and a verifier refuses to start with a key the
// chain has not published.
func TestCeremonyProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a whole ceremony of the presentation circuit")
	}
	bin := buildZkcred(t)
	root := t.TempDir()
	dirOf := func(name string) string {
		d := filepath.Join(root, name)
		os.MkdirAll(d, 0o755)
		return d
	}
	run := func(dir string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("zkcred %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
		}
		t.Logf("%s in %s: %v", strings.Join(args[:2], " "), filepath.Base(dir), time.Since(start).Round(time.Millisecond))
		return out
	}

	// The registry, which gives the beacons.
	reg := filepath.Join(root, "registry")
	passFile := filepath.Join(root, "governance-passphrase")
	os.WriteFile(passFile, []byte("ceremony governance\n"), 0o600)
	run(root, "registry", "init", "--dir", reg, "--chain-id", "ceremony-test", "--passphrase-file", passFile, "--work-factor", "10")
	srv := exec.Command(bin, "registry", "start", "--dir", reg, "--addr", "127.0.0.1:0", "--heartbeat", "-1s", "--interval", "5ms")
	stdout, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("registry did not start: %v", err)
	}
	go io.Copy(io.Discard, stdout)
	var url string
	for _, f := range strings.Fields(line) {
		if strings.HasPrefix(f, "http://") {
			url = f
		}
	}
	d, err := node.OpenDir(reg)
	if err != nil {
		t.Fatal(err)
	}
	gov, err := node.ReadKey(filepath.Join(reg, node.GovernanceFile), []byte("ceremony governance"))
	if err != nil {
		t.Fatal(err)
	}
	genesis := filepath.Join(reg, "genesis.json")
	cl, _ := client.New(url, client.Options{})
	ctx := context.Background()
	signer, err := cl.NewSigner(ctx, d.Genesis.ChainID, gov)
	if err != nil {
		t.Fatal(err)
	}
	// tick makes a block (the registry makes none when idle here).
	publish := func(circuit, vkHash string) uint64 {
		rc, err := signer.Do(ctx, registry.PublishCircuit{Circuit: circuit, VKHash: vkHash})
		if err != nil {
			t.Fatal(err)
		}
		return rc.Height
	}
	tick := func() uint64 {
		b := make([]byte, 32)
		rand.Read(b)
		return publish("zkcred/test-tick", hex.EncodeToString(b))
	}
	// Each acknowledged transaction is followed by the blocks that sign its
	// state, so a beacon announced now lies a few blocks ahead; tickTo
	// makes blocks until it exists.
	ahead := func() uint64 {
		h, err := cl.Latest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return h.Height + 5
	}
	tickTo := func(h uint64) {
		for tick() < h {
		}
	}
	chain := []string{"--registry", url, "--genesis", genesis}
	copyFiles := func(from, to string, names ...string) {
		t.Helper()
		for _, n := range names {
			b, err := os.ReadFile(filepath.Join(from, n))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(to, n), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	var contributed struct {
		Contributions []struct {
			Circuit, File, Hash string
			Index               int
		} `json:"contributions"`
	}

	// Phase 1, natively: the coordinator announces its beacon block.
	coord := dirOf("coordinator")
	h1 := ahead()
	run(coord, append([]string{"ceremony", "init", "--dir", coord, "--phase1-power", "14", "--beacon-height", itoa(h1), "--json"}, chain...)...)
	p1 := dirOf("phase1-member")
	copyFiles(coord, p1, ceremony.Phase1File(0))
	json.Unmarshal(run(p1, append([]string{"ceremony", "contribute", "--dir", p1, "--name", "phase-1 member", "--json"}, chain...)...), &contributed)
	if len(contributed.Contributions) != 1 || contributed.Contributions[0].File != ceremony.Phase1File(1) {
		t.Fatalf("phase-1 contribution: %+v", contributed)
	}
	copyFiles(p1, coord, ceremony.Phase1File(1))
	tickTo(h1)

	// Phase 2: sealing phase 1 with block h1 and announcing block h2.
	h2 := ahead()
	run(coord, append([]string{"ceremony", "init", "--dir", coord, "--beacon-height", itoa(h2), "--json"}, chain...)...)
	shipped, err := ceremony.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	announced := map[string]string{}
	for m := 1; m <= 3; m++ {
		member := dirOf("member" + itoa(uint64(m)))
		for _, c := range shipped {
			names := []string{ceremony.Phase2File(c, m-1)}
			if m > 1 {
				names = append(names, ceremony.Phase2File(c, m-2))
			}
			copyFiles(coord, member, names...)
		}
		json.Unmarshal(run(member, append([]string{"ceremony", "contribute", "--dir", member, "--name", "member " + itoa(uint64(m)), "--json"}, chain...)...), &contributed)
		if len(contributed.Contributions) != 2 {
			t.Fatalf("member %d: %+v", m, contributed)
		}
		for _, w := range contributed.Contributions {
			if w.Index != m {
				t.Fatalf("member %d wrote contribution %d", m, w.Index)
			}
			copyFiles(member, coord, w.File)
			announced[w.File] = w.Hash
		}
	}

	// Anyone verifies the transcript so far; the announced hashes are in it.
	var rep ceremony.Report
	json.Unmarshal(run(root, append([]string{"ceremony", "verify", "--dir", coord, "--json"}, chain...)...), &rep)
	if len(rep.Circuits) != 2 {
		t.Fatalf("verify: %+v", rep)
	}
	for _, c := range rep.Circuits {
		if len(c.Contributions) != 3 || c.Finalized {
			t.Fatalf("verify %s: %+v", c.Circuit, c)
		}
	}

	// Finalize once the beacon block exists.
	tickTo(h2)
	keys := filepath.Join(root, "keys")
	run(coord, append([]string{"ceremony", "finalize", "--dir", coord, "--keys", keys, "--json"}, chain...)...)
	json.Unmarshal(run(root, append([]string{"ceremony", "verify", "--dir", coord, "--keys", keys, "--json"}, chain...)...), &rep)
	byID := map[string]ceremony.CircuitReport{}
	for _, c := range rep.Circuits {
		if !c.Finalized || !c.BeaconChecked || c.Beacon.Height != h2 || c.TranscriptHash == "" {
			t.Fatalf("verify after finalize %s: %+v", c.Circuit, c)
		}
		for _, k := range c.Contributions {
			if announced[ceremony.Phase2File(&ceremony.Circuit{ID: c.Circuit}, k.Index)] != k.Hash.String() {
				t.Fatalf("%s contribution %d: hash %s is not the one announced", c.Circuit, k.Index, k.Hash)
			}
		}
		byID[c.Circuit] = c
	}

	// A verifier refuses keys the chain has not published: first none,
	// then another hash for the presentation circuit.
	k, err := circuits.LoadKeysDir(keys)
	if err != nil {
		t.Fatal(err)
	}
	if k.Verifier().Hash() != byID[circuits.PresentationID].VKHash {
		t.Fatal("key files do not match the transcript")
	}
	cfg := "../../verifier/testdata/verifier.json"
	serve := func() (string, error) {
		cmd := exec.Command(bin, append([]string{"verifier", "serve", "--config", cfg, "--keys", keys, "--addr", "127.0.0.1:0", "--dir", filepath.Join(root, "verifier")}, chain...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err == nil {
			cmd.Process.Signal(syscall.SIGTERM)
		}
		cmd.Wait()
		return line + stderr.String(), err
	}
	if out, err := serve(); err == nil || !strings.Contains(out, "publishes no verifying-key hash") || !strings.Contains(out, k.Verifier().Hash()) {
		t.Fatalf("verifier with an unpublished key: %v\n%s", err, out)
	}
	other := strings.Repeat("0f", 32)
	publish(circuits.PresentationID, other)
	if out, err := serve(); err == nil || !strings.Contains(out, other) || !strings.Contains(out, k.Verifier().Hash()) {
		t.Fatalf("verifier with a key the chain does not publish: %v\n%s", err, out)
	}

	// Governance publishes the ceremony's hashes; the chain holds them.
	run(root, "registry", "govern", "publish-circuits", "--dir", reg, "--registry", url, "--keys", keys, "--ceremony", coord, "--passphrase-file", passFile, "--json")
	recs, err := cl.Circuits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, r := range recs {
		if c, ok := byID[r.Circuit]; ok {
			if r.VKHash != c.VKHash || r.TranscriptHash != c.TranscriptHash {
				t.Fatalf("%s on chain: %+v, transcript gives %+v", r.Circuit, r, c)
			}
			found++
		}
	}
	if found != 2 {
		t.Fatalf("published circuits: %+v", recs)
	}
	if out, err := serve(); err != nil || !strings.Contains(out, "listening") {
		t.Fatalf("verifier with the published key did not start: %v\n%s", err, out)
	}

	// Proofs with the ceremony's keys verify in zkcred and in snarkjs.
	wit, err := circuits.SampleWitness()
	if err != nil {
		t.Fatal(err)
	}
	proof, pub, err := k.Prove(wit)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Verifier().Verify(proof, pub); err != nil {
		t.Fatalf("proof with ceremony keys: %v", err)
	}
	s, c := circuits.RandomElement(), circuits.RandomElement()
	hp, err := k.ProveHolder(s, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.HolderVerifier().VerifyHolder(circuits.HolderCommit(s), c, hp); err != nil {
		t.Fatalf("holder proof with ceremony keys: %v", err)
	}
	snarkjsVerify(t, k, proof, pub)
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

// snarkjsVerify checks the proof with snarkjs through the snarkjs export.
func snarkjsVerify(t *testing.T, k *circuits.Keys, proof []byte, pub *circuits.Public) {
	t.Helper()
	bin := os.Getenv("SNARKJS")
	if bin == "" {
		bin, _ = exec.LookPath("snarkjs")
	}
	if bin == "" {
		if os.Getenv("ZKCRED_REQUIRE_SNARKJS") != "" {
			t.Fatal("snarkjs not found and ZKCRED_REQUIRE_SNARKJS is set")
		}
		t.Log("snarkjs not installed: skipping its check")
		return
	}
	dir := t.TempDir()
	sp, err := circuits.SnarkJSProofOf(circuits.PresentationID, proof)
	if err != nil {
		t.Fatal(err)
	}
	vk, _ := json.Marshal(k.Verifier().SnarkJS())
	pj, _ := json.Marshal(sp)
	pubj, _ := json.Marshal(circuits.SnarkJSPublic(pub.Vector()))
	for name, b := range map[string][]byte{"verification_key.json": vk, "proof.json": pj, "public.json": pubj} {
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	cmd := exec.Command(bin, "groth16", "verify", "verification_key.json", "public.json", "proof.json")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("snarkjs rejected a proof made with the ceremony's keys: %v\n%s", err, out)
	}
}
