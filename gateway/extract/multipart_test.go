package extract

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-message/textproto"
)

// mpTranscript lists what a multipart reader gives for body: each part's
// header and bytes and the error that ended its body, then the error that
// ended the parts. The input arrives in pieces of at most step bytes.
func mpTranscript(body []byte, boundary string, step int, ours bool) string {
	var b strings.Builder
	src := &sizedReader{r: bytes.NewReader(body), n: step}
	type part interface{ io.Reader }
	var next func() (textproto.Header, part, error)
	if ours {
		mr := newMultipartReader(src, boundary)
		defer mr.release()
		next = func() (textproto.Header, part, error) {
			p, err := mr.NextPart()
			if err != nil {
				return textproto.Header{}, nil, err
			}
			return p.Header, p, nil
		}
	} else {
		mr := textproto.NewMultipartReader(src, boundary)
		next = func() (textproto.Header, part, error) {
			p, err := mr.NextPart()
			if err != nil {
				return textproto.Header{}, nil, err
			}
			return p.Header, p, nil
		}
	}
	for i := 0; i < 1000; i++ {
		h, p, err := next()
		if err != nil {
			fmt.Fprintf(&b, "end: %v\n", err)
			return b.String()
		}
		fmt.Fprintf(&b, "part %d:", i)
		for f := h.Fields(); f.Next(); {
			fmt.Fprintf(&b, " %q=%q", f.Key(), f.Value())
		}
		data, err := io.ReadAll(p)
		fmt.Fprintf(&b, "\n body %q (%v)\n", data, err)
	}
	return b.String()
}

// mpMatch fails t when the two readers differ on body. go-message reads
// through 4 KiB: a line between parts longer than that is an error to it
// and not to ours (64 KiB), so such inputs are compared only up to there.
func mpMatch(t *testing.T, body []byte, boundary string, step int) {
	t.Helper()
	want := mpTranscript(body, boundary, step, false)
	got := mpTranscript(body, boundary, step, true)
	if got == want {
		return
	}
	if i := strings.Index(want, "buffer full"); i >= 0 {
		cut := strings.LastIndex(want[:i], "\n") + 1
		if strings.HasPrefix(got, want[:cut]) {
			return
		}
	}
	t.Fatalf("boundary %q, reads of %d bytes:\ngo-message:\n%s\nsekisho:\n%s", boundary, step, want, got)
}

// TestMultipartMatchesGoMessage: the multipart splitter gives what
// go-message's gives on the MIME fixtures and on hand-made edge cases
// (LF line breaks, boundaries inside bodies, a boundary split across
// reads, padding after boundaries, no final boundary, long lines,
// dashes everywhere), read in pieces of many sizes.
func TestMultipartMatchesGoMessage(t *testing.T) {
	cases := []struct{ boundary, body string }{
		{"b", "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\n\r\nworld\r\n--b--\r\n"},
		{"b", "preamble\r\n--b\r\n\r\none\r\n--b \t\r\n\r\ntwo\r\n--b--  \r\nepilogue"},
		{"b", "--b\n\nlf body\n--b\n\nsecond\n--b--\n"},
		{"b", "--b\r\n\r\nnot --b in the middle\r\n--bb is not it\r\n--b\r\n\r\nx\r\n--b--"},
		{"b", "--b\r\n\r\n" + strings.Repeat("-", 9000) + "\r\n--b--\r\n"},
		{"b", "--b\r\n\r\n" + strings.Repeat("a-\r\n--", 3000) + "\r\n--b--\r\n"},
		{"b", "--b\r\n\r\nno final boundary"},
		{"b", "--b\r\n\r\nbody\r\n--b\r\njunk"},
		{"b", "--b\r\n\r\nbody\r\nunexpected\r\n--b--\r\n"},
		{"=_x", "--=_x\r\nA: 1\r\n\r\n" + strings.Repeat("QUJD", 5000) + "\r\n--=_x--"},
		{"b", strings.Repeat("p", 5000) + "\r\n--b\r\n\r\nx\r\n--b--\r\n"},
		{"", "--\r\n\r\nx\r\n----\r\n"},
		{"b", ""},
		{"b", "--b"},
		{"b", "--b--"},
	}
	steps := []int{1, 2, 3, 7, 64, 4095, 4096, 4097, 70000}
	for _, c := range cases {
		for _, step := range steps {
			mpMatch(t, []byte(c.body), c.boundary, step)
		}
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "extract", "mime", "*.eml"))
	if len(files) == 0 {
		t.Fatal("no MIME fixtures under testdata/extract/mime")
	}
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		_, params, _ := parseParamHeader(headerValue(raw, "Content-Type"))
		boundary := params["boundary"]
		if boundary == "" {
			continue
		}
		if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
			raw = raw[i+4:]
		} else if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
			raw = raw[i+2:]
		}
		for _, step := range steps {
			mpMatch(t, raw, boundary, step)
		}
	}
}

// headerValue returns the value of the first header field key in the
// message raw (unfolded naively: enough for Content-Type in fixtures).
func headerValue(raw []byte, key string) string {
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return ""
	}
	return h.Get(key)
}

// FuzzMultipart: the multipart splitter gives what go-message's gives.
func FuzzMultipart(f *testing.F) {
	f.Add([]byte("--b\r\nA: 1\r\n\r\nx\r\n--b\r\n\r\ny--b\r\n--b--\r\n"), "b", uint16(3))
	f.Add([]byte("--b\n\nx\n--b \n\n\n--b--"), "b", uint16(1))
	f.Add([]byte("pre\r\n--=_x\r\n\r\nQUJD\r\n--=_x-\r\n--=_x--\r\n"), "=_x", uint16(100))
	f.Fuzz(func(t *testing.T, body []byte, boundary string, step uint16) {
		mpMatch(t, body, boundary, 1+int(step))
	})
}
