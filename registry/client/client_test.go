package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
)

func TestErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/headers/latest":
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error":"signer is not a registered issuer","code":"forbidden"}`))
		case "/v1/witness/0":
			w.Write([]byte(`{"height":1,"root":"0","bucket":5,"leaves":[],"siblings":[]}`))
		default:
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("upstream down"))
		}
	}))
	defer srv.Close()
	c, err := New(srv.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = c.Latest(ctx)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 403 || ae.Code != "forbidden" || !errors.Is(err, registry.ErrForbidden) {
		t.Fatalf("403: %v", err)
	}
	if _, err := c.Header(ctx, 3); !errors.As(err, &ae) || ae.Message != "upstream down" || errors.Unwrap(err) != nil {
		t.Fatalf("502 with a text body: %v", err)
	}
	if _, err := c.Witness(ctx, 7); err == nil {
		t.Fatal("a bucket other than the one asked for was accepted")
	}
	if _, err := c.RootInfo(ctx, circuits.U64(1)); err == nil {
		t.Fatal("error status accepted")
	}
	for _, bad := range []string{"", "ftp://x", "http://", "not a url"} {
		if _, err := New(bad, Options{}); err == nil {
			t.Errorf("URL %q accepted", bad)
		}
	}
}
