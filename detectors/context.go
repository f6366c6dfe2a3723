package detectors

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"sync"
	"unicode/utf8"
)

// Column says what a table column (or a label written before a value) names.
type Column uint8

const (
	ColNone      Column = iota // nothing known
	ColMyNumber                // 個人番号, マイナンバー, My Number
	ColCorporate               // 法人番号, 登録番号, 会社法人等番号
	ColPhone                   // 電話, TEL, 携帯, FAX, 連絡先
	ColCard                    // カード番号, クレジット, Card
	ColAddress                 // 住所, 所在地, Address
	ColOther                   // another kind of number: 注文番号, 会員番号, No, ID, コード, 〒 ...
)

// tailLen is how much of the text already scanned a Context keeps, so that a
// keyword just before a chunk boundary is still seen.
const tailLen = 128

// Context is per-part state shared by the detectors of one Scan. The engine
// moves it past a chunk (advanceLazy) after every detector has seen the
// chunk, so a detector sees the state as it was before the chunk.
type Context struct {
	// Lines is the number of lines already scanned in this part.
	Lines int
	// Columns is the kind of each column of the table being read, from the
	// last header row seen (a tab- or comma-separated line naming 個人番号,
	// 電話, 住所, ... in its cells); nil when no header row is in force.
	// Columns is replaced, never modified in place.
	Columns []Column
	// Delim is the cell delimiter of that header row ('\t' or ',').
	Delim byte

	tail  [tailLen]byte
	tailN int

	// pend holds a copy of the lines of the last chunk whose header rows
	// have not been looked at yet (see advanceLazy); Columns and Delim are
	// the header in force at their start. pendBuf is pend's pooled buffer.
	pend    []byte
	pendBuf *[]byte
}

// pendPool recycles the buffers of Context.pend.
var pendPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func (c *Context) reset() {
	c.release()
	*c = Context{}
}

// release gives pend's buffer back; the context must not be used after.
func (c *Context) release() {
	if c.pendBuf != nil {
		*c.pendBuf = c.pend[:0]
		pendPool.Put(c.pendBuf)
		c.pend, c.pendBuf = nil, nil
	}
}

// Tail returns up to the last 128 bytes of the text already scanned.
func (c *Context) Tail() []byte { return c.tail[tailLen-c.tailN:] }

// advanceLazy moves the context past text. st, when not nil, is the
// built-in detectors' state for the same text, whose header tracking is
// taken over. The header rows of the lines not yet looked at are only
// copied (up to maxPend bytes): settle looks at them when a later chunk
// needs the header in force. Text in which no value
// asks for its column, and a part's last chunk, then cost a copy instead
// of a look at every line with a delimiter.
func (c *Context) advanceLazy(text []byte, st *scanState) {
	c.Lines += bytes.Count(text, nl)
	if c.pendBuf == nil {
		c.pendBuf = pendPool.Get().(*[]byte)
		c.pend = (*c.pendBuf)[:0]
	}
	if st != nil && !st.unsettled {
		// The lines before st.hdrPos have been looked at (and the earlier
		// chunks' ones, settled when the chunk began): start over from
		// the header in force there.
		c.Columns, c.Delim = st.cols, st.delim
		c.pend = append(c.pend[:0], text[min(st.hdrPos, len(text)):]...)
	} else {
		c.pend = append(c.pend, text...)
	}
	if len(c.pend) > maxPend {
		c.settle()
	}
	if len(text) >= tailLen {
		copy(c.tail[:], text[len(text)-tailLen:])
		c.tailN = tailLen
		return
	}
	copy(c.tail[:], c.tail[len(text):])
	copy(c.tail[tailLen-len(text):], text)
	c.tailN = min(tailLen, c.tailN+len(text))
}

var nl = []byte{'\n'}

// maxPend bounds the text advanceLazy defers: beyond it, it is looked at.
const maxPend = 256 << 10

// settle looks at the header rows advanceLazy left, so that Columns and
// Delim are the header in force after all the text advanced over.
func (c *Context) settle() {
	if len(c.pend) == 0 {
		return
	}
	var st scanState
	st.begin(c.pend, c)
	st.headersUpTo(len(c.pend))
	c.Columns, c.Delim = st.cols, st.delim
	c.pend = c.pend[:0]
}

// ColumnAt returns the kind of the column that holds byte pos of line (the
// line's text from its start), by the header in force.
func (c *Context) ColumnAt(line []byte, pos int) Column {
	if len(c.Columns) == 0 {
		return ColNone
	}
	i := cellIndex(line[:pos], c.Delim)
	if i < len(c.Columns) {
		return c.Columns[i]
	}
	return ColNone
}

// cellIndex counts the delimiters in s (outside double quotes for commas).
func cellIndex(s []byte, delim byte) int {
	n, _ := cellCount(s, delim, false)
	return n
}

// cellCount counts the delimiters in s, starting inside quotes if quoted,
// and returns whether s ends inside quotes.
func cellCount(s []byte, delim byte, quoted bool) (int, bool) {
	if delim != ',' {
		return bytes.Count(s, []byte{delim}), false
	}
	if !quoted && bytes.IndexByte(s, '"') < 0 {
		return bytes.Count(s, []byte{','}), false
	}
	n := 0
	for {
		i := bytes.IndexAny(s, "\",")
		if i < 0 {
			return n, quoted
		}
		if s[i] == '"' {
			quoted = !quoted
		} else if !quoted {
			n++
		}
		s = s[i+1:]
	}
}

// scanState is the built-in detectors' view of one chunk: the text, the
// context, lazily tracked table headers and scratch buffers. An Engine keeps
// one per Scan; a detector used alone makes one per call.
type scanState struct {
	text   []byte
	ctx    *Context
	cols   []Column
	delim  byte
	hdrPos int // header rows before this offset have been looked at
	// cell cursor: the line starting at cellLS has cellN delimiters before cellPos
	cellLS, cellPos, cellN int
	cellQuoted             bool
	// next tab and comma at or after the offset they were searched from
	// (len(text) when there is none), so that header tracking looks at
	// every byte once however many lines it crosses
	nextTab, nextComma int
	// unsettled: cols may not be the header in force at the start of the
	// chunk yet, since the context holds lines not looked at (see
	// settleCols).
	unsettled bool
	// line-start cache of columnAt: the line holding lsPos starts at lsLS
	lsPos, lsLS int
	win         []byte
	tok         tokenizer
	addrKey     []byte // the address detector's key buffer
	repBuf      []byte // report's buffer
	tally       *Tally // inside an Engine: the Scan's tally, to skip values already counted
}

// report emits a value found by a built-in detector. key is ASCII digits;
// the mask keeps the last four digits, in groups when groups is not nil.
func (st *scanState) report(emit func(Match), id string, start, end int, key []byte, conf Confidence, groups []int) {
	if st.tally != nil && st.tally.known(id, key, conf) {
		return
	}
	// The key and the mask in one allocation.
	b := append(st.repBuf[:0], key...)
	if groups != nil {
		b = appendMaskPhone(b, key, groups)
	} else {
		b = appendMaskDigits(b, key, 4)
	}
	st.repBuf = b
	s := string(b)
	emit(Match{Detector: id, Start: start, End: end, Key: s[:len(key)], Masked: s[len(key):], Confidence: conf})
}

func (st *scanState) begin(text []byte, ctx *Context) {
	st.text, st.ctx = text, ctx
	st.cols, st.delim, st.hdrPos = ctx.Columns, ctx.Delim, 0
	st.unsettled = len(ctx.pend) > 0
	st.cellLS, st.cellPos, st.cellN, st.cellQuoted = -1, 0, 0, false
	st.nextTab, st.nextComma, st.lsPos, st.lsLS = -1, -1, -1, 0
	st.tok.reset(text)
}

// window returns up to n bytes of text before pos, reaching into the
// context's tail when pos is near the start of the chunk.
func (st *scanState) window(pos, n int) []byte {
	if pos >= n {
		return st.text[pos-n : pos]
	}
	tail := st.ctx.Tail()
	k := min(n-pos, len(tail))
	st.win = append(append(st.win[:0], tail[len(tail)-k:]...), st.text[:pos]...)
	return st.win
}

// lineBefore returns up to n bytes before pos on the same line.
func (st *scanState) lineBefore(pos, n int) []byte {
	w := st.window(pos, n)
	if i := lastNewline(w); i >= 0 {
		w = w[i+1:]
	}
	return w
}

// lineAfter returns up to n bytes after pos on the same line.
func (st *scanState) lineAfter(pos, n int) []byte {
	w := st.text[pos:min(len(st.text), pos+n)]
	if i := bytes.IndexByte(w, '\n'); i >= 0 {
		w = w[:i]
	}
	return w
}

// settleCols makes cols the header in force at the start of the chunk, by
// looking at the lines of the previous chunks that the context deferred
// (most chunks never need it: only a candidate value asks for its column).
func (st *scanState) settleCols() {
	if st.unsettled {
		st.ctx.settle()
		st.cols, st.delim = st.ctx.Columns, st.ctx.Delim
		st.unsettled = false
	}
}

// columnAt returns the kind of the table column holding pos. Calls must come
// in text order (by line).
func (st *scanState) columnAt(pos int) Column {
	st.settleCols()
	// ls is the start of pos's line (or of the chunk). The calls come
	// mostly in text order: look back only to the previous call.
	ls := 0
	if st.lsPos >= 0 && pos >= st.lsPos {
		if i := lastNewline(st.text[st.lsPos:pos]); i >= 0 {
			ls = st.lsPos + i + 1
		} else {
			ls = st.lsLS
		}
	} else if i := lastNewline(st.text[:pos]); i >= 0 {
		ls = i + 1
	}
	st.lsPos, st.lsLS = pos, ls
	if st.hdrPos < ls {
		st.headersUpTo(ls)
	}
	if len(st.cols) == 0 {
		return ColNone
	}
	if st.cellLS != ls || pos < st.cellPos {
		st.cellLS, st.cellPos, st.cellN, st.cellQuoted = ls, ls, 0, false
	}
	n, q := cellCount(st.text[st.cellPos:pos], st.delim, st.cellQuoted)
	st.cellPos, st.cellN, st.cellQuoted = pos, st.cellN+n, q
	if st.cellN < len(st.cols) {
		return st.cols[st.cellN]
	}
	return ColNone
}

// headersUpTo looks for header rows among the lines of text[hdrPos:end]
// (end is a line start or the end of the text).
func (st *scanState) headersUpTo(end int) {
	text := st.text
	for st.hdrPos < end {
		if st.nextTab < st.hdrPos {
			st.nextTab = indexFrom(text, st.hdrPos, '\t')
		}
		if st.nextComma < st.hdrPos {
			st.nextComma = indexFrom(text, st.hdrPos, ',')
		}
		abs := min(st.nextTab, st.nextComma)
		if abs >= end {
			break
		}
		ls := st.hdrPos
		if i := lastNewline(text[st.hdrPos:abs]); i >= 0 {
			ls += i + 1
		}
		le := end
		if i := bytes.IndexByte(text[abs:end], '\n'); i >= 0 {
			le = abs + i
		}
		st.checkHeader(text[ls:le])
		st.hdrPos = le + 1
	}
	st.hdrPos = max(st.hdrPos, end)
}

// lastNewline is bytes.LastIndexByte(s, '\n'), eight bytes at a time (the
// library's is a byte loop).
func lastNewline(s []byte) int {
	i := len(s)
	for ; i >= 8; i -= 8 {
		y := binary.LittleEndian.Uint64(s[i-8:]) ^ ('\n' * swarOnes)
		// High bit set in each byte of y that is zero, exactly (no borrow
		// crosses bytes).
		if m := ^((y&swarLow7 + swarLow7) | y) & swarHigh; m != 0 {
			return i - 8 + (63-bits.LeadingZeros64(m))>>3
		}
	}
	for i--; i >= 0; i-- {
		if s[i] == '\n' {
			return i
		}
	}
	return -1
}

// indexFrom returns the offset of the first c in text at or after i, or
// len(text).
func indexFrom(text []byte, i int, c byte) int {
	if j := bytes.IndexByte(text[i:], c); j >= 0 {
		return i + j
	}
	return len(text)
}

// maxHeaderCell bounds the length of a cell that may name a column.
const maxHeaderCell = 60

// checkHeader looks at one line with a delimiter: a line without any run of
// four or more digits whose cells name kinds of values becomes the header in
// force. A header-like line naming nothing with a different number of cells
// ends the table of the header in force.
func (st *scanState) checkHeader(line []byte) {
	line = bytes.TrimRight(line, "\r")
	// Most lines are data rows or prose: test that first.
	for i := nextDigit(line, 0); i >= 0; i = nextDigit(line, i) {
		n := 0
		for i < len(line) {
			_, w := digitAt(line, i)
			if w == 0 {
				break
			}
			n++
			i += w
		}
		if n >= 4 {
			return // a data row
		}
	}
	delim := byte(',')
	if bytes.IndexByte(line, '\t') >= 0 {
		delim = '\t'
	}
	// Header cells are short: prose with a comma in an amount is no header.
	for rest := line; len(rest) > 0; {
		i := bytes.IndexByte(rest, delim)
		if i < 0 {
			i = len(rest)
		}
		if i > 2*maxHeaderCell {
			return
		}
		rest = rest[min(i+1, len(rest)):]
	}
	var kinds [64]Column
	n, named := 0, false
	quoted, cs := false, 0
	for i := 0; i <= len(line); i++ {
		if i < len(line) {
			b := line[i]
			if b == '"' && delim == ',' {
				quoted = !quoted
			}
			if b != delim || quoted {
				continue
			}
		}
		if n < len(kinds) {
			k := headerKind(line[cs:i])
			kinds[n] = k
			named = named || k != ColNone
		}
		n++
		cs = i + 1
	}
	if n < 2 {
		return
	}
	if named {
		cols := make([]Column, min(n, len(kinds)))
		copy(cols, kinds[:])
		st.cols, st.delim = cols, delim
		return
	}
	if len(st.cols) > 0 && n != len(st.cols) {
		st.cols = nil
	}
}

// headerKind classifies a header cell.
func headerKind(cell []byte) Column {
	cell = trimHeaderCell(cell)
	if len(cell) == 0 || len(cell) > maxHeaderCell {
		return ColNone
	}
	bits := headerSet.find(cell)
	for _, k := range [...]Column{ColMyNumber, ColCorporate, ColCard, ColPhone, ColAddress, ColOther} {
		if bits&(1<<k) != 0 {
			return k
		}
	}
	if hasSuffixAny(cell, otherHeaderSuffixes) {
		return ColOther
	}
	return ColNone
}

// trimHeaderCell trims spaces, quotes and ideographic spaces (U+3000,
// E3 80 80) from both ends of a header cell (bytes.Trim with that cutset
// decodes every rune of it, and every cell of a line with a delimiter is
// trimmed).
func trimHeaderCell(c []byte) []byte {
	for len(c) > 0 {
		if b := c[0]; b == ' ' || b == '"' || b == '\'' {
			c = c[1:]
		} else if len(c) >= 3 && b == 0xE3 && c[1] == 0x80 && c[2] == 0x80 {
			c = c[3:]
		} else {
			break
		}
	}
	for len(c) > 0 {
		if b := c[len(c)-1]; b == ' ' || b == '"' || b == '\'' {
			c = c[:len(c)-1]
		} else if len(c) >= 3 && b == 0x80 && c[len(c)-2] == 0x80 && c[len(c)-3] == 0xE3 {
			c = c[:len(c)-3]
		} else {
			break
		}
	}
	return c
}

// kwSet finds which of a set of keywords occur in a text, in one pass that
// looks up each byte in a table of the keywords starting with it.
type kwSet struct {
	first [256][]kwEntry
}

type kwEntry struct {
	w    []byte
	bits uint32
}

// bitMyNumberWeak marks the weak My Number context words in nearSet.
const bitMyNumberWeak = 1 << 16

func (k *kwSet) add(bits uint32, ws [][]byte) *kwSet {
	for _, w := range ws {
		k.first[w[0]] = append(k.first[w[0]], kwEntry{w: w, bits: bits})
	}
	return k
}

// find returns the union of the bits of the keywords found in s.
func (k *kwSet) find(s []byte) (bits uint32) {
	for i, b := range s {
		for _, e := range k.first[b] {
			// Test the second byte inline first: most candidates share only
			// the lead byte of a kana or kanji.
			if w := e.w; len(s)-i >= len(w) && (len(w) == 1 || s[i+1] == w[1]) && string(s[i:i+len(w)]) == string(w) {
				bits |= e.bits
			}
		}
	}
	return bits
}

func hasSuffixAny(s []byte, words [][]byte) bool {
	if len(s) == 0 {
		return slicesHasEmpty(words)
	}
	last := s[len(s)-1]
	for _, w := range words {
		if len(w) == 0 {
			return true
		}
		// The last byte first: it rules out most words without a call.
		if len(w) <= len(s) && w[len(w)-1] == last && string(s[len(s)-len(w):]) == string(w) {
			return true
		}
	}
	return false
}

// slicesHasEmpty reports an empty word (a suffix of any text).
func slicesHasEmpty(ws [][]byte) bool {
	for _, w := range ws {
		if len(w) == 0 {
			return true
		}
	}
	return false
}

func words(ws ...string) [][]byte {
	out := make([][]byte, len(ws))
	for i, w := range ws {
		out[i] = []byte(w)
	}
	return out
}

// Keyword lists. They are read-only after package initialisation.
var (
	myNumberWords = words("個人番号", "マイナンバー", "ﾏｲﾅﾝﾊﾞｰ", "My Number", "MyNumber", "my number",
		"MY NUMBER", "My number", "Mynumber", "MYNUMBER", "ＭｙＮｕｍｂｅｒ")
	myNumberWeakWords = words("通知カード", "番号確認", "本人確認", "扶養控除", "源泉徴収", "支払調書",
		"社会保障", "住民票", "被保険者", "給与所得")
	corporateWords = words("法人番号", "会社法人等番号", "登録番号", "適格請求書", "インボイス", "Corporate Number", "corporate number")
	cardWords      = words("カード番号", "クレジット", "Card", "card", "CARD", "VISA", "Visa", "JCB", "Master",
		"MASTER", "AMEX", "Amex", "American Express", "Diners", "DINERS", "有効期限")
	phoneWords = words("電話", "TEL", "Tel", "tel", "携帯", "FAX", "Fax", "fax", "ファックス", "ファクス",
		"連絡先", "Phone", "phone", "PHONE", "Mobile", "mobile", "ＴＥＬ", "ＦＡＸ", "☎", "℡")
	addressWords = words("住所", "所在地", "Address", "address", "ADDRESS")
	otherWords   = words("番号", "品番", "型番", "〒", "郵便", "JAN", "ISBN", "注文", "伝票", "受付", "請求", "口座",
		"会員", "顧客", "管理", "製造", "追跡", "問い合わせ", "問合せ", "金額", "価格", "単価", "合計", "日付", "年月日")
	otherHeaderSuffixes = words("No", "No.", "NO", "no", "ID", "Id", "id", "コード", "Code", "code", "CODE", "CD", "#", "＃", "№", "Ｎｏ", "ＩＤ")
)

// Keyword sets built from the lists (read-only after initialisation).
var (
	headerSet = new(kwSet).add(1<<ColMyNumber, myNumberWords).add(1<<ColCorporate, corporateWords).
			add(1<<ColCard, cardWords).add(1<<ColPhone, phoneWords).add(1<<ColAddress, addressWords).
			add(1<<ColOther, otherWords)
	nearSet = new(kwSet).add(1<<ColMyNumber, myNumberWords).add(bitMyNumberWeak, myNumberWeakWords).
		add(1<<ColCorporate, corporateWords).add(1<<ColCard, cardWords)
)

// Label words that, written right before a value, name it.
var (
	myNumberLabels = words("個人番号", "マイナンバー", "ﾏｲﾅﾝﾊﾞｰ", "My Number", "MyNumber", "my number",
		"MY NUMBER", "My number", "Mynumber", "MYNUMBER", "マイナンバー番号", "個人番号カード", "マイナンバーカード")
	phoneLabels = words("TEL", "Tel", "tel", "電話", "携帯", "FAX", "Fax", "fax", "☎", "℡", "ＴＥＬ", "ＦＡＸ",
		"Phone", "phone", "PHONE", "Mobile", "mobile", "MOBILE", "Cell", "cell", "連絡先", "代表", "直通",
		"ファックス", "ファクス", "ダイヤル", "フリーダイヤル", "ナビダイヤル", "ﾌﾘｰﾀﾞｲﾔﾙ")
	phoneLetterLabels = words("T", "F", "M", "P", "Ph", "TEL", "Tel", "tel", "FAX", "Fax", "fax", "Phone",
		"phone", "PHONE", "Mobile", "mobile", "MOBILE", "Cell", "cell", "TELFAX", "TelFax")
	cardLabels      = words("カード", "クレジット", "Card", "card", "CARD", "VISA", "Visa", "JCB", "Mastercard", "MasterCard", "AMEX", "Amex", "Diners")
	corporateLabels = words("法人番号", "登録番号", "会社法人等番号", "Corporate Number", "corporate number")
	otherLabels     = words("No", "NO", "no", "№", "Ｎｏ", "ＮＯ", "ID", "Id", "id", "ＩＤ", "#", "＃", "コード",
		"Code", "code", "CODE", "CD", "品番", "型番", "製番", "〒", "郵便", "JAN", "ISBN", "Order", "order", "ORDER",
		"Invoice", "invoice", "口座", "伝票", "注文", "受付", "請求書", "Ref", "REF", "Tracking", "tracking", "Account", "account")
	numberWords = words("Number", "number", "NUMBER", "No", "NO", "no", "Num", "num", "#")
)

// labelFillers are the characters allowed between a label and its value.
func isFiller(r rune) bool {
	switch r {
	case ' ', '\u3000', '\u00a0', ':', '：', '=', '＝', '.', '．', '(', ')', '（', '）', '[', ']', '［', '］',
		'【', '】', '「', '」', '『', '』', '〔', '〕', '<', '>', '＜', '＞', '"', '\'', '-', 'は', 'が', 'を',
		'→', '⇒', '|', '｜', '/', '／', '・', '*', '＊':
		return true
	}
	return false
}

// labelBefore classifies the label written right before pos on the same
// line (call columnAt first, so that the header in force is known): "注文番号：", "TEL ", "個人番号\t" ... Up to eight filler characters
// and one cell delimiter may stand between the label and the value.
func (st *scanState) labelBefore(pos int) Column {
	st.settleCols()
	s := st.lineBefore(pos, 72)
	fill := 0
	for len(s) > 0 && fill < 8 {
		r, w := utf8.DecodeLastRune(s)
		if r == '\t' || r == ',' {
			// A value in its own cell: the cell before it may be its label
			// (forms extracted as key-value tables: 個人番号<TAB>1234...),
			// unless a header row says what the columns hold.
			if len(st.cols) > 0 {
				return ColNone
			}
			s = s[:len(s)-w]
			if i := bytes.LastIndexAny(s, "\t,"); i >= 0 {
				s = s[i+1:]
			}
			if k := headerKind(s); k != ColAddress {
				return k
			}
			return ColNone
		} else if !isFiller(r) {
			break
		}
		s = s[:len(s)-w]
		fill++
	}
	return classifyLabel(s, fill == 0)
}

// classifyLabel classifies the text ending a label. adjacent says that no
// filler separates it from the value: letters touching digits ("ABC123…")
// make a code, not a label-less value.
func classifyLabel(s []byte, adjacent bool) Column {
	if len(s) == 0 {
		return ColNone
	}
	if hasSuffixAny(s, myNumberLabels) {
		return ColMyNumber
	}
	if t, ok := cutSuffix(s, "番号"); ok {
		return compoundNumber(t)
	}
	if t, ok := cutSuffix(s, "番"); ok {
		return compoundNumber(t)
	}
	if hasSuffixAny(s, corporateLabels) {
		return ColCorporate
	}
	for _, w := range numberWords {
		if t, ok := cutSuffix(s, string(w)); ok && (len(t) == 0 || !isLetter(t[len(t)-1])) {
			// "<word> Number", "<word> No": the word says which number.
			t = bytes.TrimRight(t, " .")
			switch {
			case len(t) == 0:
				return ColOther
			case bytes.HasSuffix(t, []byte("My")), bytes.HasSuffix(t, []byte("my")), bytes.HasSuffix(t, []byte("MY")),
				bytes.HasSuffix(t, []byte("個人")):
				return ColMyNumber
			case hasSuffixAny(t, phoneLabels):
				return ColPhone
			case hasSuffixAny(t, cardLabels):
				return ColCard
			case bytes.HasSuffix(t, []byte("Corporate")), bytes.HasSuffix(t, []byte("corporate")), bytes.HasSuffix(t, []byte("法人")):
				return ColCorporate
			}
			return ColOther
		}
	}
	if isLetter(s[len(s)-1]) {
		i := len(s)
		for i > 0 && isLetter(s[i-1]) {
			i--
		}
		w := s[i:]
		switch {
		case equalAny(w, phoneLetterLabels):
			return ColPhone
		case equalAny(w, cardLabels):
			return ColCard
		case equalAny(w, otherLabels), adjacent:
			return ColOther
		}
		return ColNone
	}
	switch {
	case hasSuffixAny(s, phoneLabels):
		return ColPhone
	case hasSuffixAny(s, cardLabels):
		return ColCard
	case hasSuffixAny(s, otherLabels):
		return ColOther
	}
	return ColNone
}

// compoundNumber classifies "<t>番号": 電話番号, カード番号, 法人番号 or another
// kind (注文番号, 会員番号, お問い合わせ番号 ...); a bare 番号 or "の番号" names nothing.
func compoundNumber(t []byte) Column {
	switch {
	case hasSuffixAny(t, phoneLabels):
		return ColPhone
	case bytes.HasSuffix(t, []byte("カード")), bytes.HasSuffix(t, []byte("クレジット")), bytes.HasSuffix(t, []byte("Card")):
		return ColCard
	case bytes.HasSuffix(t, []byte("法人")), bytes.HasSuffix(t, []byte("法人等")), bytes.HasSuffix(t, []byte("登録")):
		return ColCorporate
	case bytes.HasSuffix(t, []byte("個人")), bytes.HasSuffix(t, []byte("マイナンバー")):
		return ColMyNumber
	}
	r, _ := utf8.DecodeLastRune(t)
	switch {
	case r == utf8.RuneError, r == 'の', r == '\t', r == ',', r == '\n', isFiller(r):
		return ColNone
	}
	return ColOther
}

func cutSuffix(s []byte, suf string) ([]byte, bool) {
	if len(s) >= len(suf) && string(s[len(s)-len(suf):]) == suf {
		return s[:len(s)-len(suf)], true
	}
	return s, false
}

func equalAny(s []byte, ws [][]byte) bool {
	for _, w := range ws {
		if bytes.Equal(s, w) {
			return true
		}
	}
	return false
}

// near returns the nearSet bits of the keywords within 96 bytes before
// start (across line ends) or 64 bytes after end on the same line.
func (st *scanState) near(start, end int) uint32 {
	return nearSet.find(st.window(start, 96)) | nearSet.find(st.lineAfter(end, 64))
}
