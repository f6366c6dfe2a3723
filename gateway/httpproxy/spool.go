package httpproxy

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
)

// memSpoolMax is the largest body kept in memory while it is inspected;
// larger bodies go to a temp file, so memory stays bounded per request.
const memSpoolMax = 1 << 20

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// spooled is a request body held while it is inspected: in memory when
// small, in a temp file otherwise.
type spooled struct {
	mem  *bytes.Buffer // nil when spooled to a file
	path string
	size int64
}

type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("httpproxy: upload larger than %d bytes", e.limit)
}

// spool reads the request body, up to MaxUploadBytes.
func (p *Proxy) spool(req *http.Request) (*spooled, error) {
	defer req.Body.Close()
	if req.ContentLength > p.cfg.MaxUploadBytes {
		return nil, &tooLargeError{p.cfg.MaxUploadBytes}
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	limit := min(int64(memSpoolMax), p.cfg.MaxUploadBytes)
	n, err := buf.ReadFrom(io.LimitReader(req.Body, limit+1))
	if err != nil {
		bufPool.Put(buf)
		return nil, err
	}
	if n <= limit {
		return &spooled{mem: buf, size: n}, nil
	}
	if n > p.cfg.MaxUploadBytes {
		bufPool.Put(buf)
		return nil, &tooLargeError{p.cfg.MaxUploadBytes}
	}
	f, err := os.CreateTemp(p.cfg.SpoolDir, "sekisho-upload-*")
	if err != nil {
		bufPool.Put(buf)
		return nil, fmt.Errorf("httpproxy: create spool file (check the data dir is writable): %w", err)
	}
	_, err = f.Write(buf.Bytes())
	bufPool.Put(buf)
	var m int64
	if err == nil {
		m, err = io.Copy(f, io.LimitReader(req.Body, p.cfg.MaxUploadBytes+1-n))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	n += m
	if err == nil && n > p.cfg.MaxUploadBytes {
		err = &tooLargeError{p.cfg.MaxUploadBytes}
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, err
	}
	return &spooled{path: f.Name(), size: n}, nil
}

// open returns a reader over the body for inspection or quarantine.
func (s *spooled) open() (io.ReadCloser, error) {
	if s.mem != nil {
		return io.NopCloser(bytes.NewReader(s.mem.Bytes())), nil
	}
	return os.Open(s.path)
}

// remove releases the body.
func (s *spooled) remove() {
	if s.mem != nil {
		s.mem = nil // the buffer may still be read by a forward in flight: not pooled
		return
	}
	os.Remove(s.path)
}

// reopen returns the body for forwarding. A file is unlinked at once: the
// open descriptor keeps the data until the body is closed, and nothing is
// left behind whatever happens to the request.
func (s *spooled) reopen() (io.ReadCloser, error) {
	if s.mem != nil {
		buf := s.mem
		return &pooledBody{Reader: bytes.NewReader(buf.Bytes()), buf: buf}, nil
	}
	f, err := os.Open(s.path)
	os.Remove(s.path)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// pooledBody returns its buffer to the pool when the transport closes it.
type pooledBody struct {
	*bytes.Reader
	buf  *bytes.Buffer
	once sync.Once
}

func (b *pooledBody) Close() error {
	b.once.Do(func() { bufPool.Put(b.buf) })
	return nil
}
