package smtprelay

import (
	"bufio"
	"bytes"
	"io"
	"sync"
)

// dotWriter dot-stuffs a message body (RFC 5321 §4.5.2) a line at a time
// into a large buffer on the next-hop connection. It replaces go-smtp's
// DotWriter for the body (net/textproto's, which handles one byte at a
// time and writes the connection in 4 KiB pieces: a third of the relay's
// CPU on a 2 MB message).
//
// Its output is what textproto's would be: a line starting with '.' gets a
// second '.', a bare LF becomes CRLF. The line break that ends the body is
// held back: finish hands the last "\r\n" to go-smtp's own DotWriter, whose
// Close then writes ".\r\n", so that go-smtp's client stays in step and
// reads the reply to the final dot itself.
type dotWriter struct {
	w   *bufio.Writer // the raw next-hop connection
	bol bool          // the next input byte starts a line
	cr  bool          // a '\r' at the end of the last input is held back
	nl  bool          // a line break is held back (written as "\r\n")

	pool *sync.Pool
}

// newDotWriter writes to w through a 64 KiB buffer taken from pool (a pool
// of *bufio.Writer, or nil for a new buffer); release gives it back.
func newDotWriter(w io.Writer, pool *sync.Pool) *dotWriter {
	var bw *bufio.Writer
	if pool != nil {
		bw, _ = pool.Get().(*bufio.Writer)
	}
	if bw == nil {
		bw = bufio.NewWriterSize(w, dotBufSize)
	}
	bw.Reset(w)
	return &dotWriter{w: bw, bol: true, pool: pool}
}

var crlf = []byte("\r\n")

func (d *dotWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if d.nl {
			d.w.Write(crlf)
			d.nl = false
		}
		if d.bol && p[0] == '.' {
			d.w.WriteByte('.')
		}
		d.bol = false
		if !d.cr {
			// Lines that need nothing done go out in one piece, but for
			// the last line break, held back as always.
			if k := plainLines(p); k > 0 {
				d.w.Write(p[:k-2])
				d.nl, d.bol = true, true
				p = p[k:]
				continue
			}
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if d.cr {
				d.w.WriteByte('\r')
				d.cr = false
			}
			if p[len(p)-1] == '\r' {
				p, d.cr = p[:len(p)-1], true
			}
			d.w.Write(p)
			break
		}
		line := p[:i]
		if d.cr {
			if i > 0 { // a bare CR, not the first half of this CRLF
				d.w.WriteByte('\r')
			}
			d.cr = false
		}
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		d.w.Write(line)
		d.nl, d.bol = true, true
		p = p[i+1:]
	}
	if err := d.werr(); err != nil {
		return 0, err
	}
	return n, nil
}

// plainLines returns the length of the run of whole lines at the start of
// p that go out unchanged: each ends in CRLF and none after the first
// starts with '.'. It stops before a line that ends in a bare LF, and
// before one that starts with '.'; 0 when the first line is not plain.
func plainLines(p []byte) int {
	k := 0
	for {
		i := bytes.IndexByte(p[k:], '\n')
		if i < 0 {
			return k
		}
		e := k + i
		if e == k || p[e-1] != '\r' {
			return k
		}
		k = e + 1
		if k < len(p) && p[k] == '.' {
			return k
		}
	}
}

// werr returns the buffered writer's sticky error.
func (d *dotWriter) werr() error {
	_, err := d.w.Write(nil)
	return err
}

// finish flushes what is buffered to the connection and writes the final
// line break through go-smtp's writer (see dotWriter). With hold (the
// connection, when it is not TLS), the flushed bytes are held and leave
// with go-smtp's final dot, in one system call.
func (d *dotWriter) finish(wc io.Writer, hold *writeDeadlineConn) error {
	if hold != nil {
		hold.hold = true
	}
	err := d.w.Flush()
	if hold != nil {
		hold.hold = false
	}
	if err != nil {
		return err
	}
	_, err = wc.Write(crlf)
	return err
}

// release returns the buffer to the pool.
func (d *dotWriter) release() {
	if d.pool != nil {
		d.w.Reset(nil)
		d.pool.Put(d.w)
	}
	d.w = nil
}

// dotBufSize is the size of dotWriter's buffer.
const dotBufSize = 128 << 10
