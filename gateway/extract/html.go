package extract

import (
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// htmlMaxToken bounds one HTML token (a text run, a tag with a data: URI)
// held in memory by the tokenizer.
const htmlMaxToken = 32 << 20

// htmlText streams the text of the UTF-8 HTML read from r: script and style
// are dropped, entities decoded, block elements end lines, and each table
// row becomes one line with its cells separated by tabs, so that detectors
// see the table's columns. Comments are kept as lines: hidden text leaves
// the company as surely as visible text.
func htmlText(r io.Reader) io.Reader {
	z := html.NewTokenizer(r)
	z.SetMaxBuf(htmlMaxToken)
	return &htmlReader{z: z, lineStart: true, src: r}
}

// release gives back the pooled buffer of the text under the HTML.
func (h *htmlReader) release() { releaseText(h.src) }

type htmlTable struct {
	cells  int  // cells seen in the current row
	inCell bool // inside a td or th
}

type htmlReader struct {
	src io.Reader // the text the tokenizer reads
	z   *html.Tokenizer
	pending
	skip      int // depth inside script/style
	pre       int // depth inside pre/textarea/listing
	tables    []htmlTable
	lineStart bool
	space     bool // a collapsed white space is pending
}

func (h *htmlReader) Read(p []byte) (int, error) { return h.read(p, h) }

func (h *htmlReader) inCell() bool {
	return len(h.tables) > 0 && h.tables[len(h.tables)-1].inCell
}

// newline ends the current line (a space inside a table cell).
func (h *htmlReader) newline() {
	if h.inCell() {
		h.space = !h.lineStart
		return
	}
	if !h.lineStart {
		h.out = append(h.out, '\n')
		h.lineStart = true
	}
	h.space = false
}

func (h *htmlReader) text(b []byte) {
	if h.pre > 0 && !h.inCell() {
		for _, c := range b {
			if c == '\r' {
				continue
			}
			h.out = append(h.out, c)
			h.lineStart = c == '\n'
		}
		h.space = false
		return
	}
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == 0xA0 {
			if !h.lineStart {
				h.space = true
			}
		} else {
			if h.space {
				h.out = append(h.out, ' ')
				h.space = false
			}
			h.out = append(h.out, b[:n]...)
			h.lineStart = false
		}
		b = b[n:]
	}
}

func (h *htmlReader) produce() {
	h.out = h.out[:0:0] // what was handed out is not kept
	tt := h.z.Next()
	switch tt {
	case html.ErrorToken:
		err := h.z.Err()
		h.tables = nil
		h.newline()
		if errors.Is(err, html.ErrBufferExceeded) {
			err = fmt.Errorf("extract: html token larger than %d MiB", htmlMaxToken>>20)
		}
		if err == nil {
			err = io.EOF
		}
		h.err = err
	case html.TextToken:
		if h.skip == 0 {
			h.text(h.z.Text())
		}
	case html.CommentToken:
		if h.skip == 0 {
			h.newline()
			h.text(h.z.Text())
			h.newline()
		}
	case html.StartTagToken, html.SelfClosingTagToken:
		name, _ := h.z.TagName()
		h.start(string(name), tt == html.SelfClosingTagToken)
	case html.EndTagToken:
		name, _ := h.z.TagName()
		h.end(string(name))
	}
}

func (h *htmlReader) start(name string, selfClosing bool) {
	switch name {
	case "script", "style":
		if !selfClosing {
			h.skip++
		}
		return
	}
	if h.skip > 0 {
		return
	}
	switch name {
	case "br":
		h.newline()
	case "table":
		h.newline()
		if !selfClosing {
			h.tables = append(h.tables, htmlTable{})
		}
	case "tr":
		if len(h.tables) > 0 {
			t := &h.tables[len(h.tables)-1]
			t.inCell = false
			t.cells = 0
		}
		h.newline()
	case "td", "th":
		if len(h.tables) == 0 {
			h.newline()
			return
		}
		t := &h.tables[len(h.tables)-1]
		if t.cells > 0 {
			h.out = append(h.out, '\t')
			h.lineStart = true // no leading space in a cell
		}
		t.cells++
		t.inCell = true
		h.space = false
	case "pre", "textarea", "listing", "plaintext":
		h.newline()
		if !selfClosing {
			h.pre++
		}
	default:
		if isHTMLBlock(name) {
			h.newline()
		}
	}
}

func (h *htmlReader) end(name string) {
	switch name {
	case "script", "style":
		if h.skip > 0 {
			h.skip--
		}
		return
	}
	if h.skip > 0 {
		return
	}
	switch name {
	case "table":
		if len(h.tables) > 0 {
			h.tables = h.tables[:len(h.tables)-1]
		}
		h.newline()
	case "tr":
		if len(h.tables) > 0 {
			t := &h.tables[len(h.tables)-1]
			t.inCell = false
		}
		h.newline()
	case "td", "th":
		if len(h.tables) > 0 {
			h.tables[len(h.tables)-1].inCell = false
			h.space = false
		}
	case "pre", "textarea", "listing", "plaintext":
		if h.pre > 0 {
			h.pre--
		}
		h.newline()
	default:
		if isHTMLBlock(name) {
			h.newline()
		}
	}
}

// isHTMLBlock reports whether an element starts and ends a line.
func isHTMLBlock(name string) bool {
	switch name {
	case "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
		"blockquote", "hr", "section", "article", "header", "footer", "nav", "aside", "main",
		"address", "form", "fieldset", "legend", "figure", "figcaption", "title", "caption",
		"thead", "tbody", "tfoot", "center", "option", "details", "summary", "body", "html", "head":
		return true
	}
	return false
}
