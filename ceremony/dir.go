package ceremony

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// File names in a ceremony directory.
const (
	// SRSFile holds the phase-1 result.
	SRSFile = "srs.mpc"
	// fileExt ends every ceremony file name.
	fileExt = ".mpc"
)

// Phase1File is the name of native phase-1 file i.
func Phase1File(i int) string { return fmt.Sprintf("phase1-%04d%s", i, fileExt) }

// Phase2File is the name of circuit c's phase-2 file i.
func Phase2File(c *Circuit, i int) string { return fmt.Sprintf("%s-%04d%s", c.Name(), i, fileExt) }

// FinalFile is the name of circuit c's final record.
func FinalFile(c *Circuit) string { return c.Name() + "-final" + fileExt }

// ErrNoFiles: a directory holds none of the ceremony files a step needs.
var ErrNoFiles = errors.New("no ceremony files")

// ErrBeaconNotYet is wrapped by a BeaconSource's error when the block does
// not exist yet.
var ErrBeaconNotYet = errors.New("beacon block not produced yet")

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// indices returns the indices of the files prefix-NNNN.mpc in dir, sorted.
func indices(dir, prefix string) ([]int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, prefix+"-") || !strings.HasSuffix(name, fileExt) {
			continue
		}
		i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, prefix+"-"), fileExt))
		if err != nil || i < 0 {
			continue
		}
		out = append(out, i)
	}
	sort.Ints(out)
	return out, nil
}

// readSeq reads the files name(0), name(1), ... of dir, which must have no
// gap.
func readSeq(dir, prefix string, name func(int) string) ([][]byte, error) {
	idx, err := indices(dir, prefix)
	if err != nil {
		return nil, err
	}
	var files [][]byte
	for want, i := range idx {
		if i != want {
			return nil, fmt.Errorf("%s: %s is missing", dir, name(want))
		}
		b, err := readFile(filepath.Join(dir, name(i)))
		if err != nil {
			return nil, err
		}
		files = append(files, b)
	}
	return files, nil
}

// Progress receives one line per step; nil discards.
type Progress func(format string, a ...any)

func (p Progress) say(format string, a ...any) {
	if p != nil {
		p(format, a...)
	}
}

func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// maxDomain is the largest domain among cs.
func maxDomain(cs []*Circuit) int {
	n := 2
	for _, c := range cs {
		n = max(n, c.DomainSize())
	}
	return n
}

// InitFromPtau imports phase 1 from a .ptau file into dir (SRSFile, the
// powers the circuits need) and starts every circuit's phase 2.
func InitFromPtau(dir string, cs []*Circuit, ptau string, beaconHeight uint64, progress Progress) error {
	f, err := os.Open(ptau)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	progress.say("checking %s (%d bytes): every point, then the pairing checks", ptau, st.Size())
	srs, err := ImportPtau(f, st.Size(), maxDomain(cs))
	if err != nil {
		return fmt.Errorf("%s: %w", ptau, err)
	}
	progress.say("phase 1: %s", srs.Describe())
	return initPhase2(dir, cs, srs.Marshal(), beaconHeight, progress)
}

// InitPhase1 starts a native phase 1 of 2^power powers in dir; its seal
// will use the beacon at beaconHeight.
func InitPhase1(dir string, power int, beaconHeight uint64) error {
	b, err := NewPhase1(power, beaconHeight)
	if err != nil {
		return err
	}
	return writeNew(filepath.Join(dir, Phase1File(0)), b)
}

// InitFromPhase1 verifies dir's native phase 1, seals it with the beacon
// its start file announced (from beacons), writes SRSFile and starts every
// circuit's phase 2, to be sealed with the beacon at beaconHeight.
func InitFromPhase1(ctx context.Context, dir string, cs []*Circuit, beacons BeaconSource, beaconHeight uint64, progress Progress) error {
	files, err := readSeq(dir, "phase1", Phase1File)
	if err != nil {
		return err
	}
	if len(files) < 2 {
		return fmt.Errorf("%w: %s: phase 1 has no contribution yet", ErrNoFiles, dir)
	}
	start, err := readPhase1File(files[0])
	if err != nil {
		return fmt.Errorf("%s: %w", Phase1File(0), err)
	}
	h, err := beacons.BlockHash(ctx, start.BeaconHeight)
	if err != nil {
		return fmt.Errorf("phase-1 beacon (block %d): %w", start.BeaconHeight, err)
	}
	progress.say("verifying phase 1 (%d contributions) and sealing it with block %d", len(files)-1, start.BeaconHeight)
	srs, err := SealPhase1(files, Beacon{Height: start.BeaconHeight, Hash: h})
	if err != nil {
		return err
	}
	if srs.Size() < maxDomain(cs) {
		return fmt.Errorf("phase 1 has %d powers; the circuits need %d", srs.Size(), maxDomain(cs))
	}
	return initPhase2(dir, cs, srs.Marshal(), beaconHeight, progress)
}

func initPhase2(dir string, cs []*Circuit, srsFile []byte, beaconHeight uint64, progress Progress) error {
	if err := writeNew(filepath.Join(dir, SRSFile), srsFile); err != nil {
		return err
	}
	for _, c := range cs {
		progress.say("%s: computing the circuit's evaluations (%d constraints, domain %d)", c.ID, c.CS.GetNbConstraints(), c.DomainSize())
		b, err := Init(c, srsFile, beaconHeight)
		if err != nil {
			return err
		}
		if err := writeNew(filepath.Join(dir, Phase2File(c, 0)), b); err != nil {
			return err
		}
		progress.say("%s: wrote %s (%s)", c.ID, Phase2File(c, 0), HashFile(b))
	}
	return nil
}

// Written is a file a step wrote.
type Written struct {
	Circuit string // empty in phase 1
	Index   int
	File    string
	Hash    Hash
}

// ContributeDir adds this member's contribution to the latest file of
// every circuit in dir (or to the latest native phase-1 file when dir has
// no phase-2 file), writing the next files beside them. The file before
// the latest, when dir has it, is used to verify the latest first. When
// beacons is given, the contribution is refused if the announced beacon
// block already exists (its hash would be known to this contributor).
func ContributeDir(ctx context.Context, dir string, cs []*Circuit, name string, beacons BeaconSource, progress Progress) ([]Written, error) {
	var out []Written
	for _, c := range cs {
		idx, err := indices(dir, c.Name())
		if err != nil {
			return nil, err
		}
		if len(idx) == 0 {
			continue
		}
		last := idx[len(idx)-1]
		latest, err := readFile(filepath.Join(dir, Phase2File(c, last)))
		if err != nil {
			return nil, err
		}
		var prev []byte
		if last > 0 {
			if b, err := readFile(filepath.Join(dir, Phase2File(c, last-1))); err == nil {
				prev = b
			}
		}
		f, err := readPhase2File(c, latest)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", Phase2File(c, last), err)
		}
		if err := CheckBeaconAhead(ctx, beacons, f.BeaconHeight); err != nil {
			return nil, err
		}
		progress.say("%s: contributing to %s", c.ID, Phase2File(c, last))
		next, h, err := Contribute(c, prev, latest, name)
		if err != nil {
			return nil, err
		}
		file := Phase2File(c, last+1)
		if err := writeNew(filepath.Join(dir, file), next); err != nil {
			return nil, err
		}
		out = append(out, Written{Circuit: c.ID, Index: last + 1, File: file, Hash: h})
	}
	if len(out) > 0 {
		return out, nil
	}
	idx, err := indices(dir, "phase1")
	if err != nil {
		return nil, err
	}
	if len(idx) == 0 {
		return nil, fmt.Errorf("%w: %s holds no ceremony file to contribute to", ErrNoFiles, dir)
	}
	last := idx[len(idx)-1]
	latest, err := readFile(filepath.Join(dir, Phase1File(last)))
	if err != nil {
		return nil, err
	}
	var prev []byte
	if last > 0 {
		if b, err := readFile(filepath.Join(dir, Phase1File(last-1))); err == nil {
			prev = b
		}
	}
	f, err := readPhase1File(latest)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Phase1File(last), err)
	}
	if err := CheckBeaconAhead(ctx, beacons, f.BeaconHeight); err != nil {
		return nil, err
	}
	progress.say("phase 1: contributing to %s", Phase1File(last))
	next, h, err := ContributePhase1(prev, latest, name)
	if err != nil {
		return nil, err
	}
	file := Phase1File(last + 1)
	if err := writeNew(filepath.Join(dir, file), next); err != nil {
		return nil, err
	}
	return []Written{{Index: last + 1, File: file, Hash: h}}, nil
}

// CheckBeaconAhead returns nil when the beacon block at height does not
// exist yet, and an error saying why contributing now is unsafe when it
// does. A nil source checks nothing.
func CheckBeaconAhead(ctx context.Context, beacons BeaconSource, height uint64) error {
	if beacons == nil {
		return nil
	}
	_, err := beacons.BlockHash(ctx, height)
	switch {
	case err == nil:
		return fmt.Errorf("the beacon block %d already exists, so its hash is known: contributing now would let the last contributor choose the keys; the coordinator must start over with a later beacon height", height)
	case errors.Is(err, ErrBeaconNotYet):
		return nil
	default:
		return fmt.Errorf("checking that the beacon block %d is still ahead: %w", height, err)
	}
}

// CircuitReport is what verifying one circuit's transcript found.
type CircuitReport struct {
	Circuit        string         `json:"circuit"`
	Contributions  []Contribution `json:"contributions"`
	BeaconHeight   uint64         `json:"beacon_height"`
	Finalized      bool           `json:"finalized"`
	Beacon         *Beacon        `json:"beacon,omitempty"`
	BeaconChecked  bool           `json:"beacon_checked"` // against the registry
	VKHash         string         `json:"vk_hash,omitempty"`
	TranscriptHash string         `json:"transcript_hash,omitempty"`
}

// Report is what verifying a ceremony directory found.
type Report struct {
	Phase1   string          `json:"phase1"`
	Circuits []CircuitReport `json:"circuits"`
}

// VerifyOptions are optional inputs of VerifyDir.
type VerifyOptions struct {
	// Beacons checks every beacon against the registry; without it the
	// recorded beacons are taken as given (and the report says so).
	Beacons BeaconSource
	// Ptau, when set, is the .ptau file phase 1 was imported from: its
	// powers must be exactly the SRS file's.
	Ptau string
	// Progress gets one line per step.
	Progress Progress
}

// VerifyDir verifies a whole ceremony directory: the phase-1 result (its
// pairing checks; the native phase-1 transcript and its seal when dir has
// it; the .ptau file when given), then every circuit's phase 2 in order
// and its final record when present. The first bad file is named. It
// returns the keys of finalized circuits, keyed by circuit ID.
func VerifyDir(ctx context.Context, dir string, cs []*Circuit, o VerifyOptions) (*Report, map[string]*Keys, error) {
	srsFile, err := readFile(filepath.Join(dir, SRSFile))
	if err != nil {
		return nil, nil, err
	}
	o.Progress.say("phase 1: checking %s", SRSFile)
	srs, err := ReadSRS(srsFile)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", SRSFile, err)
	}
	rep := &Report{Phase1: srs.Describe()}
	switch srs.Source {
	case SourceNative:
		files, err := readSeq(dir, "phase1", Phase1File)
		if err != nil {
			return nil, nil, err
		}
		if len(files) == 0 {
			return nil, nil, fmt.Errorf("%w: %s: the phase-1 files are missing (phase1-0000.mpc ...)", ErrNoFiles, dir)
		}
		if o.Beacons != nil {
			h, err := o.Beacons.BlockHash(ctx, srs.Beacon.Height)
			if err != nil {
				return nil, nil, fmt.Errorf("phase-1 beacon (block %d): %w", srs.Beacon.Height, err)
			}
			if h != srs.Beacon.Hash {
				return nil, nil, &BeaconError{Phase: 1, Announced: srs.Beacon.Height, Got: srs.Beacon, Chain: &h}
			}
		}
		o.Progress.say("phase 1: verifying %d contributions and the seal", len(files)-1)
		if len(files) < 2 {
			return nil, nil, fmt.Errorf("%w: phase 1 has no contribution", ErrInvalidTranscript)
		}
		last, err := verifyPhase1(files, 0)
		if err != nil {
			return nil, nil, nameFile(err, Phase1File)
		}
		if srs.Beacon.Height != last.BeaconHeight {
			return nil, nil, &BeaconError{Phase: 1, Announced: last.BeaconHeight, Got: srs.Beacon}
		}
		if srs.LastPhase1 != HashFile(files[len(files)-1]) {
			return nil, nil, fmt.Errorf("%w: %s seals phase-1 file %s, the transcript ends with %s", ErrInvalidTranscript, SRSFile, srs.LastPhase1, HashFile(files[len(files)-1]))
		}
		if err := checkSeal(files[len(files)-1], srs); err != nil {
			return nil, nil, &BeaconError{Phase: 1, Announced: srs.Beacon.Height, Got: srs.Beacon}
		}
	case SourcePtau:
		if o.Ptau != "" {
			f, err := os.Open(o.Ptau)
			if err != nil {
				return nil, nil, err
			}
			st, err := f.Stat()
			if err != nil {
				f.Close()
				return nil, nil, err
			}
			o.Progress.say("phase 1: comparing with %s", o.Ptau)
			p, err := ImportPtau(f, st.Size(), srs.Size())
			f.Close()
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", o.Ptau, err)
			}
			if string(p.Marshal()) != string(srsFile) {
				return nil, nil, fmt.Errorf("%w: %s is not the phase 1 of %s", ErrInvalidTranscript, SRSFile, o.Ptau)
			}
		}
	}
	keys := map[string]*Keys{}
	for _, c := range cs {
		files, err := readSeq(dir, c.Name(), func(i int) string { return Phase2File(c, i) })
		if err != nil {
			return nil, nil, err
		}
		if len(files) == 0 {
			continue
		}
		o.Progress.say("%s: verifying the start file and %d contributions", c.ID, len(files)-1)
		res, err := VerifyPhase2(c, srsFile, files)
		if err != nil {
			return nil, nil, nameFile(err, func(i int) string { return Phase2File(c, i) })
		}
		cr := CircuitReport{Circuit: c.ID, Contributions: res.Contributions, BeaconHeight: res.BeaconHeight}
		final, err := readFile(filepath.Join(dir, FinalFile(c)))
		if err == nil {
			o.Progress.say("%s: re-sealing with the recorded beacon", c.ID)
			k, f, err := res.CheckFinal(ctx, final, o.Beacons)
			if err != nil {
				return nil, nil, err
			}
			keys[c.ID] = k
			cr.Finalized, cr.Beacon, cr.BeaconChecked = true, &f.Beacon, o.Beacons != nil
			cr.VKHash, cr.TranscriptHash = f.VKHash.String(), HashFile(final).String()
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, nil, err
		}
		rep.Circuits = append(rep.Circuits, cr)
	}
	if len(rep.Circuits) == 0 {
		return nil, nil, fmt.Errorf("%w: %s holds no phase-2 file", ErrNoFiles, dir)
	}
	return rep, keys, nil
}

// SaveKeysFunc writes one circuit's keys; cmd passes circuits.SaveKeys.
type SaveKeysFunc func(dir, id string, k *Keys) error

// FinalizeDir verifies every circuit's transcript in dir, seals each with
// the beacon at its announced height (from beacons), writes the final
// records into dir and the keys into keysDir with save.
func FinalizeDir(ctx context.Context, dir string, cs []*Circuit, beacons BeaconSource, keysDir string, save SaveKeysFunc, progress Progress) ([]*Final, error) {
	srsFile, err := readFile(filepath.Join(dir, SRSFile))
	if err != nil {
		return nil, err
	}
	var out []*Final
	for _, c := range cs {
		if _, err := os.Stat(filepath.Join(dir, FinalFile(c))); err == nil {
			return nil, fmt.Errorf("%s is already finalized (%s exists)", c.ID, FinalFile(c))
		}
		files, err := readSeq(dir, c.Name(), func(i int) string { return Phase2File(c, i) })
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%w: %s has no phase-2 files for %s", ErrNoFiles, dir, c.ID)
		}
		progress.say("%s: verifying the start file and %d contributions", c.ID, len(files)-1)
		res, err := VerifyPhase2(c, srsFile, files)
		if err != nil {
			return nil, err
		}
		h, err := beacons.BlockHash(ctx, res.BeaconHeight)
		if err != nil {
			return nil, fmt.Errorf("%s: beacon block %d: %w", c.ID, res.BeaconHeight, err)
		}
		progress.say("%s: sealing with block %d (%s)", c.ID, res.BeaconHeight, h)
		k, f, err := res.Seal(Beacon{Height: res.BeaconHeight, Hash: h})
		if err != nil {
			return nil, err
		}
		if err := save(keysDir, c.ID, k); err != nil {
			return nil, err
		}
		if err := writeNew(filepath.Join(dir, FinalFile(c)), f.Marshal()); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// TranscriptHash returns the hash of the final record file: the value
// governance publishes with the verifying-key hash. The record names the
// last contribution's hash, and every file names the one before it, so
// this one hash commits to the whole transcript.
func (f *Final) TranscriptHash() Hash { return HashFile(f.Marshal()) }

// nameFile adds the file name to a *ContributionError.
func nameFile(err error, name func(int) string) error {
	var ce *ContributionError
	if errors.As(err, &ce) && ce.File == "" {
		ce.File = name(ce.Index)
	}
	return err
}
