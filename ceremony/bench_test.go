package ceremony

import (
	"sync"
	"syscall"
	"testing"
	"time"

	curve "github.com/consensys/gnark-crypto/ecc/bn254"
	cmpc "github.com/consensys/gnark-crypto/ecc/bn254/mpcsetup"
	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
	"github.com/zkcred/zkcred/circuits"
)

var presOnce = sync.OnceValues(func() (*Circuit, error) {
	return Compile(circuits.PresentationID, &circuits.PresentationCircuit{})
})

func presentation(b *testing.B) *Circuit {
	c, err := presOnce()
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkContributePresentation measures one member's phase-2
// contribution for the presentation circuit, reading and writing the files
// (the cost does not depend on the points' values, so the input is a file
// of the right shape rather than a real transcript).
func BenchmarkContributePresentation(b *testing.B) {
	c := presentation(b)
	nbInternal, nbSecret, _ := c.CS.GetNbVariables()
	_, _, g1, g2 := curve.Generators()
	var p mpcsetup.Phase2
	p.Parameters.G1.Delta, p.Parameters.G2.Delta = g1, g2
	p.Parameters.G1.PKK = make([]curve.G1Affine, nbInternal+nbSecret)
	p.Parameters.G1.Z = make([]curve.G1Affine, c.DomainSize()-1)
	for _, s := range [][]curve.G1Affine{p.Parameters.G1.PKK, p.Parameters.G1.Z} {
		for i := range s {
			s[i] = g1
		}
	}
	p.Sigmas = []cmpc.UpdateProof{}
	p.Parameters.G1.SigmaCKK = [][]curve.G1Affine{}
	p.Parameters.G2.Sigma = []curve.G2Affine{}
	p.Contribute() // a real update proof and challenge, as in a contribution
	in := (&phase2File{Circuit: c.ID, Index: 1, CS: c.hash, BeaconHeight: 9, P: &p}).marshal()
	var out []byte
	cpu := cpuTime()
	for b.Loop() {
		var err error
		if out, _, err = Contribute(c, nil, in, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(len(out)), "file-bytes")
}

// BenchmarkVerifyPresentation10 verifies a presentation-circuit transcript
// of ten contributions (start file included). Building it runs gnark's
// Initialize and the ten contributions first: expect a few minutes.
func BenchmarkVerifyPresentation10(b *testing.B) {
	c := presentation(b)
	srs := nativeSRS(b, c.Power())
	files := phase2(b, c, srs, 10)
	size := 0
	for _, f := range files[1:] {
		size = max(size, len(f))
	}
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		if _, err := VerifyPhase2(c, srs, files); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(len(files[0])), "start-file-bytes")
	b.ReportMetric(float64(size), "file-bytes")
	b.ReportMetric(float64(len(srs)), "srs-bytes")
}

// BenchmarkInitPresentation computes the presentation circuit's start
// (the coordinator's init, once per ceremony): zkcred's initialize and,
// for comparison, gnark's Phase2.Initialize, which computes the same.
func BenchmarkInitPresentation(b *testing.B) {
	c := presentation(b)
	srs, err := ReadSRS(nativeSRS(b, c.Power()))
	if err != nil {
		b.Fatal(err)
	}
	commons, _ := truncate(&srs.Commons, c.DomainSize())
	b.Run("zkcred", func(b *testing.B) {
		cpu := cpuTime()
		for b.Loop() {
			initialize(c, commons)
		}
		reportCPU(b, cpu)
	})
	b.Run("gnark", func(b *testing.B) {
		cpu := cpuTime()
		for b.Loop() {
			var p mpcsetup.Phase2
			p.Initialize(c.CS, commons)
		}
		reportCPU(b, cpu)
	})
}

// cpuTime is the process's user + system CPU time so far. On a shared
// machine the wall time of a benchmark says more about the other loads
// than about the code; its CPU time does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, since time.Duration) {
	b.ReportMetric((cpuTime()-since).Seconds()/float64(b.N), "cpu-s/op")
}
