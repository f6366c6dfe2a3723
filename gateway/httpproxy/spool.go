package httpproxy

import (
	"fmt"
	"io"
	"net/http"
	"os"
)

// spooled is a request body written to a temp file while it arrives.
type spooled struct {
	path string
	size int64
}

type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("httpproxy: upload larger than %d bytes", e.limit)
}

// spool copies the request body to a temp file, up to MaxUploadBytes.
func (p *Proxy) spool(req *http.Request) (*spooled, error) {
	defer req.Body.Close()
	if req.ContentLength > p.cfg.MaxUploadBytes {
		return nil, &tooLargeError{p.cfg.MaxUploadBytes}
	}
	f, err := os.CreateTemp(p.cfg.SpoolDir, "sekisho-upload-*")
	if err != nil {
		return nil, fmt.Errorf("httpproxy: create spool file (check the data dir is writable): %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(req.Body, p.cfg.MaxUploadBytes+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > p.cfg.MaxUploadBytes {
		err = &tooLargeError{p.cfg.MaxUploadBytes}
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, err
	}
	return &spooled{path: f.Name(), size: n}, nil
}

func (s *spooled) remove() { os.Remove(s.path) }

// reopen returns the spooled body for forwarding. The file is unlinked at
// once: the open descriptor keeps the data until the body is closed, and
// nothing is left behind whatever happens to the request.
func (s *spooled) reopen() (io.ReadCloser, error) {
	f, err := os.Open(s.path)
	os.Remove(s.path)
	if err != nil {
		return nil, err
	}
	return f, nil
}
