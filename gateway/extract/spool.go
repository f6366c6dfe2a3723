package extract

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// spoolChunk is the unit in which a spooled file is held in memory. Chunks
// are never grown or copied (a growing buffer would zero and copy a large
// attachment several times over), and the memory copy reads at any offset.
const spoolChunk = 64 << 10

// spoolChunks recycles the chunks of in-memory spools: a fresh 64 KiB
// chunk per read is a large allocation the GC must clear and the kernel
// must fault in, and that cost more than decoding the attachment itself.
var spoolChunks = sync.Pool{New: func() any { c := make([]byte, spoolChunk); return &c }}

// spooled is a file read whole for random access: in memory when it is
// small, else in a temp file that Close removes.
type spooled struct {
	io.ReaderAt
	size int64
	f    *os.File     // nil when in memory
	mem  *chunkReader // nil when in a file
}

var _ io.ReaderAt = (*spooled)(nil)

// Close releases the spooled copy: its memory goes back to the pool, a
// temp file is removed. Nothing may read the spool after Close.
func (s *spooled) Close() error {
	if s.mem != nil {
		s.mem.release()
		s.mem, s.ReaderAt = nil, nil
	}
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
// in memory; a larger input goes to a temp file in w.lim.TempDir. The
// caller must Close it.
func (w *walker) spool(r io.Reader) (*spooled, error) {
	mr := w.meter(r)
	mem := &chunkReader{}
	head := io.LimitReader(mr, w.lim.SpoolThreshold+1)
	for {
		c := spoolChunks.Get().(*[]byte)
		n, err := io.ReadFull(head, *c)
		if n > 0 {
			mem.bufs = append(mem.bufs, c)
			mem.chunks = append(mem.chunks, (*c)[:n])
			mem.size += int64(n)
		} else {
			spoolChunks.Put(c)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			mem.release()
			return nil, err
		}
	}
	if mem.size <= w.lim.SpoolThreshold {
		return &spooled{ReaderAt: mem, size: mem.size, mem: mem}, nil
	}
	defer mem.release()
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
	buf := spoolChunks.Get().(*[]byte)
	defer spoolChunks.Put(buf)
	// Hide f's ReadFrom so that the copy uses buf.
	m, err := io.CopyBuffer(struct{ io.Writer }{f}, mr, *buf)
	if err != nil {
		sp.Close()
		return nil, err
	}
	sp.size = mem.size + m
	return sp, nil
}

// chunkReader reads at any offset of a file held as spoolChunk-sized
// chunks (all but the last one full; a single chunk may be smaller).
type chunkReader struct {
	chunks [][]byte
	bufs   []*[]byte // the pooled buffers behind chunks
	size   int64
}

// release gives the chunks back to the pool.
func (c *chunkReader) release() {
	for _, b := range c.bufs {
		spoolChunks.Put(b)
	}
	c.chunks, c.bufs, c.size = nil, nil, 0
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
