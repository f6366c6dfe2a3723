package extract

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/emersion/go-message/textproto"
)

// Bounds on one CMS (S/MIME) object.
const (
	maxBERDepth    = 32      // nesting of BER elements followed
	maxBERElements = 1 << 20 // elements stepped over in one object
	maxBERSegments = 1 << 18 // pieces of a constructed OCTET STRING
)

// CMS content types (RFC 5652), DER-encoded without tag and length.
var (
	oidCMSData       = []byte{0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01}
	oidCMSSignedData = []byte{0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02}
)

// errNotSigned says that a CMS object is not SignedData.
var errNotSigned = errors.New("not CMS SignedData")

// smime reports a CMS object that fileformat found not encrypted (its
// content type and, for SignedData, the type inside were checked). A
// detached signature (SignedData without encapsulated content: an
// smime.p7s) is reported as a part of Type "smime-signature" without
// text: there is nothing in it to scan. Opaque signed data
// (application/pkcs7-mime; smime-type=signed-data) is a container: its
// encapsulated content, a MIME entity, is walked like a message part,
// or, when it has no MIME header (a signed file), as a file. ra holds the
// object as DER/BER or as base64 (PEM or bare).
func (w *walker) smime(ra io.ReaderAt, size int64, p *Part, fi fileInfo) error {
	var first [1]byte
	if _, err := ra.ReadAt(first[:], 0); err != nil && err != io.EOF {
		return w.readFailed(fi, p.Type, err)
	}
	if first[0] != 0x30 { // not DER or BER: PEM or base64 text
		sp, err := w.spool(base64Body(io.NewSectionReader(ra, 0, size)))
		if err != nil {
			if errors.Is(err, ErrLimit) || w.fatal(err) != nil {
				return w.readFailed(fi, p.Type, err)
			}
			p.Uninspectable = "corrupt S/MIME: broken base64"
			return w.emit(p, nil)
		}
		defer sp.Close()
		ra, size = sp, sp.size
	}
	b := &berReader{r: ra, size: size}
	content, segs, err := b.signedContent()
	switch {
	case errors.Is(err, errNotSigned):
		p.Uninspectable = "S/MIME content of this kind is not extracted (" + err.Error() + ")"
		return w.emit(p, nil)
	case err != nil:
		p.Uninspectable = "corrupt S/MIME: " + err.Error()
		return w.emit(p, nil)
	case segs == nil:
		p.Type = "smime-signature"
		return w.emit(p, nil)
	}
	p.Container = true
	if err := w.emit(p, nil); err != nil {
		return err
	}
	rs := make([]io.Reader, len(segs))
	for i, s := range segs {
		rs[i] = io.NewSectionReader(ra, s[0], s[1])
	}
	r := bufio.NewReaderSize(io.MultiReader(rs...), sniffWindow)
	head, _ := r.Peek(4096)
	cfi := fi.child("content")
	if !bytes.Equal(content, oidCMSData) || !looksEntity(head) {
		return w.file(r, cfi)
	}
	return w.smimeEntity(r, fi)
}

// smimeEntity walks the MIME entity that an S/MIME signature wraps as the
// entity of a message: its parts get paths under fi.path and fi's place.
// It is messageIn without a Subject: the entity has a MIME header only.
func (w *walker) smimeEntity(r io.Reader, fi fileInfo) (err error) {
	defer recoverParser(&err)
	pl := &mimePlace{prefix: fi.path + "/", role: fi.role, attachment: fi.attachment}
	if fi.attachment != 0 {
		pl.role = RoleAttachment
	}
	depth := fi.depth + 1
	hl := &headerLimitReader{r: r, n: maxHeaderBytes}
	br := bufio.NewReaderSize(hl, sniffWindow)
	h, herr := textproto.ReadHeader(br)
	if herr != nil {
		return w.emit(&Part{Path: fi.path + "/content", Name: fi.name, Type: "message/rfc822",
			Role: pl.role, Attachment: fi.attachment, Depth: depth, Uninspectable: reasonMalformedHeader}, nil)
	}
	hl.n = -1
	return w.entity(h, br, pl, depth, "", "text/plain")
}

// looksEntity reports whether b starts like a MIME entity: an empty header
// (a blank first line), or header fields of which one is a Content-* or
// MIME-Version field.
func looksEntity(b []byte) bool {
	if bytes.HasPrefix(b, []byte("\r\n")) || bytes.HasPrefix(b, []byte("\n")) {
		return true
	}
	for n := 0; n < 64 && len(b) > 0; n++ {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return false
		}
		line := bytes.TrimRight(b[:i], "\r")
		b = b[i+1:]
		if len(line) == 0 {
			return false
		}
		if line[0] == ' ' || line[0] == '\t' {
			continue
		}
		c := bytes.IndexByte(line, ':')
		if c <= 0 {
			return false
		}
		for _, ch := range line[:c] {
			if ch <= ' ' || ch >= 0x7F {
				return false
			}
		}
		name := bytes.ToLower(line[:c])
		if bytes.HasPrefix(name, []byte("content-")) || bytes.Equal(name, []byte("mime-version")) {
			return true
		}
	}
	return false
}

// base64Body decodes the base64 text of a PEM block ("-----BEGIN …",
// armor headers, "-----END …") or of bare base64, ignoring whitespace.
func base64Body(r io.Reader) io.Reader {
	return base64.NewDecoder(base64.StdEncoding, &pemFilter{br: bufio.NewReader(r)})
}

// pemFilter passes the base64 characters of a PEM body or of bare
// base64: it drops whitespace, the BEGIN line and armor header lines, and
// stops at the END line. Lines are read in bounded pieces.
type pemFilter struct {
	br      *bufio.Reader
	buf     []byte
	pend    []byte
	midLine bool
	done    bool
}

func (f *pemFilter) Read(p []byte) (int, error) {
	for len(f.pend) == 0 {
		if f.done {
			return 0, io.EOF
		}
		line, err := f.br.ReadSlice('\n')
		if !f.midLine {
			t := bytes.TrimSpace(line)
			switch {
			case bytes.HasPrefix(t, []byte("-----END")):
				f.done = true
				continue
			case bytes.HasPrefix(t, []byte("-----BEGIN")), bytes.Contains(t, []byte(": ")):
				line = nil
			}
		}
		f.midLine = err == bufio.ErrBufferFull
		f.buf = f.buf[:0]
		for _, c := range line {
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				f.buf = append(f.buf, c)
			}
		}
		f.pend = f.buf
		switch {
		case err == io.EOF:
			f.done = true
		case err != nil && err != bufio.ErrBufferFull:
			return 0, err
		}
	}
	n := copy(p, f.pend)
	f.pend = f.pend[n:]
	return n, nil
}

// berReader reads BER elements of a CMS object at offsets of r, so that
// a large signed content is never held in memory.
type berReader struct {
	r     io.ReaderAt
	size  int64
	steps int
}

// berHdr is one element's identifier and length.
type berHdr struct {
	tag   byte  // the identifier octet (class, constructed bit, number)
	len   int64 // content length, -1 for the indefinite form
	hl    int64 // identifier and length octets
	start int64 // offset of the element
}

func (h berHdr) cons() bool { return h.tag&0x20 != 0 }

// end is the offset after a definite-length element.
func (h berHdr) end() int64 { return h.start + h.hl + h.len }

// header reads the element header at off.
func (b *berReader) header(off int64) (berHdr, error) {
	b.steps++
	if b.steps > maxBERElements {
		return berHdr{}, fmt.Errorf("more than %d elements", maxBERElements)
	}
	var buf [10]byte
	n, err := b.r.ReadAt(buf[:min(int64(len(buf)), max(b.size-off, 0))], off)
	if n < 2 {
		if err != nil && err != io.EOF {
			return berHdr{}, err
		}
		return berHdr{}, fmt.Errorf("truncated at byte %d", off)
	}
	h := berHdr{tag: buf[0], start: off}
	if h.tag&0x1F == 0x1F {
		return h, fmt.Errorf("multi-byte tag at byte %d", off)
	}
	l := buf[1]
	switch {
	case l < 0x80:
		h.len, h.hl = int64(l), 2
	case l == 0x80:
		if !h.cons() {
			return h, fmt.Errorf("indefinite length of a primitive element at byte %d", off)
		}
		h.len, h.hl = -1, 2
	default:
		k := int(l & 0x7F)
		if k > 8 || n < 2+k {
			return h, fmt.Errorf("bad length at byte %d", off)
		}
		var v uint64
		for _, c := range buf[2 : 2+k] {
			v = v<<8 | uint64(c)
		}
		if v > uint64(b.size) {
			return h, fmt.Errorf("element at byte %d runs past the end (truncated?)", off)
		}
		h.len, h.hl = int64(v), int64(2+k)
	}
	if h.len >= 0 && h.end() > b.size {
		return h, fmt.Errorf("element at byte %d runs past the end (truncated?)", off)
	}
	return h, nil
}

// isEOC reports whether off holds end-of-contents octets (00 00).
func (b *berReader) isEOC(off int64) bool {
	var two [2]byte
	n, _ := b.r.ReadAt(two[:], off)
	return n == 2 && two[0] == 0 && two[1] == 0
}

// skip returns the offset after the element h, walking the children of an
// indefinite-length element to its end-of-contents octets.
func (b *berReader) skip(h berHdr, depth int) (int64, error) {
	if h.len >= 0 {
		return h.end(), nil
	}
	if depth > maxBERDepth {
		return 0, fmt.Errorf("nested deeper than %d", maxBERDepth)
	}
	off := h.start + h.hl
	for {
		if b.isEOC(off) {
			return off + 2, nil
		}
		c, err := b.header(off)
		if err != nil {
			return 0, err
		}
		if off, err = b.skip(c, depth+1); err != nil {
			return 0, err
		}
	}
}

// inside reports whether off is still within the content of h (before
// its end, or before its end-of-contents octets).
func (b *berReader) inside(h berHdr, off int64) bool {
	if h.len >= 0 {
		return off < h.end()
	}
	return off < b.size && !b.isEOC(off)
}

// expect reads the element at off and checks its tag.
func (b *berReader) expect(off int64, tag byte, what string) (berHdr, error) {
	h, err := b.header(off)
	if err != nil {
		return h, err
	}
	if h.tag != tag {
		return h, fmt.Errorf("%s: tag 0x%02x at byte %d, want 0x%02x", what, h.tag, off, tag)
	}
	return h, nil
}

// oid reads an OBJECT IDENTIFIER element's content octets.
func (b *berReader) oid(off int64, what string) ([]byte, int64, error) {
	h, err := b.expect(off, 0x06, what)
	if err != nil {
		return nil, 0, err
	}
	if h.len <= 0 || h.len > 64 {
		return nil, 0, fmt.Errorf("%s: OID of %d bytes", what, h.len)
	}
	v := make([]byte, h.len)
	if _, err := b.r.ReadAt(v, off+h.hl); err != nil {
		return nil, 0, err
	}
	return v, h.end(), nil
}

// signedContent parses a ContentInfo holding SignedData (RFC 5652 §5.1)
// down to encapContentInfo. It returns the eContentType and the pieces
// (offset, length) of the eContent OCTET STRING, nil when the content is
// detached. BER indefinite lengths and constructed (chunked) OCTET
// STRINGs are accepted.
func (b *berReader) signedContent() (eContentType []byte, segs [][2]int64, err error) {
	ci, err := b.expect(0, 0x30, "ContentInfo")
	if err != nil {
		return nil, nil, err
	}
	ct, off, err := b.oid(ci.hl, "ContentInfo contentType")
	if err != nil {
		return nil, nil, err
	}
	if !bytes.Equal(ct, oidCMSSignedData) {
		return nil, nil, fmt.Errorf("%w: content type %x", errNotSigned, ct)
	}
	expl, err := b.expect(off, 0xA0, "ContentInfo content")
	if err != nil {
		return nil, nil, err
	}
	sd, err := b.expect(expl.start+expl.hl, 0x30, "SignedData")
	if err != nil {
		return nil, nil, err
	}
	off = sd.start + sd.hl
	for _, f := range []struct {
		tag  byte
		what string
	}{{0x02, "SignedData version"}, {0x31, "SignedData digestAlgorithms"}} {
		h, err := b.expect(off, f.tag, f.what)
		if err != nil {
			return nil, nil, err
		}
		if off, err = b.skip(h, 0); err != nil {
			return nil, nil, err
		}
	}
	eci, err := b.expect(off, 0x30, "encapContentInfo")
	if err != nil {
		return nil, nil, err
	}
	eContentType, off, err = b.oid(eci.start+eci.hl, "eContentType")
	if err != nil {
		return nil, nil, err
	}
	if !b.inside(eci, off) {
		return eContentType, nil, nil // detached
	}
	ec, err := b.expect(off, 0xA0, "eContent")
	if err != nil {
		return nil, nil, err
	}
	os, err := b.header(ec.start + ec.hl)
	if err != nil {
		return nil, nil, err
	}
	segs = [][2]int64{}
	if err := b.octets(os, &segs, 0); err != nil {
		return nil, nil, err
	}
	return eContentType, segs, nil
}

// octets appends the pieces of an OCTET STRING, primitive (0x04) or
// constructed (0x24) of primitive or constructed pieces.
func (b *berReader) octets(h berHdr, segs *[][2]int64, depth int) error {
	switch {
	case h.tag == 0x04:
		if h.len > 0 {
			if len(*segs) >= maxBERSegments {
				return fmt.Errorf("content in more than %d pieces", maxBERSegments)
			}
			*segs = append(*segs, [2]int64{h.start + h.hl, h.len})
		}
		return nil
	case h.tag != 0x24:
		return fmt.Errorf("eContent: tag 0x%02x at byte %d is not an OCTET STRING", h.tag, h.start)
	case depth > maxBERDepth:
		return fmt.Errorf("nested deeper than %d", maxBERDepth)
	}
	off := h.start + h.hl
	for b.inside(h, off) {
		c, err := b.header(off)
		if err != nil {
			return err
		}
		if c.len < 0 && c.tag != 0x24 {
			return fmt.Errorf("eContent: indefinite piece at byte %d", off)
		}
		if err := b.octets(c, segs, depth+1); err != nil {
			return err
		}
		if off, err = b.skip(c, depth+1); err != nil {
			return err
		}
	}
	if h.len >= 0 && off != h.end() {
		return fmt.Errorf("eContent pieces overrun their OCTET STRING at byte %d", h.start)
	}
	return nil
}
