package ceremony

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	groth16 "github.com/consensys/gnark/backend/groth16/bn254"
)

// BeaconSource gives the hash of the registry block at a height, from a
// source the caller trusts (zkcred's light client, which verifies every
// header from genesis).
type BeaconSource interface {
	BlockHash(ctx context.Context, height uint64) (Hash, error)
}

// Final is a circuit's final record: the last contribution it seals, the
// beacon, and the hashes of the keys the seal gives. Its file hash is the
// transcript hash, which governance publishes on the chain next to the
// verifying key's hash.
type Final struct {
	Circuit       string
	Last          Hash // hash of the last phase-2 file
	Contributions int
	Beacon        Beacon
	VKHash        Hash // circuits.Verifier.Hash: SHA-256 of the compressed key
	PKHash        Hash // SHA-256 of the proving key's raw dump (the .pk body)
}

// Marshal returns the final record file.
func (f *Final) Marshal() []byte {
	b := header{Kind: KindFinal, Circuit: f.Circuit}.append(nil)
	b = append(b, f.Last[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(f.Contributions))
	b = binary.BigEndian.AppendUint64(b, f.Beacon.Height)
	b = append(b, f.Beacon.Hash[:]...)
	b = append(b, f.VKHash[:]...)
	return append(b, f.PKHash[:]...)
}

// ReadFinal parses a final record.
func ReadFinal(b []byte) (*Final, error) {
	h, r, err := readHeader(b, KindFinal)
	if err != nil {
		return nil, err
	}
	f := &Final{Circuit: h.Circuit, Last: r.hash(), Contributions: int(r.u32())}
	f.Beacon.Height = r.u64()
	f.Beacon.Hash = r.hash()
	f.VKHash = r.hash()
	f.PKHash = r.hash()
	if len(r.rest()) != 0 && r.err == nil {
		r.fail("trailing bytes")
	}
	return f, r.err
}

// Keys are the keys a seal gives.
type Keys struct {
	PK *groth16.ProvingKey
	VK *groth16.VerifyingKey
}

// Seal seals a verified phase 2 with the beacon and returns the keys and
// the final record. The beacon must be at the announced height; the caller
// got its hash from a source it trusts. Seal consumes r: it can be sealed
// only once.
func (r *Phase2Result) Seal(beacon Beacon) (*Keys, *Final, error) {
	if r.last == nil {
		return nil, nil, fmt.Errorf("%s: phase 2 already sealed", r.Circuit.ID)
	}
	if len(r.Contributions) == 0 {
		return nil, nil, fmt.Errorf("%s: phase 2 has no contribution", r.Circuit.ID)
	}
	if beacon.Height != r.BeaconHeight {
		return nil, nil, &BeaconError{Phase: 2, Circuit: r.Circuit.ID, Announced: r.BeaconHeight, Got: beacon}
	}
	pk, vk := r.last.Seal(r.commons, r.evals, beacon.Hash[:])
	r.last = nil
	k := &Keys{PK: pk.(*groth16.ProvingKey), VK: vk.(*groth16.VerifyingKey)}
	f := &Final{Circuit: r.Circuit.ID, Last: r.Last, Contributions: len(r.Contributions), Beacon: beacon, VKHash: vkHash(k.VK), PKHash: pkHash(k.PK)}
	return k, f, nil
}

func vkHash(vk *groth16.VerifyingKey) Hash {
	h := sha256.New()
	vk.WriteTo(h)
	var out Hash
	h.Sum(out[:0])
	return out
}

func pkHash(pk *groth16.ProvingKey) Hash {
	h := sha256.New()
	pk.WriteDump(h)
	var out Hash
	h.Sum(out[:0])
	return out
}

// CheckFinal checks a final record against a verified phase 2: it must seal
// the last contribution with the announced beacon height, the beacon hash
// must be the registry's (when beacons is given), and re-sealing must give
// exactly the keys it names. It returns those keys. CheckFinal consumes r.
func (r *Phase2Result) CheckFinal(ctx context.Context, final []byte, beacons BeaconSource) (*Keys, *Final, error) {
	f, err := ReadFinal(final)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: final record: %w", r.Circuit.ID, err)
	}
	if f.Circuit != r.Circuit.ID {
		return nil, nil, fmt.Errorf("%w: final record for circuit %s, not %s", ErrWrongCircuit, f.Circuit, r.Circuit.ID)
	}
	if f.Last != r.Last || f.Contributions != len(r.Contributions) {
		return nil, nil, fmt.Errorf("%w: %s: the final record seals contribution %d (%s), the transcript ends with contribution %d (%s)", ErrInvalidTranscript, f.Circuit, f.Contributions, f.Last, len(r.Contributions), r.Last)
	}
	if f.Beacon.Height != r.BeaconHeight {
		return nil, nil, &BeaconError{Phase: 2, Circuit: f.Circuit, Announced: r.BeaconHeight, Got: f.Beacon}
	}
	if beacons != nil {
		h, err := beacons.BlockHash(ctx, f.Beacon.Height)
		if err != nil {
			return nil, nil, fmt.Errorf("reading the beacon block %d: %w", f.Beacon.Height, err)
		}
		if h != f.Beacon.Hash {
			return nil, nil, &BeaconError{Phase: 2, Circuit: f.Circuit, Announced: r.BeaconHeight, Got: f.Beacon, Chain: &h}
		}
	}
	k, got, err := r.Seal(f.Beacon)
	if err != nil {
		return nil, nil, err
	}
	if !bytes.Equal(got.Marshal(), final) {
		return nil, nil, &BeaconError{Phase: 2, Circuit: f.Circuit, Announced: r.BeaconHeight, Got: f.Beacon}
	}
	return k, f, nil
}
