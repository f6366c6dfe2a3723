package extract

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sekisho-dlp/sekisho/detectors/fileformat"
)

// ledongthuc/pdf decrypts RC4 and AES-128 (V1, V2, V4) but not AES-256
// (V5: R5, R6). A V5 PDF whose user password is empty opens for anyone,
// so its text must be scanned: pdfDecryptV5 makes a decrypted copy of it
// that the library reads as an unencrypted PDF.
//
// The copy keeps every byte offset, so the cross-reference table or
// stream stays valid: each encrypted stream is decrypted in place and the
// bytes its IV and padding took are filled with spaces after the data
// (/Length is unchanged; filters stop at their own end, and spaces after a
// content stream or a CMap are whitespace); each encrypted string is
// rewritten in place as a literal or hex string of the plain bytes, padded
// with spaces; the /Encrypt key of every trailer and cross-reference
// stream dictionary is renamed /NoCrypt. V5 uses the one file key for
// every object (AES-256-CBC, the IV being the first 16 bytes), so the
// file can be decrypted in one pass without resolving any object.

// Bounds on decrypting one PDF.
const (
	maxPDFObjDepth   = 64      // nesting of arrays and dictionaries
	maxPDFObjElems   = 1 << 18 // elements of one object
	maxPDFString     = 4 << 20 // one string's bytes
	maxPDFObjects    = 1 << 22 // indirect objects in the file
	pdfWindow        = 64 << 10
	pdfCryptChunk    = 64 << 10 // stream bytes decrypted at a time (a multiple of 16)
	pdfEncryptRename = "/NoCrypt"
)

// pdfDecryptV5 returns a decrypted copy of the PDF in ra (size bytes),
// in memory up to the spool threshold, else in a temp file. The caller
// closes it.
func (w *walker) pdfDecryptV5(ra io.ReaderAt, size int64, k *fileformat.PDFKey) (sp *spooled, err error) {
	if len(k.Key) != 32 {
		return nil, fmt.Errorf("AES-256 key of %d bytes", len(k.Key))
	}
	block, err := aes.NewCipher(k.Key)
	if err != nil {
		return nil, err
	}
	var rw pdfRW
	if size <= w.lim.SpoolThreshold {
		b := make([]byte, size)
		if n, err := ra.ReadAt(b, 0); int64(n) < size {
			return nil, fmt.Errorf("reading the PDF: %v", err)
		}
		mem := memRW(b)
		rw, sp = mem, &spooled{ReaderAt: bytes.NewReader(b), size: size}
	} else {
		f, err := os.CreateTemp(w.lim.TempDir, "sekisho-pdf-*")
		if err != nil {
			return nil, fmt.Errorf("extract: decrypted PDF copy (check Limits.TempDir): %w", err)
		}
		sp = &spooled{ReaderAt: f, f: f, size: size}
		if _, err := io.Copy(f, io.NewSectionReader(ra, 0, size)); err != nil {
			sp.Close()
			return nil, fmt.Errorf("extract: decrypted PDF copy: %w", err)
		}
		rw = f
	}
	// The copy is closed here on every failure: a "return nil, err" below
	// has already set sp to nil when this runs, so it holds its own
	// reference.
	cp := sp
	defer func() {
		if x := recover(); x != nil {
			err = fmt.Errorf("malformed PDF (%v)", x)
		}
		if err != nil {
			cp.Close()
			sp = nil
		}
	}()
	d := &pdfDecrypter{s: &pdfScan{rw: rw, size: size}, k: k, block: block, w: w}
	if err := d.run(); err != nil {
		return nil, err
	}
	return sp, nil
}

// pdfRW is the copy being decrypted: read and patched in place.
type pdfRW interface {
	io.ReaderAt
	io.WriterAt
}

// memRW is an in-memory pdfRW.
type memRW []byte

func (m memRW) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m)) {
		return 0, io.EOF
	}
	n := copy(p, m[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m memRW) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m)) {
		return 0, errors.New("extract: write outside the PDF copy")
	}
	return copy(m[off:], p), nil
}

// pdfScan reads the copy byte by byte through a window; writes go
// through to the window.
type pdfScan struct {
	rw   pdfRW
	size int64
	base int64
	win  []byte
}

// at returns the byte at i, or -1 past the end.
func (s *pdfScan) at(i int64) int {
	if i < 0 || i >= s.size {
		return -1
	}
	if i < s.base || i >= s.base+int64(len(s.win)) {
		if s.win == nil {
			s.win = make([]byte, pdfWindow)
		}
		s.win = s.win[:min(int64(cap(s.win)), s.size-i)]
		n, _ := s.rw.ReadAt(s.win, i)
		s.win, s.base = s.win[:n], i
		if n == 0 {
			return -1
		}
	}
	return int(s.win[i-s.base])
}

func (s *pdfScan) write(p []byte, off int64) error {
	if _, err := s.rw.WriteAt(p, off); err != nil {
		return err
	}
	for i := range p {
		if j := off + int64(i) - s.base; j >= 0 && j < int64(len(s.win)) {
			s.win[j] = p[i]
		}
	}
	return nil
}

// read returns n bytes at off.
func (s *pdfScan) read(off, n int64) ([]byte, error) {
	b := make([]byte, n)
	if k, err := s.rw.ReadAt(b, off); int64(k) < n {
		return nil, fmt.Errorf("short read at %d: %v", off, err)
	}
	return b, nil
}

// pdfSpace and pdfDelim classify a byte from pdfScan.at (-1 at the end).
func pdfSpace(c int) bool { return c >= 0 && fileformat.IsPDFSpace(byte(c)) }
func pdfDelim(c int) bool { return c >= 0 && fileformat.IsPDFDelim(byte(c)) }

// skipSpace skips whitespace and comments from i.
func (s *pdfScan) skipSpace(i int64) int64 {
	for {
		c := s.at(i)
		switch {
		case pdfSpace(c):
			i++
		case c == '%':
			for c = s.at(i); c >= 0 && c != '\n' && c != '\r'; c = s.at(i) {
				i++
			}
		default:
			return i
		}
	}
}

// regular returns the run of regular characters at i (a number or a
// keyword), at most 64 bytes of it, and the offset after the run.
func (s *pdfScan) regular(i int64) (string, int64) {
	var b []byte
	for c := s.at(i); c >= 0 && !pdfSpace(c) && !pdfDelim(c); c = s.at(i) {
		if len(b) < 64 {
			b = append(b, byte(c))
		}
		i++
	}
	return string(b), i
}

// keyword reports whether the keyword kw stands at i.
func (s *pdfScan) keyword(i int64, kw string) bool {
	for j := 0; j < len(kw); j++ {
		if s.at(i+int64(j)) != int(kw[j]) {
			return false
		}
	}
	c := s.at(i + int64(len(kw)))
	return c < 0 || pdfSpace(c) || pdfDelim(c)
}

func isDigits(t string) bool {
	if t == "" {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return false
		}
	}
	return true
}

// pdfVal is a parsed value: enough of it to read a stream dictionary.
type pdfVal struct {
	kind  byte // 'n' name, 'i' integer, 'r' reference, 'd' dict, 'a' array, 's' string, 'o' other
	name  string
	num   int64
	dict  map[string]pdfVal
	arr   []pdfVal
	start int64 // where a string or a key name starts
	end   int64
	hex   bool
}

// pdfDecrypter walks the copy object by object.
type pdfDecrypter struct {
	s       *pdfScan
	k       *fileformat.PDFKey
	block   cipher.Block
	w       *walker
	strs    []pdfVal // strings of the object being parsed
	renames []int64  // offsets of /Encrypt keys of the dictionary being parsed
	elems   int
	objects int
	buf     []byte // stream chunk buffer, reused
}

// run scans the file from the start: "N G obj" begins an object,
// "trailer" a trailer dictionary; anything else is stepped over.
func (d *pdfDecrypter) run() error {
	s := d.s
	for i := int64(0); ; {
		if err := d.w.ctx.Err(); err != nil {
			return err
		}
		i = s.skipSpace(i)
		c := s.at(i)
		if c < 0 {
			return nil
		}
		if s.keyword(i, "trailer") {
			d.renames = d.renames[:0]
			d.elems = 0
			v, next, err := d.value(s.skipSpace(i+7), 0, true)
			if err != nil || v.kind != 'd' {
				i += 7
				continue
			}
			if err := d.rename(); err != nil {
				return err
			}
			i = next
			continue
		}
		t, next := s.regular(i)
		if isDigits(t) {
			j := s.skipSpace(next)
			if g, after := s.regular(j); isDigits(g) {
				if o := s.skipSpace(after); s.keyword(o, "obj") {
					end, err := d.object(atoi(t), atoi(g), o+3)
					if err != nil {
						return err
					}
					i = end
					continue
				}
			}
		}
		if next == i {
			next++ // a delimiter outside an object
		}
		i = next
	}
}

func atoi(t string) int64 {
	var v int64
	for i := 0; i < len(t) && i < 18; i++ {
		v = v*10 + int64(t[i]-'0')
	}
	return v
}

// object parses and decrypts the object whose body starts at i and
// returns the offset after it.
func (d *pdfDecrypter) object(num, gen, i int64) (int64, error) {
	d.objects++
	if d.objects > maxPDFObjects {
		return 0, fmt.Errorf("more than %d objects", maxPDFObjects)
	}
	s := d.s
	d.strs, d.renames, d.elems = d.strs[:0], d.renames[:0], 0
	v, next, err := d.value(s.skipSpace(i), 0, true)
	if err != nil {
		return s.skipSpace(i), nil // not an object after all: go on scanning
	}
	isEncrypt := num == d.k.EncryptNum && gen == d.k.EncryptGen
	isXRef := v.kind == 'd' && v.dict["Type"].kind == 'n' && v.dict["Type"].name == "XRef"
	if isXRef {
		if err := d.rename(); err != nil {
			return 0, err
		}
	}
	if !isEncrypt && !isXRef && !d.k.StrIdentity {
		for _, sv := range d.strs {
			if err := d.decryptString(sv); err != nil {
				return 0, err
			}
		}
	}
	j := s.skipSpace(next)
	if v.kind != 'd' || !s.keyword(j, "stream") {
		if s.keyword(j, "endobj") {
			j += 6
		}
		return j, nil
	}
	// Stream data starts after "stream" and its end of line.
	start := j + 6
	if s.at(start) == '\r' {
		start++
	}
	if s.at(start) == '\n' {
		start++
	}
	length, end, err := d.streamLength(v.dict["Length"], start)
	if err != nil {
		return 0, err
	}
	skip := isEncrypt || isXRef || d.k.StmIdentity ||
		(!d.k.EncryptMetadata && v.dict["Type"].name == "Metadata") || hasCryptFilter(v.dict["Filter"])
	if !skip {
		if err := d.decryptStream(start, length); err != nil {
			return 0, err
		}
	}
	end = s.skipSpace(end)
	if s.keyword(end, "endobj") {
		end += 6
	}
	return end, nil
}

// hasCryptFilter reports a /Crypt filter in /Filter: such a stream names
// its own crypt filter, which this decrypter does not apply.
func hasCryptFilter(f pdfVal) bool {
	if f.kind == 'n' {
		return f.name == "Crypt"
	}
	for _, x := range f.arr {
		if x.kind == 'n' && x.name == "Crypt" {
			return true
		}
	}
	return false
}

// streamLength returns the data length of a stream starting at start and
// the offset after "endstream". A direct /Length followed by endstream is
// trusted; otherwise (an indirect or wrong /Length) the data ends before
// the next "endstream" and its end of line, the length that is a whole
// number of AES blocks being preferred.
func (d *pdfDecrypter) streamLength(lv pdfVal, start int64) (int64, int64, error) {
	s := d.s
	if lv.kind == 'i' && lv.num >= 0 && lv.num <= s.size-start {
		if e := s.skipSpace(start + lv.num); s.keyword(e, "endstream") {
			return lv.num, e + 9, nil
		}
	}
	e := start
	for ; ; e++ {
		c := s.at(e)
		if c < 0 {
			return 0, 0, fmt.Errorf("stream at %d has no endstream", start)
		}
		if c == 'e' && s.keyword(e, "endstream") {
			break
		}
	}
	n := e - start
	if n >= 2 && s.at(e-2) == '\r' && s.at(e-1) == '\n' && (n-2)%16 == 0 {
		n -= 2
	} else if n >= 1 && (s.at(e-1) == '\n' || s.at(e-1) == '\r') && (n-1)%16 == 0 {
		n--
	}
	return n, e + 9, nil
}

// value parses one value at i and returns it with the offset after it.
// top marks the object's own dictionary, whose /Encrypt key is noted.
func (d *pdfDecrypter) value(i int64, depth int, top bool) (pdfVal, int64, error) {
	s := d.s
	d.elems++
	if depth > maxPDFObjDepth || d.elems > maxPDFObjElems {
		return pdfVal{}, 0, errors.New("object too deep or too large")
	}
	c := s.at(i)
	switch {
	case c < 0:
		return pdfVal{}, 0, errors.New("truncated object")
	case c == '<' && s.at(i+1) == '<':
		v := pdfVal{kind: 'd', dict: map[string]pdfVal{}}
		i = s.skipSpace(i + 2)
		for {
			if s.at(i) == '>' && s.at(i+1) == '>' {
				return v, i + 2, nil
			}
			if s.at(i) != '/' {
				return pdfVal{}, 0, fmt.Errorf("dictionary key expected at %d", i)
			}
			kstart := i
			key, next := s.regular(i + 1)
			if top && key == "Encrypt" && next-kstart == int64(len(pdfEncryptRename)) {
				d.renames = append(d.renames, kstart)
			}
			val, next, err := d.value(s.skipSpace(next), depth+1, false)
			if err != nil {
				return pdfVal{}, 0, err
			}
			if len(v.dict) < 256 {
				v.dict[key] = val
			}
			i = s.skipSpace(next)
		}
	case c == '[':
		v := pdfVal{kind: 'a'}
		i = s.skipSpace(i + 1)
		for s.at(i) != ']' {
			val, next, err := d.value(i, depth+1, false)
			if err != nil {
				return pdfVal{}, 0, err
			}
			if len(v.arr) < 64 {
				v.arr = append(v.arr, val)
			}
			i = s.skipSpace(next)
		}
		return v, i + 1, nil
	case c == '(':
		end, err := d.literalEnd(i)
		if err != nil {
			return pdfVal{}, 0, err
		}
		v := pdfVal{kind: 's', start: i, end: end}
		d.strs = append(d.strs, v)
		return v, end, nil
	case c == '<':
		j := i + 1
		for c := s.at(j); c != '>'; c = s.at(j) {
			if c < 0 || j-i > 2*maxPDFString {
				return pdfVal{}, 0, errors.New("unterminated hex string")
			}
			j++
		}
		v := pdfVal{kind: 's', start: i, end: j + 1, hex: true}
		d.strs = append(d.strs, v)
		return v, j + 1, nil
	case c == '/':
		name, next := s.regular(i + 1)
		return pdfVal{kind: 'n', name: name}, next, nil
	case c == ')' || c == '>' || c == ']' || c == '{' || c == '}':
		return pdfVal{}, 0, fmt.Errorf("unexpected %q at %d", rune(c), i)
	}
	t, next := s.regular(i)
	if t == "" {
		return pdfVal{}, 0, fmt.Errorf("unexpected byte at %d", i)
	}
	if t == "endobj" || t == "stream" || t == "endstream" || t == "obj" {
		return pdfVal{}, 0, fmt.Errorf("keyword %s where a value was expected", t)
	}
	if isDigits(t) {
		// "N G R" is a reference.
		j := s.skipSpace(next)
		if g, after := s.regular(j); isDigits(g) {
			if r := s.skipSpace(after); s.keyword(r, "R") {
				return pdfVal{kind: 'r', num: atoi(t)}, r + 1, nil
			}
		}
		return pdfVal{kind: 'i', num: atoi(t)}, next, nil
	}
	return pdfVal{kind: 'o'}, next, nil
}

// literalEnd returns the offset after the literal string at i.
func (d *pdfDecrypter) literalEnd(i int64) (int64, error) {
	s := d.s
	depth := 0
	for j := i; ; j++ {
		if j-i > 2*maxPDFString {
			return 0, errors.New("string too long")
		}
		switch s.at(j) {
		case -1:
			return 0, errors.New("unterminated string")
		case '\\':
			j++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
}

// rename turns the noted /Encrypt keys into /NoCrypt.
func (d *pdfDecrypter) rename() error {
	for _, off := range d.renames {
		if err := d.s.write([]byte(pdfEncryptRename), off); err != nil {
			return err
		}
	}
	d.renames = d.renames[:0]
	return nil
}

// decryptString rewrites one encrypted string in place.
func (d *pdfDecrypter) decryptString(v pdfVal) error {
	raw, err := d.s.read(v.start, v.end-v.start)
	if err != nil {
		return err
	}
	var ct []byte
	if v.hex {
		ct = unhexPDF(raw[1 : len(raw)-1])
	} else {
		ct = unescapePDF(raw[1 : len(raw)-1])
	}
	plain := d.decrypt(ct)
	out := escapePDF(plain)
	if len(out) > len(raw) {
		out = []byte("<" + hex.EncodeToString(plain) + ">")
	}
	if len(out) > len(raw) {
		out = []byte("()") // cannot happen for a well-formed ciphertext
	}
	return d.s.write(append(out, bytes.Repeat([]byte{' '}, len(raw)-len(out))...), v.start)
}

// decrypt decrypts a whole string: AES-256-CBC, the IV first, PKCS#7
// padding (kept when malformed).
func (d *pdfDecrypter) decrypt(ct []byte) []byte {
	if len(ct) < 32 {
		return nil
	}
	body := ct[16 : 16+(len(ct)-16)/16*16]
	out := make([]byte, len(body))
	cipher.NewCBCDecrypter(d.block, ct[:16]).CryptBlocks(out, body)
	return unpad(out)
}

// unpad strips PKCS#7 padding when it is well formed.
func unpad(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	n := int(b[len(b)-1])
	if n == 0 || n > 16 || n > len(b) {
		return b
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return b
		}
	}
	return b[:len(b)-n]
}

// decryptStream decrypts length bytes of stream data at start in place,
// a chunk at a time, and fills what the IV and padding took with spaces.
func (d *pdfDecrypter) decryptStream(start, length int64) error {
	s := d.s
	if length < 32 {
		return s.write(bytes.Repeat([]byte{' '}, int(length)), start)
	}
	iv, err := s.read(start, 16)
	if err != nil {
		return err
	}
	cbc := cipher.NewCBCDecrypter(d.block, iv)
	blocks := (length - 16) / 16 * 16
	written := int64(0)
	var last []byte // the final block, held back to strip padding
	if d.buf == nil {
		d.buf = make([]byte, pdfCryptChunk)
	}
	buf := d.buf
	for off := int64(0); off < blocks; {
		if err := d.w.ctx.Err(); err != nil {
			return err
		}
		n := min(int64(len(buf)), blocks-off)
		chunk := buf[:n]
		if _, err := d.s.rw.ReadAt(chunk, start+16+off); err != nil && err != io.EOF {
			return err
		}
		cbc.CryptBlocks(chunk, chunk)
		off += n
		if off == blocks {
			last = append([]byte(nil), chunk[n-16:]...)
			chunk = chunk[:n-16]
		}
		if err := s.write(chunk, start+written); err != nil {
			return err
		}
		written += int64(len(chunk))
	}
	last = unpad(last)
	if err := s.write(last, start+written); err != nil {
		return err
	}
	written += int64(len(last))
	for written < length {
		n := min(int64(len(buf)), length-written)
		for i := range buf[:n] {
			buf[i] = ' '
		}
		if err := s.write(buf[:n], start+written); err != nil {
			return err
		}
		written += n
	}
	return nil
}

// unhexPDF decodes a hex string's digits, ignoring whitespace; an odd
// final digit is followed by 0.
func unhexPDF(b []byte) []byte {
	out := make([]byte, 0, len(b)/2)
	var hi byte
	half := false
	for _, c := range b {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			continue
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	return out
}

// unescapePDF decodes the body of a literal string.
func unescapePDF(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\r' { // an end of line in a string is a newline
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
			out = append(out, '\n')
			continue
		}
		if c != '\\' || i+1 == len(b) {
			out = append(out, c)
			continue
		}
		i++
		switch c = b[i]; c {
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case '\r': // line continuation
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
		case '\n':
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for k := 0; k < 2 && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(b[i]-'0')
			}
			out = append(out, byte(v))
		default:
			out = append(out, c)
		}
	}
	return out
}

// escapePDF writes b as a literal string.
func escapePDF(b []byte) []byte {
	out := make([]byte, 0, len(b)+2)
	out = append(out, '(')
	for _, c := range b {
		switch c {
		case '(', ')', '\\':
			out = append(out, '\\', c)
		case '\r':
			out = append(out, '\\', 'r')
		default:
			out = append(out, c)
		}
	}
	return append(out, ')')
}
