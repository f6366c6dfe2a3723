package extract

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
)

// maxSharedStrings bounds the bytes of xlsx shared strings held in memory.
const maxSharedStrings = 64 << 20

// office reports an OOXML (docx, xlsx, pptx) or ODF (odt, ods, odp)
// document as one part with its text, then its embedded files as members.
func (w *walker) office(ra io.ReaderAt, size int64, p *Part, fi fileInfo, typ string) error {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		p.Uninspectable = "corrupt " + typ + ": " + err.Error()
		return w.emit(p, nil)
	}
	zr.RegisterDecompressor(zip.Deflate, newInflater)
	if len(zr.File) > w.lim.MaxEntries {
		p.Uninspectable = "entry limit"
		return w.emit(p, nil)
	}
	for _, f := range zr.File {
		if reason := w.memberLimit(f.UncompressedSize64, f.CompressedSize64); reason != "" {
			p.Uninspectable = reason
			return w.emit(p, nil)
		}
	}
	d := &officeDoc{w: w, files: map[string]*zip.File{}}
	for _, f := range zr.File {
		d.files[zipName(f)] = f
	}
	var gen func(t *textSink) error
	switch typ {
	case "docx":
		gen = d.docx
	case "xlsx":
		gen = d.xlsx
	case "pptx":
		gen = d.pptx
	default:
		gen = d.odf
	}
	if err := w.emitText(p, typ+" text", gen); err != nil {
		return err
	}
	return w.embedded(zr, fi)
}

// embedded walks the files embedded in an OOXML document (OLE objects,
// workbooks behind charts, attached files) as its members.
func (w *walker) embedded(zr *zip.Reader, fi fileInfo) error {
	for _, f := range zr.File {
		name := zipName(f)
		dir, _ := path.Split(name)
		switch dir {
		case "word/embeddings/", "xl/embeddings/", "ppt/embeddings/":
		default:
			continue
		}
		if err := w.zipMember(f, name, fi); err != nil {
			return err
		}
		if err := w.budgetLeft(); err != nil {
			return err
		}
	}
	return nil
}

// officeDoc reads the XML members of one office document.
type officeDoc struct {
	w     *walker
	files map[string]*zip.File
}

// open opens a member by name, metered; nil when absent.
func (d *officeDoc) open(name string) (io.ReadCloser, error) {
	f := d.files[name]
	if f == nil {
		return nil, nil
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{d.w.meter(rc), rc}, nil
}

// numbered returns the members under dir named prefix<N>.xml, by N.
func (d *officeDoc) numbered(dir, prefix string) []string {
	type item struct {
		n    int
		name string
	}
	var items []item
	for name := range d.files {
		if path.Dir(name) != dir {
			continue
		}
		base := path.Base(name)
		if !strings.HasPrefix(base, prefix) || !strings.HasSuffix(base, ".xml") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(base, prefix), ".xml"))
		if err != nil {
			continue
		}
		items = append(items, item{n, name})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].n < items[j].n })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.name
	}
	return out
}

// markup says where text lives in one XML vocabulary (by local name).
type markup struct {
	text  map[string]bool // elements whose character data is text (w:t, a:t); nil = all inside para
	para  map[string]bool // paragraph elements: end with a newline
	row   string          // table row: cells tab-separated, ends with a newline
	cell  map[string]bool // table cell
	tab   map[string]bool // empty elements meaning a tab
	br    map[string]bool // empty elements meaning a line break
	space string          // ODF <text:s/>: a space
	skip  map[string]bool // subtrees without text to match (ruby readings, fallbacks)
}

var (
	wordMarkup = &markup{
		text: set("t", "delText"),
		para: set("p"),
		row:  "tr",
		cell: set("tc"),
		tab:  set("tab", "ptab"),
		br:   set("br", "cr"),
		skip: set("rt", "Fallback", "instrText", "rPr", "pPr"),
	}
	drawingMarkup = &markup{
		text: set("t"),
		para: set("p"),
		row:  "tr",
		cell: set("tc"),
		tab:  set("tab"),
		br:   set("br"),
		skip: set("Fallback", "rPr", "pPr"),
	}
	odfMarkup = &markup{
		para:  set("p", "h"),
		row:   "table-row",
		cell:  set("table-cell", "covered-table-cell"),
		tab:   set("tab"),
		br:    set("line-break"),
		space: "s",
		skip:  set("tracked-changes", "ruby-text"),
	}
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// xmlText writes the text of one XML member to t following m: runs of a
// paragraph joined, paragraphs as lines, table rows as TSV lines.
func xmlText(r io.Reader, m *markup, t *textSink) error {
	var (
		inText, inPara, skip int
		cells                []int // cells seen in each open row
		odfValue             int   // depth inside an ODF float cell printed from its value
		depth                int
	)
	err := eachToken(r, func(tok xml.Token) error {
		switch tk := tok.(type) {
		case xml.StartElement:
			depth++
			name := tk.Name.Local
			if skip > 0 || odfValue > 0 {
				if skip > 0 {
					skip++
				} else {
					odfValue++
				}
				return nil
			}
			switch {
			case m.skip[name]:
				skip = 1
			case m.text[name]:
				inText++
			case m.para[name]:
				inPara++
			case name == m.row:
				cells = append(cells, 0)
			case m.cell[name]:
				if len(cells) > 0 {
					if cells[len(cells)-1] > 0 {
						if err := t.hard("\t"); err != nil {
							return err
						}
					}
					cells[len(cells)-1]++
				}
				if v := odfFloat(tk); v != "" {
					if err := t.text(v); err != nil {
						return err
					}
					odfValue = 1
				}
			case m.tab[name]:
				if inPara > 0 {
					if err := t.text("\t"); err != nil {
						return err
					}
				}
			case m.br[name]:
				t.soft("\n")
			case name == m.space && m.space != "":
				if err := t.text(" "); err != nil {
					return err
				}
			}
		case xml.EndElement:
			depth--
			name := tk.Name.Local
			if skip > 0 {
				skip--
				return nil
			}
			if odfValue > 0 {
				odfValue--
				return nil
			}
			switch {
			case m.text[name]:
				inText--
			case m.para[name]:
				inPara--
				if len(cells) > 0 {
					t.soft(" ")
				} else {
					t.soft("\n")
				}
			case name == m.row:
				if len(cells) > 0 {
					cells = cells[:len(cells)-1]
				}
				if err := t.hard("\n"); err != nil {
					return err
				}
			}
		case xml.CharData:
			if skip > 0 || odfValue > 0 {
				return nil
			}
			if inText > 0 || (m.text == nil && inPara > 0) {
				if err := t.text(string(tk)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return err
}

// odfFloat returns the digits of an ODF numeric cell whose value is an
// integer, so that a number shown in a short or exponent format is still
// matched in full; "" otherwise.
func odfFloat(se xml.StartElement) string {
	var typ, val string
	for _, a := range se.Attr {
		switch a.Name.Local {
		case "value-type":
			typ = a.Value
		case "value":
			val = a.Value
		}
	}
	if typ != "float" || val == "" {
		return ""
	}
	if s, ok := integralDigits(val); ok {
		return s
	}
	return ""
}

// docx writes a Word document's text: body, then headers, footers,
// footnotes, endnotes and comments.
func (d *officeDoc) docx(t *textSink) error {
	names := []string{"word/document.xml"}
	names = append(names, d.numbered("word", "header")...)
	names = append(names, d.numbered("word", "footer")...)
	names = append(names, "word/footnotes.xml", "word/endnotes.xml", "word/comments.xml")
	return d.members(t, names, wordMarkup, "word/document.xml")
}

// pptx writes a presentation's text: slides in order, then notes.
func (d *officeDoc) pptx(t *textSink) error {
	names := d.numbered("ppt/slides", "slide")
	names = append(names, d.numbered("ppt/notesSlides", "notesSlide")...)
	return d.members(t, names, drawingMarkup, "")
}

// odf writes an OpenDocument's text (content.xml, then styles.xml for
// headers and footers).
func (d *officeDoc) odf(t *textSink) error {
	return d.members(t, []string{"content.xml", "styles.xml"}, odfMarkup, "content.xml")
}

// members writes the text of the named XML members; required must exist.
func (d *officeDoc) members(t *textSink, names []string, m *markup, required string) error {
	if required != "" && d.files[required] == nil {
		return fmt.Errorf("%s missing", required)
	}
	for _, name := range names {
		rc, err := d.open(name)
		if err != nil {
			return err
		}
		if rc == nil {
			continue
		}
		err = xmlText(rc, m, t)
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := t.hard("\n"); err != nil {
			return err
		}
	}
	return nil
}

// errTooManyStrings stops a workbook whose shared strings would not fit.
var errTooManyStrings = errors.New("shared strings larger than the limit")
