package strictjson

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkUnmarshal compares Unmarshal (encoding/json plus the walk that
// refuses nulls and repeated members) with encoding/json alone, on an
// anchor of 10,000 commitments and on a presentation-sized object.
func BenchmarkUnmarshal(b *testing.B) {
	type anchor struct {
		Commitments []string `json:"commitments"`
	}
	var sb strings.Builder
	sb.WriteString(`{"commitments":[`)
	for i := range 10000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`"` + strconv.Itoa(i*1000003+17) + strings.Repeat("7", 60) + `"`)
	}
	sb.WriteString(`]}`)
	type presentation struct {
		RequestID string            `json:"requestId"`
		Nonce     string            `json:"nonce"`
		Height    uint64            `json:"height"`
		Root      string            `json:"root"`
		Proof     []byte            `json:"proof"`
		Nullifier string            `json:"nullifier"`
		Disclosed map[string]string `json:"disclosed"`
	}
	pres := `{"requestId":"FULyEyMCvHvPk2jzNEi7Dw","nonce":"` + strings.Repeat("1", 70) + `","height":100,"root":"` + strings.Repeat("2", 76) +
		`","proof":"` + strings.Repeat("QUJD", 61) + `","nullifier":"0","disclosed":{"degree":"7","graduated":"20140630"}}`
	for _, c := range []struct {
		name string
		doc  []byte
		v    func() any
	}{
		{"anchor10k", []byte(sb.String()), func() any { return new(anchor) }},
		{"presentation", []byte(pres), func() any { return new(presentation) }},
	} {
		b.Run(c.name+"/strictjson", func(b *testing.B) {
			b.SetBytes(int64(len(c.doc)))
			for b.Loop() {
				if err := Unmarshal(c.doc, c.v()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/encoding-json", func(b *testing.B) {
			b.SetBytes(int64(len(c.doc)))
			for b.Loop() {
				dec := json.NewDecoder(bytes.NewReader(c.doc))
				dec.DisallowUnknownFields()
				if err := dec.Decode(c.v()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
