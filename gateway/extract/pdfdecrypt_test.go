package extract

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ledongthuc/pdf"

	"github.com/sekisho-dlp/sekisho/detectors/fileformat"
)

// decryptFixture runs pdfDecryptV5 on a fixture and opens the copy.
func decryptFixture(t *testing.T, name string, lim Limits) (*pdf.Reader, []byte) {
	t.Helper()
	data := fixture(t, name)
	k, err := fileformat.PDFFileKey(bytes.NewReader(data), int64(len(data)))
	if err != nil || k == nil || k.V != 5 {
		t.Fatalf("%s: key %+v, %v", name, k, err)
	}
	w := newWalker(context.Background(), lim, nil)
	sp, err := w.pdfDecryptV5(bytes.NewReader(data), int64(len(data)), k)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer sp.Close()
	out := make([]byte, sp.size)
	if _, err := sp.ReadAt(out, 0); err != nil {
		t.Fatal(err)
	}
	if int64(len(out)) != int64(len(data)) {
		t.Fatalf("%s: copy is %d bytes, not %d", name, len(out), len(data))
	}
	r, err := pdf.NewReader(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatalf("%s: decrypted copy does not open: %v", name, err)
	}
	return r, out
}

func TestPDFDecryptV5(t *testing.T) {
	plain := fixture(t, "letter.pdf")
	pr, err := pdf.NewReader(bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	wantLang := pr.Trailer().Key("Root").Key("Lang").Text()
	if wantLang == "" {
		t.Fatal("letter.pdf has no /Lang")
	}
	for _, name := range []string{"pdf-aes256-owneronly.pdf", "pdf-aes256r5-owneronly.pdf", "pdf-aes256-objstm-owneronly.pdf"} {
		// In memory and through a temp file (threshold below the size).
		for _, lim := range []Limits{{}, {SpoolThreshold: 4096, TempDir: t.TempDir()}} {
			r, out := decryptFixture(t, name, lim)
			if bytes.Contains(out, []byte("/Encrypt")) {
				t.Errorf("%s: /Encrypt left in the copy", name)
			}
			// Strings are decrypted too: the catalog's /Lang.
			if lang := r.Trailer().Key("Root").Key("Lang").Text(); lang != wantLang {
				t.Errorf("%s: /Lang = %q", name, lang)
			}
			if r.NumPage() != 1 {
				t.Errorf("%s: %d pages", name, r.NumPage())
			}
		}
	}
}

func TestPDFDecryptV5Damaged(t *testing.T) {
	data := fixture(t, "pdf-aes256-owneronly.pdf")
	// Junk over the middle of the file (an unterminated string, a lost
	// endstream): never a panic, never a silent pass: the text is found
	// or the part is uninspectable.
	mid := len(data) / 2
	for name, junk := range map[string][]byte{
		"paren.pdf":    bytes.Repeat([]byte("("), 300),
		"nostream.pdf": bytes.Repeat([]byte("x"), 3000),
	} {
		b := append([]byte(nil), data...)
		copy(b[mid-len(junk)/2:], junk)
		parts, err := walkFileBytes(t, name, b, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if len(parts) != 1 || parts[0].Encrypted || (parts[0].Uninspectable == "" && !strings.Contains(parts[0].text, "123456789018")) {
			t.Errorf("%s:\n%s", name, dump(parts))
		}
	}
	// A wrong /Length (the data is found by its endstream).
	bad := bytes.Replace(data, []byte("/Length 400"), []byte("/Length 401"), 1)
	if bytes.Equal(bad, data) {
		t.Fatal("fixture has no /Length 400 (regenerate testdata/extract/files with make.sh)")
	}
	parts, err := walkFileBytes(t, "len.pdf", bad, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if p := find(parts, "len.pdf"); p == nil || !strings.Contains(p.text, "123456789018") {
		t.Errorf("wrong /Length:\n%s", dump(parts))
	}
}

func TestPDFStringCodecs(t *testing.T) {
	raw := []byte("a(b)c\\d\re\x00")
	if got := unescapePDF(escapePDF(raw)[1 : len(escapePDF(raw))-1]); !bytes.Equal(got, raw) {
		t.Errorf("literal round trip: %q", got)
	}
	if got := unescapePDF([]byte(`\101\12\0012\
x\n`)); string(got) != "A\n\x012x\n" {
		t.Errorf("unescape: %q", got)
	}
	if got := unhexPDF([]byte("41 42\n4")); string(got) != "AB@" {
		t.Errorf("unhex: %q", got)
	}
	if got := unpad([]byte{1, 2, 3, 3, 3}); !bytes.Equal(got, []byte{1, 2}) {
		t.Errorf("unpad: %v", got)
	}
	if got := unpad([]byte{1, 2, 3, 2}); len(got) != 4 {
		t.Errorf("unpad malformed: %v", got)
	}
}

func FuzzPDFDecryptV5(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "extract", "files", "pdf-aes256-objstm-owneronly.pdf"))
	if err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := fileformat.PDFFileKey(bytes.NewReader(b), int64(len(b)))
		if err != nil || k == nil || len(k.Key) != 32 {
			return
		}
		w := newWalker(context.Background(), Limits{}, nil)
		if sp, err := w.pdfDecryptV5(bytes.NewReader(b), int64(len(b)), k); err == nil {
			sp.Close()
		}
	})
}

// A decryption that fails on a malformed object returns its error and
// releases the copy (it once dereferenced the nil result it was about to
// return: found by FuzzPDFDecryptV5).
func TestPDFDecryptV5Malformed(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "extract", "files", "pdf-aes256-objstm-owneronly.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, lim := range []Limits{{}, {SpoolThreshold: 1}} {
		tried := 0
		for i := 0; i+len("endstream") <= len(data); i++ {
			if !bytes.HasPrefix(data[i:], []byte("endstream")) {
				continue
			}
			b := bytes.Clone(data)
			copy(b[i:], "endstreax")
			k, err := fileformat.PDFFileKey(bytes.NewReader(b), int64(len(b)))
			if err != nil || k == nil || len(k.Key) != 32 {
				continue
			}
			lim.TempDir = t.TempDir()
			w := newWalker(context.Background(), lim, nil)
			sp, err := w.pdfDecryptV5(bytes.NewReader(b), int64(len(b)), k)
			if err == nil {
				sp.Close()
				continue
			}
			tried++
			if sp != nil {
				t.Errorf("error %v with a copy", err)
			}
			if left, _ := os.ReadDir(lim.TempDir); len(left) != 0 {
				t.Errorf("temp files left after the error: %v", left)
			}
		}
		if tried == 0 {
			t.Fatalf("no broken stream made decryption fail (threshold %d)", lim.SpoolThreshold)
		}
	}
}
