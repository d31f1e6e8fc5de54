package circuits

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/consensys/gnark/frontend"
)

// TestConstraintCounts pins each circuit's constraint and public-input
// counts in testdata/constraints.txt; a change to a circuit must update the
// file on purpose (go test ./circuits -run TestConstraintCounts -update).
func TestConstraintCounts(t *testing.T) {
	var b strings.Builder
	b.WriteString("# circuit constraints public_inputs (R1CS, BN254)\n")
	for _, c := range []struct {
		id  string
		cir frontend.Circuit
	}{{PresentationID, &PresentationCircuit{}}, {HolderID, &HolderCircuit{}}} {
		ccs, err := compile(c.cir)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %d %d\n", c.id, ccs.GetNbConstraints(), ccs.GetNbPublicVariables()-1)
		if c.id == PresentationID && ccs.GetNbConstraints() > 1<<14 {
			t.Errorf("presentation circuit has %d constraints, above the 2^14 FFT domain", ccs.GetNbConstraints())
		}
	}
	path := filepath.Join("testdata", "constraints.txt")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != b.String() {
		t.Fatalf("constraint counts changed:\n got: %s\nwant: %s", b.String(), want)
	}
}
