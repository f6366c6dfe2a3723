package extract

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-message/textproto"
)

// maxHeaderBytes bounds the top-level header of a message (and of a
// forwarded message): a larger header makes the message uninspectable.
const maxHeaderBytes = 1 << 20

// Reasons a MIME part is uninspectable.
const (
	reasonDepth           = "depth limit"
	reasonBrokenBase64    = "broken base64"
	reasonMalformedHeader = "malformed message header"
	reasonMalformedMulti  = "malformed multipart"
	reasonNoBoundary      = "malformed multipart: no boundary"
	reasonPartial         = "message/partial fragment"
)

// fileHookKey is the context key of a func(io.Reader, fileInfo) error that
// replaces w.file for the attachments of a message or upload. Tests use it
// to see exactly what reaches the file walk; production code never sets it.
type fileHookKey struct{}

// attach hands an attachment to the file walk.
func (w *walker) attach(r io.Reader, fi fileInfo) error {
	if h, ok := w.ctx.Value(fileHookKey{}).(func(io.Reader, fileInfo) error); ok {
		return h(r, fi)
	}
	return w.file(r, fi)
}

// mimePlace says where the parts of one message go: the top-level message
// (the body place; each attachment its own place) or a message inside an
// attachment (a forwarded mail: every part belongs to that attachment).
type mimePlace struct {
	prefix     string // path prefix: "" or "attachment[2]/forwarded.eml/"
	role       Role
	attachment int // the place, 0 for the body
	bodies     int // text parts seen in this message
	atts       int // attachments seen in this message
}

func (pl *mimePlace) newBody() string {
	pl.bodies++
	return pl.prefix + "body[" + strconv.Itoa(pl.bodies) + "]"
}

// newAttachment numbers the next attachment of this message and returns
// its path and the place it belongs to.
func (pl *mimePlace) newAttachment(name string) (path string, place int) {
	pl.atts++
	path = pl.prefix + "attachment[" + strconv.Itoa(pl.atts) + "]"
	if name != "" {
		path += "/" + name
	}
	if pl.attachment == 0 {
		return path, pl.atts
	}
	return path, pl.attachment
}

// message walks an RFC 5322 message: the Subject first (Path "subject"),
// then every MIME part in document order. Malformed structure gives
// uninspectable parts, not errors; an error means the walk itself failed
// (the reader, the context, a limit, or the visitor).
func (w *walker) message(r io.Reader) (hdr *Header, err error) {
	defer recoverParser(&err)
	src := &stickyReader{r: r}
	// The capture buffer and the reader are pooled: every message needs
	// them, and nothing holds them once the walk has returned.
	cb := captureBufs.Get().(*[]byte)
	defer captureBufs.Put(cb)
	capt := &captureReader{r: src, on: true, buf: (*cb)[:0]}
	lim := &headerLimitReader{r: capt, n: maxHeaderBytes}
	br := getBufReader(lim)
	defer putBufReader(br)
	skipMboxFrom(br)
	h, herr := textproto.ReadHeader(br)
	if herr != nil {
		if src.err != nil && src.err != io.EOF {
			return nil, fmt.Errorf("extract: read message: %w", src.err)
		}
		// Not a message we can parse: scan all of it as text, and say so.
		all := io.MultiReader(bytes.NewReader(capt.buf), src)
		capt.on, capt.buf = false, nil
		p := &Part{Path: "body[1]", Declared: "text/plain", Type: "text/plain", Role: RoleBody,
			Uninspectable: reasonMalformedHeader}
		tr, _ := textReader(all, "")
		if tr == nil {
			return &Header{}, w.emit(p, nil)
		}
		if err := w.emit(p, tr); err != nil {
			return &Header{}, err
		}
		return &Header{}, w.readErr(src)
	}
	capt.on, capt.buf = false, nil
	lim.n = -1

	hdr = summarize(h)
	pl := &mimePlace{role: RoleBody}
	if err := w.emitSubject(h, pl); err != nil {
		return hdr, err
	}
	if err := w.entity(h, br, pl, 0, "", "text/plain"); err != nil {
		return hdr, err
	}
	return hdr, w.readErr(src)
}

// recoverParser turns a panic of a parser (ours or a library's) on hostile
// input into an error: the walk fails, and so the item fails closed.
func recoverParser(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("extract: parser panic on malformed input: %v", r)
	}
}

// readErr turns a read error of the message source into the walk's error.
func (w *walker) readErr(src *stickyReader) error {
	if src.err != nil && src.err != io.EOF {
		return fmt.Errorf("extract: read message: %w", src.err)
	}
	return nil
}

// messageIn walks r, an RFC 5322 message found inside an attachment (an
// .eml file, a message/rfc822 part), as part of the place fi describes:
// its parts get paths under fi.path ("…/forwarded.eml/body[1]") and fi's
// attachment index. It does not report fi itself. The file walk calls it
// for files it sniffs as message/rfc822.
func (w *walker) messageIn(r io.Reader, fi fileInfo) (err error) {
	defer recoverParser(&err)
	pl := &mimePlace{prefix: fi.path + "/", role: fi.role, attachment: fi.attachment}
	if fi.attachment != 0 {
		pl.role = RoleAttachment
	}
	depth := fi.depth + 1
	hl := &headerLimitReader{r: r, n: maxHeaderBytes}
	br := bufio.NewReaderSize(hl, sniffWindow)
	skipMboxFrom(br)
	h, herr := textproto.ReadHeader(br)
	if herr != nil {
		return w.emit(&Part{Path: fi.path, Name: fi.name, Declared: fi.declared, Type: "message/rfc822",
			Role: pl.role, Attachment: fi.attachment, Depth: depth, Uninspectable: reasonMalformedHeader}, nil)
	}
	hl.n = -1
	if err := w.emitSubject(h, pl); err != nil {
		return err
	}
	return w.entity(h, br, pl, depth, "", "text/plain")
}

// emitSubject reports the Subject (all Subject fields, one per line).
func (w *walker) emitSubject(h textproto.Header, pl *mimePlace) error {
	var subs []string
	for _, s := range h.Values("Subject") {
		subs = append(subs, decodeHeaderText(s))
	}
	text := strings.Join(subs, "\n")
	p := &Part{Path: pl.prefix + "subject", Declared: "text/plain", Type: "text/plain", Role: pl.role,
		Attachment: pl.attachment, Size: int64(len(text))}
	return w.emit(p, strings.NewReader(text))
}

// summarize builds the header summary.
func summarize(h textproto.Header) *Header {
	hd := &Header{
		MessageID: strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>"),
		Subject:   decodeHeaderText(h.Get("Subject")),
	}
	if from := parseAddresses(h.Get("From")); len(from) > 0 {
		hd.From = from[0]
	} else {
		hd.From = decodeHeaderText(h.Get("From"))
	}
	for _, v := range h.Values("To") {
		hd.To = append(hd.To, parseAddresses(v)...)
	}
	for _, v := range h.Values("Cc") {
		hd.Cc = append(hd.Cc, parseAddresses(v)...)
	}
	for _, v := range h.Values("Bcc") {
		hd.Bcc = append(hd.Bcc, parseAddresses(v)...)
	}
	if d := strings.TrimSpace(h.Get("Date")); d != "" {
		if t, err := parseDate(d); err == nil {
			hd.Date = t.Format(time.RFC3339)
		} else {
			hd.Date = d
		}
	}
	return hd
}

// parseDate parses a Date header. Most are in the one form RFC 5322
// recommends, which is tried first: mail.ParseDate tries its layouts in
// an order that makes an error value for each one that fails before it.
func parseDate(d string) (time.Time, error) {
	if t, err := time.Parse("Mon, 02 Jan 2006 15:04:05 -0700", d); err == nil {
		return t, nil
	}
	return mail.ParseDate(d)
}

// entity walks one MIME entity (the message itself or a part) at depth.
// num is its MIME part number ("" for the root, "2.1"), defType its type
// when it has no Content-Type.
func (w *walker) entity(h textproto.Header, body io.Reader, pl *mimePlace, depth int, num, defType string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	mediaType, params := defType, map[string]string{}
	if ct := h.Get("Content-Type"); strings.TrimSpace(ct) != "" {
		var ok bool
		mediaType, params, ok = parseParamHeader(ct)
		if !ok || !strings.Contains(mediaType, "/") {
			// A type we cannot read: let the file walk sniff the content.
			mediaType = "application/octet-stream"
		}
	}
	disp, dparams, _ := parseParamHeader(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = baseName(name)
	cte := h.Get("Content-Transfer-Encoding")

	switch {
	case strings.HasPrefix(mediaType, "multipart/"):
		return w.multipart(body, mediaType, params, pl, depth, num)
	case mediaType == "message/rfc822" || mediaType == "message/global":
		return w.forwarded(body, cte, name, mediaType, pl, depth)
	}

	isText := strings.HasPrefix(mediaType, "text/") ||
		strings.HasPrefix(mediaType, "message/") && mediaType != "message/partial"
	if disp == "attachment" || name != "" || !isText {
		return w.attachmentPart(body, cte, name, mediaType, pl, depth)
	}
	return w.textPart(body, cte, mediaType, params["charset"], params["format"], params["delsp"], pl, depth)
}

// multipart walks the children of a multipart entity.
func (w *walker) multipart(body io.Reader, mediaType string, params map[string]string, pl *mimePlace, depth int, num string) error {
	path := pl.prefix + "mime"
	if num != "" {
		path += "[" + num + "]"
	}
	cont := func(reason string) error {
		return w.emit(&Part{Path: path, Declared: mediaType, Type: mediaType, Role: pl.role,
			Attachment: pl.attachment, Depth: depth, Container: true, Uninspectable: reason}, nil)
	}
	if depth > w.lim.MaxDepth {
		return cont(reasonDepth)
	}
	boundary := params["boundary"]
	if boundary == "" {
		return cont(reasonNoBoundary)
	}
	// The container is not reported, but counts against the part limit.
	w.parts++
	if w.parts > w.lim.MaxParts {
		return fmt.Errorf("%w: more than %d parts", ErrLimit, w.lim.MaxParts)
	}
	defType := "text/plain"
	if mediaType == "multipart/digest" {
		defType = "message/rfc822"
	}
	mr := newMultipartReader(body, boundary)
	defer mr.release() // the walk below is synchronous
	for i := 1; ; i++ {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return cont(reasonMalformedMulti)
		}
		child := strconv.Itoa(i)
		if num != "" {
			child = num + "." + child
		}
		if err := w.entity(p.Header, p, pl, depth+1, child, defType); err != nil {
			return err
		}
	}
}

// forwarded walks a message/rfc822 part: always an attachment place of its
// own (or part of the attachment it sits in), its parts under its path.
func (w *walker) forwarded(body io.Reader, cte, name, mediaType string, pl *mimePlace, depth int) error {
	if name == "" {
		name = "forwarded.eml"
	}
	path, place := pl.newAttachment(name)
	p := &Part{Path: path, Name: name, Declared: mediaType, Type: "message/rfc822", Role: RoleAttachment,
		Attachment: place, Depth: depth, Container: true}
	if depth+1 > w.lim.MaxDepth {
		p.Container, p.Uninspectable = false, reasonDepth
		return w.emit(p, nil)
	}
	dec, reason := transferDecoder(cte, body)
	defer releaseDecoder(dec)
	if reason != "" {
		p.Container, p.Uninspectable = false, reason
		return w.emit(p, nil)
	}
	if err := w.emit(p, nil); err != nil {
		return err
	}
	return w.messageIn(dec, fileInfo{name: name, path: path, declared: mediaType, role: RoleAttachment,
		attachment: place, depth: depth})
}

// attachmentPart hands an attachment to the file walk.
func (w *walker) attachmentPart(body io.Reader, cte, name, mediaType string, pl *mimePlace, depth int) error {
	path, place := pl.newAttachment(name)
	bad := func(reason string) error {
		return w.emit(&Part{Path: path, Name: name, Declared: mediaType, Type: "application/octet-stream",
			Role: RoleAttachment, Attachment: place, Depth: depth, Uninspectable: reason}, nil)
	}
	if depth > w.lim.MaxDepth {
		return bad(reasonDepth)
	}
	if mediaType == "message/partial" {
		return bad(reasonPartial)
	}
	dec, reason := transferDecoder(cte, body)
	defer releaseDecoder(dec)
	if reason != "" {
		return bad(reason)
	}
	err := w.attach(dec, fileInfo{name: name, path: path, declared: mediaType,
		role: RoleAttachment, attachment: place, depth: depth})
	var te *transferError
	if errors.As(err, &te) {
		return bad(te.reason)
	}
	return err
}

// textPart reports an inline text part with its decoded text.
func (w *walker) textPart(body io.Reader, cte, mediaType, charset, format, delsp string, pl *mimePlace, depth int) error {
	p := &Part{Path: pl.newBody(), Declared: mediaType, Type: mediaType, Role: pl.role,
		Attachment: pl.attachment, Depth: depth}
	if depth > w.lim.MaxDepth {
		p.Uninspectable = reasonDepth
		return w.emit(p, nil)
	}
	dec, reason := transferDecoder(cte, body)
	defer releaseDecoder(dec)
	if reason != "" {
		dec = body // scan what is there, and say it may not be all
	}
	br := getBufReader(&stickyReader{r: dec})
	defer putBufReader(br)
	if _, err := br.Peek(sniffWindow); err != nil {
		var te *transferError
		if errors.As(err, &te) && reason == "" {
			reason = te.reason
		}
	}
	tr, why := textFrom(br, charset)
	if why != "" {
		if reason == "" {
			reason = why
		}
		p.Uninspectable = reason
		return w.emit(p, nil)
	}
	switch {
	case mediaType == "text/html" || mediaType == "application/xhtml+xml":
		tr = htmlText(tr)
	case strings.EqualFold(format, "flowed"):
		tr = &flowedReader{br: bufio.NewReader(tr), delsp: strings.EqualFold(delsp, "yes"), lineStart: true}
	}
	p.Uninspectable = reason
	return w.emit(p, tr)
}

// flowedReader undoes format=flowed (RFC 3676): a line ending in a space
// continues on the next line, so that a number wrapped by the sender's
// mailer reads as one again. With delsp=yes that space goes too (Japanese
// text has no spaces between words).
type flowedReader struct {
	br        *bufio.Reader
	delsp     bool
	lineStart bool
	pending
}

func (f *flowedReader) Read(p []byte) (int, error) { return f.read(p, f) }

func (f *flowedReader) produce() {
	line, err := f.br.ReadSlice('\n')
	f.out = f.out[:0]
	if err == bufio.ErrBufferFull {
		// A very long line: pass it through as it is.
		f.out = append(f.out, line...)
		f.lineStart = false
		return
	}
	if err != nil {
		f.err = err
	}
	if len(line) == 0 {
		return
	}
	content := line
	eol := ""
	if bytes.HasSuffix(content, []byte("\n")) {
		content, eol = content[:len(content)-1], "\n"
		if bytes.HasSuffix(content, []byte("\r")) {
			content, eol = content[:len(content)-1], "\r\n"
		}
	}
	if f.lineStart && len(content) > 0 && content[0] == ' ' {
		content = content[1:] // space-stuffing
	}
	f.lineStart = true
	if eol != "" && len(content) > 0 && content[len(content)-1] == ' ' && string(content) != "-- " {
		if f.delsp {
			content = content[:len(content)-1]
		}
		f.out = append(f.out, content...)
		return
	}
	f.out = append(f.out, content...)
	f.out = append(f.out, eol...)
}

// skipMboxFrom drops an mbox "From " line at the top of a message.
func skipMboxFrom(br *bufio.Reader) {
	if b, err := br.Peek(5); err != nil || string(b) != "From " {
		return
	}
	for {
		_, err := br.ReadSlice('\n')
		if err != bufio.ErrBufferFull {
			return
		}
	}
}

// captureReader keeps a copy of what it reads while on, so that a message
// whose header does not parse can be scanned from its first byte.
// captureBufs are the buffers of captureReader (a message's first read).
var captureBufs = sync.Pool{New: func() any { b := make([]byte, 0, sniffWindow); return &b }}

type captureReader struct {
	r   io.Reader
	on  bool
	buf []byte
}

func (c *captureReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.on {
		c.buf = append(c.buf, p[:n]...)
	}
	return n, err
}

// headerLimitReader fails once more than n bytes are read; n < 0 lifts
// the limit (after the header is read).
type headerLimitReader struct {
	r io.Reader
	n int64
}

func (l *headerLimitReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		return l.r.Read(p)
	}
	if l.n == 0 {
		return 0, errors.New("extract: message header larger than 1 MiB")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}
