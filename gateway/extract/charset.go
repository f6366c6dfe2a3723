package extract

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"math/bits"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// sniffWindow is how many bytes the charset sniffer looks at, from the
// first byte that is not plain ASCII.
const sniffWindow = 64 << 10

// reasonUndecodable is the uninspectable reason for content that no
// charset turns into text.
const reasonUndecodable = "undecodable text"

// csKind classifies a charset label.
type csKind int

const (
	csUnknown    csKind = iota // no label, an unknown label, or a label we refuse
	csASCII                    // us-ascii and its aliases
	csUTF8                     // utf-8
	csUTF16                    // utf-16, utf-16le, utf-16be
	csJapanese                 // ISO-2022-JP, Shift_JIS (Windows-31J), EUC-JP
	csSingleByte               // Latin, Cyrillic, ... (any byte decodes)
	csMultiByte                // other multi-byte sets (GB2312, Big5, EUC-KR, ...)
)

// charsetInfo is what a charset label means to the sniffer.
type charsetInfo struct {
	kind csKind
	enc  encoding.Encoding // nil for csUnknown, csASCII, csUTF8
	be   bool              // csUTF16: big endian
}

// jpAlias maps lower-cased labels seen in Japanese mail onto x/text's
// encodings; neither htmlindex nor ianaindex knows all of them (cp932!).
func jpAlias(l string) encoding.Encoding {
	switch l {
	case "shift_jis", "shift-jis", "sjis", "x-sjis", "s-jis", "windows-31j", "cp932", "x-ms-cp932", "ms932",
		"ms_kanji", "csshiftjis", "cswindows31j", "shift_jis-2004", "x-shift_jis", "windows-932":
		return japanese.ShiftJIS
	case "iso-2022-jp", "csiso2022jp", "iso-2022-jp-ms", "iso-2022-jp-1", "iso-2022-jp-2", "iso-2022-jp-3",
		"iso-2022-jp-2004", "cp50220", "cp50221", "cp50222", "jis", "x-jis":
		return japanese.ISO2022JP
	case "euc-jp", "x-euc-jp", "eucjp", "euc_jp", "cseucpkdfmtjapanese", "euc-jis-2004", "euc-jisx0213",
		"ujis", "cp51932":
		return japanese.EUCJP
	}
	return nil
}

// isRefusedLabel reports labels whose decoder would hide the text, or that
// say nothing; the bytes are sniffed instead.
func isRefusedLabel(l string) bool {
	switch l {
	// WHATWG "replacement" labels turn a whole body into one U+FFFD.
	case "iso-2022-kr", "csiso2022kr", "iso-2022-cn", "iso-2022-cn-ext", "replacement", "hz-gb-2312",
		// labels that say nothing.
		"unknown-8bit", "x-unknown", "unknown", "default", "x-user-defined", "binary", "8bit":
		return true
	}
	return false
}

// normLabel lower-cases and unquotes a charset label.
func normLabel(label string) string {
	l := strings.ToLower(strings.TrimSpace(label))
	l = strings.Trim(l, "\"' ")
	if i := strings.IndexByte(l, '*'); i >= 0 { // RFC 2231 language suffix
		l = l[:i]
	}
	return l
}

// lookupCharset says what label means. Unknown and refused labels give
// csUnknown: the bytes are then sniffed.
func lookupCharset(label string) charsetInfo {
	l := normLabel(label)
	switch {
	case l == "":
		return charsetInfo{}
	case isRefusedLabel(l):
		return charsetInfo{}
	case l == "utf-8" || l == "utf8" || l == "unicode-1-1-utf-8" || l == "x-utf_8j":
		return charsetInfo{kind: csUTF8}
	case l == "us-ascii" || l == "ascii" || l == "ansi_x3.4-1968" || l == "iso646-us" || l == "csascii":
		return charsetInfo{kind: csASCII}
	case l == "utf-16" || l == "utf-16le" || l == "ucs-2" || l == "unicode" || l == "csunicode":
		return charsetInfo{kind: csUTF16}
	case l == "utf-16be" || l == "unicodefffe":
		return charsetInfo{kind: csUTF16, be: true}
	}
	if enc := jpAlias(l); enc != nil {
		return charsetInfo{kind: csJapanese, enc: enc}
	}
	enc, err := htmlindex.Get(l)
	if err != nil || enc == nil {
		enc, err = ianaindex.MIME.Encoding(l)
	}
	if err != nil || enc == nil || enc == encoding.Replacement {
		return charsetInfo{}
	}
	switch enc {
	case japanese.ShiftJIS, japanese.EUCJP, japanese.ISO2022JP:
		return charsetInfo{kind: csJapanese, enc: enc}
	case unicode.UTF8:
		return charsetInfo{kind: csUTF8}
	}
	if _, ok := enc.(*charmap.Charmap); ok {
		return charsetInfo{kind: csSingleByte, enc: enc}
	}
	if strings.HasPrefix(l, "utf-16") {
		return charsetInfo{kind: csUTF16, be: l == "utf-16be"}
	}
	return charsetInfo{kind: csMultiByte, enc: enc}
}

// textReader decodes r, declared as charset label ("" if none), to UTF-8.
// When the label is missing, wrong or unknown it sniffs (ISO-2022-JP escapes,
// UTF-8 validity, Shift_JIS/CP932, EUC-JP). It returns a non-empty reason
// when no decoding yields text (the part is then uninspectable).
//
// The result streams: leading ASCII passes through as it is, and the
// encoding is chosen at the first byte that is not ASCII, from the label
// and the next 64 KiB. A read error of r is returned by the result's Read.
func textReader(r io.Reader, label string) (io.Reader, string) {
	br := getBufReader(&stickyReader{r: r})
	tr, reason := textFrom(br, label)
	if reason != "" {
		putBufReader(br)
		return nil, reason
	}
	return &textStream{Reader: tr, br: br}, ""
}

// textFrom is textReader on a reader the caller already holds: br must
// buffer at least sniffWindow bytes, and read from a stickyReader so that
// a read error stays. Nothing is wrapped or copied again, and br stays the
// caller's (to give back when the text is read). On reasonUndecodable
// nothing of br is consumed: the caller may hand it on as a file.
func textFrom(br *bufio.Reader, label string) (io.Reader, string) {
	head, _ := br.Peek(sniffWindow)
	cs := lookupCharset(label)

	// Byte order marks win over any label.
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
		return br, ""
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()), ""
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()), ""
	}
	if le, be := utf16Pattern(head); le || be || cs.kind == csUTF16 && (le || be) {
		order := unicode.LittleEndian
		if be {
			order = unicode.BigEndian
		}
		return transform.NewReader(br, unicode.UTF16(order, unicode.IgnoreBOM).NewDecoder()), ""
	}
	if looksBinary(head) {
		return nil, reasonUndecodable
	}
	return &sniffReader{br: br, cs: cs}, ""
}

// releaseText gives back the pooled buffer of a text textReader returned,
// directly or under a reader that passes release on (htmlReader);
// anything else is left to the GC.
func releaseText(r io.Reader) {
	if t, ok := r.(interface{ release() }); ok {
		t.release()
	}
}

// decodeBytes decodes a short byte string (a header value, a file name)
// declared as label to UTF-8, sniffing like textReader. It never fails:
// bytes that decode to nothing become U+FFFD.
func decodeBytes(b []byte, label string) string {
	if isASCII(b) {
		return string(b)
	}
	tr, reason := textReader(bytes.NewReader(b), label)
	if reason != "" {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	out, err := io.ReadAll(tr)
	releaseText(tr)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 || c == 0x1B {
			return false
		}
	}
	return true
}

// utf16Pattern reports whether head looks like ASCII-range text in UTF-16
// without a byte order mark: most odd (le) or even (be) bytes are zero.
func utf16Pattern(head []byte) (le, be bool) {
	n := len(head) / 2
	if n < 2 {
		return false, false
	}
	evenZero, oddZero := zeroParity(head)
	switch {
	case oddZero*10 >= n*7 && evenZero*10 < n:
		return true, false
	case evenZero*10 >= n*7 && oddZero*10 < n:
		return false, true
	}
	return false, false
}

// zeroParity counts the NUL bytes at even and at odd offsets of head (a
// last odd byte left out).
func zeroParity(head []byte) (evenZero, oddZero int) {
	i := 0
	for ; i+8 <= len(head); i += 8 {
		// Words without a NUL byte (all of most text) count nothing.
		if x := binary.LittleEndian.Uint64(head[i:]); (x-swarOnes)&^x&swarHighs == 0 {
			continue
		}
		for j := i; j < i+8; j += 2 {
			if head[j] == 0 {
				evenZero++
			}
			if head[j+1] == 0 {
				oddZero++
			}
		}
	}
	for ; i+1 < len(head); i += 2 {
		if head[i] == 0 {
			evenZero++
		}
		if head[i+1] == 0 {
			oddZero++
		}
	}
	return evenZero, oddZero
}

// swarOnes and swarHighs are the constants of the eight-bytes-at-a-time
// tests: x has a byte below k when (x - k*swarOnes) &^ x & swarHighs != 0
// (exact for k <= 0x80), and a NUL byte when that holds for k = 1.
const (
	swarOnes  = 0x0101010101010101
	swarHighs = 0x8080808080808080
)

// asciiPrefix returns the length of the run of ASCII bytes other than ESC
// at the start of b, eight bytes at a time.
func asciiPrefix(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		y := x ^ (0x1B * swarOnes)
		if (x|(y-swarOnes)&^y)&swarHighs != 0 {
			break
		}
	}
	for i < len(b) && b[i] < 0x80 && b[i] != 0x1B {
		i++
	}
	return i
}

// looksBinary reports whether head holds too many control bytes to be text.
func looksBinary(head []byte) bool {
	if len(head) == 0 {
		return false
	}
	nul, ctrl := controlCounts(head)
	return nul*200 > len(head) || ctrl*20 > len(head)
}

// controlCounts counts the NUL bytes and the control bytes text does not
// hold (binaryClass) in head.
func controlCounts(head []byte) (nul, ctrl int) {
	// This runs over the first 64 KiB of every text part and upload: eight
	// bytes at a time, and a table look-up only for the bytes the word
	// test flags (every byte below 0x20 or equal to 0x7F, and perhaps some
	// bytes above such a byte, which the table counts as nothing).
	const ones, highs = swarOnes, swarHighs
	i := 0
	for ; i+8 <= len(head); i += 8 {
		x := binary.LittleEndian.Uint64(head[i:])
		y := x ^ (0x7F * ones)
		for m := ((x-0x20*ones)&^x | (y-ones)&^y) & highs; m != 0; m &= m - 1 {
			k := binaryClass[head[i+bits.TrailingZeros64(m)/8]]
			ctrl += int(k & 1)
			nul += int(k >> 1)
		}
	}
	for _, c := range head[i:] {
		k := binaryClass[c]
		ctrl += int(k & 1)
		nul += int(k >> 1)
	}
	return nul, ctrl
}

// binaryClass marks, per byte value, a control character that text does
// not hold (bit 0) and NUL (bit 1). Tab, line ends, form feed, vertical
// tab and the ISO-2022 shift codes (ESC, SO, SI) are text.
var binaryClass = func() (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		switch c {
		case '\t', '\n', '\r', '\f', '\v', 0x1B, 0x0E, 0x0F:
		default:
			t[c] = 1
		}
	}
	t[0] = 3
	t[0x7F] = 1
	return t
}()

// sniffReader passes leading ASCII through and chooses the decoding at the
// first byte that is not ASCII (or an ESC of ISO-2022-JP).
type sniffReader struct {
	br  *bufio.Reader
	cs  charsetInfo
	dec io.Reader // set once the encoding is chosen
}

func (s *sniffReader) Read(p []byte) (int, error) {
	if s.dec != nil {
		return s.dec.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if s.br.Buffered() == 0 {
		if _, err := s.br.Peek(1); err != nil {
			return 0, err
		}
	}
	buf, _ := s.br.Peek(s.br.Buffered())
	if len(buf) > len(p) {
		buf = buf[:len(p)]
	}
	if i := asciiPrefix(buf); i > 0 {
		n := copy(p, buf[:i])
		_, _ = s.br.Discard(n)
		return n, nil
	}
	win, _ := s.br.Peek(sniffWindow)
	if enc := chooseEncoding(win, s.cs); enc != nil {
		s.dec = transform.NewReader(s.br, newDecoder(enc))
	} else {
		s.dec = s.br
	}
	return s.dec.Read(p)
}

// chooseEncoding picks the decoding for win, which starts at the first
// byte that is not ASCII. nil means UTF-8 (pass through).
func chooseEncoding(win []byte, cs charsetInfo) encoding.Encoding {
	if hasJISEscape(win) {
		return japanese.ISO2022JP
	}
	if validUTF8Prefix(win) {
		return nil
	}
	if cs.kind == csMultiByte {
		if st := scoreJapanese(win, cs.enc); st.clean() {
			return cs.enc
		}
	}
	sj := scoreJapanese(win, japanese.ShiftJIS)
	eu := scoreJapanese(win, japanese.EUCJP)
	best, bs, other, ot := japanese.ShiftJIS, sj, japanese.EUCJP, eu
	if eu.better(sj) {
		best, bs, other, ot = japanese.EUCJP, eu, japanese.ShiftJIS, sj
	}
	switch cs.kind {
	case csJapanese:
		// Trust the label when its decoding is as good as the other one's.
		switch {
		case cs.enc == best:
			return best
		case cs.enc == other && ot.clean() && !bs.better(ot):
			return other
		case bs.clean():
			return best
		}
		return cs.enc
	case csSingleByte:
		// Japanese mail mislabelled as Latin-1 (a client's default).
		if isWesternLabel(cs.enc) && bs.clean() && bs.mostlyJapanese() {
			return best
		}
		return cs.enc
	case csMultiByte:
		return cs.enc
	}
	// No usable label (none, ASCII, UTF-8 on bytes that are not UTF-8, or
	// an unknown one).
	if bs.clean() && bs.japanese*10 >= bs.nonASCII*3 {
		return best
	}
	return charmap.Windows1252
}

// isWesternLabel reports whether enc is a Western single-byte set, the
// usual wrong label on Japanese text.
func isWesternLabel(enc encoding.Encoding) bool {
	switch enc {
	case charmap.Windows1252, charmap.ISO8859_1, charmap.ISO8859_15, charmap.Windows1250, charmap.ISO8859_2:
		return true
	}
	return false
}

// hasJISEscape reports whether b holds an ISO-2022-JP escape sequence.
func hasJISEscape(b []byte) bool {
	for {
		i := bytes.IndexByte(b, 0x1B)
		if i < 0 || i+2 >= len(b) {
			return false
		}
		s := b[i+1:]
		switch {
		case s[0] == '$' && (s[1] == 'B' || s[1] == '@'):
			return true
		case s[0] == '(' && (s[1] == 'J' || s[1] == 'I'):
			return true
		case s[0] == '$' && s[1] == '(' && len(s) > 2 && (s[2] == 'D' || s[2] == 'Q' || s[2] == 'O'):
			return true
		}
		b = s
	}
}

// validUTF8Prefix reports whether b is valid UTF-8 apart from a sequence
// cut at its end.
func validUTF8Prefix(b []byte) bool {
	for k := 0; k < utf8.UTFMax && len(b) > 0; k++ {
		if utf8.Valid(b) {
			return true
		}
		b = b[:len(b)-1]
	}
	return false
}

// jpScore counts what a decoding of a window produces.
type jpScore struct {
	errors   int // U+FFFD
	nonASCII int // runes beyond ASCII
	japanese int // kana, kanji, CJK punctuation, full-width forms
	halfKana int // half-width katakana
}

// better reports whether s is a better decoding than o: fewer errors,
// then more Japanese characters.
func (s jpScore) better(o jpScore) bool {
	return s.errors < o.errors || s.errors == o.errors && s.japanese > o.japanese
}

// clean: few decoding errors (one is allowed for a window cut mid-character).
func (s jpScore) clean() bool { return s.errors <= 1+s.nonASCII/50 }

// mostlyJapanese: the decoded non-ASCII text is mostly Japanese script
// (half-width katakana do not count, Latin-1 letters decode to them).
func (s jpScore) mostlyJapanese() bool {
	return s.nonASCII > 0 && s.japanese*10 >= s.nonASCII*6
}

func scoreJapanese(win []byte, enc encoding.Encoding) jpScore {
	out, _, err := transform.Bytes(enc.NewDecoder(), win)
	if err != nil {
		return jpScore{errors: len(win) + 1, nonASCII: len(win)}
	}
	var s jpScore
	for _, r := range string(out) {
		if r < 0x80 {
			continue
		}
		s.nonASCII++
		switch {
		case r == utf8.RuneError:
			s.errors++
		case r >= 0x3000 && r <= 0x30FF, // CJK punctuation, hiragana, katakana
			r >= 0x4E00 && r <= 0x9FFF, // CJK unified ideographs
			r >= 0xFF01 && r <= 0xFF5E, // full-width ASCII
			r >= 0x2460 && r <= 0x24FF, // circled digits
			r >= 0x3200 && r <= 0x33FF: // enclosed CJK, CJK compatibility
			s.japanese++
		case r >= 0xFF61 && r <= 0xFF9F:
			s.halfKana++
		}
	}
	return s
}

// stickyReader keeps returning the first error of r, so that an error
// consumed by a bufio.Reader's Peek is not lost.
type stickyReader struct {
	r   io.Reader
	err error
}

func (s *stickyReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	s.err = err
	return n, err
}
