package extract

import (
	"archive/zip"
	"bufio"
	"bytes"
	"testing"
)

// zipFiles builds an in-memory zip of the given members and returns them
// by name.
func zipFiles(t testing.TB, members map[string]string) map[string]*zip.File {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range members {
		f, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*zip.File{}
	for _, f := range zr.File {
		out[f.Name] = f
	}
	return out
}

// runSink runs a text generator into a string.
func runSink(t testing.TB, gen func(*textSink) error) string {
	t.Helper()
	var buf bytes.Buffer
	ts := &textSink{w: bufio.NewWriter(&buf)}
	if err := gen(ts); err != nil {
		t.Fatal(err)
	}
	ts.w.Flush()
	return buf.String()
}
