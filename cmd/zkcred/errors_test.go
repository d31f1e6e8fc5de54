package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/zkcred/zkcred/registry/light"
)

// TestTrustExpiredHint: an expired light-client trust is a refusal whose
// hint names the commands that re-anchor it, as a person types them.
func TestTrustExpiredHint(t *testing.T) {
	c := classify(fmt.Errorf("sync headers: %w", light.ErrTrustExpired))
	if c.kind != errRefused || c.code != "trust_expired" {
		t.Fatalf("classified %+v", c)
	}
	for _, cmd := range []string{"zkcred registry status", "zkcred wallet trust --height H --hash X", "zkcred verifier serve --trust-height H --trust-hash X"} {
		if !strings.Contains(c.hint, "'"+cmd+"'") {
			t.Errorf("hint %q lacks %q", c.hint, cmd)
		}
	}
}
