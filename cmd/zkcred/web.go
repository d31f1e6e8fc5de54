package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/zkcred/zkcred/internal/stack"
)

// serveUntil serves hs on ln until ctx is done, then shuts it down
// gracefully (in-flight requests get up to 10 seconds).
func serveUntil(ctx context.Context, hs *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// webPage is a page in a browser that `zkcred up` and `zkcred demo` name.
type webPage struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// stackPages are the stack's pages in a browser.
func stackPages(st *stack.Stack) []webPage {
	pages := []webPage{
		{"verifier page (employer's desk)", st.VerifierURL + "/"},
		{"chain explorer", st.RegistryURL + "/"},
	}
	for _, in := range stack.Institutions {
		if is := st.Issuers[in.Kind]; is != nil {
			pages = append(pages, webPage{in.Kind + " issuer desk (admin token)", is.URL + "/"})
		}
	}
	return pages
}
