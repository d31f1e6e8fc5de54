package main

import (
	"context"
	"testing"
	"time"
)

// TestDemo runs the demo's whole story in-process: it returns an error
// if any step (issuance, either presentation, replay rejection, refusal
// after revocation) does not behave.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("makes cold keys and starts every service")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := demo(ctx, t.TempDir()); err != nil {
		t.Fatal(err)
	}
}
