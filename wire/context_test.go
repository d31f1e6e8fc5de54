package wire

import "testing"

func TestIsZkcredContext(t *testing.T) {
	for _, s := range []string{
		ContextURL("https://uni.example"), ContextURL("https://uni.example/"), ContextURL("http://127.0.0.1:8641"),
		ContextURL("https://uni.example/issuer/"), ContextUndefinedTerms, ContextZkcred,
	} {
		if !IsZkcredContext(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{
		"", ContextV2, "https://uni.example", "https://uni.example/ns/credentials/v2", "ftp://uni.example/ns/credentials/v1",
		"https:///ns/credentials/v1", "https://uni.example/ns/credentials/v1?x=1", "https://uni.example/ns/credentials/v1#x",
		"https://user@uni.example/ns/credentials/v1", "/ns/credentials/v1", "https://uni.example/ns/credentials/v1/",
		"https://uni.example/ns/credentials/v1?", "https://uni.example/a%2Fns/credentials/v1x",
	} {
		if IsZkcredContext(s) {
			t.Errorf("%q accepted", s)
		}
	}
	if got := ContextURL("https://uni.example//"); got != "https://uni.example/ns/credentials/v1" {
		t.Errorf("ContextURL: %s", got)
	}
}
