package fileformat

import (
	"bytes"
	"encoding/binary"
)

// Magic numbers at offset 0.
var (
	magicZip      = []byte("PK\x03\x04")
	magicZipEmpty = []byte("PK\x05\x06")
	magicZipSpan  = []byte("PK\x07\x08PK\x03\x04")
	magic7z       = []byte{'7', 'z', 0xBC, 0xAF, 0x27, 0x1C}
	magicRAR4     = []byte("Rar!\x1A\x07\x00")
	magicRAR5     = []byte("Rar!\x1A\x07\x01\x00")
	magicCFB      = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	magicPDF      = []byte("%PDF-")
)

// simpleMagic lists formats recognised by a fixed prefix and nothing else.
var simpleMagic = []struct {
	prefix []byte
	typ    string
}{
	{[]byte{0x1F, 0x8B}, "gzip"},
	{[]byte("BZh"), "bzip2"},
	{[]byte{0xFD, '7', 'z', 'X', 'Z', 0x00}, "xz"},
	{[]byte{0x28, 0xB5, 0x2F, 0xFD}, "zstd"},
	{[]byte("\x89PNG\r\n\x1a\n"), "png"},
	{[]byte{0xFF, 0xD8, 0xFF}, "jpeg"},
	{[]byte("GIF87a"), "gif"},
	{[]byte("GIF89a"), "gif"},
	{[]byte("II*\x00"), "tiff"},
	{[]byte("MM\x00*"), "tiff"},
	{[]byte("MSCF\x00\x00\x00\x00"), "cab"},
	{[]byte("{\\rtf"), "rtf"},
	{[]byte("MZ"), "exe"},
	{[]byte("\x7fELF"), "exe"},
}

func sniff(head []byte) Info {
	if len(head) == 0 {
		return Info{Type: "text", Detail: "empty file"}
	}
	switch {
	case bytes.HasPrefix(head, magicZip), bytes.HasPrefix(head, magicZipEmpty), bytes.HasPrefix(head, magicZipSpan):
		return sniffZip(head)
	case bytes.HasPrefix(head, magic7z):
		return Info{Type: "7z"}
	case bytes.HasPrefix(head, magicRAR5):
		return sniffRAR5(head)
	case bytes.HasPrefix(head, magicRAR4):
		return sniffRAR4(head)
	case bytes.HasPrefix(head, magicCFB):
		return Info{Type: "cfb"}
	case bytes.HasPrefix(head, []byte("RIFF")) && len(head) >= 12 && string(head[8:12]) == "WEBP":
		return Info{Type: "webp"}
	case bytes.HasPrefix(head, []byte("BM")) && len(head) >= 14 && binary.LittleEndian.Uint32(head[6:10]) == 0:
		return Info{Type: "bmp"}
	}
	// PDF readers accept junk before the header within the first KiB.
	if i := bytes.Index(head[:min(len(head), 1024)], magicPDF); i >= 0 {
		return Info{Type: "pdf"}
	}
	for _, m := range simpleMagic {
		if bytes.HasPrefix(head, m.prefix) {
			return Info{Type: m.typ}
		}
	}
	if len(head) >= 262 && string(head[257:262]) == "ustar" {
		return Info{Type: "tar"}
	}
	if len(head) >= 21 && head[2] == '-' && head[3] == 'l' && (head[4] == 'h' || head[4] == 'z') && head[6] == '-' {
		return Info{Type: "lzh"}
	}
	if k := pgpBinaryKind(head); k.ok {
		return k.info()
	}
	if kind := SMIMEKind(head); kind != "" {
		return smimeInfo(kind, "DER")
	}
	return sniffText(head)
}

// sniffText recognises text formats: armored OpenPGP and PEM CMS, base64
// CMS, mail messages, HTML, XML and plain text.
func sniffText(head []byte) Info {
	body := head
	utf16 := false
	switch {
	case bytes.HasPrefix(body, []byte{0xEF, 0xBB, 0xBF}):
		body = body[3:]
	case bytes.HasPrefix(body, []byte{0xFF, 0xFE}), bytes.HasPrefix(body, []byte{0xFE, 0xFF}):
		utf16 = true
	}
	if utf16 {
		return Info{Type: "text", Detail: "UTF-16 text"}
	}
	if !looksText(body) {
		return Info{Type: "octet-stream"}
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if bytes.HasPrefix(trimmed, []byte("-----BEGIN PGP ")) {
		return pgpArmorInfo(trimmed)
	}
	if bytes.HasPrefix(trimmed, []byte("-----BEGIN PKCS7-----")) || bytes.HasPrefix(trimmed, []byte("-----BEGIN CMS-----")) ||
		bytes.HasPrefix(trimmed, []byte("-----BEGIN PKCS #7 SIGNED DATA-----")) {
		der := decodeBase64Prefix(pemBody(trimmed), 256)
		return smimeInfo(SMIMEKind(der), "PEM")
	}
	if looksMail(body) {
		return sniffMailHead(body)
	}
	if der := decodeBase64Prefix(trimmed, 256); len(der) > 16 {
		if kind := SMIMEKind(der); kind != "" {
			return smimeInfo(kind, "base64")
		}
	}
	lower := bytes.ToLower(trimmed[:min(len(trimmed), 1024)])
	switch {
	case bytes.HasPrefix(lower, []byte("<!doctype html")), bytes.HasPrefix(lower, []byte("<html")),
		bytes.HasPrefix(lower, []byte("<head")), bytes.HasPrefix(lower, []byte("<body")),
		bytes.HasPrefix(lower, []byte("<")) && bytes.Contains(lower, []byte("<html")):
		return Info{Type: "html"}
	case bytes.HasPrefix(lower, []byte("<?xml")):
		return Info{Type: "xml"}
	}
	if PGPArmorKind(body) == "message" {
		return Info{Type: "text", Detail: "text containing an armored OpenPGP message (the text around it is readable)"}
	}
	return Info{Type: "text"}
}

// looksText reports whether b reads as text in some charset: no NUL byte
// and almost no control characters (ESC is allowed for ISO-2022-JP). A
// multibyte sequence cut at the end of b does not count against it.
func looksText(b []byte) bool {
	ctl := 0
	for _, c := range b {
		switch {
		case c == 0:
			return false
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1B:
			ctl++
		case c == 0x7F:
			ctl++
		}
	}
	if ctl*100 > len(b) {
		return false
	}
	// Valid UTF-8, or a legacy Japanese charset (Shift_JIS, EUC-JP) whose
	// bytes are not UTF-8 but are not binary either.
	return true
}

// sniffZip tells a plain zip from OOXML and ODF by the local headers
// within head. Encryption needs the central directory (Identify).
func sniffZip(head []byte) Info {
	if bytes.HasPrefix(head, magicZipEmpty) {
		return Info{Type: "zip", Detail: "empty zip"}
	}
	if bytes.HasPrefix(head, magicZipSpan) {
		head = head[4:]
	}
	// ODF: the first entry is an uncompressed "mimetype".
	if len(head) >= 38 && string(head[30:38]) == "mimetype" && binary.LittleEndian.Uint16(head[8:10]) == 0 {
		nameLen := int(binary.LittleEndian.Uint16(head[26:28]))
		extraLen := int(binary.LittleEndian.Uint16(head[28:30]))
		start := 30 + nameLen + extraLen
		if nameLen == 8 && start < len(head) {
			if t := odfType(head[start:min(len(head), start+80)]); t != "" {
				return Info{Type: t}
			}
		}
	}
	ooxml := false
	typ := ""
	// Local headers may use data descriptors, so look for every local
	// header signature in head rather than walking sizes.
	for off, n := 0, 0; n < 256; n++ {
		i := bytes.Index(head[off:], magicZip)
		if i < 0 {
			break
		}
		off += i
		if off+30 > len(head) {
			break
		}
		nameLen := int(binary.LittleEndian.Uint16(head[off+26:]))
		if off+30+nameLen > len(head) {
			break
		}
		name := string(head[off+30 : off+30+nameLen])
		switch {
		case name == "[Content_Types].xml":
			ooxml = true
		case typ == "" && hasPrefixAny(name, "word/"):
			typ = "docx"
		case typ == "" && hasPrefixAny(name, "xl/"):
			typ = "xlsx"
		case typ == "" && hasPrefixAny(name, "ppt/"):
			typ = "pptx"
		}
		off += 4
	}
	if ooxml && typ != "" {
		return Info{Type: typ}
	}
	if ooxml {
		return Info{Type: "zip", Detail: "OOXML package ([Content_Types].xml)"}
	}
	return Info{Type: "zip"}
}

func hasPrefixAny(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if len(s) >= len(p) && s[:len(p)] == p {
			return true
		}
	}
	return false
}

// odfType maps an ODF mimetype to a type name.
func odfType(mt []byte) string {
	switch {
	case bytes.HasPrefix(mt, []byte("application/vnd.oasis.opendocument.text")):
		return "odt"
	case bytes.HasPrefix(mt, []byte("application/vnd.oasis.opendocument.spreadsheet")):
		return "ods"
	case bytes.HasPrefix(mt, []byte("application/vnd.oasis.opendocument.presentation")):
		return "odp"
	}
	return ""
}
