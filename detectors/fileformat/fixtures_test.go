package fileformat

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const fixturesDir = "../../testdata/fileformat"

// fixtureWant lists every fixture made by testdata/fileformat/make.sh.
// verdict is "yes" (Encrypted), "partial" or "no".
var fixtureWant = map[string]struct{ typ, verdict, enc string }{
	"zip-plain.zip":                   {"zip", "no", ""},
	"zip-zipcrypto.zip":               {"zip", "yes", "zip-zipcrypto"},
	"zip-mixed.zip":                   {"zip", "partial", ""},
	"zip-zipcrypto-with-dirs.zip":     {"zip", "yes", "zip-zipcrypto"},
	"zip-aes256.zip":                  {"zip", "yes", "zip-aes"},
	"zip-aes128.zip":                  {"zip", "yes", "zip-aes"},
	"7z-plain.7z":                     {"7z", "no", ""},
	"7z-aes.7z":                       {"7z", "yes", "7z-aes"},
	"7z-aes-mhe.7z":                   {"7z", "yes", "7z-aes-headers"},
	"7z-aes-many.7z":                  {"7z", "yes", "7z-aes"},
	"7z-plain-many.7z":                {"7z", "no", ""},
	"7z-only-empty-file.7z":           {"7z", "no", ""},
	"pdf-lo-plain.pdf":                {"pdf", "no", ""},
	"pdf-plain-xrefstream.pdf":        {"pdf", "no", ""},
	"pdf-r2-user.pdf":                 {"pdf", "yes", "pdf-user-password"},
	"pdf-r3-owneronly.pdf":            {"pdf", "no", ""},
	"pdf-r4-user-xrefstream.pdf":      {"pdf", "yes", "pdf-user-password"},
	"pdf-r4-owneronly-xrefstream.pdf": {"pdf", "no", ""},
	"pdf-r6-user.pdf":                 {"pdf", "yes", "pdf-user-password"},
	"pdf-r6-owneronly.pdf":            {"pdf", "no", ""},
	"pdf-r6-user-linearized.pdf":      {"pdf", "yes", "pdf-user-password"},
	"pdf-r4-owneronly-linearized.pdf": {"pdf", "no", ""},
	"smime-enveloped.p7m":             {"smime", "yes", "smime-enveloped"},
	"smime-enveloped.pem":             {"smime", "yes", "smime-enveloped"},
	"smime-enveloped.eml":             {"eml", "yes", "smime-enveloped"},
	"smime-authenveloped.p7m":         {"smime", "yes", "smime-auth-enveloped"},
	"cms-encrypteddata.p7m":           {"smime", "yes", "cms-encrypted-data"},
	"smime-signed.p7m":                {"smime", "no", ""},
	"smime-signed-detached.eml":       {"eml", "no", ""},
	"smime-signed-opaque.eml":         {"eml", "no", ""},
	"pgp-symmetric.gpg":               {"pgp", "yes", "pgp"},
	"pgp-symmetric.asc":               {"pgp", "yes", "pgp"},
	"pgp-pubkey.gpg":                  {"pgp", "yes", "pgp"},
	"pgp-pubkey.asc":                  {"pgp", "yes", "pgp"},
	"pgp-clearsigned.asc":             {"pgp", "no", ""},
	"pgp-signed-binary.gpg":           {"pgp", "no", ""},
	"pgp-signed-armored.asc":          {"pgp", "no", ""},
	"pgp-detached.sig.asc":            {"pgp", "no", ""},
	"pgp-public-key.asc":              {"pgp", "no", ""},
	"lo-plain.docx":                   {"docx", "no", ""},
	"lo-plain.xlsx":                   {"xlsx", "no", ""},
	"lo-plain.pptx":                   {"pptx", "no", ""},
	"lo-plain.odt":                    {"odt", "no", ""},
	"lo-plain.ods":                    {"ods", "no", ""},
	"lo-plain.doc":                    {"doc", "no", ""},
	"lo-plain.xls":                    {"xls", "no", ""},
	"lo-plain.ppt":                    {"ppt", "no", ""},
	"hello.txt.gz":                    {"gzip", "no", ""},
	"list.csv":                        {"text", "no", ""},
}

func TestFixtures(t *testing.T) {
	ents, err := os.ReadDir(fixturesDir)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range ents {
		name := e.Name()
		if name == "make.sh" || name == "README.md" || e.IsDir() {
			continue
		}
		want, ok := fixtureWant[name]
		if !ok {
			t.Errorf("%s has no expectation in fixtureWant", name)
			continue
		}
		seen++
		t.Run(name, func(t *testing.T) {
			info, err := identifyFile(t, filepath.Join(fixturesDir, name))
			if err != nil {
				t.Fatalf("Identify: %v", err)
			}
			got := "no"
			switch {
			case info.Encrypted && info.Partial:
				t.Fatalf("Encrypted and Partial both set: %+v", info)
			case info.Encrypted:
				got = "yes"
			case info.Partial:
				got = "partial"
			}
			if info.Type != want.typ || got != want.verdict || info.Encryption != want.enc {
				t.Errorf("got %s/%s/%q, want %s/%s/%q (detail %q)", info.Type, got, info.Encryption, want.typ, want.verdict, want.enc, info.Detail)
			}
		})
	}
	if seen != len(fixtureWant) {
		t.Errorf("found %d of the %d expected fixtures: run testdata/fileformat/make.sh", seen, len(fixtureWant))
	}
}

// TestZipEntryEncrypted checks the per-entry answer on real archives.
func TestZipEntryEncrypted(t *testing.T) {
	cases := []struct {
		file    string
		entries map[string]string // name -> scheme ("" = plain)
	}{
		{samplesDir + "/zip-mixed.zip", map[string]string{"public.txt": "", "hello.txt": "zip-zipcrypto"}},
		{samplesDir + "/zip-aes256.zip", map[string]string{"hello.txt": "zip-aes"}},
		{fixturesDir + "/zip-zipcrypto-with-dirs.zip", map[string]string{"dir/": "", "dir/sub/": "", "dir/sub/a.txt": "zip-zipcrypto", "dir/b.txt": "zip-zipcrypto"}},
		{fixturesDir + "/zip-plain.zip", map[string]string{"hello.txt": "", "public.txt": ""}},
	}
	for _, c := range cases {
		zr, err := zip.OpenReader(c.file)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if len(zr.File) != len(c.entries) {
			t.Errorf("%s: %d entries, want %d", c.file, len(zr.File), len(c.entries))
		}
		for _, f := range zr.File {
			want, ok := c.entries[f.Name]
			if !ok {
				t.Errorf("%s: unexpected entry %q", c.file, f.Name)
				continue
			}
			enc, scheme := ZipEntryEncrypted(f)
			if enc != (want != "") || scheme != want {
				t.Errorf("%s/%s: got %v %q, want %q", c.file, f.Name, enc, scheme, want)
			}
		}
		zr.Close()
	}
	if enc, s := ZipEntryEncrypted(nil); enc || s != "" {
		t.Errorf("nil entry: %v %q", enc, s)
	}
}

// TestPDFUserPasswordAuthenticates checks the password code with the real
// user password of the samples, not only with the empty one.
func TestPDFUserPasswordAuthenticates(t *testing.T) {
	files := []string{"pdf-r2-rc4-40-userpw.pdf", "pdf-r3-rc4-128-userpw.pdf", "pdf-r4-aes128-userpw.pdf", "pdf-r6-aes256-userpw.pdf"}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(samplesDir, f))
		if err != nil {
			t.Fatal(err)
		}
		d := &pdfDoc{r: bytes.NewReader(b), size: int64(len(b)), offsets: map[int64]int64{}}
		tr, err := d.trailer()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		enc, err := d.resolveDict(tr["Encrypt"])
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for pw, want := range map[string]bool{"userpw": true, "": false, "ownerpw": false, "userpx": false} {
			ok, err := pdfCheckUserPassword(enc, firstID(tr), []byte(pw))
			if err != nil || ok != want {
				t.Errorf("%s: password %q: got %v %v, want %v", f, pw, ok, err, want)
			}
		}
	}
}

// TestPDFDamagedXref: with startxref destroyed, the fallback scan still
// finds the encryption dictionary and tells user from owner passwords.
func TestPDFDamagedXref(t *testing.T) {
	cases := map[string]bool{
		samplesDir + "/pdf-r4-aes128-userpw.pdf":         true,
		samplesDir + "/pdf-r4-aes128-owneronly.pdf":      false,
		samplesDir + "/pdf-r6-aes256-userpw.pdf":         true,
		fixturesDir + "/pdf-r4-user-xrefstream.pdf":      true,
		fixturesDir + "/pdf-r4-owneronly-xrefstream.pdf": false,
	}
	for f, want := range cases {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.LastIndex(b, []byte("startxref"))
		if i < 0 {
			t.Fatalf("%s: no startxref", f)
		}
		bad := append([]byte{}, b...)
		copy(bad[i:], "startxrex")
		info, err := Identify(bytes.NewReader(bad), int64(len(bad)))
		if err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if info.Type != "pdf" || info.Encrypted != want || !strings.Contains(info.Detail, "cross-reference damaged") {
			t.Errorf("%s: got %+v, want encrypted=%v with a damage note", f, info, want)
		}
	}
	// A plain PDF with a damaged xref is reported as corrupt, not as plain.
	b, err := os.ReadFile(samplesDir + "/pdf-plain.pdf")
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(b, []byte("startxref"), []byte("startxrex"), -1)
	if info, err := Identify(bytes.NewReader(bad), int64(len(bad))); err == nil || info.Type != "pdf" {
		t.Errorf("damaged plain PDF: got %+v %v, want type pdf and an error", info, err)
	}
}

// TestPDFIncrementalUpdate appends an update section to an encrypted PDF
// whose trailer does not repeat /Encrypt: the /Prev chain still finds it.
// Appending an update that adds /Encrypt to a plain PDF makes it encrypted.
func TestPDFIncrementalUpdate(t *testing.T) {
	enc, err := os.ReadFile(samplesDir + "/pdf-r6-aes256-userpw.pdf")
	if err != nil {
		t.Fatal(err)
	}
	upd := appendUpdate(t, enc, "")
	if info, err := Identify(bytes.NewReader(upd), int64(len(upd))); err != nil || !info.Encrypted {
		t.Errorf("update without /Encrypt over an encrypted PDF: %+v %v", info, err)
	}
	// Copy the encryption dictionary of the R6 sample into an update of
	// the plain sample.
	plain, err := os.ReadFile(samplesDir + "/pdf-plain.pdf")
	if err != nil {
		t.Fatal(err)
	}
	d := &pdfDoc{r: bytes.NewReader(enc), size: int64(len(enc)), offsets: map[int64]int64{}}
	tr, err := d.trailer()
	if err != nil {
		t.Fatal(err)
	}
	ref := tr["Encrypt"].(pdfRef)
	head := strconv.FormatInt(ref.num, 10) + " 0 obj"
	start := bytes.Index(enc, []byte("\n"+head))
	if start >= 0 {
		start++
	}
	end := bytes.Index(enc[start:], []byte("endobj"))
	if start < 0 || end < 0 {
		t.Fatal("encryption object not found in the sample")
	}
	obj := bytes.Replace(enc[start:start+end+6], []byte(head), []byte("99 0 obj"), 1)
	withObj := append(append(append([]byte{}, plain...), '\n'), obj...)
	upd = appendUpdate(t, withObj, "/Encrypt 99 0 R /ID [<00112233445566778899aabbccddeeff><00112233445566778899aabbccddeeff>]")
	info, err := Identify(bytes.NewReader(upd), int64(len(upd)))
	if err != nil || !info.Encrypted || info.Encryption != "pdf-user-password" {
		t.Errorf("update adding /Encrypt to a plain PDF: %+v %v", info, err)
	}
}

// appendUpdate appends an empty incremental update whose trailer holds
// extra and points back with /Prev.
func appendUpdate(t *testing.T, b []byte, extra string) []byte {
	t.Helper()
	m := reStartXref.FindAllSubmatch(b, -1)
	if len(m) == 0 {
		t.Fatal("no startxref")
	}
	prev := string(m[len(m)-1][1])
	out := append([]byte{}, b...)
	off := len(out) + 1
	out = append(out, []byte("\nxref\n0 0\ntrailer\n<< /Size 100 /Prev "+prev+" "+extra+" >>\nstartxref\n")...)
	out = append(out, []byte(strconv.Itoa(off)+"\n%%EOF\n")...)
	return out
}
