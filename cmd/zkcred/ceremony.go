package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/zkcred/zkcred/ceremony"
	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/light"
)

func init() {
	register("ceremony", "make production keys in a multi-party ceremony (docs/ceremony.md)", runCeremony)
}

func runCeremony(args []string) error {
	return subcommands("ceremony", args, map[string]func([]string) error{
		"init":       ceremonyInit,
		"contribute": ceremonyContribute,
		"verify":     ceremonyVerify,
		"finalize":   ceremonyFinalize,
	})
}

// ceremonyFlags are the flags every ceremony step shares.
type ceremonyFlags struct {
	dir, registry, genesis *string
	asJSON                 *bool
}

func newCeremonyFlags(name string) (*flagSet, *ceremonyFlags) {
	fs := newFlags("ceremony " + name)
	return fs, &ceremonyFlags{
		dir:      fs.String("dir", ".", "ceremony directory (the transcript's files)"),
		registry: fs.String("registry", "", "registry URL, for the beacon (read through the light client)"),
		genesis:  fs.String("genesis", "", "the registry's genesis.json (trusted; needed with --registry)"),
		asJSON:   fs.Bool("json", false, "print a JSON summary and no progress"),
	}
}

// progress prints steps to stderr on a terminal, unless --json.
func (f *ceremonyFlags) progress() ceremony.Progress {
	w := progressWriter(*f.asJSON)
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
func (f *ceremonyFlags) beacons(ctx context.Context) (ceremony.BeaconSource, func(), error) {
	if *f.registry == "" {
		return nil, func() {}, nil
	}
	if *f.genesis == "" {
		return nil, nil, usagef("pass the genesis.json the registry operator published", "--registry needs --genesis")
	}
	gb, err := os.ReadFile(*f.genesis)
	if err != nil {
		return nil, nil, usagef("pass the genesis.json from 'zkcred registry init'", "read genesis: %v", err)
	}
	g, err := registry.ParseGenesis(gb)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", *f.genesis, err)
	}
	lc, err := light.New(g, *f.registry, light.Options{})
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

func ceremonyContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

func shippedCircuits() ([]*ceremony.Circuit, error) {
	cs, err := ceremony.Shipped()
	if err != nil {
		return nil, err
	}
	return cs, nil
}

const ceremonyInitUsage = "zkcred ceremony init --dir DIR (--ptau FILE | --phase1-power P) --beacon-height H [--registry URL --genesis FILE] [--json]"

func ceremonyInit(args []string) error {
	fs, f := newCeremonyFlags("init")
	ptau := fs.String("ptau", "", "phase 1 from this snarkjs / Powers of Tau .ptau file (bn128)")
	power := fs.Int("phase1-power", 0, "instead of --ptau: start a native phase 1 of 2^P powers (14 fits every zkcred circuit)")
	height := fs.Uint64("beacon-height", 0, "registry block whose hash seals this phase; announce it now, far enough ahead for every contribution")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef(ceremonyInitUsage, "unexpected argument %q", fs.Arg(0))
	}
	if *height == 0 {
		return usagef(ceremonyInitUsage, "--beacon-height is required")
	}
	if *ptau != "" && *power != 0 {
		return usagef(ceremonyInitUsage, "give --ptau or --phase1-power, not both")
	}
	if err := os.MkdirAll(*f.dir, 0o755); err != nil {
		return err
	}
	ctx, stop := ceremonyContext()
	defer stop()
	beacons, closeB, err := f.beacons(ctx)
	if err != nil {
		return err
	}
	defer closeB()
	if err := ceremony.CheckBeaconAhead(ctx, beacons, *height); err != nil {
		return usagef("choose a --beacon-height above the registry's height", "%v", err)
	}
	p := f.progress()
	summary := map[string]any{"dir": *f.dir, "beacon_height": *height}
	var send []string
	switch {
	case *power != 0:
		if err := ceremony.InitPhase1(*f.dir, *power, *height); err != nil {
			return err
		}
		send = []string{ceremony.Phase1File(0)}
		summary["phase"] = 1
	default:
		cs, err := shippedCircuits()
		if err != nil {
			return err
		}
		if *ptau != "" {
			err = ceremony.InitFromPtau(*f.dir, cs, *ptau, *height, p)
			if errors.Is(err, ceremony.ErrPtau) {
				return usagef("use a bn128 .ptau of power ≥ 14 (snarkjs powersoftau, or a public Perpetual Powers of Tau file)", "%v", err)
			}
		} else {
			if _, statErr := os.Stat(*f.dir + "/" + ceremony.Phase1File(0)); statErr != nil {
				return usagef(ceremonyInitUsage, "give --ptau FILE or --phase1-power P, or run init in a directory that holds a native phase 1")
			}
			if beacons == nil {
				return usagef("pass --registry and --genesis: sealing phase 1 needs its beacon block", "sealing phase 1 needs the registry")
			}
			err = ceremony.InitFromPhase1(ctx, *f.dir, cs, beacons, *height, p)
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
	if *f.asJSON {
		return json.NewEncoder(os.Stdout).Encode(summary)
	}
	fmt.Printf("ceremony started in %s; it will be sealed with the hash of registry block %d.\n", *f.dir, *height)
	fmt.Printf("send %s to the first member, who runs:\n  zkcred ceremony contribute --dir <their directory> --name <name>\n", strings.Join(send, " and "))
	return nil
}

func ceremonyContribute(args []string) error {
	fs, f := newCeremonyFlags("contribute")
	name := fs.String("name", "", "your name or organisation, recorded in your contribution (informative)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("zkcred ceremony contribute --dir DIR [--name NAME] [--registry URL --genesis FILE] [--json]", "unexpected argument %q", fs.Arg(0))
	}
	cs, err := shippedCircuits()
	if err != nil {
		return err
	}
	ctx, stop := ceremonyContext()
	defer stop()
	beacons, closeB, err := f.beacons(ctx)
	if err != nil {
		return err
	}
	defer closeB()
	ws, err := ceremony.ContributeDir(ctx, *f.dir, cs, *name, beacons, f.progress())
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return usagef("put the latest file the coordinator sent you into --dir", "%v", err)
		}
		return err
	}
	if *f.asJSON {
		out := []map[string]any{}
		for _, w := range ws {
			out = append(out, map[string]any{"circuit": w.Circuit, "index": w.Index, "file": w.File, "hash": w.Hash.String()})
		}
		return json.NewEncoder(os.Stdout).Encode(map[string]any{"contributions": out})
	}
	fmt.Println("contributed; your randomness was never written anywhere and is gone with this process.")
	for _, w := range ws {
		what := "phase 1"
		if w.Circuit != "" {
			what = w.Circuit
		}
		fmt.Printf("  %s: contribution %d in %s\n    hash %s\n", what, w.Index, w.File, w.Hash)
	}
	fmt.Println("send the new files to the coordinator, and announce the hashes above publicly (they let everyone find your contribution in the transcript).")
	return nil
}

func ceremonyVerify(args []string) error {
	fs, f := newCeremonyFlags("verify")
	ptau := fs.String("ptau", "", "the .ptau file phase 1 came from, to compare with (optional)")
	keys := fs.String("keys", "", "also check the key files in this directory against the final records")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("zkcred ceremony verify --dir DIR [--ptau FILE] [--keys DIR] [--registry URL --genesis FILE] [--json]", "unexpected argument %q", fs.Arg(0))
	}
	cs, err := shippedCircuits()
	if err != nil {
		return err
	}
	ctx, stop := ceremonyContext()
	defer stop()
	beacons, closeB, err := f.beacons(ctx)
	if err != nil {
		return err
	}
	defer closeB()
	rep, got, err := ceremony.VerifyDir(ctx, *f.dir, cs, ceremony.VerifyOptions{Beacons: beacons, Ptau: *ptau, Progress: f.progress()})
	if err != nil {
		return err
	}
	if *keys != "" {
		if err := checkKeyFiles(*keys, rep, got); err != nil {
			return err
		}
	}
	if *f.asJSON {
		return json.NewEncoder(os.Stdout).Encode(rep)
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
	if *keys != "" {
		fmt.Printf("key files in %s match the transcript\n", *keys)
	}
	return nil
}

// checkKeyFiles compares the key files in dir with the keys the
// transcript gives.
func checkKeyFiles(dir string, rep *ceremony.Report, got map[string]*ceremony.Keys) error {
	k, err := circuits.Load(dir)
	if err != nil {
		return usagef("pass the directory 'zkcred ceremony finalize --keys' wrote", "keys: %v", err)
	}
	for _, c := range rep.Circuits {
		if !c.Finalized {
			continue
		}
		var have string
		switch c.Circuit {
		case circuits.PresentationID:
			have = k.Verifier().Hash()
		case circuits.HolderID:
			have = k.HolderVerifier().Hash()
		}
		if have != c.VKHash {
			return fmt.Errorf("%w: %s: the verifying key in %s has hash %s, the transcript gives %s", ceremony.ErrInvalidTranscript, c.Circuit, dir, have, c.VKHash)
		}
	}
	return nil
}

func ceremonyFinalize(args []string) error {
	fs, f := newCeremonyFlags("finalize")
	keys := fs.String("keys", "", "directory to write the proving and verifying keys into")
	beaconHex := fs.String("beacon-hash", "", "instead of --registry: the announced block's hash (64 hex digits), read from a source you trust")
	if err := fs.Parse(args); err != nil {
		return err
	}
	const usage = "zkcred ceremony finalize --dir DIR --keys DIR (--registry URL --genesis FILE | --beacon-hash HEX) [--json]"
	if fs.NArg() != 0 {
		return usagef(usage, "unexpected argument %q", fs.Arg(0))
	}
	if *keys == "" {
		return usagef(usage, "--keys is required")
	}
	cs, err := shippedCircuits()
	if err != nil {
		return err
	}
	ctx, stop := ceremonyContext()
	defer stop()
	beacons, closeB, err := f.beacons(ctx)
	if err != nil {
		return err
	}
	defer closeB()
	switch {
	case beacons != nil && *beaconHex != "":
		return usagef(usage, "give --registry or --beacon-hash, not both")
	case *beaconHex != "":
		h, err := ceremony.ParseHash(*beaconHex)
		if err != nil {
			return usagef(usage, "--beacon-hash: %v", err)
		}
		beacons = fixedBeacon(h)
	case beacons == nil:
		return usagef(usage, "the seal needs the beacon: pass --registry and --genesis")
	}
	save := func(dir, id string, k *ceremony.Keys) error { return circuits.SaveKeys(dir, id, k.PK, k.VK) }
	finals, err := ceremony.FinalizeDir(ctx, *f.dir, cs, beacons, *keys, save, f.progress())
	if err != nil {
		if errors.Is(err, ceremony.ErrBeaconNotYet) {
			return usagef("wait until the registry has produced the beacon block, then run finalize again", "%v", err)
		}
		return err
	}
	if *f.asJSON {
		out := []map[string]any{}
		for _, fin := range finals {
			out = append(out, map[string]any{"circuit": fin.Circuit, "contributions": fin.Contributions, "beacon_height": fin.Beacon.Height,
				"beacon_hash": fin.Beacon.Hash.String(), "vk_hash": fin.VKHash.String(), "transcript_hash": fin.TranscriptHash().String()})
		}
		return json.NewEncoder(os.Stdout).Encode(map[string]any{"keys": *keys, "circuits": out})
	}
	for _, fin := range finals {
		fmt.Printf("%s: %d contributions sealed with block %d\n  vk hash:         %s\n  transcript hash: %s\n",
			fin.Circuit, fin.Contributions, fin.Beacon.Height, fin.VKHash, fin.TranscriptHash())
	}
	fmt.Printf("keys written to %s. Publish the whole directory %s so anyone can run 'zkcred ceremony verify', then governance publishes the hashes:\n  zkcred registry govern publish-circuits --keys %s --ceremony %s\n", *keys, *f.dir, *keys, *f.dir)
	return nil
}

// ceremonyTranscriptHash reads circuit id's final record in dir, checks
// that it names the verifying key vkHash, and returns the transcript hash.
func ceremonyTranscriptHash(dir, id, vkHash string) (string, error) {
	c := &ceremony.Circuit{ID: id}
	b, err := os.ReadFile(dir + "/" + ceremony.FinalFile(c))
	if err != nil {
		return "", usagef("pass the directory of a finalized ceremony", "%v", err)
	}
	f, err := ceremony.ReadFinal(b)
	if err != nil {
		return "", fmt.Errorf("%s: %w", ceremony.FinalFile(c), err)
	}
	if f.Circuit != id || f.VKHash.String() != vkHash {
		return "", fmt.Errorf("%s names verifying key %s of %s, but the key to publish is %s: run 'zkcred ceremony verify --keys' first", ceremony.FinalFile(c), f.VKHash, f.Circuit, vkHash)
	}
	return f.TranscriptHash().String(), nil
}
