package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/zkcred/zkcred/ceremony"
	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/light"
)

func newCeremonyCmd() *cobra.Command {
	return group("ceremony", "make production keys in a multi-party ceremony",
		`Ceremony makes the production Groth16 keys of every zkcred circuit
(presentation and holder) with the consortium's members, so that nobody
knows the setup's secrets as long as one contributor was honest
(docs/ceremony.md). The coordinator runs init; each member in turn runs
contribute on the latest files, in a directory of its own, and sends the new
files back; anyone runs verify; once the announced beacon block exists, the
coordinator runs finalize and governance publishes the hashes.`,
		`  zkcred ceremony init --dir c --ptau pot14.ptau --beacon-height 5000 --registry URL --genesis genesis.json
  zkcred ceremony contribute --dir mine --name "University of Examples" --registry URL --genesis genesis.json
  zkcred ceremony verify --dir c --registry URL --genesis genesis.json
  zkcred ceremony finalize --dir c --keys keys/ --registry URL --genesis genesis.json`,
		newCeremonyInitCmd(), newCeremonyContributeCmd(), newCeremonyVerifyCmd(), newCeremonyFinalizeCmd())
}

// ceremonyFlags are the flags every ceremony step shares.
type ceremonyFlags struct {
	dir, registry, genesis string
}

func (f *ceremonyFlags) add(c *cobra.Command, what string) {
	addDirFlag(c, &f.dir, "ceremony", what)
	addRegistryFlag(c, &f.registry, "", "registry URL, for the beacon block (read through the light client)")
	addGenesisFlag(c, &f.genesis)
}

// progress prints steps to stderr on a terminal, unless --json.
func ceremonyProgress() ceremony.Progress {
	w := progressWriter(jsonOutput)
	if w == io.Discard {
		return nil
	}
	start := time.Now()
	return func(format string, a ...any) {
		fmt.Fprintf(w, "[%6.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
	}
}

// beacons returns the light-client beacon source, or nil without
// --registry.
func (f *ceremonyFlags) beacons() (ceremony.BeaconSource, func(), error) {
	if f.registry == "" {
		return nil, func() {}, nil
	}
	if f.genesis == "" {
		return nil, nil, usagef("pass the genesis.json the registry operator published", "--registry needs --genesis")
	}
	gb, err := os.ReadFile(f.genesis)
	if err != nil {
		return nil, nil, usagef("pass the genesis.json from 'zkcred registry init'", "read genesis: %v", err)
	}
	g, err := registry.ParseGenesis(gb)
	if err != nil {
		return nil, nil, localf("bad_genesis", "pass the genesis.json the registry operator published", "%s: %v", f.genesis, err)
	}
	lc, err := light.New(g, f.registry, light.Options{})
	if err != nil {
		return nil, nil, err
	}
	return lightBeacons{lc}, func() { lc.Close() }, nil
}

// lightBeacons reads block hashes through the light client, which
// verifies every header from the trusted genesis.
type lightBeacons struct{ lc *light.Client }

func (b lightBeacons) BlockHash(ctx context.Context, height uint64) (ceremony.Hash, error) {
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	latest, err := b.lc.Sync(sctx)
	if err != nil {
		return ceremony.Hash{}, fmt.Errorf("sync headers: %w", err)
	}
	if latest.Height < height {
		return ceremony.Hash{}, fmt.Errorf("%w: the registry is at block %d", ceremony.ErrBeaconNotYet, latest.Height)
	}
	h, _ := b.lc.Header(height)
	return ceremony.Hash(h.Hash()), nil
}

// fixedBeacon is a beacon hash given on the command line for the height
// the transcript announced.
type fixedBeacon ceremony.Hash

func (f fixedBeacon) BlockHash(context.Context, uint64) (ceremony.Hash, error) {
	return ceremony.Hash(f), nil
}

// session returns what every ceremony command runs in: a context that
// Ctrl-C or SIGTERM cancels, and the beacon source of --registry (nil
// without it); done releases both.
func (f *ceremonyFlags) session() (context.Context, ceremony.BeaconSource, func(), error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	beacons, closeB, err := f.beacons()
	if err != nil {
		stop()
		return nil, nil, nil, err
	}
	return ctx, beacons, func() { closeB(); stop() }, nil
}

// ceremonyError gives ceremony errors their kind (exit status), code and
// hint.
func ceremonyError(err error) error {
	var ce *cliError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return err
	case errors.Is(err, ceremony.ErrInvalidTranscript):
		return newErr(errRefused, "invalid_transcript", "the file named above does not verify: ask its contributor to contribute again from the last good file", err)
	case errors.Is(err, ceremony.ErrBeaconNotYet):
		return newErr(errRefused, "beacon_not_yet", "wait until the registry has produced the beacon block, then run this again", err)
	case errors.Is(err, ceremony.ErrPtau):
		return newErr(errLocal, "bad_ptau", "use a bn128 .ptau of power ≥ 14 (snarkjs powersoftau, or a public Powers of Tau file), checked against its published hash", err)
	case errors.Is(err, ceremony.ErrFormat), errors.Is(err, ceremony.ErrWrongCircuit), errors.Is(err, ceremony.ErrBadSRS):
		return newErr(errLocal, "bad_ceremony_file", "check that --dir holds this ceremony's files, as the coordinator sent them", err)
	case errors.Is(err, os.ErrNotExist), errors.Is(err, ceremony.ErrNoFiles):
		return newErr(errLocal, "no_ceremony_file", "put the files the coordinator sent you into --dir", err)
	case errors.Is(err, os.ErrExist):
		return newErr(errLocal, "file_exists", "this step was done already in --dir: use a fresh directory or remove the file", err)
	}
	return err
}

func newCeremonyInitCmd() *cobra.Command {
	var f ceremonyFlags
	var ptau string
	var power int
	var height uint64
	c := leaf("init", "start a ceremony: phase 1 from a .ptau (or a native phase 1), then each circuit's phase 2",
		`  zkcred ceremony init --dir c --ptau pot14.ptau --beacon-height 5000 --registry URL --genesis genesis.json
  zkcred ceremony init --dir c --phase1-power 14 --beacon-height 4000 --registry URL --genesis genesis.json   # native phase 1
  zkcred ceremony init --dir c --beacon-height 5000 --registry URL --genesis genesis.json   # seal it, start phase 2`,
		noArgs, func(*cobra.Command, []string) error {
			return ceremonyError(ceremonyInit(f, ptau, power, height))
		})
	f.add(c, "ceremony directory (the transcript's files)")
	c.Flags().StringVar(&ptau, "ptau", "", "phase 1 from this snarkjs / Powers of Tau .ptau file (bn128, power ≥ 14)")
	c.Flags().IntVar(&power, "phase1-power", 0, "instead of --ptau: start a native phase 1 of 2^P powers (14 fits every zkcred circuit)")
	c.Flags().Uint64Var(&height, "beacon-height", 0, "registry block whose hash seals this phase; announce it now, far enough ahead for every contribution")
	return c
}

func ceremonyInit(f ceremonyFlags, ptau string, power int, height uint64) error {
	if height == 0 {
		return usagef("announce the registry block that will seal this phase", "--beacon-height is required")
	}
	if ptau != "" && power != 0 {
		return usagef("pass one of them", "give --ptau or --phase1-power, not both")
	}
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return err
	}
	ctx, beacons, done, err := f.session()
	if err != nil {
		return err
	}
	defer done()
	if err := ceremony.CheckBeaconAhead(ctx, beacons, height); err != nil {
		return usagef("choose a --beacon-height above the registry's height", "%v", err)
	}
	p := ceremonyProgress()
	summary := map[string]any{"dir": f.dir, "beacon_height": height}
	var send []string
	if power != 0 {
		if err := ceremony.InitPhase1(f.dir, power, height); err != nil {
			return err
		}
		send = []string{ceremony.Phase1File(0)}
		summary["phase"] = 1
	} else {
		cs, err := ceremony.Shipped()
		if err != nil {
			return err
		}
		switch {
		case ptau != "":
			err = ceremony.InitFromPtau(f.dir, cs, ptau, height, p)
		default:
			if _, statErr := os.Stat(filepath.Join(f.dir, ceremony.Phase1File(0))); statErr != nil {
				return usagef("give --ptau FILE or --phase1-power P, or run init in a directory that holds a native phase 1", "no phase 1 to start from")
			}
			if beacons == nil {
				return usagef("pass --registry and --genesis", "sealing phase 1 needs its beacon block from the registry")
			}
			err = ceremony.InitFromPhase1(ctx, f.dir, cs, beacons, height, p)
		}
		if err != nil {
			return err
		}
		for _, c := range cs {
			send = append(send, ceremony.Phase2File(c, 0))
		}
		summary["phase"] = 2
	}
	summary["files"] = send
	if jsonOutput {
		return printJSON(summary)
	}
	fmt.Printf("ceremony started in %s; this phase will be sealed with the hash of registry block %d.\n", f.dir, height)
	fmt.Printf("send %s to the first member, who runs:\n  zkcred ceremony contribute --dir <their directory> --name <name>\n", strings.Join(send, " and "))
	return nil
}

func newCeremonyContributeCmd() *cobra.Command {
	var f ceremonyFlags
	var name string
	c := leaf("contribute", "add your contribution to the latest files in --dir (fresh randomness, never written anywhere)",
		`  zkcred ceremony contribute --dir mine --name "University of Examples" --registry URL --genesis genesis.json`,
		noArgs, func(*cobra.Command, []string) error { return ceremonyError(ceremonyContribute(f, name)) })
	f.add(c, "directory holding the latest files the coordinator sent (and the ones before them); the new files go there")
	c.Flags().StringVar(&name, "name", "", "your name or organisation, recorded in your contribution (informative)")
	return c
}

func ceremonyContribute(f ceremonyFlags, name string) error {
	cs, err := ceremony.Shipped()
	if err != nil {
		return err
	}
	ctx, beacons, done, err := f.session()
	if err != nil {
		return err
	}
	defer done()
	ws, err := ceremony.ContributeDir(ctx, f.dir, cs, name, beacons, ceremonyProgress())
	if err != nil {
		return err
	}
	if jsonOutput {
		out := []map[string]any{}
		for _, w := range ws {
			out = append(out, map[string]any{"circuit": w.Circuit, "index": w.Index, "file": w.File, "hash": w.Hash.String()})
		}
		return printJSON(map[string]any{"contributions": out})
	}
	fmt.Println("contributed; your randomness was never written anywhere and is gone with this process.")
	for _, w := range ws {
		what := "phase 1"
		if w.Circuit != "" {
			what = w.Circuit
		}
		fmt.Printf("  %s: contribution %d in %s\n    hash %s\n", what, w.Index, w.File, w.Hash)
	}
	fmt.Println("send the new files to the coordinator, and announce the hashes above publicly: they let everyone find your contribution in the transcript.")
	if beacons == nil {
		fmt.Println("(without --registry this could not check that the beacon block is still ahead of the chain: it must be, so that nobody knows the beacon while contributing.)")
	}
	return nil
}

func newCeremonyVerifyCmd() *cobra.Command {
	var f ceremonyFlags
	var ptau, keys string
	c := leaf("verify", "verify a ceremony's whole transcript in order, naming the first bad file",
		`  zkcred ceremony verify --dir c --registry URL --genesis genesis.json
  zkcred ceremony verify --dir c --ptau pot14.ptau --keys keys/ --registry URL --genesis genesis.json`,
		noArgs, func(*cobra.Command, []string) error { return ceremonyError(ceremonyVerify(f, ptau, keys)) })
	f.add(c, "ceremony directory (the transcript's files)")
	c.Flags().StringVar(&ptau, "ptau", "", "the .ptau file phase 1 came from, to compare with (optional)")
	c.Flags().StringVar(&keys, "keys", "", "also check the key files in this directory against the final records")
	return c
}

func ceremonyVerify(f ceremonyFlags, ptau, keys string) error {
	cs, err := ceremony.Shipped()
	if err != nil {
		return err
	}
	ctx, beacons, done, err := f.session()
	if err != nil {
		return err
	}
	defer done()
	rep, _, err := ceremony.VerifyDir(ctx, f.dir, cs, ceremony.VerifyOptions{Beacons: beacons, Ptau: ptau, Progress: ceremonyProgress()})
	if err != nil {
		return err
	}
	if keys != "" {
		if err := checkKeyFiles(keys, rep); err != nil {
			return err
		}
	}
	if jsonOutput {
		return printJSON(rep)
	}
	fmt.Printf("phase 1: %s\n", rep.Phase1)
	for _, c := range rep.Circuits {
		fmt.Printf("%s: %d contributions verify\n", c.Circuit, len(c.Contributions))
		for _, k := range c.Contributions {
			fmt.Printf("  %d %s %s\n", k.Index, k.Hash, k.Name)
		}
		if !c.Finalized {
			fmt.Printf("  not finalized yet (beacon: block %d)\n", c.BeaconHeight)
			continue
		}
		checked := "taken from the record: pass --registry and --genesis to check it against the chain"
		if c.BeaconChecked {
			checked = "checked against the registry"
		}
		fmt.Printf("  sealed with the hash of block %d (%s)\n  vk hash:         %s\n  transcript hash: %s\n", c.Beacon.Height, checked, c.VKHash, c.TranscriptHash)
	}
	if keys != "" {
		fmt.Printf("key files in %s match the transcript\n", keys)
	}
	return nil
}

// checkKeyFiles compares the verifying keys in dir with the ones the
// transcript gives.
func checkKeyFiles(dir string, rep *ceremony.Report) error {
	for _, c := range rep.Circuits {
		if !c.Finalized {
			continue
		}
		v, err := readVerifyingKey(dir, "", c.Circuit)
		if err != nil {
			return err
		}
		if v.Hash() != c.VKHash {
			return fmt.Errorf("%w: %s: the verifying key in %s has hash %s, the transcript gives %s", ceremony.ErrInvalidTranscript, c.Circuit, dir, v.Hash(), c.VKHash)
		}
	}
	return nil
}

func newCeremonyFinalizeCmd() *cobra.Command {
	var f ceremonyFlags
	var keys, beaconHex string
	c := leaf("finalize", "seal every circuit with the announced beacon block and write the keys",
		`  zkcred ceremony finalize --dir c --keys keys/ --registry URL --genesis genesis.json`,
		noArgs, func(*cobra.Command, []string) error { return ceremonyError(ceremonyFinalize(f, keys, beaconHex)) })
	f.add(c, "ceremony directory (the transcript's files)")
	addKeysFlag(c, &keys)
	c.Flags().StringVar(&beaconHex, "beacon-hash", "", "instead of --registry: the announced block's hash (64 hex digits), read from a source you trust")
	return c
}

func ceremonyFinalize(f ceremonyFlags, keys, beaconHex string) error {
	cs, err := ceremony.Shipped()
	if err != nil {
		return err
	}
	ctx, beacons, done, err := f.session()
	if err != nil {
		return err
	}
	defer done()
	switch {
	case beacons != nil && beaconHex != "":
		return usagef("pass one of them", "give --registry or --beacon-hash, not both")
	case beaconHex != "":
		h, err := ceremony.ParseHash(beaconHex)
		if err != nil {
			return usagef("the block hash is 64 hex digits ('zkcred registry status' prints it)", "--beacon-hash: %v", err)
		}
		beacons = fixedBeacon(h)
	case beacons == nil:
		return usagef("pass --registry URL and --genesis FILE", "the seal needs the beacon block's hash")
	}
	save := func(dir, id string, k *ceremony.Keys) error { return circuits.SaveKeys(dir, id, k.PK, k.VK) }
	finals, err := ceremony.FinalizeDir(ctx, f.dir, cs, beacons, keys, save, ceremonyProgress())
	if err != nil {
		return err
	}
	if jsonOutput {
		out := []map[string]any{}
		for _, fin := range finals {
			out = append(out, map[string]any{"circuit": fin.Circuit, "contributions": fin.Contributions, "beacon_height": fin.Beacon.Height,
				"beacon_hash": fin.Beacon.Hash.String(), "vk_hash": fin.VKHash.String(), "transcript_hash": fin.TranscriptHash().String()})
		}
		return printJSON(map[string]any{"keys": keys, "circuits": out})
	}
	for _, fin := range finals {
		fmt.Printf("%s: %d contributions sealed with block %d\n  vk hash:         %s\n  transcript hash: %s\n",
			fin.Circuit, fin.Contributions, fin.Beacon.Height, fin.VKHash, fin.TranscriptHash())
	}
	fmt.Printf("keys written to %s. Publish the directory %s so that anyone can run 'zkcred ceremony verify'; governance then publishes the hashes:\n  zkcred registry govern publish-circuits --keys %s --ceremony %s\n", keys, f.dir, keys, f.dir)
	return nil
}

// ceremonyTranscriptHash reads circuit id's final record in dir, checks
// that it names the verifying key vkHash, and returns the transcript hash.
func ceremonyTranscriptHash(dir, id, vkHash string) (string, error) {
	name := ceremony.FinalFile(&ceremony.Circuit{ID: id})
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return "", localf("no_ceremony_file", "pass the directory of a finalized ceremony with --ceremony", "%v", err)
	}
	f, err := ceremony.ReadFinal(b)
	if err != nil {
		return "", localf("bad_ceremony_file", "pass the directory of a finalized ceremony with --ceremony", "%s: %v", name, err)
	}
	if f.Circuit != id || f.VKHash.String() != vkHash {
		return "", localf("keys_mismatch", "run 'zkcred ceremony verify --keys' on the ceremony and these keys", "%s names verifying key %s of %s, but the key to publish is %s", name, f.VKHash, f.Circuit, vkHash)
	}
	return f.TranscriptHash().String(), nil
}
