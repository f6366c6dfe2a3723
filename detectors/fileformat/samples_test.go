package fileformat

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const samplesDir = "../../testdata/encrypted-samples"

// sampleWant is what Identify must say about each sample beyond the
// manifest's verdict: its type and encryption scheme.
var sampleWant = map[string]struct{ typ, enc string }{
	"zip-plain.zip":                         {"zip", ""},
	"zip-zipcrypto.zip":                     {"zip", "zip-zipcrypto"},
	"zip-aes256.zip":                        {"zip", "zip-aes"},
	"zip-mixed.zip":                         {"zip", ""},
	"zip-pkware-strong-encrypted-cd.zip":    {"zip", "zip-pkware-strong"},
	"7z-plain.7z":                           {"7z", ""},
	"7z-aes.7z":                             {"7z", "7z-aes"},
	"7z-aes-encrypted-headers.7z":           {"7z", "7z-aes-headers"},
	"7z-aes-compressed-header.7z":           {"7z", "7z-aes"},
	"7z-some-entries-encrypted.7z":          {"7z", ""},
	"rar4-plain.rar":                        {"rar", ""},
	"rar4-some-entries-encrypted.rar":       {"rar", ""},
	"rar4-encrypted-headers.rar":            {"rar", "rar4-headers"},
	"rar5-plain.rar":                        {"rar", ""},
	"rar5-some-entries-encrypted.rar":       {"rar", ""},
	"rar5-encrypted-headers.rar":            {"rar", "rar5-headers"},
	"pdf-plain.pdf":                         {"pdf", ""},
	"pdf-r2-rc4-40-userpw.pdf":              {"pdf", "pdf-user-password"},
	"pdf-r3-rc4-128-userpw.pdf":             {"pdf", "pdf-user-password"},
	"pdf-r3-rc4-128-owneronly.pdf":          {"pdf", ""},
	"pdf-r4-aes128-userpw.pdf":              {"pdf", "pdf-user-password"},
	"pdf-r4-aes128-owneronly.pdf":           {"pdf", ""},
	"pdf-r6-aes256-userpw.pdf":              {"pdf", "pdf-user-password"},
	"pdf-r6-aes256-owneronly.pdf":           {"pdf", ""},
	"pdf-ja-cid-predefined-cmap.pdf":        {"pdf", ""},
	"pdf-ja-embedded-subset.pdf":            {"pdf", ""},
	"docx-plain.docx":                       {"docx", ""},
	"docx-agile-encrypted.docx":             {"ooxml-encrypted", "ooxml-agile"},
	"docx-agile-encrypted-msoffcrypto.docx": {"ooxml-encrypted", "ooxml-agile"},
	"docx-standard-encrypted.docx":          {"ooxml-encrypted", "ooxml-standard"},
	"xlsx-agile-encrypted.xlsx":             {"ooxml-encrypted", "ooxml-agile"},
	"xlsx-plain-sharedstrings.xlsx":         {"xlsx", ""},
	"xlsx-plain-inlinestr.xlsx":             {"xlsx", ""},
	"doc-plain.doc":                         {"doc", ""},
	"doc-rc4cryptoapi-encrypted.doc":        {"doc", "doc-rc4"},
	"xls-plain.xls":                         {"xls", ""},
	"xls-rc4cryptoapi-encrypted.xls":        {"xls", "xls-filepass"},
	"xls-xor-obfuscated.xls":                {"xls", "xls-filepass"},
	"ppt-plain.ppt":                         {"ppt", ""},
	"ppt-rc4cryptoapi-encrypted.ppt":        {"ppt", "ppt-cryptoapi"},
	"smime-enveloped.eml":                   {"eml", "smime-enveloped"},
	"smime-authenveloped.eml":               {"eml", "smime-auth-enveloped"},
	"smime-signed-opaque.eml":               {"eml", ""},
	"smime-signed-detached.eml":             {"eml", ""},
	"smime-test-cert.pem":                   {"text", ""},
	"smime-test-key.pem":                    {"text", ""},
	"pgp-mime-encrypted.eml":                {"eml", "pgp"},
	"pgp-inline-encrypted.eml":              {"eml", "pgp"},
	"pgp-inline-armored.txt":                {"pgp", "pgp"},
	"pgp-symmetric-binary.gpg":              {"pgp", "pgp"},
	"pgp-clearsigned-not-encrypted.eml":     {"eml", ""},
}

type manifestRow struct {
	file, verdict, sha string
}

func readManifest(t testing.TB) []manifestRow {
	t.Helper()
	f, err := os.Open(filepath.Join(samplesDir, "manifest.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 2 || recs[0][0] != "file" || recs[0][2] != "encrypted" || recs[0][6] != "sha256" {
		t.Fatalf("manifest.csv header changed: %v", recs[0])
	}
	var rows []manifestRow
	for _, r := range recs[1:] {
		rows = append(rows, manifestRow{file: r[0], verdict: r[2], sha: r[6]})
	}
	return rows
}

func identifyFile(t testing.TB, path string) (Info, error) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Identify(bytes.NewReader(b), int64(len(b)))
}

// TestEncryptedSamplesManifest requires agreement with manifest.csv on
// every row: "yes" is Encrypted, "partial" is Partial and not Encrypted,
// "no" and "n/a" are neither.
func TestEncryptedSamplesManifest(t *testing.T) {
	rows := readManifest(t)
	if len(rows) != 51 {
		t.Fatalf("manifest.csv has %d rows, want 51", len(rows))
	}
	for _, row := range rows {
		t.Run(row.file, func(t *testing.T) {
			path := filepath.Join(samplesDir, row.file)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			if hex.EncodeToString(sum[:]) != row.sha {
				t.Fatalf("sha256 differs from manifest.csv: the sample was altered")
			}
			info, err := Identify(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatalf("Identify: %v (info %+v)", err, info)
			}
			switch {
			case strings.HasPrefix(row.verdict, "yes"):
				if !info.Encrypted || info.Partial {
					t.Errorf("manifest says %q; got %+v", row.verdict, info)
				}
			case row.verdict == "partial":
				if info.Encrypted || !info.Partial {
					t.Errorf("manifest says partial; got %+v", info)
				}
			case strings.HasPrefix(row.verdict, "no"), row.verdict == "n/a":
				if info.Encrypted || info.Partial {
					t.Errorf("manifest says %q; got %+v", row.verdict, info)
				}
			default:
				t.Fatalf("unknown verdict %q in manifest.csv", row.verdict)
			}
			want, ok := sampleWant[row.file]
			if !ok {
				t.Fatalf("no expected type for %s: add it to sampleWant", row.file)
			}
			if info.Type != want.typ || info.Encryption != want.enc {
				t.Errorf("got type %q encryption %q, want %q %q (detail %q)", info.Type, info.Encryption, want.typ, want.enc, info.Detail)
			}
			if info.Encrypted && info.Detail == "" {
				t.Errorf("encrypted without a Detail")
			}
		})
	}
}

// TestEncryptedSamplesComplete checks that every sample file has a row.
func TestEncryptedSamplesComplete(t *testing.T) {
	listed := map[string]bool{}
	for _, r := range readManifest(t) {
		listed[r.file] = true
	}
	ents, err := os.ReadDir(samplesDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		switch e.Name() {
		case "MANIFEST.md", "manifest.csv", "README.md":
			continue
		}
		if !listed[e.Name()] {
			t.Errorf("%s is not in manifest.csv", e.Name())
		}
	}
}

// TestOwnerOnlyPDFDetail: an owner-password-only PDF says so.
func TestOwnerOnlyPDFDetail(t *testing.T) {
	for _, f := range []string{"pdf-r3-rc4-128-owneronly.pdf", "pdf-r4-aes128-owneronly.pdf", "pdf-r6-aes256-owneronly.pdf"} {
		info, err := identifyFile(t, filepath.Join(samplesDir, f))
		if err != nil || info.Encrypted || !strings.Contains(info.Detail, "owner password only") {
			t.Errorf("%s: %+v %v", f, info, err)
		}
	}
}
