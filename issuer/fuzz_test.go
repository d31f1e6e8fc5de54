package issuer

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zkcred/zkcred/wire"
)

// seedCredential signs a bundle without a store or chain (fuzz workers
// rerun this setup).
func seedCredential(f *testing.F) []byte {
	k, err := GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	_, hc := holder()
	s := ExampleSchemas()["diploma"]
	d, err := newDraft(Request{Schema: s, Subject: diplomaSubject(), HolderCommit: hc}, s.ID(), time.Now())
	if err != nil {
		f.Fatal(err)
	}
	b, err := New(k, nil, nil, Options{}).sign(d, Anchored{LeafIndex: 7, Height: 3})
	if err != nil {
		f.Fatal(err)
	}
	raw, _ := json.Marshal(b)
	return raw
}

// FuzzVerify: Verify never panics, and whatever it accepts it accepts again
// after a parse/marshal round trip (member order and whitespace are not
// signed; JCS fixes them).
func FuzzVerify(f *testing.F) {
	bundle := seedCredential(f)
	var b wire.Bundle
	json.Unmarshal(bundle, &b)
	f.Add([]byte(b.Credential))
	if dir, err := os.Getwd(); err == nil {
		for d := dir; d != "/"; d = parentDir(d) {
			if v, err := os.ReadFile(d + "/shared/testvectors/vc-di-eddsa/signedJCS.json"); err == nil {
				f.Add(v)
				break
			}
		}
	}
	f.Add([]byte(`{"proof":{"type":"DataIntegrityProof"}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		if _, err := wire.VerifyProof(doc); err != nil {
			return
		}
		var m map[string]any
		if err := decodeExact(doc, &m); err != nil {
			t.Fatalf("verified but does not decode: %v", err)
		}
		again, _ := json.Marshal(m)
		if _, err := wire.VerifyProof(again); err != nil {
			t.Fatalf("verified document fails after a round trip: %v", err)
		}
	})
}

func parentDir(d string) string {
	i := strings.LastIndex(d, "/")
	if i <= 0 {
		return "/"
	}
	return d[:i]
}

// FuzzParseBundle: parse → marshal → parse gives the same bundle.
func FuzzParseBundle(f *testing.F) {
	f.Add(seedCredential(f))
	f.Add([]byte(`{"format":"zkcred-credential/2","credential":{},"private":{}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := wire.ParseBundle(raw)
		if err != nil {
			return
		}
		out, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := wire.ParseBundle(out)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		out2, _ := json.Marshal(b2)
		if !reflect.DeepEqual(out, out2) {
			t.Fatalf("round trip differs:\n%s\n%s", out, out2)
		}
	})
}
