package extract

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"

	"github.com/sekisho-dlp/sekisho/detectors/fileformat"
)

// Bounds on one PDF's text extraction.
const (
	maxPDFPages      = 5000     // pages read; more makes the PDF uninspectable
	maxPDFContent    = 64 << 20 // decoded content bytes of one page
	maxPDFFormDepth  = 4        // nesting of form XObjects
	maxPDFPredColumn = 1 << 16  // Columns of a predictor filter (the library allocates it)
)

// pdf reports a PDF (not encrypted, or openable with the empty user
// password: RC4 and AES-128 decrypted by the library, AES-256 through a
// decrypted copy) with the text of its pages. Fonts are decoded through their
// ToUnicode CMaps, the predefined Unicode and Japanese CMaps (which
// ledongthuc/pdf leaves as raw bytes), or their simple encodings. Text
// that cannot be extracted makes the part uninspectable ("pdf text: …").
func (w *walker) pdf(ra io.ReaderAt, size int64, p *Part) error {
	// AES-256 (V5) with an empty user password: the library cannot
	// decrypt it, so it reads a decrypted copy.
	if k, kerr := fileformat.PDFFileKey(ra, size); k != nil && k.V >= 5 {
		if kerr != nil {
			p.Uninspectable = "pdf text: AES-256 file key: " + kerr.Error()
			return w.emit(p, nil)
		}
		dec, err := w.pdfDecryptV5(ra, size, k)
		if err != nil {
			if ferr := w.fatal(err); ferr != nil {
				return ferr
			}
			p.Uninspectable = "pdf text: AES-256 decryption: " + err.Error()
			return w.emit(p, nil)
		}
		defer dec.Close()
		ra, size = dec, dec.size
	}
	r, err := openPDF(ra, size)
	if err != nil {
		p.Uninspectable = "pdf text: " + err.Error()
		return w.emit(p, nil)
	}
	n := pdfPages(r)
	if n > maxPDFPages {
		p.Uninspectable = fmt.Sprintf("pdf text: more than %d pages", maxPDFPages)
		return w.emit(p, nil)
	}
	return w.emitText(p, "pdf text", func(t *textSink) error {
		x := &pdfText{w: w, t: t, fonts: map[string]*pdfFont{}}
		return x.document(r, n)
	})
}

// openPDF opens a PDF with ledongthuc/pdf, tolerating what the library
// rejects but readers accept: junk before %PDF-, a version outside
// 1.0–1.7 (PDF 2.0), a header line without a newline, junk after %%EOF.
func openPDF(ra io.ReaderAt, size int64) (r *pdf.Reader, err error) {
	defer func() {
		if x := recover(); x != nil {
			r, err = nil, fmt.Errorf("malformed PDF (%v)", x)
		}
	}()
	head := make([]byte, min(size, 1024))
	if _, err := ra.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, err
	}
	start := bytes.Index(head, []byte("%PDF-"))
	if start < 0 {
		return nil, errors.New("no %PDF- header")
	}
	tail := make([]byte, min(size-int64(start), 1024))
	if _, err := ra.ReadAt(tail, size-int64(len(tail))); err != nil && err != io.EOF {
		return nil, err
	}
	end := size
	if i := bytes.LastIndex(tail, []byte("%%EOF")); i >= 0 {
		end = size - int64(len(tail)) + int64(i) + 5
	}
	var src io.ReaderAt = io.NewSectionReader(ra, int64(start), end-int64(start))
	h := head[start:]
	if len(h) < 9 || !bytes.HasPrefix(h, []byte("%PDF-1.")) || h[7] < '0' || h[7] > '7' || (h[8] != '\r' && h[8] != '\n') {
		src = &headerPatch{ReaderAt: src, head: []byte("%PDF-1.7\n")}
	}
	r, err = pdf.NewReader(src, end-int64(start))
	if errors.Is(err, pdf.ErrInvalidPassword) {
		return nil, errors.New("encrypted with a user password")
	}
	return r, err
}

// headerPatch overlays the first bytes of a file.
type headerPatch struct {
	io.ReaderAt
	head []byte
}

func (h *headerPatch) ReadAt(p []byte, off int64) (int, error) {
	n, err := h.ReaderAt.ReadAt(p, off)
	for i := 0; i < n; i++ {
		if o := off + int64(i); o < int64(len(h.head)) {
			p[i] = h.head[o]
		}
	}
	return n, err
}

// pdfPages returns the page count, 0 on a malformed page tree.
func pdfPages(r *pdf.Reader) (n int) {
	defer func() {
		if recover() != nil {
			n = 0
		}
	}()
	return r.NumPage()
}

// pdfText extracts the text of one document.
type pdfText struct {
	w     *walker
	t     *textSink
	fonts map[string]*pdfFont // by font dictionary

	shown, undecoded int // glyphs shown, glyphs without a Unicode mapping

	// layout of the last text shown, in device space
	have         bool
	lastX, lastY float64
	lastSize     float64
}

// document writes the text of pages 1..n. A page that fails is skipped
// and reported at the end, after the text of the others.
func (x *pdfText) document(r *pdf.Reader, n int) error {
	var failed []string
	for i := 1; i <= n; i++ {
		if err := x.page(r, i); err != nil {
			if errors.Is(err, errStopped) || errors.Is(err, ErrLimit) || errors.Is(err, io.ErrClosedPipe) {
				return err
			}
			failed = append(failed, fmt.Sprintf("page %d: %v", i, err))
		}
		if err := x.t.hard("\n"); err != nil {
			return err
		}
		x.have = false
	}
	switch {
	case len(failed) > 0:
		return errors.New(strings.Join(failed[:min(len(failed), 3)], "; "))
	case x.shown == 0 && n > 0:
		return errors.New("no text layer (scanned or image-only PDF?)")
	case x.undecoded > 0 && x.undecoded*2 > x.shown:
		return fmt.Errorf("%d of %d glyphs have no Unicode mapping (fonts without ToUnicode)", x.undecoded, x.shown)
	}
	return nil
}

// page writes the text of page i.
func (x *pdfText) page(r *pdf.Reader, i int) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("malformed content (%v)", v)
		}
	}()
	pg := r.Page(i)
	if pg.V.IsNull() {
		return errors.New("missing page")
	}
	contents := pg.V.Key("Contents")
	if contents.IsNull() {
		return nil
	}
	return x.content(contents, pg.Resources(), identity, 0)
}

// content interprets one content stream (or array of streams) with its
// resources, starting from the matrix ctm.
func (x *pdfText) content(strm, res pdf.Value, ctm matrix, depth int) error {
	if err := x.checkStream(strm); err != nil {
		return err
	}
	st := &textState{ctm: ctm, tz: 1}
	var opErr error
	pdf.Interpret(strm, func(stk *pdf.Stack, op string) {
		if opErr != nil {
			popAll(stk)
			return
		}
		args := popAll(stk)
		opErr = x.op(st, res, op, args, depth)
	})
	return opErr
}

// checkStream reads a content stream through the meter before it is
// interpreted, so that a decompression bomb is stopped and counted.
func (x *pdfText) checkStream(strm pdf.Value) error {
	var streams []pdf.Value
	if strm.Kind() == pdf.Array {
		for i := 0; i < strm.Len(); i++ {
			streams = append(streams, strm.Index(i))
		}
	} else {
		streams = append(streams, strm)
	}
	var total int64
	for _, s := range streams {
		if s.Kind() != pdf.Stream {
			return errors.New("content is not a stream")
		}
		parms := s.Key("DecodeParms")
		if parms.Kind() == pdf.Array {
			parms = parms.Index(0)
		}
		if parms.Key("Columns").Int64() > maxPDFPredColumn {
			return errors.New("predictor columns out of range")
		}
		rc := s.Reader()
		n, err := io.Copy(io.Discard, x.w.meter(io.LimitReader(rc, maxPDFContent-total+1)))
		rc.Close()
		total += n
		if err != nil {
			return err
		}
		if total > maxPDFContent {
			return fmt.Errorf("content larger than %d bytes", maxPDFContent)
		}
	}
	return nil
}

// textState is the graphics and text state that placing text needs.
type textState struct {
	ctm, tm, tlm matrix
	stack        []matrix
	font         *pdfFont
	size         float64
	tc, tw, tl   float64
	tz           float64
}

// op executes one content operator.
func (x *pdfText) op(st *textState, res pdf.Value, op string, args []pdf.Value, depth int) error {
	num := func(i int) float64 {
		if i < len(args) {
			return args[i].Float64()
		}
		return 0
	}
	switch op {
	case "q":
		if len(st.stack) < 1024 {
			st.stack = append(st.stack, st.ctm)
		}
	case "Q":
		if n := len(st.stack); n > 0 {
			st.ctm = st.stack[n-1]
			st.stack = st.stack[:n-1]
		}
	case "cm":
		if len(args) == 6 {
			st.ctm = matrix{num(0), num(1), num(2), num(3), num(4), num(5)}.mul(st.ctm)
		}
	case "BT":
		st.tm, st.tlm = identity, identity
	case "Tf":
		if len(args) == 2 {
			st.font = x.font(res.Key("Font").Key(args[0].Name()))
			st.size = num(1)
		}
	case "Tc":
		st.tc = num(0)
	case "Tw":
		st.tw = num(0)
	case "Tz":
		st.tz = num(0) / 100
	case "TL":
		st.tl = num(0)
	case "Td":
		st.td(num(0), num(1))
	case "TD":
		st.tl = -num(1)
		st.td(num(0), num(1))
	case "Tm":
		if len(args) == 6 {
			st.tm = matrix{num(0), num(1), num(2), num(3), num(4), num(5)}
			st.tlm = st.tm
		}
	case "T*":
		st.td(0, -st.tl)
	case "Tj":
		if len(args) == 1 {
			return x.show(st, args[0].RawString())
		}
	case "'", "\"":
		if len(args) >= 1 {
			if op == "\"" && len(args) == 3 {
				st.tw, st.tc = num(0), num(1)
			}
			st.td(0, -st.tl)
			return x.show(st, args[len(args)-1].RawString())
		}
	case "TJ":
		if len(args) != 1 {
			return nil
		}
		a := args[0]
		for i := 0; i < a.Len(); i++ {
			v := a.Index(i)
			switch v.Kind() {
			case pdf.String:
				if err := x.show(st, v.RawString()); err != nil {
					return err
				}
			case pdf.Integer, pdf.Real:
				adj := v.Float64() / 1000
				if -adj > 0.2 { // a wide gap inside TJ is a word space
					x.t.soft(" ")
				}
				st.tm = matrix{1, 0, 0, 1, -adj * st.size * st.tz, 0}.mul(st.tm)
			}
		}
	case "Do":
		if len(args) == 1 && depth < maxPDFFormDepth {
			xo := res.Key("XObject").Key(args[0].Name())
			if xo.Kind() == pdf.Stream && xo.Key("Subtype").Name() == "Form" {
				ctm := st.ctm
				if m := xo.Key("Matrix"); m.Len() == 6 {
					ctm = matrix{m.Index(0).Float64(), m.Index(1).Float64(), m.Index(2).Float64(),
						m.Index(3).Float64(), m.Index(4).Float64(), m.Index(5).Float64()}.mul(ctm)
				}
				fres := xo.Key("Resources")
				if fres.IsNull() {
					fres = res
				}
				return x.content(xo, fres, ctm, depth+1)
			}
		}
	}
	return nil
}

func (st *textState) td(tx, ty float64) {
	st.tlm = matrix{1, 0, 0, 1, tx, ty}.mul(st.tlm)
	st.tm = st.tlm
}

// show writes the text of one string operand, preceded by a newline, tab
// or space when its position says it starts a new line, a new cell or a
// new word relative to the text before it.
func (x *pdfText) show(st *textState, raw string) error {
	f := st.font
	if f == nil {
		f = fallbackFont
	}
	m := st.tm.mul(st.ctm)
	px, py := m[4], m[5]
	size := st.size * math.Hypot(m[2], m[3])
	if size <= 0 || math.IsNaN(size) || math.IsInf(size, 0) {
		size = 1
	}
	if x.have {
		dy := math.Abs(py - x.lastY)
		gap := px - x.lastX
		switch {
		case dy > 0.5*math.Max(size, x.lastSize):
			x.t.soft("\n")
		case gap > 1.0*size:
			x.t.soft("\t")
		case gap > 0.2*size || gap < -0.5*size:
			x.t.soft(" ")
		}
	}
	var adv float64
	for len(raw) > 0 {
		code, text, width, ok := f.next(raw)
		raw = raw[len(code):]
		x.shown++
		if !ok {
			x.undecoded++
		} else if err := x.t.text(text); err != nil {
			return err
		}
		w := width/1000*st.size + st.tc
		if code == " " {
			w += st.tw
		}
		adv += w * st.tz
	}
	st.tm = matrix{1, 0, 0, 1, adv, 0}.mul(st.tm)
	end := st.tm.mul(st.ctm)
	x.lastX, x.lastY, x.lastSize, x.have = end[4], end[5], size, true
	return nil
}

// matrix is a PDF transformation matrix [a b c d e f].
type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2],
		m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2],
		m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4],
		m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

// pdfFont decodes the codes of one font to text and estimates widths.
type pdfFont struct {
	cmap      *toUnicode       // ToUnicode, when present
	codeLen   int              // bytes per code without a codespace (1 simple, 2 composite)
	predef    predefCMap       // predefined CMap
	simple    pdf.TextEncoding // simple font's encoding
	composite bool             // Type0
	widths    map[int]float64  // by code (simple) or CID (Identity composite)
	dw        float64          // default width
	identity  bool             // Identity-H/V: code = CID
}

var fallbackFont = &pdfFont{codeLen: 1, dw: 500}

// font returns the decoder for a font dictionary, cached.
func (x *pdfText) font(v pdf.Value) *pdfFont {
	if v.Kind() != pdf.Dict {
		return fallbackFont
	}
	key := v.String()
	if f, ok := x.fonts[key]; ok {
		return f
	}
	f := newPDFFont(v)
	if len(x.fonts) < 4096 {
		x.fonts[key] = f
	}
	return f
}

func newPDFFont(v pdf.Value) *pdfFont {
	f := &pdfFont{codeLen: 1, dw: 500}
	enc := v.Key("Encoding")
	if v.Key("Subtype").Name() == "Type0" {
		f.composite, f.codeLen, f.dw = true, 2, 1000
		desc := v.Key("DescendantFonts").Index(0)
		if dw := desc.Key("DW"); !dw.IsNull() {
			f.dw = dw.Float64()
		}
		f.widths = cidWidths(desc.Key("W"))
		if enc.Kind() == pdf.Name {
			name := enc.Name()
			f.identity = strings.HasPrefix(name, "Identity")
			if !f.identity {
				f.predef = predefined(name)
			}
		}
	} else {
		f.widths = map[int]float64{}
		first := int(v.Key("FirstChar").Int64())
		ws := v.Key("Widths")
		for i := 0; i < ws.Len() && i < 256; i++ {
			f.widths[first+i] = ws.Index(i).Float64()
		}
		if mw := v.Key("FontDescriptor").Key("MissingWidth"); !mw.IsNull() {
			f.dw = mw.Float64()
		}
		switch {
		case enc.Kind() == pdf.Dict, enc.Kind() == pdf.Null,
			enc.Kind() == pdf.Name && (enc.Name() == "WinAnsiEncoding" || enc.Name() == "MacRomanEncoding"):
			font := pdf.Font{V: v}
			if v.Key("ToUnicode").Kind() != pdf.Stream || enc.Kind() != pdf.Null {
				f.simple = font.Encoder()
			}
		}
	}
	if tu := v.Key("ToUnicode"); tu.Kind() == pdf.Stream {
		f.cmap = parseToUnicode(tu, v)
	}
	return f
}

// cidWidths reads a CIDFont /W array: c [w1 w2 …] or c1 c2 w.
func cidWidths(w pdf.Value) map[int]float64 {
	m := map[int]float64{}
	for i := 0; i < w.Len() && len(m) < 1<<16; {
		c := int(w.Index(i).Int64())
		next := w.Index(i + 1)
		if next.Kind() == pdf.Array {
			for j := 0; j < next.Len() && len(m) < 1<<16; j++ {
				m[c+j] = next.Index(j).Float64()
			}
			i += 2
			continue
		}
		c2 := int(next.Int64())
		wd := w.Index(i + 2).Float64()
		for k := c; k <= c2 && k-c < 1<<16 && len(m) < 1<<16; k++ {
			m[k] = wd
		}
		i += 3
	}
	return m
}

// next decodes the first code of raw: the code's bytes, its text, its
// width in thousandths of an em, and whether it had a Unicode mapping.
func (f *pdfFont) next(raw string) (code, text string, width float64, ok bool) {
	switch {
	case f.cmap != nil:
		code, text, ok = f.cmap.next(raw, f.codeLen)
		if !ok && f.predef != cmapNone {
			text = f.predef.decode(code)
			ok = text != ""
		} else if !ok && f.simple != nil {
			text = f.simple.Decode(code)
			ok = text != ""
		}
	case f.predef != cmapNone:
		code = raw[:f.predef.codeLen(raw)]
		text = f.predef.decode(code)
		ok = text != ""
	case f.composite:
		code = raw[:min(2, len(raw))]
	case f.simple != nil:
		code = raw[:1]
		text = f.simple.Decode(code)
		ok = true
	default:
		code = raw[:1]
		text, ok = string(rune(raw[0])), true // StandardEncoding and unknown: Latin-1
	}
	text = strings.ToValidUTF8(text, "\uFFFD")
	width = f.dw
	c := int(codeInt(code))
	if w, found := f.widths[c]; found && (!f.composite || f.identity) {
		width = w
	} else if f.composite && !f.identity {
		width = 1000
		if r, _ := utf8.DecodeRuneInString(text); r < 0x80 || (r >= 0xFF61 && r <= 0xFF9F) {
			width = 500 // half-width
		}
	}
	return code, text, width, ok
}
