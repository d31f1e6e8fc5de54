package qr

import (
	"errors"
	"strings"
	"testing"

	"github.com/zkcred/zkcred/internal/qr/qrtest"
)

func TestPNGRoundTrip(t *testing.T) {
	for _, text := range []string{
		"http://127.0.0.1:8082/v1/requests/3q2-_xYz",
		"openid4vp://?client_id=decentralized_identifier%3Adid%3Aweb%3Averifier.example&request_uri=https%3A%2F%2Fverifier.example%2Fr%2F1",
		strings.Repeat("x", 600),
	} {
		b, err := PNG(text)
		if err != nil {
			t.Fatal(err)
		}
		if got := qrtest.Decode(t, b); got != text {
			t.Fatalf("decoded %q, want %q", got, text)
		}
	}
}

func TestPNGTooLong(t *testing.T) {
	if _, err := PNG(strings.Repeat("x", MaxLen+1)); !errors.Is(err, ErrTooLong) {
		t.Fatalf("err = %v, want ErrTooLong", err)
	}
}

func TestPNGLongest(t *testing.T) {
	if _, err := PNG(strings.Repeat("x", MaxLen)); err != nil {
		t.Fatalf("%d bytes: %v", MaxLen, err)
	}
}
