package extract

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzBase64Reader: the base64 reader, with its line fast path and
// without, read in pieces of a fuzzed size, gives the same bytes and the
// same kind of end; when it decodes input that is clean base64 broken
// into lines, that is what encoding/base64 decodes.
func FuzzBase64Reader(f *testing.F) {
	enc := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("sekisho \x00\xff\x10 関所 "), 40))
	var lines []byte
	for i := 0; i < len(enc); i += 76 {
		lines = append(lines, enc[i:min(i+76, len(enc))]...)
		lines = append(lines, '\r', '\n')
	}
	f.Add(lines, uint16(7))
	f.Add(lines, uint16(300))
	f.Add(bytes.ReplaceAll(lines, []byte("\r\n"), []byte("\n")), uint16(64))
	f.Add([]byte("QUJD\r\nREVG\r\n\r\nR0g=\r\nSUo=\r\n"), uint16(5))
	f.Add([]byte("QUJD\rREVG\r\r\nR0 g=\n"), uint16(3))
	f.Add([]byte("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5eg=="), uint16(1000))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint16) {
		n := 1 + int(chunk)
		read := func(lines bool) ([]byte, error) {
			d := newBase64Reader(&sizedReader{r: bytes.NewReader(in), n: n})
			defer d.release()
			d.lines = lines
			return io.ReadAll(d)
		}
		got, gerr := read(true)
		want, werr := read(false)
		var te *transferError
		if gerr != nil && !errors.As(gerr, &te) || werr != nil && !errors.As(werr, &te) {
			t.Fatalf("unexpected errors %v, %v", gerr, werr)
		}
		if !bytes.Equal(got, want) || (gerr == nil) != (werr == nil) {
			t.Fatalf("fast path %d bytes (%v), stripping path %d bytes (%v)", len(got), gerr, len(want), werr)
		}
		clean := strings.NewReplacer("\r", "", "\n", "").Replace(string(in))
		if ref, err := base64.StdEncoding.DecodeString(clean); err == nil {
			if gerr != nil || !bytes.Equal(got, ref) {
				t.Fatalf("encoding/base64 decodes %d bytes; the reader %d bytes (%v)", len(ref), len(got), gerr)
			}
		}
	})
}
