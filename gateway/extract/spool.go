package extract

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

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
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(mr, w.lim.SpoolThreshold+1))
	if err != nil {
		return nil, err
	}
	if n <= w.lim.SpoolThreshold {
		b := buf.Bytes()
		return &spooled{ReaderAt: bytes.NewReader(b), size: int64(len(b))}, nil
	}
	f, err := os.CreateTemp(w.lim.TempDir, "sekisho-spool-*")
	if err != nil {
		return nil, fmt.Errorf("extract: spooling to a temp file (check Limits.TempDir): %w", err)
	}
	sp := &spooled{ReaderAt: f, f: f}
	if _, err := f.Write(buf.Bytes()); err != nil {
		sp.Close()
		return nil, fmt.Errorf("extract: spooling to %s: %w", f.Name(), err)
	}
	buf = bytes.Buffer{}
	m, err := io.Copy(f, mr)
	if err != nil {
		sp.Close()
		return nil, err
	}
	sp.size = n + m
	return sp, nil
}
