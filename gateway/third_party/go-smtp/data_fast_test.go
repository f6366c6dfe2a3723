package smtp

// Differential tests for the two patched readers (see PATCHES.md): the
// line-at-a-time dataReader and lineLimitReader must give exactly what the
// upstream byte-at-a-time loops give — the same bytes, the same error, and
// the same bytes left unread behind the end-of-data line (pipelining).

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// refDataReader is upstream v0.25.1's dataReader loop, unchanged.
type refDataReader struct {
	r       *bufio.Reader
	state   int
	limited bool
	n       int64
}

func (r *refDataReader) Read(b []byte) (n int, err error) {
	if r.limited {
		if r.n <= 0 {
			return 0, ErrDataTooLarge
		}
		if int64(len(b)) > r.n {
			b = b[0:r.n]
		}
	}
	const (
		stateBeginLine = iota
		stateDot
		stateDotCR
		stateCR
		stateData
		stateEOF
	)
	for n < len(b) && r.state != stateEOF {
		var c byte
		c, err = r.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			break
		}
		switch r.state {
		case stateBeginLine:
			if c == '.' {
				r.state = stateDot
				continue
			}
			if c == '\r' {
				r.state = stateCR
				break
			}
			r.state = stateData
		case stateDot:
			if c == '\r' {
				r.state = stateDotCR
				continue
			}
			r.state = stateData
		case stateDotCR:
			if c == '\n' {
				r.state = stateEOF
				continue
			}
			r.state = stateData
		case stateCR:
			if c == '\n' {
				r.state = stateBeginLine
				break
			}
			r.state = stateData
		case stateData:
			if c == '\r' {
				r.state = stateCR
			}
		}
		b[n] = c
		n++
	}
	if err == nil && r.state == stateEOF {
		err = io.EOF
	}
	if r.limited {
		r.n -= int64(n)
	}
	return
}

// refLineLimit is upstream v0.25.1's lineLimitReader loop, unchanged.
type refLineLimit struct {
	R             io.Reader
	LineLimit     int
	curLineLength int
}

func (r *refLineLimit) Read(b []byte) (int, error) {
	if r.curLineLength > r.LineLimit && r.LineLimit > 0 {
		return 0, ErrTooLongLine
	}
	n, err := r.R.Read(b)
	if err != nil {
		return n, err
	}
	if r.LineLimit == 0 {
		return n, nil
	}
	for _, chr := range b[:n] {
		if chr == '\n' {
			r.curLineLength = 0
		}
		r.curLineLength++
		if r.curLineLength > r.LineLimit {
			return 0, ErrTooLongLine
		}
	}
	return n, nil
}

// chunkReader hands out its data in reads of the sizes given, cycling, to
// put buffer boundaries everywhere.
type chunkReader struct {
	data  []byte
	sizes []byte
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	k := 1
	if len(c.sizes) > 0 {
		k = int(c.sizes[c.i%len(c.sizes)])%37 + 1
		c.i++
	}
	if k > len(p) {
		k = len(p)
	}
	if k > len(c.data) {
		k = len(c.data)
	}
	copy(p, c.data[:k])
	c.data = c.data[k:]
	return k, nil
}

type readResult struct {
	out  []byte
	err  error
	rest []byte
}

// drain reads r with reads of the sizes given until an error, then what is
// left in br and under it.
func drain(r io.Reader, br *bufio.Reader, sizes []byte) readResult {
	var out bytes.Buffer
	var err error
	for i := 0; err == nil; i++ {
		k := 4096
		if len(sizes) > 0 {
			k = int(sizes[i%len(sizes)])%200 + 1
		}
		b := make([]byte, k)
		var n int
		n, err = r.Read(b)
		out.Write(b[:n])
		if i > 1<<20 {
			err = errors.New("no progress")
		}
	}
	rest, _ := io.ReadAll(br)
	return readResult{out.Bytes(), err, rest}
}

func compareDataReaders(t *testing.T, in, sizes []byte, limit int64) {
	t.Helper()
	mk := func() *bufio.Reader {
		return bufio.NewReaderSize(&chunkReader{data: in, sizes: sizes}, 16)
	}
	brRef, brNew := mk(), mk()
	ref := &refDataReader{r: brRef, limited: limit > 0, n: limit}
	fast := &dataReader{r: brNew, limited: limit > 0, n: limit}
	want := drain(ref, brRef, sizes)
	got := drain(fast, brNew, sizes)
	if !bytes.Equal(got.out, want.out) || got.err != want.err || !bytes.Equal(got.rest, want.rest) {
		t.Fatalf("input %q sizes %v limit %d:\n got %q, %v, rest %q\nwant %q, %v, rest %q",
			in, sizes, limit, got.out, got.err, got.rest, want.out, want.err, want.rest)
	}
}

var dataReaderSeeds = []string{
	"",
	".\r\n",
	"a\r\n.\r\n",
	"Subject: x\r\n\r\nbody\r\n..dot\r\n.\r\nQUIT\r\n",
	"line\rwith bare CR\r\n.x\r\n\r\n.\r\nNOOP\r\n",
	"no end",
	"ends in CR\r",
	"\r\n.\r\r\n.\r\n",
	".\r.\r\n.\r\n",
	"a\r\r\n.\r\n.\r\n",
	"a\r\r\r\n.x\r\n.\r\n",
	"a\rb\r\n\r\n..\r\n.\r\n",
	"x\r\n\r\r\n.\r\n",
	strings.Repeat("0123456789abcdef", 40) + "\r\n.\r\nMAIL FROM:<>\r\n",
}

func TestDataReaderMatchesUpstream(t *testing.T) {
	for _, s := range dataReaderSeeds {
		for _, sizes := range [][]byte{nil, {0}, {3, 30, 7}, {36, 1}} {
			for _, limit := range []int64{0, 1, 5, 64, 1 << 20} {
				compareDataReaders(t, []byte(s), sizes, limit)
			}
		}
	}
}

func FuzzDataReaderMatchesUpstream(f *testing.F) {
	for _, s := range dataReaderSeeds {
		f.Add([]byte(s), []byte{3, 30, 7}, int64(0))
	}
	f.Fuzz(func(t *testing.T, in, sizes []byte, limit int64) {
		if limit < 0 || limit > 1<<20 {
			limit = 0
		}
		compareDataReaders(t, in, sizes, limit)
	})
}

func compareLineLimit(t *testing.T, in, sizes []byte, limit int) {
	t.Helper()
	ref := &refLineLimit{R: &chunkReader{data: in, sizes: sizes}, LineLimit: limit}
	fast := &lineLimitReader{R: &chunkReader{data: in, sizes: sizes}, LineLimit: limit}
	want := drain(ref, bufio.NewReader(strings.NewReader("")), sizes)
	got := drain(fast, bufio.NewReader(strings.NewReader("")), sizes)
	if !bytes.Equal(got.out, want.out) || got.err != want.err {
		t.Fatalf("input %q limit %d: got %q, %v; want %q, %v", in, limit, got.out, got.err, want.out, want.err)
	}
}

func FuzzLineLimitReaderMatchesUpstream(f *testing.F) {
	f.Add([]byte("abc\r\ndefgh\r\n\r\n"), []byte{2, 5}, 4)
	f.Add([]byte(strings.Repeat("x", 1000)+"\n"), []byte{36}, 998)
	f.Fuzz(func(t *testing.T, in, sizes []byte, limit int) {
		if limit < 0 || limit > 4096 {
			limit = 0
		}
		compareLineLimit(t, in, sizes, limit)
	})
}
