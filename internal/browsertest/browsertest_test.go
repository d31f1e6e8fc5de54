package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// recorder keeps a Page's failures instead of failing the test, so that
// a test can check that a fault is caught.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, a...))
}

func site() *httptest.Server {
	mux := http.NewServeMux()
	page := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src data:; script-src 'self'")
			fmt.Fprint(w, `<!doctype html><html><head><title>t</title><link rel="icon" href="data:,"></head><body>`+body+`</body></html>`)
		}
	}
	js := func(src string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, src)
		}
	}
	mux.HandleFunc("/ok", page(`<p id="s">waiting</p><script src="/ok.js"></script>`))
	mux.HandleFunc("/ok.js", js(`setTimeout(() => { document.getElementById("s").textContent = "done"; }, 50);`))
	mux.HandleFunc("/throws", page(`<p id="s">x</p><script src="/throws.js"></script>`))
	mux.HandleFunc("/throws.js", js(`throw new Error("boom");`))
	mux.HandleFunc("/inline", page(`<p id="s">x</p><script>document.title = "inline ran";</script>`))
	mux.HandleFunc("/fails", page(`<p id="s">x</p><script src="/fails.js"></script>`))
	mux.HandleFunc("/fails.js", js(`fetch("/broken").then(() => { document.getElementById("s").textContent = "fetched"; });`))
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusInternalServerError) })
	return httptest.NewServer(mux)
}

// A clean page passes, and WaitText waits for a change made later.
func TestCleanPage(t *testing.T) {
	srv := site()
	defer srv.Close()
	p := New(t)
	p.Open(srv.URL+"/ok", 200)
	if got := p.WaitText("#s", "done"); got != "done" {
		t.Fatalf("text %q", got)
	}
	p.Screenshot("browsertest-ok")
	if pr := p.Problems(); len(pr) != 0 {
		t.Fatal(pr)
	}
}

// An exception, a script the CSP refuses and a 5xx answer each fail the
// test.
func TestFaultsFail(t *testing.T) {
	srv := site()
	defer srv.Close()
	for _, c := range []struct{ path, want string }{
		{"/throws", "boom"},
		{"/inline", "Content Security Policy"},
		{"/fails", "500 answer"},
	} {
		t.Run(strings.TrimPrefix(c.path, "/"), func(t *testing.T) {
			rec := &recorder{TB: t}
			t.Run("page", func(t *testing.T) {
				rec.TB = t
				p := New(rec)
				p.Open(srv.URL+c.path, 200)
				if c.path == "/fails" {
					p.WaitText("#s", "fetched")
				}
			})
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if !strings.Contains(strings.Join(rec.errs, "\n"), c.want) {
				t.Fatalf("%s: the page's fault was not reported (want %q), got %q", c.path, c.want, rec.errs)
			}
		})
	}
}
