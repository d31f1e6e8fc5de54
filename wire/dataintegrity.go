package wire

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gowebpki/jcs"
	"github.com/mr-tron/base58"

	"github.com/zkcred/zkcred/internal/didkey"
)

// Data Integrity constants (W3C vc-data-integrity and vc-di-eddsa).
const (
	ProofType       = "DataIntegrityProof"
	Cryptosuite     = "eddsa-jcs-2022"
	AssertionMethod = "assertionMethod"
)

// ErrProof is wrapped by every reason a Data Integrity proof does not verify
// (HTTP 422 where an API reports it).
var ErrProof = errors.New("invalid data integrity proof")

// Proof is a DataIntegrityProof of the eddsa-jcs-2022 cryptosuite.
type Proof struct {
	Type               string   `json:"type"`
	Cryptosuite        string   `json:"cryptosuite"`
	Created            string   `json:"created"`
	VerificationMethod string   `json:"verificationMethod"`
	ProofPurpose       string   `json:"proofPurpose"`
	Context            []string `json:"@context,omitempty"`
	ProofValue         string   `json:"proofValue,omitempty"`
}

// Sign adds an eddsa-jcs-2022 proof to doc, a JSON object without a
// "proof" member, and returns the secured document. verificationMethod is
// the signer's did:key verification method and sign its ed25519 signature
// function (ed25519.Sign with its private key). As the cryptosuite
// specifies, the proof configuration takes the document's @context; the
// hash signed is SigningInput(proofConfig, document).
func Sign(doc []byte, verificationMethod string, sign func(msg []byte) []byte, created time.Time) ([]byte, error) {
	obj, err := parseObject(doc)
	if err != nil {
		return nil, err
	}
	if _, ok := obj["proof"]; ok {
		return nil, errors.New("document already has a proof")
	}
	p := Proof{
		Type:               ProofType,
		Cryptosuite:        Cryptosuite,
		Created:            created.UTC().Truncate(time.Second).Format(time.RFC3339),
		VerificationMethod: verificationMethod,
		ProofPurpose:       AssertionMethod,
	}
	if c, ok := obj["@context"]; ok {
		ctx, err := stringList(c)
		if err != nil {
			return nil, fmt.Errorf("@context: %w", err)
		}
		p.Context = ctx
	}
	cfg, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	h, err := SigningInput(cfg, doc)
	if err != nil {
		return nil, err
	}
	p.ProofValue = "z" + base58.Encode(sign(h))
	pj, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	// Append the proof as the last member of the original object, keeping
	// the document's own member order.
	d := bytes.TrimRight(doc, " \t\r\n")
	if len(d) == 0 || d[len(d)-1] != '}' {
		return nil, errors.New("document is not a JSON object")
	}
	out := make([]byte, 0, len(d)+len(pj)+16)
	out = append(out, d[:len(d)-1]...)
	if len(obj) > 0 {
		out = append(out, ',')
	}
	out = append(out, `"proof":`...)
	out = append(out, pj...)
	out = append(out, '}')
	return out, nil
}

// VerifiedProof describes a proof that verified.
type VerifiedProof struct {
	VerificationMethod string
	PublicKey          ed25519.PublicKey
	Created            time.Time
}

// VerifyProof checks the eddsa-jcs-2022 proof of a secured document whose
// verification method is a did:key, following the cryptosuite's "Verify
// Proof" algorithm. It does not check who the document's issuer is; see
// VerifyCredential for that.
func VerifyProof(secured []byte) (*VerifiedProof, error) {
	return verifyProof(secured, nil)
}

// VerifyProofWithKey checks the eddsa-jcs-2022 proof of a secured
// document with the key pub, whatever DID URL its verificationMethod is
// (a did:web's, whose key the caller found elsewhere).
func VerifyProofWithKey(secured []byte, pub ed25519.PublicKey) (*VerifiedProof, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: no Ed25519 key to check the proof with", ErrProof)
	}
	return verifyProof(secured, pub)
}

// verifyProof checks with key, or with the did:key of the verification
// method when key is nil.
func verifyProof(secured []byte, key ed25519.PublicKey) (*VerifiedProof, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrProof, fmt.Sprintf(format, a...))
	}
	obj, err := parseObject(secured)
	if err != nil {
		return nil, bad("%v", err)
	}
	rawProof, ok := obj["proof"]
	if !ok {
		return nil, bad("no proof")
	}
	proof, ok := rawProof.(map[string]any)
	if !ok {
		return nil, bad("proof is not a single object")
	}
	delete(obj, "proof")
	str := func(name string) (string, error) {
		v, ok := proof[name].(string)
		if !ok || v == "" {
			return "", bad("proof.%s is missing or not a string", name)
		}
		return v, nil
	}
	for name, want := range map[string]string{"type": ProofType, "cryptosuite": Cryptosuite, "proofPurpose": AssertionMethod} {
		v, err := str(name)
		if err != nil {
			return nil, err
		}
		if v != want {
			return nil, bad("proof.%s is %q, want %q", name, v, want)
		}
	}
	vm, err := str("verificationMethod")
	if err != nil {
		return nil, err
	}
	pub := key
	if pub == nil {
		if pub, err = didkey.Parse(vm); err != nil {
			return nil, bad("verificationMethod: %v", err)
		}
	}
	if !strings.Contains(vm, "#") {
		return nil, bad("verificationMethod %q has no key fragment", vm)
	}
	createdS, err := str("created")
	if err != nil {
		return nil, err
	}
	created, err := time.Parse(time.RFC3339, createdS)
	if err != nil {
		return nil, bad("proof.created %q is not an XML Schema dateTime", createdS)
	}
	pv, err := str("proofValue")
	if err != nil {
		return nil, err
	}
	enc, ok := strings.CutPrefix(pv, "z")
	if !ok {
		return nil, bad("proofValue is not base58btc multibase")
	}
	sig, err := base58.Decode(enc)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, bad("proofValue is not a %d-byte signature", ed25519.SignatureSize)
	}
	delete(proof, "proofValue")
	if pc, ok := proof["@context"]; ok {
		pctx, err := stringList(pc)
		if err != nil {
			return nil, bad("proof.@context: %v", err)
		}
		// The cryptosuite only asks that the document's @context start with
		// the proof's, and then verifies the proof's: contexts appended
		// after signing would go unsigned yet could redefine terms. zkcred
		// requires the two to be equal.
		dctx, err := stringList(obj["@context"])
		if err != nil || len(dctx) != len(pctx) {
			return nil, bad("document @context differs from the proof's @context")
		}
		for i := range pctx {
			if dctx[i] != pctx[i] {
				return nil, bad("document @context differs from the proof's @context")
			}
		}
	}
	cfg, err := json.Marshal(proof)
	if err != nil {
		return nil, bad("%v", err)
	}
	doc, err := json.Marshal(obj)
	if err != nil {
		return nil, bad("%v", err)
	}
	h, err := SigningInput(cfg, doc)
	if err != nil {
		return nil, bad("%v", err)
	}
	if !ed25519.Verify(pub, h, sig) {
		return nil, bad("signature does not verify")
	}
	return &VerifiedProof{VerificationMethod: vm, PublicKey: pub, Created: created}, nil
}

// SigningInput is what an eddsa-jcs-2022 proof signs:
// sha256(JCS(proofConfig)) || sha256(JCS(document)), with JCS the RFC 8785
// canonical form, proofConfig the proof without proofValue and document the
// secured document without its proof.
func SigningInput(proofConfig, doc []byte) ([]byte, error) {
	cc, err := jcs.Transform(proofConfig)
	if err != nil {
		return nil, fmt.Errorf("canonicalising proof configuration: %w", err)
	}
	cd, err := jcs.Transform(doc)
	if err != nil {
		return nil, fmt.Errorf("canonicalising document: %w", err)
	}
	a, b := sha256.Sum256(cc), sha256.Sum256(cd)
	return append(a[:], b[:]...), nil
}

// parseObject decodes one JSON object (numbers kept exact), rejecting
// trailing data and duplicate member names, which different parsers would
// resolve differently.
func parseObject(b []byte) (map[string]any, error) {
	if err := checkNoDuplicates(b); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("trailing data after JSON object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	return obj, nil
}

// checkNoDuplicates walks the token stream and rejects an object that names
// a member twice.
func checkNoDuplicates(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type frame struct {
		obj   bool
		keys  map[string]bool
		isKey bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("not JSON: %w", err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				if top != nil && top.obj {
					top.isKey = true
				}
				stack = append(stack, &frame{obj: true, keys: map[string]bool{}, isKey: true})
			case '[':
				if top != nil && top.obj {
					top.isKey = true
				}
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		}
		if top != nil && top.obj {
			if top.isKey {
				k := tok.(string)
				if top.keys[k] {
					return fmt.Errorf("member %q appears twice", k)
				}
				top.keys[k] = true
				top.isKey = false
			} else {
				top.isKey = true
			}
		}
	}
}

func stringList(v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, errors.New("entries must be URL strings")
			}
			out[i] = s
		}
		return out, nil
	case []string:
		return x, nil
	}
	return nil, errors.New("must be a string or a list of strings")
}
