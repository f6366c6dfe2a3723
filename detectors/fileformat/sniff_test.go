package fileformat

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSniffTable(t *testing.T) {
	cases := []struct {
		name      string
		head      []byte
		typ       string
		encrypted bool
		enc       string
	}{
		{"empty", nil, "text", false, ""},
		{"ascii", []byte("hello, world\n"), "text", false, ""},
		{"utf8 japanese", []byte("マイナンバー: 1234 5678 9018\n"), "text", false, ""},
		{"shift_jis", []byte{0x83, 0x7D, 0x83, 0x43, 0x83, 0x69, 0x83, 0x93, 0x83, 0x6F, 0x81, 0x5B, '\n'}, "text", false, ""},
		{"iso-2022-jp", []byte("\x1b$B%^%$%J%s%P!<\x1b(B\n"), "text", false, ""},
		{"utf16 bom", []byte{0xFF, 0xFE, 'h', 0, 'i', 0}, "text", false, ""},
		{"binary", []byte{0x00, 0x01, 0x02, 0x03, 0xFE, 0x00}, "octet-stream", false, ""},
		{"html doctype", []byte("<!DOCTYPE html><html><body>x</body></html>"), "html", false, ""},
		{"html bare", []byte("  <html lang=ja><head>"), "html", false, ""},
		{"xml", []byte(`<?xml version="1.0"?><a/>`), "xml", false, ""},
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), "pdf", false, ""},
		{"pdf after junk", append([]byte("junk junk\n"), []byte("%PDF-1.4\n")...), "pdf", false, ""},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "png", false, ""},
		{"jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}, "jpeg", false, ""},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), "gif", false, ""},
		{"gzip", []byte{0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 3}, "gzip", false, ""},
		{"7z", []byte{'7', 'z', 0xBC, 0xAF, 0x27, 0x1C, 0, 4}, "7z", false, ""},
		{"cfb", []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0}, "cfb", false, ""},
		{"rar4 plain main", []byte("Rar!\x1a\x07\x00\xcf\x90\x73\x00\x00\x0d\x00\x00\x00\x00\x00\x00\x00"), "rar", false, ""},
		{"rar4 header encrypted", []byte("Rar!\x1a\x07\x00\xcf\x90\x73\x80\x00\x0d\x00\x00\x00\x00\x00\x00\x00"), "rar", true, "rar4-headers"},
		{"rar5 header encrypted", []byte("Rar!\x1a\x07\x01\x00\x00\x00\x00\x00\x0c\x04\x00\x00\x01"), "rar", true, "rar5-headers"},
		{"rar5 main", []byte("Rar!\x1a\x07\x01\x00\x00\x00\x00\x00\x05\x01\x01\x00\x00"), "rar", false, ""},
		{"empty zip", []byte("PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), "zip", false, ""},
		{"pgp armor message", []byte("-----BEGIN PGP MESSAGE-----\n\njA0ECQMCNV/dN/d9o2P/0mUB9kin/+FWu1HaD4dpSkS6o5/0uVMgTKLOLSXcGzxD\n"), "pgp", true, "pgp"},
		{"pgp armor clearsigned", []byte("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\ntext\n"), "pgp", false, ""},
		{"pgp armor public key", []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ\n"), "pgp", false, ""},
		{"pgp message not base64", []byte("-----BEGIN PGP MESSAGE-----\n\n!!!!\n"), "pgp", false, ""},
		{"mail", []byte("From: a@example.jp\r\nTo: b@example.jp\r\nSubject: x\r\n\r\nbody\r\n"), "eml", false, ""},
		{"mail multipart/encrypted", []byte("From: a@example.jp\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b\n\n--b\n"), "eml", true, "pgp"},
		{"mail smime enveloped", []byte("From: a@example.jp\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\n\nMIAG\n"), "eml", true, "smime-enveloped"},
		{"not mail: one field", []byte("Subject: only one line\n\ntext"), "text", false, ""},
		{"not mail: prose with colon", []byte("Note: this is prose\nand more prose: here\n"), "text", false, ""},
		{"der enveloped", []byte{0x30, 0x80, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x03, 0xA0, 0x80}, "smime", true, "smime-enveloped"},
		{"der signed", []byte{0x30, 0x82, 0x05, 0xA5, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02, 0xA0, 0x82}, "smime", false, ""},
		{"base64 enveloped", []byte("MIIB+wYJKoZIhvcNAQcDoIIB7DCCAegCAQAxggFSMIIBTgIBADA2MB4xHDAaBgNV\n"), "smime", true, "smime-enveloped"},
		{"pem pkcs7", []byte("-----BEGIN PKCS7-----\nMIIB+wYJKoZIhvcNAQcDoIIB7DCCAegCAQAxggFSMIIBTgIBADA2MB4xHDAaBgNV\n"), "smime", true, "smime-enveloped"},
		{"pgp binary skesk", []byte{0x8C, 0x0D, 0x04, 0x09, 0x03, 0x02, 1, 2, 3, 4, 5, 6, 7, 8, 0xFF, 0xD2, 0x65, 0x01}, "pgp", true, "pgp"},
		{"random 0x8c", []byte{0x8C, 0x0D, 0x09, 0x09, 0x03, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "octet-stream", false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info := Sniff(c.head)
			if info.Type != c.typ || info.Encrypted != c.encrypted || info.Encryption != c.enc {
				t.Errorf("Sniff = %+v, want %s/%v/%q", info, c.typ, c.encrypted, c.enc)
			}
		})
	}
}

// TestSniffSamples: Sniff on the first 8 KiB of each sample agrees with
// Identify on the family, and never claims encryption that Identify denies.
func TestSniffSamples(t *testing.T) {
	family := map[string]string{"docx": "zip", "xlsx": "zip", "pptx": "zip", "odt": "zip", "ods": "zip", "odp": "zip",
		"doc": "cfb", "xls": "cfb", "ppt": "cfb", "ooxml-encrypted": "cfb"}
	fam := func(t string) string {
		if f, ok := family[t]; ok {
			return f
		}
		return t
	}
	for _, dir := range []string{samplesDir, fixturesDir} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			s := Sniff(b[:min(len(b), 8192)])
			id, _ := identifyFile(t, filepath.Join(dir, e.Name()))
			if fam(s.Type) != fam(id.Type) {
				t.Errorf("%s: Sniff type %q, Identify type %q", e.Name(), s.Type, id.Type)
			}
			if s.Encrypted && !id.Encrypted {
				t.Errorf("%s: Sniff says encrypted (%s), Identify does not", e.Name(), s.Encryption)
			}
		}
	}
}

func TestPGPArmorKind(t *testing.T) {
	cases := map[string]string{
		"-----BEGIN PGP MESSAGE-----\n\nhQEMA\n":                                                 "message",
		"See below.\n\n-----BEGIN PGP MESSAGE-----\n":                                            "message",
		"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nx\n-----BEGIN PGP SIGNATURE-----\n": "signed",
		"-----BEGIN PGP SIGNATURE-----\n\niHUE\n":                                                "signature",
		"-----BEGIN PGP PUBLIC KEY BLOCK-----\n":                                                 "public-key",
		"-----BEGIN PGP PRIVATE KEY BLOCK-----\n":                                                "private-key",
		"quoted: -----BEGIN PGP MESSAGE----- inline\n":                                           "",
		"no armor here\n": "",
		"":                "",
	}
	for in, want := range cases {
		if got := PGPArmorKind([]byte(in)); got != want {
			t.Errorf("PGPArmorKind(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSMIMEKind(t *testing.T) {
	oid := func(tail ...byte) []byte {
		b := []byte{0x30, 0x80, 0x06, byte(len(tail))}
		return append(b, tail...)
	}
	pkcs7 := func(n byte) []byte { return oid(0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, n) }
	smime := func(n byte) []byte {
		return oid(0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x10, 0x01, n)
	}
	cases := []struct {
		der  []byte
		want string
	}{
		{pkcs7(3), "enveloped"},
		{pkcs7(2), "signed"},
		{pkcs7(6), "encrypted-data"},
		{smime(0x17), "auth-enveloped"},
		{smime(0x09), "compressed"},
		{pkcs7(1), ""}, // plain data: no kind
		{pkcs7(9), ""},
		{[]byte{0x30}, ""},
		{[]byte{0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0x06}, ""},
		{nil, ""},
	}
	for _, c := range cases {
		if got := SMIMEKind(c.der); got != c.want {
			t.Errorf("SMIMEKind(% x) = %q, want %q", c.der, got, c.want)
		}
	}
	// The real DER files made by OpenSSL.
	for f, want := range map[string]string{"smime-enveloped.p7m": "enveloped", "smime-signed.p7m": "signed",
		"smime-authenveloped.p7m": "auth-enveloped", "cms-encrypteddata.p7m": "encrypted-data"} {
		b, err := os.ReadFile(filepath.Join(fixturesDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if got := SMIMEKind(b); got != want {
			t.Errorf("%s: %q, want %q", f, got, want)
		}
	}
}

func TestOOXMLMainType(t *testing.T) {
	cases := map[string]string{
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml":   "docx",
		"application/vnd.ms-word.document.macroenabled.main+xml":                             "docx",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml":         "xlsx",
		"application/vnd.ms-excel.sheet.macroenabled.main+xml":                               "xlsx",
		"application/vnd.ms-excel.sheet.binary.macroenabled.main":                            "xlsb",
		"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
		"application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml":    "pptx",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":                  "", // an embedded workbook
		"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml":          "",
	}
	for ct, want := range cases {
		if got := ooxmlMainType(ct); got != want {
			t.Errorf("ooxmlMainType(%q) = %q, want %q", ct, got, want)
		}
	}
}
