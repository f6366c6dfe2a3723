package fileformat

import (
	"archive/zip"
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// zipBytes makes a zip of one stored file, with a comment of the given
// length (which pushes the end record away from the end of the file).
func zipBytes(t *testing.T, comment int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create("roster.csv")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("name,phone\n"))
	if err := zw.SetComment(strings.Repeat("c", comment)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A zip after an executable or an unknown binary prefix (self-extracting
// archives) is found from its end record, even with the longest comment;
// random bytes without one stay what they are.
func TestIdentifyPrefixedZip(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		copy(b, "\x00\xff\x00\xff") // binary from the first bytes on
		return b
	}
	for _, tc := range []struct {
		name     string
		prefix   []byte
		comment  int
		wantType string
	}{
		{"exe prefix", append([]byte("MZ"), random(300<<10)...), 0, "zip"},
		{"binary prefix", random(200 << 10), 0, "zip"},
		{"longest comment", random(100 << 10), 65535, "zip"},
	} {
		data := append(append([]byte(nil), tc.prefix...), zipBytes(t, tc.comment)...)
		info, err := Identify(bytes.NewReader(data), int64(len(data)))
		if err != nil || info.Type != tc.wantType || !strings.Contains(info.Detail, "prefix") {
			t.Errorf("%s: %+v, %v; want %s after a prefix", tc.name, info, err, tc.wantType)
		}
	}
	for _, data := range [][]byte{random(1 << 20), append([]byte("MZ"), random(70<<10)...)} {
		info, err := Identify(bytes.NewReader(data), int64(len(data)))
		if err != nil || (info.Type != "octet-stream" && info.Type != "exe") {
			t.Errorf("random %d bytes: %+v, %v", len(data), info, err)
		}
	}
}
