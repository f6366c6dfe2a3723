package extract

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seen is one part as a visitor saw it.
type seen struct {
	Part
	text    string
	readErr error
}

// walkFileBytes runs File on data and returns every part with its text.
func walkFileBytes(t testing.TB, name string, data []byte, lim Limits) ([]seen, error) {
	t.Helper()
	var out []seen
	err := File(context.Background(), name, bytes.NewReader(data), lim, func(p *Part, text io.Reader) error {
		s := seen{Part: *p}
		if text != nil {
			b, err := io.ReadAll(text)
			s.text, s.readErr = string(b), err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "extract", "files", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func walkFixture(t *testing.T, name string) []seen {
	t.Helper()
	parts, err := walkFileBytes(t, name, fixture(t, name), Limits{})
	if err != nil {
		t.Fatalf("%s: File: %v", name, err)
	}
	return parts
}

func find(parts []seen, path string) *seen {
	for i := range parts {
		if parts[i].Path == path {
			return &parts[i]
		}
	}
	return nil
}

func dump(parts []seen) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Path + " type=" + p.Type)
		if p.Encrypted {
			b.WriteString(" encrypted=" + p.Encryption)
		}
		if p.Uninspectable != "" {
			b.WriteString(" uninspectable=" + p.Uninspectable)
		}
		if p.readErr != nil {
			b.WriteString(" readErr=" + p.readErr.Error())
		}
		b.WriteString("\n")
	}
	return b.String()
}

// mustPart returns the part at path, which must exist and be clean.
func mustPart(t *testing.T, parts []seen, path string) *seen {
	t.Helper()
	p := find(parts, path)
	if p == nil {
		t.Fatalf("no part %q in\n%s", path, dump(parts))
	}
	if p.Uninspectable != "" || p.readErr != nil {
		t.Fatalf("part %q not clean: %+v\n%s", path, p.Part, dump(parts))
	}
	return p
}

func TestTextFile(t *testing.T) {
	parts := walkFixture(t, "src/meibo.csv")
	if len(parts) != 1 {
		t.Fatalf("want 1 part, got\n%s", dump(parts))
	}
	p := parts[0]
	if p.Type != "text/csv" || p.Role != RoleAttachment || p.Attachment != 1 || p.Container {
		t.Errorf("part = %+v", p.Part)
	}
	if !strings.Contains(p.text, "山田太郎,123456789018") {
		t.Errorf("text = %q", p.text)
	}
}

func TestZipCSV(t *testing.T) {
	parts := walkFixture(t, "zip-csv.zip")
	z := mustPart(t, parts, "zip-csv.zip")
	if z.Type != "application/zip" || !z.Container || z.Size == 0 {
		t.Errorf("zip part = %+v", z.Part)
	}
	m := mustPart(t, parts, "zip-csv.zip/meibo.csv")
	if m.Depth != 1 || m.Name != "meibo.csv" || m.Attachment != 1 {
		t.Errorf("member = %+v", m.Part)
	}
	if !strings.Contains(m.text, "123456789018") {
		t.Errorf("member text = %q", m.text)
	}
}

func TestZipCP932Names(t *testing.T) {
	parts := walkFixture(t, "zip-cp932.zip")
	m := mustPart(t, parts, "zip-cp932.zip/名簿/個人番号一覧.csv")
	if m.Name != "個人番号一覧.csv" || !strings.Contains(m.text, "123456789018") {
		t.Errorf("member = %+v text %q", m.Part, m.text)
	}
}

func TestZipEncrypted(t *testing.T) {
	parts := walkFixture(t, "zip-zipcrypto.zip")
	if len(parts) != 1 || !parts[0].Encrypted || parts[0].Encryption != "zip-zipcrypto" || parts[0].text != "" {
		t.Fatalf("want one encrypted part, got\n%s", dump(parts))
	}
}

func TestZipMixed(t *testing.T) {
	parts := walkFixture(t, "zip-mixed.zip")
	z := mustPart(t, parts, "zip-mixed.zip")
	if z.Encrypted {
		t.Errorf("partially encrypted zip reported encrypted: %+v", z.Part)
	}
	plain := mustPart(t, parts, "zip-mixed.zip/hello.txt")
	if !strings.Contains(plain.text, "1234 5678 9018") {
		t.Errorf("plain member text = %q", plain.text)
	}
	enc := find(parts, "zip-mixed.zip/meibo.csv")
	if enc == nil || !enc.Encrypted || enc.Encryption != "zip-zipcrypto" || enc.text != "" {
		t.Errorf("encrypted member: %+v\n%s", enc, dump(parts))
	}
}

func TestZipNested(t *testing.T) {
	parts := walkFixture(t, "zip-nested.zip")
	m := mustPart(t, parts, "zip-nested.zip/zip-csv.zip/meibo.csv")
	if m.Depth != 2 || !strings.Contains(m.text, "123456789018") {
		t.Errorf("nested member = %+v %q", m.Part, m.text)
	}
	d := mustPart(t, parts, "zip-nested.zip/letter.docx")
	if d.Type != "docx" || !strings.Contains(d.text, "123456789018") {
		t.Errorf("nested docx = %+v %q", d.Part, d.text)
	}
}

func TestZipBomb(t *testing.T) {
	parts := walkFixture(t, "zip-bomb.zip")
	m := find(parts, "zip-bomb.zip/zeros.bin")
	if m == nil || m.Uninspectable != "compression ratio limit" {
		t.Fatalf("bomb member not stopped:\n%s", dump(parts))
	}
	parts = walkFixture(t, "zip-bomb-nested.zip")
	for _, name := range []string{"inner1.zip", "inner2.zip"} {
		m := find(parts, "zip-bomb-nested.zip/"+name+"/zeros.bin")
		if m == nil || m.Uninspectable != "compression ratio limit" {
			t.Fatalf("nested bomb member %s not stopped:\n%s", name, dump(parts))
		}
	}
}

func TestZipLimits(t *testing.T) {
	data := fixture(t, "zip-nested.zip")
	// Entry limit.
	parts, err := walkFileBytes(t, "n.zip", data, Limits{MaxEntries: 1})
	if err != nil || len(parts) != 1 || parts[0].Uninspectable != "entry limit" {
		t.Fatalf("entry limit: err %v\n%s", err, dump(parts))
	}
	// Depth limit: the zip inside the zip is at depth 1, its member at 2.
	parts, err = walkFileBytes(t, "n.zip", data, Limits{MaxDepth: 1})
	if err != nil {
		t.Fatal(err)
	}
	if m := find(parts, "n.zip/zip-csv.zip/meibo.csv"); m == nil || m.Uninspectable != "depth limit" {
		t.Fatalf("depth limit:\n%s", dump(parts))
	}
	// Expanded size limit: the declared size is checked before reading.
	parts, err = walkFileBytes(t, "b.zip", fixture(t, "zip-bomb.zip"), Limits{MaxExpandedBytes: 1 << 20, MaxRatio: 1e9})
	if err != nil {
		t.Fatal(err)
	}
	if m := find(parts, "b.zip/zeros.bin"); m == nil || m.Uninspectable != "expanded size limit" {
		t.Fatalf("expanded size limit:\n%s", dump(parts))
	}
}

// TestZipLyingSize patches a member's declared sizes down: the metered
// read must still stop it, and nothing may panic.
func TestZipLyingSize(t *testing.T) {
	data := bytes.Clone(fixture(t, "zip-bomb.zip"))
	// Central directory header: uncompressed size at +24.
	cd := bytes.Index(data, []byte("PK\x01\x02"))
	lf := bytes.Index(data, []byte("PK\x03\x04"))
	for _, off := range []int{cd + 24, lf + 22} {
		copy(data[off:], []byte{0x00, 0x10, 0x00, 0x00}) // 4096
	}
	parts, err := walkFileBytes(t, "lie.zip", data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	m := find(parts, "lie.zip/zeros.bin")
	if m == nil || (m.Uninspectable == "" && m.readErr == nil) {
		t.Fatalf("lying member not caught:\n%s", dump(parts))
	}
}

func TestCorruptFiles(t *testing.T) {
	for _, name := range []string{"zip-truncated.zip", "pdf-truncated.pdf"} {
		parts := walkFixture(t, name)
		if len(parts) != 1 || parts[0].Uninspectable == "" || parts[0].Encrypted {
			t.Errorf("%s: want one uninspectable part, got\n%s", name, dump(parts))
		}
	}
}

func TestGzip(t *testing.T) {
	parts := walkFixture(t, "meibo.csv.gz")
	g := mustPart(t, parts, "meibo.csv.gz")
	if g.Type != "application/gzip" || !g.Container {
		t.Errorf("gzip part = %+v", g.Part)
	}
	if len(parts) != 2 || parts[1].Depth != 1 || !strings.Contains(parts[1].text, "123456789018") {
		t.Errorf("gzip member:\n%s", dump(parts))
	}
}

func Test7z(t *testing.T) {
	parts := walkFixture(t, "7z-plain.7z")
	s := mustPart(t, parts, "7z-plain.7z")
	if s.Type != "7z" || !s.Container {
		t.Errorf("7z part = %+v", s.Part)
	}
	m := mustPart(t, parts, "7z-plain.7z/meibo.csv")
	if !strings.Contains(m.text, "123456789018") {
		t.Errorf("7z member text %q", m.text)
	}
	mustPart(t, parts, "7z-plain.7z/hello.txt")
	for _, name := range []string{"7z-aes.7z", "7z-aes-headers.7z"} {
		parts = walkFixture(t, name)
		if len(parts) != 1 || !parts[0].Encrypted || !strings.HasPrefix(parts[0].Encryption, "7z-aes") {
			t.Errorf("%s: want one encrypted part, got\n%s", name, dump(parts))
		}
	}
}

func TestRAR(t *testing.T) {
	parts := walkFixture(t, "rar5-plain.rar")
	r := mustPart(t, parts, "rar5-plain.rar")
	if r.Type != "rar" || !r.Container || len(parts) < 2 {
		t.Errorf("rar:\n%s", dump(parts))
	}
	parts = walkFixture(t, "rar4-some-entries-encrypted.rar")
	var enc, plain int
	for _, p := range parts[1:] {
		if p.Encrypted {
			enc++
		} else if p.Uninspectable == "" {
			plain++
		}
	}
	if enc == 0 || plain == 0 || parts[0].Encrypted {
		t.Errorf("partially encrypted rar:\n%s", dump(parts))
	}
	parts = walkFixture(t, "rar5-encrypted-headers.rar")
	if len(parts) != 1 || !parts[0].Encrypted {
		t.Errorf("header-encrypted rar:\n%s", dump(parts))
	}
}

func TestDeclaredTypeIgnored(t *testing.T) {
	// A zip named .txt is a zip.
	parts, err := walkFileBytes(t, "notes.txt", fixture(t, "zip-csv.zip"), Limits{})
	if err != nil || len(parts) != 2 || parts[0].Type != "application/zip" {
		t.Fatalf("err %v\n%s", err, dump(parts))
	}
}

func TestSpoolToTempFile(t *testing.T) {
	dir := t.TempDir()
	parts, err := walkFileBytes(t, "n.zip", fixture(t, "zip-nested.zip"), Limits{SpoolThreshold: 64, TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustPart(t, parts, "n.zip/zip-csv.zip/meibo.csv")
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("temp files left: %v", ents)
	}
	// An unusable temp dir makes the file uninspectable, not a panic.
	parts, err = walkFileBytes(t, "n.zip", fixture(t, "zip-nested.zip"),
		Limits{SpoolThreshold: 64, TempDir: filepath.Join(dir, "missing")})
	if err != nil || len(parts) != 1 || parts[0].Uninspectable == "" {
		t.Fatalf("err %v\n%s", err, dump(parts))
	}
}

func TestVisitorErrorStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := File(context.Background(), "n.zip", bytes.NewReader(fixture(t, "zip-nested.zip")), Limits{},
		func(p *Part, text io.Reader) error {
			n++
			if n == 2 {
				return stop
			}
			return nil
		})
	if !errors.Is(err, stop) || n != 2 {
		t.Fatalf("err %v after %d parts", err, n)
	}
}
