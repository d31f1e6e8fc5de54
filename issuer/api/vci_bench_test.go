package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkVCINonce measures the nonce endpoint, whose c_nonce is one
// synced write to the issuer's store (so that it survives a restart).
func BenchmarkVCINonce(b *testing.B) {
	e := newEnv(b)
	h := e.handler(b, e.is)
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/oid4vci/nonce", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("nonce: %d %s", rec.Code, rec.Body)
		}
	}
}
