package oid4vp

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/go-jose/go-jose/v4"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/dcql"
	"github.com/zkcred/zkcred/wire"
)

func schema() []circuits.Attribute {
	return []circuits.Attribute{
		{Name: "name", Type: circuits.TypeString},
		{Name: "birthDate", Type: circuits.TypeDate},
		{Name: "degree", Type: circuits.TypeString},
		{Name: "credits", Type: circuits.TypeInteger},
	}
}

// request builds a zkcred request as a verifier would: disclose degree,
// birthDate ≤ 2008-12-01 (an age helper), credits between 100 and 400,
// degree in {BSc, MSc}.
func request(t *testing.T) *wire.Request {
	t.Helper()
	attrs := schema()
	enc := func(i int, v any) fr.Element {
		e, err := attrs[i].Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	var q circuits.Query
	q.Disclose = 1 << 2
	var err error
	if q.Predicates[0], err = circuits.NewPredicate(1, "lte", enc(1, "2008-12-01")); err != nil {
		t.Fatal(err)
	}
	if q.Predicates[1], err = circuits.NewPredicate(3, "between", enc(3, json.Number("100")), enc(3, json.Number("400"))); err != nil {
		t.Fatal(err)
	}
	if q.Predicates[2], err = circuits.NewPredicate(2, "in", enc(2, "BSc"), enc(2, "MSc")); err != nil {
		t.Fatal(err)
	}
	ids := []fr.Element{circuits.U64(5), circuits.U64(9)}
	tl, err := circuits.NewTrustList(ids)
	if err != nil {
		t.Fatal(err)
	}
	r := &wire.Request{
		ID: "AAAAAAAAAAAAAAAAAAAAAA", Policy: "graduate", Nonce: circuits.F(circuits.U64(12345)),
		Audience: "https://verifier.example", Now: 1_800_000_000, Expires: 1_800_000_600,
		SchemaID: circuits.F(circuits.U64(77)), Attributes: attrs,
		TrustList: wire.TrustList{Kind: "university", Root: circuits.F(tl.Root())},
		Disclose:  []string{"degree"},
		Predicates: []wire.PlainPredicate{
			{Attribute: "birthDate", Op: "lte", Values: []any{"2008-12-01"}, Helper: "age_at_least 18"},
			{Attribute: "credits", Op: "between", Values: []any{json.Number("100"), json.Number("400")}},
			{Attribute: "degree", Op: "in", Values: []any{"BSc", "MSc"}},
		},
		Query: wire.NewQuery(q), MaxRootAge: 3600, MinHeight: 10,
		SubmitURL: "https://verifier.example/v1/requests/AAAAAAAAAAAAAAAAAAAAAA/presentations",
	}
	for _, id := range tl.IDs() {
		r.TrustList.Issuers = append(r.TrustList.Issuers, circuits.F(id))
	}
	return r
}

func TestCredentialQueryRoundTrip(t *testing.T) {
	r := request(t)
	cq, err := CredentialQuery(r)
	if err != nil {
		t.Fatal(err)
	}
	// The trailing "in" over the disclosed degree is the claim's values.
	if len(cq.Claims) != 1 || len(cq.Claims[0].Values) != 2 {
		t.Fatalf("claims %+v", cq.Claims)
	}
	// Through JSON and the strict parser, it compiles to the same query.
	b, _ := json.Marshal(dcql.Query{Credentials: []dcql.CredentialQuery{*cq}})
	q, err := dcql.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Compile(&q.Credentials[0], r.Attributes)
	if err != nil {
		t.Fatal(err)
	}
	if wire.NewQuery(st.Query) != r.Query || st.TrustList.Root != r.TrustList.Root || st.Meta.Audience != r.Audience || st.Meta.Now != r.Now {
		t.Fatalf("compiled statement differs from the request")
	}
}

func TestCompileRefuses(t *testing.T) {
	r := request(t)
	for _, c := range []struct {
		name, says string
		mut        func(cq *dcql.CredentialQuery, m *Meta)
	}{
		{"unknown attribute", `no attribute "salary"`, func(cq *dcql.CredentialQuery, _ *Meta) {
			cq.Claims = append(cq.Claims, dcql.ClaimQuery{Path: []any{"salary"}})
		}},
		{"nested path", "one attribute name", func(cq *dcql.CredentialQuery, _ *Meta) { cq.Claims[0].Path = []any{"degree", "x"} }},
		{"unsupported operator", `operator "like" is not supported`, func(_ *dcql.CredentialQuery, m *Meta) { m.Predicates[0].Op = "like" }},
		{"order on a string", "compares order", func(_ *dcql.CredentialQuery, m *Meta) { m.Predicates[0].Path = []string{"name"} }},
		{"claim twice", "asked for twice", func(cq *dcql.CredentialQuery, _ *Meta) { cq.Claims = append(cq.Claims, cq.Claims[0]) }},
		{"claim_sets", "claim_sets", func(cq *dcql.CredentialQuery, _ *Meta) { cq.ClaimSets = [][]string{{"a"}} }},
		{"multiple", "multiple", func(cq *dcql.CredentialQuery, _ *Meta) { tr := true; cq.Multiple = &tr }},
		{"no trust list", "trusted_authorities", func(cq *dcql.CredentialQuery, _ *Meta) { cq.TrustedAuthorities = nil }},
		{"other authority type", `type "aki"`, func(cq *dcql.CredentialQuery, _ *Meta) { cq.TrustedAuthorities[0].Type = "aki" }},
		{"wrong trust root", "trust_list_root", func(_ *dcql.CredentialQuery, m *Meta) { m.TrustListRoot = circuits.F(circuits.U64(1)) }},
		{"bad value", "value 0", func(_ *dcql.CredentialQuery, m *Meta) { m.Predicates[0].Values = []any{"not a date"} }},
		{"other format", "format", func(cq *dcql.CredentialQuery, _ *Meta) { cq.Format = "mso_mdoc" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			cq, err := CredentialQuery(r)
			if err != nil {
				t.Fatal(err)
			}
			m, err := ParseMeta(cq.Meta)
			if err != nil {
				t.Fatal(err)
			}
			c.mut(cq, m)
			if cq.Meta, err = json.Marshal(m); err != nil {
				t.Fatal(err)
			}
			_, err = Compile(cq, r.Attributes)
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("got %v, want ErrFormat saying %q", err, c.says)
			}
		})
	}
	// meta is strict: an unknown member is refused.
	cq, _ := CredentialQuery(r)
	cq.Meta = json.RawMessage(strings.Replace(string(cq.Meta), "{", `{"extra":1,`, 1))
	if _, err := Compile(cq, r.Attributes); !errors.Is(err, ErrFormat) {
		t.Fatalf("unknown meta member: %v", err)
	}
}

func authRequest(t *testing.T) *AuthorizationRequest {
	cq, err := CredentialQuery(request(t))
	if err != nil {
		t.Fatal(err)
	}
	return &AuthorizationRequest{
		ClientID: PrefixDID + "did:web:verifier.example", ResponseType: ResponseType, ResponseMode: ResponseMode,
		ResponseURI: "https://verifier.example/v1/oid4vp/responses/AAAAAAAAAAAAAAAAAAAAAA", Nonce: "12345",
		State: "AAAAAAAAAAAAAAAAAAAAAA", DCQLQuery: &dcql.Query{Credentials: []dcql.CredentialQuery{*cq}},
		ClientMetadata: DefaultClientMetadata(), Audience: StaticAudience, Expiry: time.Now().Add(time.Hour).Unix(),
	}
}

func TestRequestObject(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	kid := "did:web:verifier.example#key-1"
	jwt, err := SignRequest(authRequest(t), key, kid)
	if err != nil {
		t.Fatal(err)
	}
	resolve := func(k ed25519.PublicKey) KeyResolver {
		return func(clientID, gotKid string) (ed25519.PublicKey, error) {
			if clientID != PrefixDID+"did:web:verifier.example" || gotKid != kid {
				t.Fatalf("resolve(%q, %q)", clientID, gotKid)
			}
			return k, nil
		}
	}
	ar, err := VerifyRequest(jwt, time.Now(), resolve(pub))
	if err != nil {
		t.Fatal(err)
	}
	if ar.Nonce != "12345" || ar.DCQLQuery.Credentials[0].Format != Format {
		t.Fatalf("%+v", ar)
	}
	if _, err := VerifyRequest(jwt, time.Now(), resolve(otherPub)); !errors.Is(err, ErrSignature) {
		t.Fatalf("other key: %v", err)
	}
	// A changed payload breaks the signature.
	parts := strings.Split(jwt, ".")
	tampered := parts[0] + "." + parts[1][:len(parts[1])-2] + "AA." + parts[2]
	if _, err := VerifyRequest(tampered, time.Now(), resolve(pub)); !errors.Is(err, ErrRequest) {
		t.Fatalf("tampered: %v", err)
	}
	if _, err := VerifyRequest(jwt, time.Now().Add(2*time.Hour), resolve(pub)); !errors.Is(err, ErrRequest) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired: %v", err)
	}
	// alg none is refused.
	none := "eyJhbGciOiJub25lIiwidHlwIjoib2F1dGgtYXV0aHotcmVxK2p3dCJ9." + parts[1] + "."
	if _, err := VerifyRequest(none, time.Now(), resolve(pub)); !errors.Is(err, ErrRequest) {
		t.Fatalf("alg none: %v", err)
	}
}

func TestParseRequestRefuses(t *testing.T) {
	for name, mut := range map[string]func(ar *AuthorizationRequest){
		"no nonce":           func(ar *AuthorizationRequest) { ar.Nonce = "" },
		"no state":           func(ar *AuthorizationRequest) { ar.State = "" },
		"no client_id":       func(ar *AuthorizationRequest) { ar.ClientID = "" },
		"fragment mode":      func(ar *AuthorizationRequest) { ar.ResponseMode = "fragment" },
		"id_token":           func(ar *AuthorizationRequest) { ar.ResponseType = "id_token" },
		"relative response":  func(ar *AuthorizationRequest) { ar.ResponseURI = "/v1/x" },
		"no dcql_query":      func(ar *AuthorizationRequest) { ar.DCQLQuery = nil },
		"javascript: scheme": func(ar *AuthorizationRequest) { ar.ResponseURI = "javascript:alert(1)" },
	} {
		ar := authRequest(t)
		mut(ar)
		b, _ := json.Marshal(ar)
		if _, err := ParseRequest(b); !errors.Is(err, ErrRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Unknown parameters are ignored.
	b, _ := json.Marshal(authRequest(t))
	b = []byte(strings.Replace(string(b), "{", `{"transaction_data":["x"],"foo":1,`, 1))
	if _, err := ParseRequest(b); err != nil {
		t.Fatalf("unknown parameters: %v", err)
	}
}

func TestLinks(t *testing.T) {
	l := ReferenceLink("decentralized_identifier:did:web:v.example", "https://v.example/r/1")
	inv, err := ParseLink(l)
	if err != nil || inv.ClientID != "decentralized_identifier:did:web:v.example" || inv.RequestURI != "https://v.example/r/1" {
		t.Fatalf("%+v %v", inv, err)
	}
	ar := authRequest(t)
	vl, err := ValueLink(ar)
	if err != nil {
		t.Fatal(err)
	}
	inv, err = ParseLink(vl)
	if err != nil || inv.Request == nil || inv.Request.Nonce != ar.Nonce || len(inv.Request.DCQLQuery.Credentials) != 1 {
		t.Fatalf("by value: %+v %v", inv, err)
	}
	// request_uri_method post (OpenID4VP 1.0, section 5.1): this wallet
	// does not POST to the request_uri, so it fetches with GET.
	if inv, err := ParseLink(l + "&request_uri_method=post"); err != nil || inv.RequestURI != "https://v.example/r/1" {
		t.Fatalf("request_uri_method=post: %+v %v", inv, err)
	}
	for _, bad := range []string{
		l + "&request_uri_method=put",
		l + "&request_uri_method=POST",                                       // case-sensitive
		"openid4vp://?request_uri=https%3A%2F%2Fv.example%2Fr",               // no client_id
		"openid4vp://?client_id=x&request_uri=ftp%3A%2F%2Fv.example",         // not http(s)
		"openid4vp://?client_id=x&request=eyJ",                               // by value JWT
		"openid4vp://?client_id=x&client_id=y&request_uri=https%3A%2F%2Fv.e", // repeated
		"openid4vp://?client_id=x",                                           // nothing else
	} {
		if _, err := ParseLink(bad); !errors.Is(err, ErrRequest) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestResponse(t *testing.T) {
	p := &wire.Presentation{RequestID: "AAAAAAAAAAAAAAAAAAAAAA", Proof: []byte{1, 2, 3}}
	form, err := ResponseForm("AAAAAAAAAAAAAAAAAAAAAA", p)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseResponse(form)
	if err != nil || r.Presentation.RequestID != p.RequestID || r.State != "AAAAAAAAAAAAAAAAAAAAAA" {
		t.Fatalf("%+v %v", r, err)
	}
	if r, err := ParseResponse(ErrorForm("s", ErrCodeAccessDenied, "no")); err != nil || r.Error != ErrCodeAccessDenied {
		t.Fatalf("error form: %+v %v", r, err)
	}
	pj, _ := json.Marshal(p)
	for name, f := range map[string]url.Values{
		"no state":          {"vp_token": form["vp_token"]},
		"no vp_token":       {"state": {"s"}},
		"other member":      {"state": {"s"}, "vp_token": {`{"other":[` + string(pj) + `]}`}},
		"two members":       {"state": {"s"}, "vp_token": {`{"zkcred":[` + string(pj) + `],"x":[]}`}},
		"two presentations": {"state": {"s"}, "vp_token": {`{"zkcred":[` + string(pj) + `,` + string(pj) + `]}`}},
		"not JSON":          {"state": {"s"}, "vp_token": {`zkcred`}},
		"both":              {"state": {"s"}, "vp_token": form["vp_token"], "error": {"access_denied"}},
		"repeated state":    {"state": {"s", "t"}, "vp_token": form["vp_token"]},
	} {
		if _, err := ParseResponse(f); !errors.Is(err, wire.ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzRequestObject(f *testing.F) {
	_, key, _ := ed25519.GenerateKey(nil)
	pub := key.Public().(ed25519.PublicKey)
	ar := &AuthorizationRequest{ClientID: PrefixDID + "did:web:v.example", ResponseType: ResponseType, ResponseMode: ResponseMode,
		ResponseURI: "https://v.example/r", Nonce: "1", State: "s",
		DCQLQuery: &dcql.Query{Credentials: []dcql.CredentialQuery{{ID: "zkcred", Format: Format, Meta: json.RawMessage(`{}`)}}}}
	jwt, _ := SignRequest(ar, key, "did:web:v.example#key-1")
	f.Add(jwt)
	b, _ := json.Marshal(ar)
	f.Add(string(b))
	l, _ := ValueLink(ar)
	f.Add(l)
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = VerifyRequest(s, time.Unix(0, 0), func(string, string) (ed25519.PublicKey, error) { return pub, nil })
		_, _ = ParseRequest([]byte(s))
		_, _ = ParseLink(s)
		if v, err := url.ParseQuery(s); err == nil {
			_, _ = ParseResponse(v)
		}
	})
}

func TestEncryptedResponse(t *testing.T) {
	_, signing, _ := ed25519.GenerateKey(nil)
	key, err := EncryptionKey(signing)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := EncryptionKey(signing)
	if !key.Equal(again) {
		t.Fatal("the encryption key is not derived deterministically")
	}
	ar := authRequest(t)
	ar.ResponseMode = ResponseModeJWT
	// direct_post.jwt without a key to encrypt to is refused.
	b, _ := json.Marshal(ar)
	if _, err := ParseRequest(b); !errors.Is(err, ErrRequest) || !strings.Contains(err.Error(), "jwks") {
		t.Fatalf("direct_post.jwt without jwks: %v", err)
	}
	ar.ClientMetadata.JWKS = &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{EncryptionJWK(key, "enc-1")}}
	// A content encryption this wallet does not make is refused.
	ar.ClientMetadata.EncryptedResponseEncValues = []string{"A256GCM"}
	b, _ = json.Marshal(ar)
	if _, err := ParseRequest(b); !errors.Is(err, ErrRequest) || !strings.Contains(err.Error(), "A256GCM") {
		t.Fatalf("encrypted_response_enc_values_supported without A128GCM: %v", err)
	}
	ar.ClientMetadata.EncryptedResponseEncValues = []string{"A256GCM", EncryptionEnc}
	b, _ = json.Marshal(ar)
	parsed, err := ParseRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	p := &wire.Presentation{RequestID: ar.State, Proof: []byte{1, 2, 3}}
	form, err := EncryptedResponseForm(parsed, p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(form.Get("response"), ar.State) || form.Has("vp_token") {
		t.Fatal("the response is not encrypted")
	}
	plain, err := DecryptResponse(form, key)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseResponse(plain)
	if err != nil || r.State != ar.State || r.Presentation.RequestID != ar.State {
		t.Fatalf("%+v %v", r, err)
	}
	_, otherSigning, _ := ed25519.GenerateKey(nil)
	other, _ := EncryptionKey(otherSigning)
	if _, err := DecryptResponse(form, other); !errors.Is(err, ErrEncryption) {
		t.Fatalf("another key: %v", err)
	}
}
