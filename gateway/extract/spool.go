package extract

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// spoolChunk is the unit in which a spooled file is held in memory. Chunks
// are never grown or copied (a growing buffer would zero and copy a large
// attachment several times over), and the memory copy reads at any offset.
const spoolChunk = 64 << 10

// spooled is a file read whole for random access: in memory when it is
// small, else in a temp file that Close removes.
type spooled struct {
	io.ReaderAt
	size int64
	f    *os.File // nil when in memory
}

var _ io.ReaderAt = (*spooled)(nil)

// Close releases the spooled copy, removing a temp file.
func (s *spooled) Close() error {
	if s.f == nil {
		return nil
	}
	name := s.f.Name()
	err := s.f.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	s.f = nil
	return err
}

// spool reads r to the end, metered. Up to w.lim.SpoolThreshold bytes stay
// in memory; a larger input goes to a temp file in w.lim.TempDir.
func (w *walker) spool(r io.Reader) (*spooled, error) {
	mr := w.meter(r)
	mem := &chunkReader{}
	head := io.LimitReader(mr, w.lim.SpoolThreshold+1)
	for {
		c, n, err := readSpoolChunk(head, len(mem.chunks) == 0)
		if n > 0 {
			mem.chunks = append(mem.chunks, c[:n])
			mem.size += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if mem.size <= w.lim.SpoolThreshold {
		return &spooled{ReaderAt: mem, size: mem.size}, nil
	}
	f, err := os.CreateTemp(w.lim.TempDir, "sekisho-spool-*")
	if err != nil {
		return nil, fmt.Errorf("extract: spooling to a temp file (check Limits.TempDir): %w", err)
	}
	sp := &spooled{ReaderAt: f, f: f}
	for _, c := range mem.chunks {
		if _, err := f.Write(c); err != nil {
			sp.Close()
			return nil, fmt.Errorf("extract: spooling to %s: %w", f.Name(), err)
		}
	}
	buf := mem.chunks[0][:cap(mem.chunks[0])]
	if len(buf) < spoolChunk {
		buf = make([]byte, spoolChunk)
	}
	n := mem.size
	mem = nil
	// Hide f's ReadFrom so that the copy uses buf.
	m, err := io.CopyBuffer(struct{ io.Writer }{f}, mr, buf)
	if err != nil {
		sp.Close()
		return nil, err
	}
	sp.size = n + m
	return sp, nil
}

// spoolFirst is the size of the first read of a spool: a small file (most
// members of an archive) takes no more memory than that.
const spoolFirst = 8 << 10

// readSpoolChunk reads the next chunk of a spool; the first one is read
// into a small buffer first, grown to a whole chunk when it fills up.
func readSpoolChunk(r io.Reader, first bool) ([]byte, int, error) {
	if !first {
		c := make([]byte, spoolChunk)
		n, err := io.ReadFull(r, c)
		return c, n, err
	}
	small := make([]byte, spoolFirst)
	n, err := io.ReadFull(r, small)
	if err != nil {
		return small, n, err
	}
	c := make([]byte, spoolChunk)
	copy(c, small)
	m, err := io.ReadFull(r, c[n:])
	return c, n + m, err
}

// chunkReader reads at any offset of a file held as spoolChunk-sized
// chunks (all but the last one full; a single chunk may be smaller).
type chunkReader struct {
	chunks [][]byte
	size   int64
}

var _ io.ReaderAt = (*chunkReader)(nil)

func (c *chunkReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("extract: read at a negative offset")
	}
	n := 0
	for n < len(p) && off < c.size {
		chunk := c.chunks[off/spoolChunk]
		i := int(off % spoolChunk)
		k := copy(p[n:], chunk[i:])
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
