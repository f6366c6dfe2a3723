package smtprelay

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// Spool sizing: a message is held in memory, in pooled 64 KiB chunks, up
// to spoolMemPerMessage bytes while all messages in memory together stay
// under spoolMemTotal; past either bound it goes to a file. A message of
// up to a few MB (most mail with an attachment) thus costs no file (no
// create, write, read back, unlink), and a 50 MiB message costs a file,
// not 50 MiB of heap.
const (
	spoolChunk         = 64 << 10
	spoolMemPerMessage = 4 << 20
	spoolMemTotal      = 64 << 20
)

// spool keeps each message while it is inspected and forwarded. It is only
// a buffer until the next hop has accepted the message (or the message was
// refused): nothing in it is acknowledged to the client, so it is never
// fsynced. What is acknowledged while kept (the quarantine copy in bounce
// mode) is made durable by the quarantine store. Files of messages whose
// inspection failed move to failed/ (fsynced) for diagnosis.
type spool struct {
	dir    string
	failed string

	memUsed atomic.Int64 // bytes of chunks held by messages in memory
	chunks  sync.Pool    // *[]byte of spoolChunk bytes
}

func openSpool(dir string) (*spool, error) {
	s := &spool{dir: dir, failed: filepath.Join(dir, "failed")}
	if err := os.MkdirAll(s.failed, 0o700); err != nil {
		return nil, fmt.Errorf("smtprelay: create spool dir %s: %w (check data_dir permissions)", dir, err)
	}
	// Files left by a crash were never acknowledged: the sender still has them.
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("smtprelay: read spool dir %s: %w", dir, err)
	}
	for _, e := range ents {
		if !e.IsDir() && strings.HasPrefix(e.Name(), "msg-") {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return s, nil
}

// spoolError is a failure of the spool itself (not of the client's data).
type spoolError struct{ err error }

func (e *spoolError) Error() string { return e.err.Error() }
func (e *spoolError) Unwrap() error { return e.err }

// spoolWriter writes the spool file, marking its errors as spoolError.
type spoolWriter struct{ f *os.File }

func (w spoolWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		err = &spoolError{fmt.Errorf("smtprelay: write spool file: %w", err)}
	}
	return n, err
}

// spooled is one message: in memory chunks, or a file.
type spooled struct {
	s      *spool
	chunks []*[]byte // in memory: all full but the last
	f      *os.File  // on disk (chunks is then nil)
	size   int64

	// refs counts the holders (the session, a running inspection): the
	// memory goes back to the pool, or the file is removed, when the last
	// one releases it. An inspection abandoned at its timeout may still be
	// reading; it must never read chunks reused by another message.
	refs atomic.Int32
}

var _ io.ReaderAt = (*spooled)(nil)

// receive reads the message from r to the end (or the first error) and
// returns it. On error what was read is released; a failure of the spool
// itself is a *spoolError, anything else comes from r.
func (s *spool) receive(r io.Reader, buf []byte) (*spooled, error) {
	m := &spooled{s: s}
	m.refs.Store(1)
	for {
		if m.size+spoolChunk > spoolMemPerMessage || !s.reserve() {
			break
		}
		c := s.getChunk()
		m.chunks = append(m.chunks, c)
		n, err := io.ReadFull(r, *c)
		m.size += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return m, nil
		}
		if err != nil {
			m.release()
			return nil, err
		}
	}
	// Too large (or memory is short): move to a file.
	f, err := os.CreateTemp(s.dir, "msg-*.eml")
	if err != nil {
		m.release()
		return nil, &spoolError{fmt.Errorf("smtprelay: create spool file: %w (check data_dir)", err)}
	}
	for _, c := range m.chunks {
		if _, err := f.Write(*c); err != nil {
			m.release()
			s.removeFile(f)
			return nil, &spoolError{fmt.Errorf("smtprelay: write spool file: %w", err)}
		}
	}
	m.releaseChunks()
	m.f = f
	n, err := io.CopyBuffer(spoolWriter{f}, r, buf)
	m.size += n
	if err != nil {
		m.release()
		return nil, err
	}
	return m, nil
}

// reserve takes one chunk of the memory budget.
func (s *spool) reserve() bool {
	if s.memUsed.Add(spoolChunk) > spoolMemTotal {
		s.memUsed.Add(-spoolChunk)
		return false
	}
	return true
}

func (s *spool) getChunk() *[]byte {
	if c, ok := s.chunks.Get().(*[]byte); ok {
		return c
	}
	c := make([]byte, spoolChunk)
	return &c
}

func (s *spool) removeFile(f *os.File) {
	name := f.Name()
	f.Close()
	if filepath.Dir(name) == filepath.Clean(s.dir) {
		os.Remove(name)
	}
}

// ReadAt reads the message at off.
func (m *spooled) ReadAt(p []byte, off int64) (int, error) {
	if m.f != nil {
		return m.f.ReadAt(p, off)
	}
	if off < 0 {
		return 0, errors.New("smtprelay: spool read at a negative offset")
	}
	n := 0
	for n < len(p) && off < m.size {
		c := *m.chunks[off/spoolChunk]
		i := int(off % spoolChunk)
		end := min(len(c), int(m.size-off)+i)
		k := copy(p[n:], c[i:end])
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// reader returns a reader of the whole message. Copied with io.Copy, a
// message in memory is written chunk by chunk, without a copy buffer.
func (m *spooled) reader() io.Reader {
	return &spoolReader{SectionReader: io.NewSectionReader(m, 0, m.size), m: m}
}

type spoolReader struct {
	*io.SectionReader
	m *spooled
}

// WriteTo writes the rest of the message to w: the chunks themselves when
// the message is in memory, else through a buffer.
func (r *spoolReader) WriteTo(w io.Writer) (int64, error) {
	off, _ := r.Seek(0, io.SeekCurrent)
	if r.m.f != nil {
		return io.CopyBuffer(w, struct{ io.Reader }{r.SectionReader}, make([]byte, spoolChunk))
	}
	var n int64
	for off < r.m.size {
		c := *r.m.chunks[off/spoolChunk]
		i := int(off % spoolChunk)
		end := min(len(c), int(r.m.size-off)+i)
		k, err := w.Write(c[i:end])
		n += int64(k)
		off += int64(k)
		r.Seek(off, io.SeekStart)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// keep writes (or moves) the message to failed/<id>.eml, fsynced, and
// returns the path.
func (m *spooled) keep(id string) (string, error) {
	dst := filepath.Join(m.s.failed, id+".eml")
	if m.f == nil {
		f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return "", fmt.Errorf("smtprelay: keep spooled message: %w", err)
		}
		_, err = io.Copy(f, m.reader())
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(dst)
			return "", fmt.Errorf("smtprelay: keep spooled message: %w", err)
		}
		return dst, nil
	}
	if err := m.f.Sync(); err != nil {
		return "", fmt.Errorf("smtprelay: sync spool file: %w", err)
	}
	if err := os.Rename(m.f.Name(), dst); err != nil {
		return "", fmt.Errorf("smtprelay: keep spool file: %w", err)
	}
	return dst, nil
}

func (m *spooled) releaseChunks() {
	for _, c := range m.chunks {
		m.s.chunks.Put(c)
	}
	m.s.memUsed.Add(-int64(len(m.chunks)) * spoolChunk)
	m.chunks = nil
}

// hold adds a holder; each hold needs a release.
func (m *spooled) hold() { m.refs.Add(1) }

// release drops a holder; the last one gives the memory back, or closes
// and removes the file (if it was not kept).
func (m *spooled) release() {
	if m.refs.Add(-1) > 0 {
		return
	}
	m.free()
}

func (m *spooled) free() {
	m.releaseChunks()
	if m.f != nil {
		m.s.removeFile(m.f)
		m.f = nil
	}
}
