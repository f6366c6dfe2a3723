package extract

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// errStopped tells a text generator that the visitor stopped reading.
var errStopped = errors.New("extract: text reader closed")

// emitText reports p with the text that gen writes, streamed through a
// pipe so that a large document's text never sits whole in memory. gen
// runs in its own goroutine; a panic in it (a parser of hostile input)
// becomes a read error for the visitor, which makes the part
// uninspectable. emitText returns after gen has finished.
func (w *walker) emitText(p *Part, label string, gen func(t *textSink) error) error {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		var err error
		defer func() {
			if x := recover(); x != nil {
				err = fmt.Errorf("%s: malformed input (%v)", label, x)
			}
			pw.CloseWithError(err)
		}()
		t := &textSink{w: bufio.NewWriterSize(pw, 32<<10)}
		if err = gen(t); err == nil {
			err = t.w.Flush()
		} else if !errors.Is(err, errStopped) && !errors.Is(err, ErrLimit) {
			t.w.Flush()
			err = fmt.Errorf("%s: %w", label, err)
		}
	}()
	err := w.emit(p, pr)
	pr.CloseWithError(errStopped)
	<-done
	return err
}

// textSink writes extracted text with separators that are only written
// when more text follows: a pending separator is replaced by a stronger
// one (newline > tab > space) and dropped by a hard separator.
type textSink struct {
	w       *bufio.Writer
	pending string
	wrote   bool
}

// text writes s after any pending separator.
func (t *textSink) text(s string) error {
	if s == "" {
		return nil
	}
	if t.pending != "" && t.wrote {
		if _, err := t.w.WriteString(t.pending); err != nil {
			return err
		}
	}
	t.pending = ""
	t.wrote = true
	_, err := t.w.WriteString(s)
	return err
}

// soft sets a pending separator, keeping the stronger of two.
func (t *textSink) soft(sep string) {
	if sepRank(sep) > sepRank(t.pending) {
		t.pending = sep
	}
}

// hard writes sep now, dropping the pending separator.
func (t *textSink) hard(sep string) error {
	t.pending = ""
	t.wrote = true
	_, err := t.w.WriteString(sep)
	return err
}

func sepRank(s string) int {
	switch s {
	case "\n":
		return 3
	case "\t":
		return 2
	case " ":
		return 1
	}
	return 0
}
