package extract

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Limits of the in-memory collection of form fields: the text fields of a
// multipart/form-data body are gathered into one "form" part up to
// maxFormBytes; a larger field is reported as a part of its own.
const (
	maxFormBytes = 1 << 20
)

// upload walks an HTTP request body of the given Content-Type.
//
//   - application/x-www-form-urlencoded: one body part "form", one
//     "name=value" line per field, percent-decoding applied, charset sniffed;
//   - multipart/form-data: the text fields as body part(s) "form", each file
//     an attachment "upload[N]/<filename>" walked by the file walk;
//   - JSON: one body part "json" with a "key: value" line per string or
//     number, escapes decoded;
//   - anything else: text (body part "body") when it is declared and looks
//     like text, else a file, attachment "upload[1]".
func (w *walker) upload(contentType string, r io.Reader) (err error) {
	defer recoverParser(&err)
	mediaType, params, ok := parseParamHeader(contentType)
	if !ok {
		mediaType = ""
	}
	switch {
	case mediaType == "application/x-www-form-urlencoded":
		return w.formURLEncoded(r, mediaType, params["charset"])
	case strings.HasPrefix(mediaType, "multipart/"):
		return w.formData(r, mediaType, params)
	case isJSONType(mediaType):
		return w.jsonBody(r, mediaType)
	default:
		return w.rawUpload(r, mediaType, params["charset"])
	}
}

func isJSONType(t string) bool {
	return t == "application/json" || t == "text/json" || strings.HasSuffix(t, "+json") ||
		t == "application/x-ndjson" || t == "application/jsonl" || t == "application/json-seq"
}

// isTextType reports whether a declared type is text to be read as such.
func isTextType(t string) bool {
	switch {
	case strings.HasPrefix(t, "text/"):
		return true
	case t == "application/xml" || strings.HasSuffix(t, "+xml") || t == "application/javascript" ||
		t == "application/x-javascript" || t == "application/graphql" || t == "application/x-yaml" ||
		t == "application/yaml" || t == "application/csv":
		return true
	}
	return false
}

// formURLEncoded reports an urlencoded form as one body part.
func (w *walker) formURLEncoded(r io.Reader, mediaType, charset string) error {
	p := &Part{Path: "form", Declared: mediaType, Type: "text/plain", Role: RoleBody}
	tr, reason := textReader(&formReader{src: r}, charset)
	if reason != "" {
		p.Uninspectable = reason
		return w.emit(p, nil)
	}
	return w.emit(p, tr)
}

// formReader percent-decodes an application/x-www-form-urlencoded stream
// into "name=value" lines.
type formReader struct {
	src   io.Reader
	buf   []byte
	obuf  []byte
	carry int
	pending
}

func (f *formReader) Read(p []byte) (int, error) { return f.read(p, f) }

func (f *formReader) produce() {
	if f.buf == nil {
		f.buf = make([]byte, 2+32<<10)
		f.obuf = make([]byte, 2+32<<10)
	}
	n, rerr := f.src.Read(f.buf[f.carry:])
	data := f.buf[:f.carry+n]
	final := rerr != nil
	o, i := 0, 0
scan:
	for i < len(data) {
		c := data[i]
		switch c {
		case '&', ';':
			c = '\n'
		case '+':
			c = ' '
		case '%':
			if i+2 < len(data) && isHex(data[i+1]) && isHex(data[i+2]) {
				f.obuf[o] = unhex(data[i+1])<<4 | unhex(data[i+2])
				o++
				i += 3
				continue
			}
			if !final && len(data)-i < 3 {
				break scan // wait for the rest of the escape
			}
		}
		f.obuf[o] = c
		o++
		i++
	}
	f.out = f.obuf[:o]
	f.carry = copy(f.buf, data[i:])
	if final {
		f.out = append(f.out, f.buf[:f.carry]...)
		f.carry = 0
		f.err = rerr
	}
}

// formData walks a multipart/form-data body.
func (w *walker) formData(r io.Reader, mediaType string, params map[string]string) error {
	boundary := params["boundary"]
	bad := func(reason string) error {
		return w.emit(&Part{Path: "upload", Declared: mediaType, Type: mediaType, Role: RoleBody,
			Container: true, Uninspectable: reason}, nil)
	}
	if boundary == "" {
		return bad(reasonNoBoundary)
	}
	var fields bytes.Buffer
	forms, files := 0, 0
	formPath := func() string {
		forms++
		if forms == 1 {
			return "form"
		}
		return "form[" + strconv.Itoa(forms) + "]"
	}
	emitForm := func(text io.Reader) error {
		p := &Part{Path: formPath(), Declared: "multipart/form-data", Type: "text/plain", Role: RoleBody}
		tr, reason := textReader(text, params["charset"])
		if reason != "" {
			p.Uninspectable = reason
			return w.emit(p, nil)
		}
		return w.emit(p, tr)
	}
	flush := func() error {
		if fields.Len() == 0 {
			return nil
		}
		err := emitForm(bytes.NewReader(fields.Bytes()))
		fields = bytes.Buffer{}
		return err
	}
	mr := newMultipartReader(r, boundary)
	defer mr.release()
	for {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			return bad(reasonMalformedMulti)
		}
		_, dparams, _ := parseParamHeader(part.Header.Get("Content-Disposition"))
		filename, hasFile := dparams["filename"]
		name := dparams["name"]
		ct := ""
		if v := part.Header.Get("Content-Type"); v != "" {
			ct, _, _ = parseParamHeader(v)
		}
		dec, reason := transferDecoder(part.Header.Get("Content-Transfer-Encoding"), part)
		if hasFile || ct != "" && !isTextType(ct) {
			br := bufio.NewReader(dec)
			if _, perr := br.Peek(1); perr == io.EOF && baseName(filename) == "" {
				continue // a file input left empty
			}
			files++
			bn := baseName(filename)
			path := "upload[" + strconv.Itoa(files) + "]"
			if bn != "" {
				path += "/" + bn
			}
			if reason != "" {
				if err := w.emit(&Part{Path: path, Name: bn, Declared: ct, Type: "application/octet-stream",
					Role: RoleAttachment, Attachment: files, Uninspectable: reason}, nil); err != nil {
					return err
				}
				continue
			}
			err := w.attach(br, fileInfo{name: bn, path: path, declared: ct, role: RoleAttachment, attachment: files})
			var te *transferError
			if errors.As(err, &te) {
				err = w.emit(&Part{Path: path, Name: bn, Declared: ct, Type: "application/octet-stream",
					Role: RoleAttachment, Attachment: files, Uninspectable: te.reason}, nil)
			}
			if err != nil {
				return err
			}
			continue
		}
		// A text field.
		val, rerr := io.ReadAll(io.LimitReader(dec, maxFormBytes+1))
		line := decodeRawText(name) + "="
		if rerr == nil && len(val) <= maxFormBytes && fields.Len()+len(line)+len(val)+1 <= maxFormBytes {
			fields.WriteString(line)
			fields.Write(val)
			fields.WriteByte('\n')
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		var rest io.Reader = dec
		if rerr != nil {
			rest = &errReader{err: rerr}
		}
		if err := emitForm(io.MultiReader(strings.NewReader(line), bytes.NewReader(val), rest)); err != nil {
			return err
		}
	}
	return flush()
}

// errReader returns err.
type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

// jsonBody reports a JSON body as "key: value" lines.
func (w *walker) jsonBody(r io.Reader, mediaType string) error {
	br := bufio.NewReader(r)
	p := &Part{Path: "json", Declared: mediaType, Type: "application/json", Role: RoleBody}
	first := firstNonSpace(br)
	if first != '{' && first != '[' && first != '"' {
		// Declared JSON, but it is not: scan it as text.
		p.Type = "text/plain"
		tr, reason := textReader(br, "")
		if reason != "" {
			p.Uninspectable = reason
			return w.emit(p, nil)
		}
		return w.emit(p, tr)
	}
	return w.emit(p, newJSONText(br))
}

// firstNonSpace peeks the first byte that is not white space (0 if none).
func firstNonSpace(br *bufio.Reader) byte {
	for n := 1; n <= 4096; n++ {
		b, err := br.Peek(n)
		if len(b) < n {
			return 0
		}
		c := b[n-1]
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' && !(n <= 3 && (c == 0xEF || c == 0xBB || c == 0xBF)) {
			return c
		}
		if err != nil {
			return 0
		}
	}
	return 0
}

// jsonText streams the strings and numbers of a JSON text (or a sequence
// of them) as lines "key: value", using the nearest key. On a syntax error
// it streams the rest raw and then fails, so the part is scanned but
// reported uninspectable.
type jsonText struct {
	pending
	src    *bufio.Reader
	dec    *json.Decoder
	stack  []jsonFrame
	raw    io.Reader // the rest after a syntax error
	rawBuf []byte    // what produce reads raw into
}

type jsonFrame struct {
	obj       bool
	key       string
	expectKey bool
}

func newJSONText(br *bufio.Reader) *jsonText {
	dec := json.NewDecoder(br)
	dec.UseNumber()
	return &jsonText{src: br, dec: dec}
}

func (j *jsonText) Read(p []byte) (int, error) { return j.read(p, j) }

// produce makes the next lines of output or, after a syntax error, reads
// the next piece of the rest as it is.
func (j *jsonText) produce() {
	if j.raw == nil {
		j.step()
		return
	}
	if j.rawBuf == nil {
		j.rawBuf = make([]byte, 32<<10)
	}
	n, err := j.raw.Read(j.rawBuf)
	j.out = j.rawBuf[:n]
	switch {
	case err == io.EOF:
		j.raw, j.err = nil, errors.New("extract: malformed json")
	case err != nil:
		j.err = err
	}
}

func (j *jsonText) key() string {
	if len(j.stack) == 0 {
		return ""
	}
	return j.stack[len(j.stack)-1].key
}

func (j *jsonText) value(s string) {
	if k := j.key(); k != "" {
		j.out = append(j.out, k...)
		j.out = append(j.out, ": "...)
	}
	j.out = append(j.out, s...)
	j.out = append(j.out, '\n')
	if len(j.stack) > 0 && j.stack[len(j.stack)-1].obj {
		j.stack[len(j.stack)-1].expectKey = true
	}
}

func (j *jsonText) step() {
	tok, err := j.dec.Token()
	if err == io.EOF {
		j.err = io.EOF
		return
	}
	if err != nil {
		// Scan what is left as it is, then report the JSON as malformed.
		j.out = append(j.out, '\n')
		j.raw = io.MultiReader(j.dec.Buffered(), j.src)
		return
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{', '[':
			j.stack = append(j.stack, jsonFrame{obj: t == '{', key: j.key(), expectKey: t == '{'})
		case '}', ']':
			if len(j.stack) > 0 {
				j.stack = j.stack[:len(j.stack)-1]
			}
			if len(j.stack) > 0 && j.stack[len(j.stack)-1].obj {
				j.stack[len(j.stack)-1].expectKey = true
			}
		}
	case string:
		if len(j.stack) > 0 {
			if top := &j.stack[len(j.stack)-1]; top.obj && top.expectKey {
				top.key, top.expectKey = t, false
				return
			}
		}
		j.value(t)
	case json.Number:
		j.value(string(t))
	default: // bool, null
		if len(j.stack) > 0 && j.stack[len(j.stack)-1].obj {
			j.stack[len(j.stack)-1].expectKey = true
		}
	}
}

// rawUpload reports a body that is neither a form nor JSON: text when it is
// declared as text and looks like it, else a file.
func (w *walker) rawUpload(r io.Reader, mediaType, charset string) error {
	br := getBufReader(&stickyReader{r: r})
	defer putBufReader(br)
	head, _ := br.Peek(sniffWindow)
	if len(head) == 0 {
		return nil // an empty body carries nothing
	}
	file := fileInfo{path: "upload[1]", declared: mediaType, role: RoleAttachment, attachment: 1}
	if !isTextType(mediaType) || hasFileMagic(head) {
		return w.attach(br, file)
	}
	p := &Part{Path: "body", Declared: mediaType, Type: "text/plain", Role: RoleBody}
	tr, reason := textFrom(br, charset)
	if reason == reasonUndecodable {
		return w.attach(br, file) // declared as text, but binary: a file, whole
	}
	if reason != "" {
		p.Uninspectable = reason
		return w.emit(p, nil)
	}
	if mediaType == "text/html" || mediaType == "application/xhtml+xml" {
		p.Type = "text/html"
		tr = htmlText(tr)
	}
	return w.emit(p, tr)
}

// hasFileMagic reports whether head starts like a file format that the
// file walk must open (archives, documents, encrypted data).
func hasFileMagic(head []byte) bool {
	for _, m := range [][]byte{
		[]byte("PK\x03\x04"), []byte("PK\x05\x06"), []byte("PK\x07\x08"), // zip, OOXML
		[]byte("%PDF-"),
		[]byte("7z\xBC\xAF\x27\x1C"),
		[]byte("Rar!\x1A\x07"),
		[]byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), // CFB (legacy Office)
		[]byte("\x1F\x8B"),                         // gzip
		[]byte("BZh"),
		[]byte("\xFD7zXZ\x00"),
		[]byte("\x28\xB5\x2F\xFD"), // zstd
		[]byte("-----BEGIN PGP MESSAGE-----"),
		[]byte("{\\rtf"),
	} {
		if bytes.HasPrefix(head, m) {
			return true
		}
	}
	return false
}
