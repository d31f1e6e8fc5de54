package ceremony

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/frontend"
)

// smallCircuit is the test circuit of the many negative cases: x³ + x + 5 =
// y for a secret x and public y, with a second public input bound by a
// product.
type smallCircuit struct {
	X frontend.Variable
	Y frontend.Variable `gnark:",public"`
	Z frontend.Variable `gnark:",public"`
}

func (c *smallCircuit) Define(api frontend.API) error {
	x3 := api.Mul(c.X, c.X, c.X)
	api.AssertIsEqual(c.Y, api.Add(x3, c.X, 5))
	api.AssertIsEqual(api.Mul(c.Z, c.X), api.Mul(c.X, c.Z))
	api.Mul(c.Z, c.Z)
	return nil
}

const smallID = "zkcred/test-small"

var smallOnce = sync.OnceValues(func() (*Circuit, error) { return Compile(smallID, &smallCircuit{}) })

func small(t testing.TB) *Circuit {
	t.Helper()
	c, err := smallOnce()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// otherCircuit has the same shape rules but other constraints.
type otherCircuit struct {
	X frontend.Variable
	Y frontend.Variable `gnark:",public"`
}

func (c *otherCircuit) Define(api frontend.API) error {
	api.AssertIsEqual(c.Y, api.Mul(c.X, c.X, 3))
	return nil
}

// fakeChain is a BeaconSource of made-up block hashes.
type fakeChain map[uint64]Hash

func (f fakeChain) BlockHash(_ context.Context, h uint64) (Hash, error) {
	b, ok := f[h]
	if !ok {
		return Hash{}, fmt.Errorf("block %d not produced yet", h)
	}
	return b, nil
}

func blockHash(h uint64) Hash {
	return sha256.Sum256(binary.BigEndian.AppendUint64([]byte("test block "), h))
}

func beaconAt(h uint64) Beacon { return Beacon{Height: h, Hash: blockHash(h)} }

// nativeSRS runs a native phase 1 of 2^power powers with two contributions
// and seals it with the beacon at height 5.
func nativeSRS(t testing.TB, power int) []byte {
	t.Helper()
	start, err := NewPhase1(power, 5)
	if err != nil {
		t.Fatal(err)
	}
	files := [][]byte{start}
	for i := range 2 {
		var prev []byte
		if i > 0 {
			prev = files[i-1]
		}
		next, _, err := ContributePhase1(prev, files[i], fmt.Sprintf("p1 member %d", i+1))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, next)
	}
	srs, err := SealPhase1(files, beaconAt(5))
	if err != nil {
		t.Fatal(err)
	}
	return srs.Marshal()
}

var smallSRSOnce sync.Once
var smallSRSBytes []byte

func smallSRS(t testing.TB) []byte {
	smallSRSOnce.Do(func() { smallSRSBytes = nativeSRS(t, 4) })
	return smallSRSBytes
}

// phase2 runs init and n contributions of circuit c, beacon at height 9.
func phase2(t testing.TB, c *Circuit, srs []byte, n int) [][]byte {
	t.Helper()
	start, err := Init(c, srs, 9)
	if err != nil {
		t.Fatal(err)
	}
	files := [][]byte{start}
	for i := range n {
		var prev []byte
		if i > 0 {
			prev = files[i-1]
		}
		next, h, err := Contribute(c, prev, files[i], fmt.Sprintf("member %d", i+1))
		if err != nil {
			t.Fatal(err)
		}
		if h != HashFile(next) {
			t.Fatal("announced hash is not the file's")
		}
		files = append(files, next)
	}
	return files
}

// proveSmall proves and verifies x=3 with the small circuit's keys.
func proveSmall(t testing.TB, c *Circuit, k *Keys, x, y, z int) error {
	t.Helper()
	w, err := frontend.NewWitness(&smallCircuit{X: x, Y: y, Z: z}, ecc.BN254.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	proof, err := groth16.Prove(c.CS, k.PK, w)
	if err != nil {
		return err
	}
	pub, _ := w.Public()
	return groth16.Verify(proof, k.VK, pub)
}
