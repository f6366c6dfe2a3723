package fileformat

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpus returns every sample and fixture (name -> bytes).
func corpus(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, dir := range []string{samplesDir, fixturesDir} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.IsDir() || e.Name() == "make.sh" || strings.HasSuffix(e.Name(), ".md") || strings.HasSuffix(e.Name(), ".csv") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[filepath.Base(dir)+"/"+e.Name()] = b
		}
	}
	return out
}

// checkNoPanic fails when Identify reached its recover: a recovered panic
// is safe for callers but means one of our parsers missed a bounds check.
func checkNoPanic(t *testing.T, name string, info Info, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), "parser failure") {
		t.Errorf("%s: recovered panic: %v", name, err)
	}
	if info.Type == "" {
		t.Errorf("%s: empty Type", name)
	}
	if info.Encrypted && info.Partial {
		t.Errorf("%s: both Encrypted and Partial", name)
	}
	if info.Encrypted && info.Encryption == "" {
		t.Errorf("%s: Encrypted without a scheme", name)
	}
}

// TestTruncated cuts every sample at several points. Identify must return
// (no panic), and it must fail closed: a truncated copy of an encrypted
// file that is still recognised as the same container type is either
// reported encrypted or reported with an error, never silently as plain.
func TestTruncated(t *testing.T) {
	for name, b := range corpus(t) {
		full, fullErr := Identify(bytes.NewReader(b), int64(len(b)))
		if fullErr != nil {
			t.Fatalf("%s: %v", name, fullErr)
		}
		cuts := []int{0, 1, 2, 4, 7, 8, 12, 16, 31, 32, 33, 64, 100, 512, len(b) / 4, len(b) / 2, len(b) * 3 / 4, len(b) - 22, len(b) - 16, len(b) - 1}
		for _, n := range cuts {
			if n < 0 || n >= len(b) {
				continue
			}
			cut := b[:n]
			info, err := Identify(bytes.NewReader(cut), int64(n))
			checkNoPanic(t, name, info, err)
			_ = Sniff(cut)
			// Mail and text change meaning when cut (the headers alone
			// are not encrypted), so the fail-closed rule is for binary
			// containers.
			if full.Encrypted && err == nil && info.Type == full.Type && !info.Encrypted &&
				full.Type != "eml" && full.Type != "text" {
				t.Errorf("%s cut at %d/%d: silently plain %+v (full: %s)", name, n, len(b), info, full.Encryption)
			}
		}
	}
}

// TestBitFlips damages bytes across each sample: Identify must still
// return without a recovered panic.
func TestBitFlips(t *testing.T) {
	for name, b := range corpus(t) {
		step := max(1, len(b)/37)
		if testing.Short() {
			step = max(1, len(b)/7)
		}
		for i := 0; i < len(b); i += step {
			for _, v := range []byte{0x00, 0xFF, b[i] ^ 0x80} {
				m := append([]byte{}, b...)
				m[i] = v
				info, err := Identify(bytes.NewReader(m), int64(len(m)))
				checkNoPanic(t, name, info, err)
			}
		}
	}
}

// TestCorruptContainersReportErrors: clearly broken containers give an
// error wrapping ErrCorrupt and keep their type.
func TestCorruptContainersReportErrors(t *testing.T) {
	c := corpus(t)
	cases := []struct {
		name string
		data []byte
		typ  string
	}{
		{"zip without directory", c["encrypted-samples/zip-plain.zip"][:40], "zip"},
		{"7z header cut", c["encrypted-samples/7z-plain.7z"][:100], "7z"},
		{"rar5 cut", c["encrypted-samples/rar5-plain.rar"][:60], "rar"},
		{"cfb cut", c["encrypted-samples/doc-plain.doc"][:600], "cfb"},
		{"pdf cut", c["encrypted-samples/pdf-plain.pdf"][:300], "pdf"},
	}
	for _, k := range cases {
		info, err := Identify(bytes.NewReader(k.data), int64(len(k.data)))
		if err == nil || !errors.Is(err, ErrCorrupt) || info.Type != k.typ {
			t.Errorf("%s: got %+v, %v; want type %s and ErrCorrupt", k.name, info, err, k.typ)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "fileformat: ") {
			t.Errorf("%s: error lacks the package prefix: %v", k.name, err)
		}
	}
}

// TestIdentifyBadArgs covers a nil reader, a negative size and a reader
// that fails.
func TestIdentifyBadArgs(t *testing.T) {
	if _, err := Identify(nil, 10); err == nil {
		t.Error("nil reader: no error")
	}
	if _, err := Identify(bytes.NewReader(nil), -1); err == nil {
		t.Error("negative size: no error")
	}
	if _, err := Identify(failingReader{}, 100); err == nil {
		t.Error("failing reader: no error")
	}
	// A size larger than the data: reads come up short.
	b := corpus(t)["encrypted-samples/zip-zipcrypto.zip"]
	info, err := Identify(bytes.NewReader(b), int64(len(b))+1000)
	checkNoPanic(t, "oversized", info, err)
}

type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, io.ErrUnexpectedEOF }

// TestHostileSizes: headers that claim huge sizes are refused, not
// allocated.
func TestHostileSizes(t *testing.T) {
	// 7z whose next header claims 1 TiB.
	h := make([]byte, 64)
	copy(h, magic7z)
	h[7] = 4
	h[20+5] = 1 // NextHeaderSize = 2^40
	if info, err := Identify(bytes.NewReader(h), int64(len(h))); err == nil || info.Type != "7z" {
		t.Errorf("7z with a huge header: %+v %v", info, err)
	}
	// PDF whose startxref points past the end.
	p := []byte("%PDF-1.4\n1 0 obj<<>>endobj\nstartxref\n999999999999\n%%EOF\n")
	if info, err := Identify(bytes.NewReader(p), int64(len(p))); err == nil || info.Type != "pdf" {
		t.Errorf("PDF with a bad startxref: %+v %v", info, err)
	}
	// PDF with deeply nested arrays in the trailer.
	deep := []byte("%PDF-1.4\nxref\n0 0\ntrailer\n<< /A " + strings.Repeat("[", 10000) + " >>\nstartxref\n9\n%%EOF\n")
	info, err := Identify(bytes.NewReader(deep), int64(len(deep)))
	checkNoPanic(t, "deep pdf", info, err)
	// PDF whose /Prev chain loops.
	loop := []byte("%PDF-1.4\nxref\n0 0\ntrailer\n<< /Prev 9 >>\nstartxref\n9\n%%EOF\n")
	info, err = Identify(bytes.NewReader(loop), int64(len(loop)))
	checkNoPanic(t, "looping pdf", info, err)
	if info.Encrypted {
		t.Errorf("looping pdf without /Encrypt reported encrypted")
	}
}
