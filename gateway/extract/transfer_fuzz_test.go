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

// FuzzCompactLines: compactLines removes only CR and LF bytes, and from
// lines of one width that all end alike (CRLF or LF, none inside), all of
// them. (Lines of mixed widths may keep a break inside what it took for
// a line; the decoder skips those, FuzzBase64Reader checks the bytes.)
func FuzzCompactLines(f *testing.F) {
	f.Add([]byte("QUJD\r\nREVG\r\nR0hJ\r\nSg\r\n"))
	f.Add([]byte("QUJD\nREVG\nR0hJ\r\nS\rg\n\r\n\nxy"))
	f.Add([]byte("AB\r\nC\n\r\nDE\r\n")) // "C\n\r\n" has the width of a line: its LF stays
	f.Add([]byte("ABCD\r\nEFGH\r\nIJKL\r\nMN"))
	f.Fuzz(func(t *testing.T, in []byte) {
		b := append([]byte(nil), in...)
		out := b[:compactLines(b)]
		// out must be in with some CR and LF bytes deleted.
		i := 0
		for _, c := range out {
			for i < len(in) && in[i] != c {
				if in[i] != '\r' && in[i] != '\n' {
					t.Fatalf("%q compacted to %q: removed %q", in, out, in[i])
				}
				i++
			}
			if i == len(in) {
				t.Fatalf("%q compacted to %q: not a subsequence", in, out)
			}
			i++
		}
		for ; i < len(in); i++ {
			if in[i] != '\r' && in[i] != '\n' {
				t.Fatalf("%q compacted to %q: lost the end", in, out)
			}
		}
		// Fixed-width lines lose every line break.
		lines := strings.SplitAfter(string(in), "\n")
		if len(lines) > 0 && !strings.HasSuffix(lines[len(lines)-1], "\n") {
			lines = lines[:len(lines)-1] // a partial last line
		}
		fixed := true
		for _, l := range lines {
			body := strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r")
			if len(l) != len(lines[0]) || strings.HasSuffix(l, "\r\n") != strings.HasSuffix(lines[0], "\r\n") ||
				strings.ContainsAny(body, "\r\n") {
				fixed = false
			}
		}
		if fixed && strings.ContainsAny(string(out), "\n") {
			t.Fatalf("fixed-width lines %q compacted to %q", in, out)
		}
	})
}
