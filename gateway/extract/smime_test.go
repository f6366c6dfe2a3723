package extract

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

const smimeWant = "123456789018"

func TestSMIMEOpaqueSigned(t *testing.T) {
	// openssl smime -sign -nodetach: a whole message whose body is
	// application/x-pkcs7-mime; smime-type=signed-data (base64).
	parts := walkFixture(t, "smime-opaque-signed.eml")
	p7m := mustPart(t, parts, "smime-opaque-signed.eml/attachment[1]/smime.p7m")
	if p7m.Type != "smime" || !p7m.Container || p7m.Encrypted || p7m.Uninspectable != "" {
		t.Errorf("p7m part:\n%s", dump(parts))
	}
	body := mustPart(t, parts, "smime-opaque-signed.eml/attachment[1]/smime.p7m/body[1]")
	if !strings.Contains(body.text, smimeWant) || !strings.Contains(body.text, "マイナンバー") || body.Attachment != 1 {
		t.Errorf("inner body %+v %q", body.Part, body.text)
	}
	for _, p := range parts {
		if p.Uninspectable != "" || p.readErr != nil {
			t.Errorf("uninspectable:\n%s", dump(parts))
		}
	}
}

func TestSMIMESignedDERAndBER(t *testing.T) {
	// openssl cms -sign -nodetach -binary, DER (definite lengths) and
	// -stream (indefinite lengths, constructed OCTET STRING).
	for _, name := range []string{"smime-signed.p7m", "smime-signed-ber.p7m"} {
		parts := walkFixture(t, name)
		if p := mustPart(t, parts, name); p.Type != "smime" || !p.Container || p.Uninspectable != "" {
			t.Errorf("%s:\n%s", name, dump(parts))
		}
		if b := mustPart(t, parts, name+"/body[1]"); !strings.Contains(b.text, smimeWant) {
			t.Errorf("%s: inner text %q", name, b.text)
		}
	}
	// The same object as PEM and as bare base64 text.
	der := fixture(t, "smime-signed.p7m")
	b64 := base64.StdEncoding.EncodeToString(der)
	var pem strings.Builder
	pem.WriteString("-----BEGIN PKCS7-----\n")
	for i := 0; i < len(b64); i += 64 {
		pem.WriteString(b64[i:min(i+64, len(b64))] + "\n")
	}
	pem.WriteString("-----END PKCS7-----\n")
	for name, data := range map[string]string{"signed.pem": pem.String(), "signed.b64": b64} {
		parts, err := walkFileBytes(t, name, []byte(data), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if b := find(parts, name+"/body[1]"); b == nil || !strings.Contains(b.text, smimeWant) {
			t.Errorf("%s:\n%s", name, dump(parts))
		}
	}
}

func TestSMIMEDetachedSignature(t *testing.T) {
	parts := walkFixture(t, "smime.p7s")
	if len(parts) != 1 || parts[0].Type != "smime-signature" || parts[0].Uninspectable != "" || parts[0].Encrypted || parts[0].text != "" {
		t.Fatalf("smime.p7s:\n%s", dump(parts))
	}
	// multipart/signed: the signed text is a body part, the signature a
	// signature.
	parts = walkFixture(t, "smime-detached.eml")
	sig := mustPart(t, parts, "smime-detached.eml/attachment[1]/smime.p7s")
	if sig.Type != "smime-signature" || sig.Uninspectable != "" {
		t.Errorf("signature:\n%s", dump(parts))
	}
	if b := mustPart(t, parts, "smime-detached.eml/body[1]"); !strings.Contains(b.text, smimeWant) {
		t.Errorf("signed body %q", b.text)
	}
}

func TestSMIMEEnvelopedStaysEncrypted(t *testing.T) {
	parts := walkFixture(t, "smime-enveloped.eml")
	p := mustPart(t, parts, "smime-enveloped.eml/attachment[1]/smime.p7m")
	if !p.Encrypted || p.Encryption != "smime-enveloped" || p.Container {
		t.Errorf("enveloped:\n%s", dump(parts))
	}
	for _, q := range parts {
		if strings.Contains(q.text, smimeWant) {
			t.Errorf("%s has the plain text", q.Path)
		}
	}
}

// ber builds a BER element with the indefinite length form when indef.
func ber(tag byte, indef bool, content ...[]byte) []byte {
	c := bytes.Join(content, nil)
	if indef {
		return append(append([]byte{tag, 0x80}, c...), 0, 0)
	}
	switch n := len(c); {
	case n < 0x80:
		return append([]byte{tag, byte(n)}, c...)
	case n < 0x100:
		return append([]byte{tag, 0x81, byte(n)}, c...)
	default:
		return append([]byte{tag, 0x82, byte(n >> 8), byte(n)}, c...)
	}
}

// signedData wraps econtent (nil: detached) in a SignedData ContentInfo
// without certificates or signers.
func signedData(indef bool, econtent []byte) []byte {
	oid := func(o []byte) []byte { return ber(0x06, false, o) }
	eci := [][]byte{oid(oidCMSData)}
	if econtent != nil {
		eci = append(eci, ber(0xA0, indef, econtent))
	}
	sd := ber(0x30, indef, ber(0x02, false, []byte{1}), ber(0x31, indef),
		ber(0x30, indef, eci...), ber(0x31, false))
	return ber(0x30, indef, oid(oidCMSSignedData), ber(0xA0, indef, sd))
}

func TestSMIMEBERChunks(t *testing.T) {
	entity := "Content-Type: text/plain; charset=UTF-8\r\n\r\n個人番号 " + smimeWant + " です\r\n"
	// Chunks of 7 bytes, some nested in a second constructed OCTET STRING
	// of definite length: the pieces must join across UTF-8 sequences.
	var chunks [][]byte
	for i := 0; i < len(entity); i += 7 {
		chunks = append(chunks, ber(0x04, false, []byte(entity[i:min(i+7, len(entity))])))
	}
	nested := ber(0x24, false, chunks[2:5]...)
	content := ber(0x24, true, append(append(append([][]byte{}, chunks[:2]...), nested), chunks[5:]...)...)
	for name, data := range map[string][]byte{
		"chunked.p7m":    signedData(true, content),
		"definite.p7m":   signedData(false, ber(0x04, false, []byte(entity))),
		"nonmime.p7m":    signedData(false, ber(0x04, false, []byte("個人番号 "+smimeWant+"\n"))),
		"detached.p7s":   signedData(true, nil),
		"detached-d.p7s": signedData(false, nil),
	} {
		parts, err := walkFileBytes(t, name, data, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch {
		case strings.HasPrefix(name, "detached"):
			if len(parts) != 1 || parts[0].Type != "smime-signature" || parts[0].Uninspectable != "" {
				t.Errorf("%s:\n%s", name, dump(parts))
			}
		case name == "nonmime.p7m": // a signed file without a MIME header
			if c := find(parts, name+"/content"); c == nil || c.Type != "text/plain" || !strings.Contains(c.text, smimeWant) {
				t.Errorf("%s:\n%s", name, dump(parts))
			}
		default:
			if b := find(parts, name+"/body[1]"); b == nil || !strings.Contains(b.text, "個人番号 "+smimeWant+" です") {
				t.Errorf("%s:\n%s", name, dump(parts))
			}
		}
	}
}

func TestSMIMECorrupt(t *testing.T) {
	good := fixture(t, "smime-signed-ber.p7m")
	for name, data := range map[string][]byte{
		"truncated.p7m": good[:60],
		"badpiece.p7m":  signedData(true, ber(0x24, true, ber(0x02, false, []byte{1}))),
		"deep.p7m":      signedData(true, bytes.Repeat([]byte{0x24, 0x80}, 100)),
	} {
		parts, err := walkFileBytes(t, name, data, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(parts) != 1 || !strings.HasPrefix(parts[0].Uninspectable, "corrupt") {
			t.Errorf("%s:\n%s", name, dump(parts))
		}
	}
}
