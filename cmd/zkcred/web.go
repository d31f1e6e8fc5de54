package main

import "github.com/zkcred/zkcred/internal/stack"

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
