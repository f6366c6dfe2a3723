package fileformat

import (
	"bytes"
	"encoding/base64"
	"io"
)

// CMS content-type OIDs (RFC 5652, RFC 5083, RFC 3274), DER-encoded
// without tag and length.
var (
	oidData          = []byte{0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01}
	oidSignedData    = []byte{0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02}
	oidEnvelopedData = []byte{0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x03}
	oidEncryptedData = []byte{0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x06}
	oidAuthEnveloped = []byte{0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x10, 0x01, 0x17}
	oidCompressed    = []byte{0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x10, 0x01, 0x09}
)

// SMIMEKind reads the content type of a CMS ContentInfo (DER or BER, as
// in an S/MIME .p7m body): "enveloped" (1.2.840.113549.1.7.3),
// "auth-enveloped" (1.2.840.113549.1.9.16.1.23), "signed"
// (1.2.840.113549.1.7.2), and also "encrypted-data" (1.2.840.113549.1.7.6,
// password-based) and "compressed" (1.2.840.113549.1.9.16.1.9). It returns
// "" when der does not start with a ContentInfo. Only the first bytes are
// needed.
func SMIMEKind(der []byte) string {
	oid, _ := cmsContentType(der)
	return oidKind(oid)
}

func oidKind(oid []byte) string {
	switch {
	case oid == nil:
		return ""
	case bytes.Equal(oid, oidEnvelopedData):
		return "enveloped"
	case bytes.Equal(oid, oidAuthEnveloped):
		return "auth-enveloped"
	case bytes.Equal(oid, oidSignedData):
		return "signed"
	case bytes.Equal(oid, oidEncryptedData):
		return "encrypted-data"
	case bytes.Equal(oid, oidCompressed):
		return "compressed"
	}
	return ""
}

// berHeader reads a tag and length. length is -1 for the indefinite form.
func berHeader(b []byte) (tag byte, length int, hdr int, ok bool) {
	if len(b) < 2 || b[0]&0x1F == 0x1F {
		return 0, 0, 0, false
	}
	tag = b[0]
	l := b[1]
	switch {
	case l < 0x80:
		return tag, int(l), 2, true
	case l == 0x80:
		if tag&0x20 == 0 {
			return 0, 0, 0, false // indefinite length needs a constructed type
		}
		return tag, -1, 2, true
	}
	n := int(l & 0x7F)
	if n > 4 || len(b) < 2+n {
		return 0, 0, 0, false
	}
	v := 0
	for _, c := range b[2 : 2+n] {
		v = v<<8 | int(c)
	}
	if v < 0 || v > 1<<30 {
		return 0, 0, 0, false
	}
	return tag, v, 2 + n, true
}

// cmsContentType returns the contentType OID of a ContentInfo and the
// bytes after it (the [0] EXPLICIT content, possibly truncated).
func cmsContentType(b []byte) (oid, rest []byte) {
	tag, _, h, ok := berHeader(b)
	if !ok || tag != 0x30 {
		return nil, nil
	}
	b = b[h:]
	tag, l, h, ok := berHeader(b)
	if !ok || tag != 0x06 || l <= 0 || l > 32 || len(b) < h+l {
		return nil, nil
	}
	if oidKind(b[h:h+l]) == "" && !bytes.Equal(b[h:h+l], oidData) {
		return nil, nil
	}
	return b[h : h+l], b[h+l:]
}

// signedInner returns the eContentType of a SignedData ContentInfo, to
// find encrypt-then-sign (an enveloped message inside a signature).
func signedInner(b []byte) []byte {
	oid, rest := cmsContentType(b)
	if !bytes.Equal(oid, oidSignedData) {
		return nil
	}
	// [0] EXPLICIT, then SignedData SEQUENCE.
	for _, want := range []byte{0xA0, 0x30} {
		tag, _, h, ok := berHeader(rest)
		if !ok || tag != want {
			return nil
		}
		rest = rest[h:]
	}
	// version INTEGER, digestAlgorithms SET.
	for _, want := range []byte{0x02, 0x31} {
		tag, l, h, ok := berHeader(rest)
		if !ok || tag != want {
			return nil
		}
		if l < 0 {
			end := berSkipIndefinite(rest[h:], 0)
			if end < 0 {
				return nil
			}
			rest = rest[h+end:]
			continue
		}
		if len(rest) < h+l {
			return nil
		}
		rest = rest[h+l:]
	}
	// encapContentInfo SEQUENCE { eContentType OID ... }
	tag, _, h, ok := berHeader(rest)
	if !ok || tag != 0x30 {
		return nil
	}
	rest = rest[h:]
	tag, l, h, ok := berHeader(rest)
	if !ok || tag != 0x06 || l <= 0 || len(rest) < h+l {
		return nil
	}
	return rest[h : h+l]
}

// berSkipIndefinite returns the length of indefinite-length content up to
// and including its end-of-contents octets, or -1.
func berSkipIndefinite(b []byte, depth int) int {
	if depth > 16 {
		return -1
	}
	off := 0
	for n := 0; n < 4096; n++ {
		if len(b)-off >= 2 && b[off] == 0 && b[off+1] == 0 {
			return off + 2
		}
		_, l, h, ok := berHeader(b[off:])
		if !ok {
			return -1
		}
		if l < 0 {
			e := berSkipIndefinite(b[off+h:], depth+1)
			if e < 0 {
				return -1
			}
			off += h + e
			continue
		}
		if len(b)-off < h+l {
			return -1
		}
		off += h + l
	}
	return -1
}

// smimeInfo turns a CMS kind into an Info; form says how it was found.
func smimeInfo(kind, form string) Info {
	info := Info{Type: "smime"}
	switch kind {
	case "enveloped":
		info.Encrypted, info.Encryption = true, "smime-enveloped"
		info.Detail = "CMS EnvelopedData (" + form + "): encrypted to the recipients' keys"
	case "auth-enveloped":
		info.Encrypted, info.Encryption = true, "smime-auth-enveloped"
		info.Detail = "CMS AuthEnvelopedData (" + form + "): encrypted to the recipients' keys"
	case "encrypted-data":
		info.Encrypted, info.Encryption = true, "cms-encrypted-data"
		info.Detail = "CMS EncryptedData (" + form + "): encrypted with a shared key or password"
	case "signed":
		info.Detail = "CMS SignedData (" + form + "): signed, not encrypted; the content is inside the signature"
	case "compressed":
		info.Detail = "CMS CompressedData (" + form + "): compressed, not encrypted"
	default:
		info.Type = "text"
		if form == "DER" {
			info.Type = "octet-stream"
		}
	}
	return info
}

// identifySMIME looks one level into a SignedData for an enveloped
// message (encrypt-then-sign).
func identifySMIME(r io.ReaderAt, size int64, info Info) (Info, error) {
	if info.Encrypted {
		return info, nil
	}
	b, err := readAt(r, size, 0, min(size, 64<<10), "CMS message")
	if err != nil {
		return info, err
	}
	der := b
	if SMIMEKind(b) == "" { // PEM or base64
		t := bytes.TrimLeft(b, " \t\r\n")
		if bytes.HasPrefix(t, []byte("-----BEGIN ")) {
			t = pemBody(t)
		}
		der = decodeBase64Prefix(t, 48<<10)
	}
	if inner := oidKind(signedInner(der)); inner == "enveloped" || inner == "auth-enveloped" || inner == "encrypted-data" {
		in := smimeInfo(inner, "inside SignedData")
		in.Detail = "signed message whose content is " + in.Detail
		return in, nil
	}
	return info, nil
}

// pemBody skips the BEGIN line and any armor headers of a PEM or OpenPGP
// armor block and returns what follows.
func pemBody(b []byte) []byte {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil
	}
	b = b[i+1:]
	// Armor headers ("Key: value") end at a blank line.
	if j := bytes.IndexByte(b, '\n'); j >= 0 && bytes.Contains(b[:j], []byte(": ")) {
		if k := bytes.Index(b, []byte("\n\n")); k >= 0 {
			return b[k+2:]
		}
		if k := bytes.Index(b, []byte("\n\r\n")); k >= 0 {
			return b[k+3:]
		}
	}
	return b
}

// decodeBase64Prefix decodes the leading base64 text of b (whitespace
// ignored) up to max output bytes, stopping at the first non-base64 byte.
func decodeBase64Prefix(b []byte, max int) []byte {
	clean := make([]byte, 0, min(len(b), max*4/3+8))
	for _, c := range b {
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			continue
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/', c == '=':
			clean = append(clean, c)
		default:
			goto done
		}
		if len(clean) >= max*4/3+4 {
			break
		}
	}
done:
	if i := bytes.IndexByte(clean, '='); i >= 0 {
		clean = clean[:i]
	}
	clean = clean[:len(clean)/4*4]
	out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
	n, err := base64.StdEncoding.Decode(out, clean)
	if err != nil {
		return nil
	}
	return out[:n]
}
