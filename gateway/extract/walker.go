package extract

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
)

// walker holds the state of one walk: limits, the shared budget of expanded
// bytes and parts, and the visitor. message (mime.go) and file (file.go)
// call each other for attachments and forwarded messages.
type walker struct {
	ctx      context.Context
	lim      Limits
	visit    Visitor
	expanded atomic.Int64 // decoded + decompressed bytes so far
	parts    int
}

func newWalker(ctx context.Context, lim Limits, visit Visitor) *walker {
	d := DefaultLimits()
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = d.MaxDepth
	}
	if lim.MaxExpandedBytes <= 0 {
		lim.MaxExpandedBytes = d.MaxExpandedBytes
	}
	if lim.MaxRatio <= 0 {
		lim.MaxRatio = d.MaxRatio
	}
	if lim.MaxEntries <= 0 {
		lim.MaxEntries = d.MaxEntries
	}
	if lim.MaxParts <= 0 {
		lim.MaxParts = d.MaxParts
	}
	if lim.SpoolThreshold <= 0 {
		lim.SpoolThreshold = d.SpoolThreshold
	}
	return &walker{ctx: ctx, lim: lim, visit: visit}
}

// fileInfo is what the caller knows of a file before it is sniffed.
type fileInfo struct {
	name       string // decoded file name ("" if none)
	path       string // the part path to report
	declared   string // declared media type
	role       Role
	attachment int
	depth      int
}

// emit reports p to the visitor, after checking the context and the part
// count. text, if not nil, is metered against the expanded-bytes budget.
func (w *walker) emit(p *Part, text io.Reader) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	w.parts++
	if w.parts > w.lim.MaxParts {
		return fmt.Errorf("%w: more than %d parts", ErrLimit, w.lim.MaxParts)
	}
	if text == nil {
		return w.visit(p, nil)
	}
	// The visitor reads the text before it returns: then its pooled
	// buffer, if it has one, can go back.
	defer releaseText(text)
	return w.visit(p, w.meter(text))
}

// meter wraps r so that reading past the expanded-bytes budget fails with
// an error wrapping ErrLimit.
func (w *walker) meter(r io.Reader) io.Reader { return &meteredReader{r: r, w: w} }

type meteredReader struct {
	r io.Reader
	w *walker
}

func (m *meteredReader) Read(p []byte) (int, error) {
	if err := m.w.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := m.r.Read(p)
	if m.w.expanded.Add(int64(n)) > m.w.lim.MaxExpandedBytes {
		return n, fmt.Errorf("%w: more than %d expanded bytes", ErrLimit, m.w.lim.MaxExpandedBytes)
	}
	return n, err
}
