package qr

import (
	"bytes"
	"errors"
	"image/png"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
)

// decode reads a QR code back from a PNG, as a phone would.
func decode(t *testing.T, b []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gzqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decoding the QR code: %v", err)
	}
	return res.GetText()
}

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
		if got := decode(t, b); got != text {
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
