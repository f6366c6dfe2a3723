package extract

import (
	"bufio"
	"errors"
	"io"
	"sync"
)

// bufReaders recycles the sniffWindow-sized buffered readers that every
// text part and upload needs: a fresh one is a 64 KiB allocation the GC
// must clear, per part. A reader goes back with putBufReader only where
// nothing can read it any more: when the function that took it returns
// (its walk is synchronous), or, for textReader's, when walker.emit has
// handed the text to the visitor and the visitor has returned.
var bufReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, sniffWindow) }}

// getBufReader returns a pooled sniffWindow-sized reader of r.
func getBufReader(r io.Reader) *bufio.Reader {
	br := bufReaders.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

// putBufReader gives br back to the pool.
func putBufReader(br *bufio.Reader) {
	br.Reset(nil)
	bufReaders.Put(br)
}

// textStream is the text textReader returns, with the pooled reader under
// it; release gives that back once the text has been read.
type textStream struct {
	io.Reader
	br *bufio.Reader
}

var errTextReleased = errors.New("extract: text read after its buffer was released")

type releasedReader struct{}

func (releasedReader) Read([]byte) (int, error) { return 0, errTextReleased }

func (t *textStream) release() {
	if t.br != nil {
		putBufReader(t.br)
		t.br, t.Reader = nil, releasedReader{}
	}
}
