package detectors

//go:generate go run ./internal/genmuni

import (
	"encoding/binary"
	"math/bits"
	"sort"
	"strconv"
	"sync"
	"unicode/utf8"
)

// Japanese postal addresses (jp_address).
//
// An address is a place (a municipality such as 千代田区, 横浜市中区 or
// 虻田郡洞爺湖町, optionally preceded by its prefecture, or a prefecture alone),
// then a town name (up to addrMaxTown kana/kanji), then a block number
// (1丁目2番3号, 2番地の3, 1-2-3, １－２－３, 一丁目二番 ...), optionally
// preceded by a postal code (〒100-0001). Without a block number nothing is
// reported: a place name alone, 東京都の施設 or 市役所 is not an address.
//
// The scan is driven by the block number, which is rare in prose: a word-at-a-
// time filter finds ASCII digits, full-width digits, 丁 and 番; only there does
// the detector parse a block and look back for a place name, using a reverse
// trie of the place spellings generated from data/jp-municipalities.csv.

const (
	addrMaxTown   = 20 // runes of town name between the place and the block number
	addrMaxSpaces = 2  // spaces allowed inside the town name
	addrMaxParts  = 4  // numbers in a block: 1-2-3-401
	addrMaxDigits = 5  // digits in one number of a block
	addrMaxKanji  = 6  // kanji numerals in one number of a block
	addrMask      = "****"
)

// placeSpelling is one spelling of a place in the generated table.
type placeSpelling struct {
	name   string // as written in an address, e.g. 横浜市中区, 虻田郡洞爺湖町
	full   string // canonical prefecture + county + municipality + ward
	code   int32  // 6-digit 全国地方公共団体コード
	pref   uint8  // prefecture number, 1..47
	shared bool   // the spelling names more than one place
}

// addrPlaceEntry is what a trie node ending a spelling knows about it.
type addrPlaceEntry struct {
	full   string
	masked string // full + addrMask
	code   int32
	pref   uint8
	isPref bool
	shared bool
}

// addrPlaceIndex is a trie of folded place spellings, read from the last rune
// backwards: an address is found from its block number, so the place name is
// matched right to left. The children of node n are runes[first[n]:first[n+1]]
// (sorted) leading to nodes kids[...]. It is immutable once built.
type addrPlaceIndex struct {
	first []int32
	runes []rune
	kids  []int32
	terms [][]int32 // node -> indexes into ents of the spellings ending there
	ents  []addrPlaceEntry
}

// addrPlaces is the shared place index, built on first use.
var addrPlaces = sync.OnceValue(addrBuildPlaceIndex)

func addrBuildPlaceIndex() *addrPlaceIndex {
	b := &addrTrieBuilder{next: map[uint64]int32{}, terms: [][]int32{nil}}
	for i, p := range prefectureNames() {
		b.add(p, addrPlaceEntry{full: p, code: int32(i + 1), pref: uint8(i + 1), isPref: true})
	}
	for _, s := range placeSpellings() {
		b.add(s.name, addrPlaceEntry{full: s.full, code: s.code, pref: s.pref, shared: s.shared})
	}
	return b.freeze()
}

// addrTrieBuilder builds an addrPlaceIndex.
type addrTrieBuilder struct {
	next  map[uint64]int32 // node<<32 | folded rune -> child node
	terms [][]int32
	ents  []addrPlaceEntry
}

func (b *addrTrieBuilder) add(name string, e addrPlaceEntry) {
	node := int32(0)
	for p := len(name); p > 0; {
		r, size := utf8.DecodeLastRuneInString(name[:p])
		p -= size
		k := uint64(node)<<32 | uint64(addrFoldRune(r))
		child, ok := b.next[k]
		if !ok {
			child = int32(len(b.terms))
			b.terms = append(b.terms, nil)
			b.next[k] = child
		}
		node = child
	}
	e.masked = e.full + addrMask
	b.ents = append(b.ents, e)
	b.terms[node] = append(b.terms[node], int32(len(b.ents)-1))
}

func (b *addrTrieBuilder) freeze() *addrPlaceIndex {
	type edge struct {
		r         rune
		from, kid int32
	}
	edges := make([]edge, 0, len(b.next))
	for k, kid := range b.next {
		edges = append(edges, edge{rune(uint32(k)), int32(k >> 32), kid})
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].from != edges[j].from {
			return edges[i].from < edges[j].from
		}
		return edges[i].r < edges[j].r
	})
	idx := &addrPlaceIndex{first: make([]int32, len(b.terms)+1), terms: b.terms, ents: b.ents}
	for _, e := range edges {
		idx.first[e.from+1]++
		idx.runes = append(idx.runes, e.r)
		idx.kids = append(idx.kids, e.kid)
	}
	for n := 1; n < len(idx.first); n++ {
		idx.first[n] += idx.first[n-1]
	}
	return idx
}

// child returns the child of node along r, or -1.
func (idx *addrPlaceIndex) child(node int32, r rune) int32 {
	lo, hi := idx.first[node], idx.first[node+1]
	for lo < hi {
		m := int32(uint32(lo+hi) >> 1)
		if idx.runes[m] < r {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < idx.first[node+1] && idx.runes[lo] == r {
		return idx.kids[lo]
	}
	return -1
}

// longest finds the longest spelling that ends at text[end] and starts at or
// after floor. It returns its start and entries, or -1.
func (idx *addrPlaceIndex) longest(text []byte, end, floor int) (int, []int32) {
	node, best := int32(0), -1
	var ents []int32
	for p := end; p > floor; {
		r, size := addrRuneBefore(text, floor, p)
		if node = idx.child(node, addrFoldRune(r)); node < 0 {
			break
		}
		p -= size
		if t := idx.terms[node]; t != nil {
			best, ents = p, t
		}
	}
	return best, ents
}

// addressDetector finds Japanese postal addresses.
type addressDetector struct {
	idx *addrPlaceIndex
}

var _ Detector = (*addressDetector)(nil)

func newAddress() *addressDetector { return &addressDetector{idx: addrPlaces()} }

func (*addressDetector) ID() string { return Address }

// Scan reports every address in text.
func (d *addressDetector) Scan(text []byte, _ *Context, emit func(Match)) {
	var key []byte
	d.scan(text, nil, &key, emit)
}

var _ stateDetector = (*addressDetector)(nil)

// scanText is Scan inside an Engine: addresses the Scan's tally already
// counts are not built again, and the key buffer is the Scan's.
func (d *addressDetector) scanText(st *scanState, emit func(Match)) {
	d.scan(st.text, st.tally, &st.addrKey, emit)
}

// scan reports every address in text; key is a scratch buffer. With a tally,
// values it already counts (or that it would drop) are not emitted.
func (d *addressDetector) scan(text []byte, tally *Tally, key *[]byte, emit func(Match)) {
	var sc addrScan
	for sc.i < len(text) {
		a := nextAddrAnchor(text, sc.i)
		if a < 0 {
			return
		}
		d.step(&sc, text, a, tally, key, emit)
	}
}

// addrScan is the state of an address scan of one chunk.
type addrScan struct {
	i     int // where to look for the next anchor
	floor int // the look-back never crosses the previous address
	b     addrBlock
	h     addrHit
}

// step handles the anchor at a (the first at or after sc.i).
func (d *addressDetector) step(sc *addrScan, text []byte, a int, tally *Tally, key *[]byte, emit func(Match)) {
	if s := addrBlockStart(text, a, sc.floor); s >= 0 {
		b, h := &sc.b, &sc.h
		if addrParseBlock(text, s, b) {
			if k, ok := d.place(text, s, sc.floor, b, (*key)[:0], h); ok {
				*key = k
				if tally == nil || !tally.known(Address, k, h.conf) {
					masked := h.masked
					if masked == "" {
						masked = string(k[:h.prefixLen]) + addrMask
					}
					emit(Match{Detector: Address, Start: h.start, End: b.end, Key: string(k), Masked: masked, Confidence: h.conf})
				}
				sc.floor, sc.i = b.end, b.end
				return
			}
		}
	}
	sc.i = addrSkipAnchor(text, a)
}

// drain runs the scan over the anchors the tokenizer has recorded, then
// drops them.
func (d *addressDetector) drain(sc *addrScan, st *scanState, emit func(Match)) {
	t := &st.tok
	for sc.i < len(t.text) {
		a, ok := t.addrAnchor(sc.i)
		if !ok {
			break
		}
		d.step(sc, t.text, a, st.tally, &st.addrKey, emit)
	}
	t.dropMarks()
}

// addrHit is an address found by place, apart from its key.
type addrHit struct {
	start     int
	conf      Confidence
	masked    string // "" when it is the key's first prefixLen bytes + addrMask
	prefixLen int
}

// SWAR constants for the anchor filter.
const (
	addrSwarLo = 0x0101010101010101
	addrSwarHi = 0x8080808080808080
)

// nextAddrAnchor returns the offset of the first anchor at or after i: an
// ASCII digit, a full-width digit, 丁目 or 番. It tests eight bytes at a time
// for the bytes '0'..'9', 0xEF (lead of ０-９) and the two last bytes of 目
// (9B AE) and 番 (95 AA), then verifies the candidates. The byte tests
// (x^c - 0x01..) &^ (x^c) may flag a byte above a true hit (a borrow), never
// miss one. Single bytes of kanji
// are too common to filter on (0x81, the last byte of 丁, is the middle byte
// of every hiragana); byte pairs are rare.
func nextAddrAnchor(text []byte, i int) int {
	const lo, hi = addrSwarLo, addrSwarHi
	start := i
	var carry uint64 // high bit of byte 0: the previous word ended in 0x95 or 0x9B
	for ; i+8 <= len(text); i += 8 {
		x := binary.LittleEndian.Uint64(text[i:])
		y := x ^ (lo * 0x30)
		m := (y - lo*10) &^ y // '0'..'9' (and a few false bytes above one)
		y = x ^ (lo * 0xEF)
		m |= (y - lo) &^ y
		y = x ^ (lo * 0x95)
		z := x ^ (lo * 0x9B)
		mid := ((y - lo) &^ y) | ((z - lo) &^ z)
		y = (x | lo*0x04) ^ (lo * 0xAE)         // 0xAA or 0xAE
		m = (m | (y-lo)&^y&(mid<<8|carry)) & hi // 95 AA, 9B AE
		carry = (mid >> 56) & 0x80
		if m == 0 {
			continue
		}
		for ; m != 0; m &= m - 1 {
			if a := addrAnchorAt(text, i+bits.TrailingZeros64(m)>>3, start); a >= 0 {
				return a
			}
		}
	}
	for ; i < len(text); i++ {
		if a := addrAnchorAt(text, i, start); a >= 0 {
			return a
		}
	}
	return -1
}

// addrAnchorAt checks whether the byte at j belongs to an anchor and returns
// where the anchor starts, or -1.
func addrAnchorAt(text []byte, j, start int) int {
	switch b := text[j]; {
	case b-'0' < 10:
		return j
	case b == 0xEF:
		if j+2 < len(text) && text[j+1] == 0xBC && text[j+2]-0x90 < 10 {
			return j
		}
	case b == 0xAE: // 丁目 E4 B8 81 E7 9B AE
		if j-5 >= start && text[j-2] == 0xE7 && text[j-1] == 0x9B &&
			text[j-5] == 0xE4 && text[j-4] == 0xB8 && text[j-3] == 0x81 {
			return j - 5
		}
	case b == 0xAA: // 番 E7 95 AA
		if j-2 >= start && text[j-2] == 0xE7 && text[j-1] == 0x95 {
			return j - 2
		}
	}
	return -1
}

// addrSkipAnchor returns where to look for the next anchor after the one at
// a failed. After an ASCII digit it skips the whole ASCII run (1,250,000;
// 14:00-15:30; ref. 2024-Q3-07): a block inside it would follow ASCII other
// than spaces, and a block never does. Otherwise it skips the anchor's rune
// and the digits after it.
func addrSkipAnchor(text []byte, a int) int {
	p := a
	if text[a] < utf8.RuneSelf {
		return asciiEnd(text, p)
	}
	_, size := addrRuneAt(text, a)
	p += size
	for p < len(text) {
		if _, n := addrDigitAt(text, p); n > 0 {
			p += n
			continue
		}
		break
	}
	return p
}

// addrBlockStart returns where the number at anchor a starts, or -1. A digit
// starts its number; before 丁 or 番 the number is the kanji numerals before
// them (一丁目, 二番).
//
// The block must follow a town name, a place or a space: a number after
// anything else (1,250,000; 14:00; （１２）) is not a block, and is dropped
// here before any parsing, which keeps digit-rich prose cheap.
func addrBlockStart(text []byte, a, floor int) int {
	s := a
	if text[a] == 0xE4 || text[a] == 0xE7 {
		for k := 0; k < addrMaxKanji && s > floor; k++ {
			r, size := addrRuneBefore(text, floor, s)
			if _, ok := addrKanjiDigit(r); !ok {
				break
			}
			s -= size
		}
		if s == a {
			return -1
		}
	}
	if s == floor {
		return -1 // no room for a place
	}
	if c := text[s-1]; c < utf8.RuneSelf {
		if c != ' ' && c != '\t' {
			return -1
		}
	} else if r, _ := addrRuneBefore(text, floor, s); !addrIsTownRune(r) && r != '\u3000' {
		return -1
	}
	return s
}

// addrBlock is a parsed block number.
type addrBlock struct {
	end  int
	nums [addrMaxParts]int
	n    int
}

type addrBlockUnit uint8

const (
	addrUnitNone   addrBlockUnit = iota
	addrUnitChome                // 丁目
	addrUnitBanchi               // 番地
	addrUnitBan                  // 番
	addrUnitGo                   // 号
	addrUnitRoom                 // 号室
	addrUnitNo                   // の
	addrUnitDash                 // - and its look-alikes
)

type addrNumKind uint8

const (
	addrNumNone addrNumKind = iota
	addrNumDigits
	addrNumKanji
	addrNumBad // digits with a leading zero or too many digits
)

// addrParseBlock parses the block number starting at s.
func addrParseBlock(text []byte, s int, b *addrBlock) bool {
	*b = addrBlock{}
	p, strong := s, false
	needDigits := false // after a dash only digits may follow
	for {
		v, q, kind := addrReadNumber(text, p)
		if kind == addrNumBad || (needDigits && kind == addrNumKanji) {
			return false
		}
		if kind == addrNumNone {
			break // a unit ended the block: 1丁目, 123番地
		}
		if b.n == addrMaxParts {
			return false // 1-2-3-4-5: a code, not an address
		}
		u, r := addrReadUnit(text, q)
		if u == addrUnitRoom {
			if b.n == 0 {
				return false
			}
			break // 401号室 is the room, not the block
		}
		b.nums[b.n] = v
		b.n++
		p = q
		needDigits = false
		switch u {
		case addrUnitChome, addrUnitBanchi, addrUnitBan:
			strong = strong || u != addrUnitBan
			p = r
			if u2, r2 := addrReadUnit(text, p); u2 == addrUnitNo || u2 == addrUnitDash {
				if _, _, k := addrReadNumber(text, r2); k == addrNumDigits || (k == addrNumKanji && u2 == addrUnitNo) {
					p, needDigits = r2, u2 == addrUnitDash
				}
			}
			continue
		case addrUnitGo:
			p = r
		case addrUnitNo, addrUnitDash:
			if _, _, k := addrReadNumber(text, r); k == addrNumDigits || (k == addrNumKanji && u == addrUnitNo) {
				p, needDigits = r, u == addrUnitDash
				continue
			}
			if kind == addrNumKanji {
				return false
			}
		default:
			if kind == addrNumKanji {
				return false // kanji numerals need a unit: 一丁目, 二番
			}
		}
		break
	}
	if b.n == 0 || (b.n == 1 && !strong) {
		return false
	}
	b.end = p
	return !addrBadBlockTail(text, p)
}

// addrBadBlockTail reports whether what follows a block shows that the numbers
// were part of something else: a code (1-2-3A), a decimal or a date.
func addrBadBlockTail(text []byte, p int) bool {
	if p >= len(text) {
		return false
	}
	c := text[p]
	switch {
	case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_':
		if c == 'F' || c == 'f' { // 1-2-3 5F is a floor
			return p+1 < len(text) && addrIsASCIIAlnum(text[p+1])
		}
		return true
	case c == '.' || c == '/' || c == ':':
		return p+1 < len(text) && text[p+1]-'0' < 10
	}
	if u, r := addrReadUnit(text, p); u == addrUnitDash {
		_, n := addrDigitAt(text, r)
		return n > 0
	}
	return false
}

func addrIsASCIIAlnum(c byte) bool {
	return c-'0' < 10 || c|0x20 >= 'a' && c|0x20 <= 'z'
}

// addrDigitAt returns the value and size of an ASCII or full-width digit at p.
func addrDigitAt(text []byte, p int) (int, int) {
	if p >= len(text) {
		return 0, 0
	}
	if c := text[p]; c-'0' < 10 {
		return int(c - '0'), 1
	}
	if p+2 < len(text) && text[p] == 0xEF && text[p+1] == 0xBC && text[p+2]-0x90 < 10 {
		return int(text[p+2] - 0x90), 3
	}
	return 0, 0
}

// addrReadNumber reads one number of a block at p: 1..addrMaxDigits ASCII or
// full-width digits without a leading zero, or kanji numerals.
func addrReadNumber(text []byte, p int) (int, int, addrNumKind) {
	v, n, q := 0, 0, p
	for {
		d, size := addrDigitAt(text, q)
		if size == 0 {
			break
		}
		if n == 0 && d == 0 {
			return 0, p, addrNumBad
		}
		n++
		if n > addrMaxDigits {
			return 0, p, addrNumBad
		}
		v, q = v*10+d, q+size
	}
	if n > 0 {
		return v, q, addrNumDigits
	}
	var ks [addrMaxKanji + 1]int
	for q < len(text) && n <= addrMaxKanji {
		r, size := addrRuneAt(text, q)
		k, ok := addrKanjiDigit(r)
		if !ok {
			break
		}
		ks[n] = k
		n++
		q += size
	}
	if n == 0 {
		return 0, p, addrNumNone
	}
	if n > addrMaxKanji {
		return 0, p, addrNumBad
	}
	v, ok := addrKanjiValue(ks[:n])
	if !ok {
		return 0, p, addrNumBad
	}
	return v, q, addrNumKanji
}

// addrKanjiDigit maps a kanji numeral to its digit, or to -10, -100, -1000 for
// 十, 百, 千.
func addrKanjiDigit(r rune) (int, bool) {
	switch r {
	case '〇', '零':
		return 0, true
	case '一':
		return 1, true
	case '二':
		return 2, true
	case '三':
		return 3, true
	case '四':
		return 4, true
	case '五':
		return 5, true
	case '六':
		return 6, true
	case '七':
		return 7, true
	case '八':
		return 8, true
	case '九':
		return 9, true
	case '十':
		return -10, true
	case '百':
		return -100, true
	case '千':
		return -1000, true
	}
	return 0, false
}

// addrKanjiValue converts kanji numerals: positional (三〇一 = 301) when there is
// no 十百千, else multiplicative (千二百三十四 = 1234, 十一 = 11).
func addrKanjiValue(ks []int) (int, bool) {
	positional := true
	for _, k := range ks {
		if k < 0 {
			positional = false
		}
	}
	v := 0
	if positional {
		if len(ks) > 1 && ks[0] == 0 {
			return 0, false
		}
		for _, k := range ks {
			v = v*10 + k
		}
		return v, v > 0
	}
	cur, last := -1, 10000
	for _, k := range ks {
		if k >= 0 {
			if cur >= 0 {
				return 0, false // 二三十: two digits in a row
			}
			cur = k
			continue
		}
		if -k >= last {
			return 0, false // 十百: units must decrease
		}
		last = -k
		if cur < 0 {
			cur = 1
		}
		v += cur * -k
		cur = -1
	}
	if cur > 0 {
		v += cur
	}
	return v, v > 0
}

// addrReadUnit reads what follows a number of a block at p and returns the offset
// after it.
func addrReadUnit(text []byte, p int) (addrBlockUnit, int) {
	if p >= len(text) {
		return addrUnitNone, p
	}
	if text[p] == '-' {
		return addrUnitDash, p + 1
	}
	r, size := addrRuneAt(text, p)
	q := p + size
	switch r {
	case '丁':
		if r2, s2 := addrRuneAt(text, q); r2 == '目' {
			return addrUnitChome, q + s2
		}
	case '番':
		if r2, s2 := addrRuneAt(text, q); r2 == '地' {
			return addrUnitBanchi, q + s2
		}
		return addrUnitBan, q
	case '号':
		if r2, _ := addrRuneAt(text, q); r2 == '室' {
			return addrUnitRoom, q
		}
		return addrUnitGo, q
	case 'の', 'ノ':
		return addrUnitNo, q
	default:
		if addrIsDash(r) {
			return addrUnitDash, q
		}
	}
	return addrUnitNone, p
}

// addrIsDash reports the hyphen look-alikes written between the numbers of a block.
func addrIsDash(r rune) bool {
	switch r {
	case '-', '‐', '‑', '‒', '–', '—', '―', '−', 'ー', '－', 'ｰ', '﹣', '⁃':
		return true
	}
	return false
}

// addrRuneAt decodes the rune at p: inline for ASCII and three-byte sequences
// (all of Japanese text), through utf8 otherwise.
func addrRuneAt(text []byte, p int) (rune, int) {
	if p < len(text) {
		c := text[p]
		if c < utf8.RuneSelf {
			return rune(c), 1
		}
		if c&0xF0 == 0xE0 && p+2 < len(text) && text[p+1]&0xC0 == 0x80 && text[p+2]&0xC0 == 0x80 {
			r := rune(c&0x0F)<<12 | rune(text[p+1]&0x3F)<<6 | rune(text[p+2]&0x3F)
			if r >= 0x800 && (r < 0xD800 || r > 0xDFFF) {
				return r, 3
			}
		}
	}
	return utf8.DecodeRune(text[p:])
}

// addrRuneBefore decodes the rune that ends at p, not looking before floor.
func addrRuneBefore(text []byte, floor, p int) (rune, int) {
	if p > floor {
		c := text[p-1]
		if c < utf8.RuneSelf {
			return rune(c), 1
		}
		if p-3 >= floor && text[p-3]&0xF0 == 0xE0 && text[p-2]&0xC0 == 0x80 && c&0xC0 == 0x80 {
			r := rune(text[p-3]&0x0F)<<12 | rune(text[p-2]&0x3F)<<6 | rune(c&0x3F)
			if r >= 0x800 && (r < 0xD800 || r > 0xDFFF) {
				return r, 3
			}
		}
	}
	return utf8.DecodeLastRune(text[floor:p])
}

// addrIsDigitRune reports ASCII and full-width digits.
func addrIsDigitRune(r rune) bool { return '0' <= r && r <= '9' || '０' <= r && r <= '９' }

func addrIsSpace(r rune) bool { return r == ' ' || r == '\u3000' || r == '\t' }

// addrIsPlaceSuffix reports the runes a place spelling ends with.
func addrIsPlaceSuffix(r rune) bool {
	switch r {
	case '都', '道', '府', '県', '市', '区', '町', '村':
		return true
	}
	return false
}

// addrIsTownRune reports the runes of town names (町名, 大字, 字, 通り names):
// kanji, kana and the iteration marks.
func addrIsTownRune(r rune) bool {
	switch {
	case r >= 0x4E00 && r <= 0x9FFF, r >= 0x3400 && r <= 0x4DBF, r >= 0xF900 && r <= 0xFAFF,
		r >= 0x20000 && r <= 0x2FFFF:
		return true
	case r >= 0x3041 && r <= 0x3096, r >= 0x30A1 && r <= 0x30FA, r == 'ー', r == '々', r == '〆',
		r >= 0xFF66 && r <= 0xFF9F:
		return true
	}
	return false
}

func addrIsKanji(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF || r >= 0xF900 && r <= 0xFAFF ||
		r >= 0x20000 && r <= 0x2FFFF || r == '々'
}

func addrIsKatakana(r rune) bool { return r >= 0x30A1 && r <= 0x30FA || r >= 0xFF66 && r <= 0xFF9F }

// addrIsParticle reports hiragana particles that do not occur in town names:
// a town name containing one is a sentence (東京都の施設で1-2).
func addrIsParticle(r rune) bool {
	switch r {
	case 'は', 'を', 'で', 'に', 'へ':
		return true
	}
	return false
}

// addrIsTailParticle reports particles that may occur inside a town name (霞が関,
// みなとみらい) but not at its end, just before the block number.
func addrIsTailParticle(r rune) bool {
	switch r {
	case 'と', 'も', 'が', 'の', 'や':
		return true
	}
	return addrIsParticle(r)
}

// addrFoldRune folds the spelling variants of place names: small ヶ and common
// 異体字.
func addrFoldRune(r rune) rune {
	switch r {
	case 'ヶ', 'ケ':
		return 'ケ'
	case 'ヵ':
		return 'カ'
	case '髙':
		return '高'
	case '﨑':
		return '崎'
	case '鯵':
		return '鰺'
	case '竈':
		return '釜'
	case '檮':
		return '梼'
	}
	return r
}

// place looks back from the block number at s for the place and the postal
// code of the address. It appends the address's key to key and returns it,
// and the rest of the match in h.
func (d *addressDetector) place(text []byte, s, floor int, b *addrBlock, key []byte, h *addrHit) ([]byte, bool) {
	// Walk back over the town name to the nearest place spelling.
	p, steps, spaces := s, 0, 0
	gridDigits := false // digits are town runes only before 条 and 線 (北1条西)
	var ents []int32
	placeStart := -1
	for p > floor {
		r, size := addrRuneBefore(text, floor, p)
		if addrIsPlaceSuffix(r) {
			if st, e := d.idx.longest(text, p, floor); st >= 0 {
				placeStart, ents = st, e
				break
			}
		}
		switch {
		case addrIsSpace(r):
			spaces++
			if spaces > addrMaxSpaces {
				return key, false
			}
		case addrIsTownRune(r):
			gridDigits = r == '条' || r == '線'
			steps++
		case gridDigits && addrIsDigitRune(r):
			steps++
		default:
			return key, false
		}
		if steps > addrMaxTown {
			return key, false
		}
		p -= size
	}
	if placeStart < 0 {
		return key, false
	}
	placeEnd := p
	prefOnly := d.idx.ents[ents[0]].isPref
	// What ends right before the place: a prefecture, or another place
	// (府中市府中町1-2: then the place found is part of the town name).
	before := addrSkipSpacesBack(text, placeStart, floor, 1)
	bst, bents := d.idx.longest(text, before, floor)
	if !prefOnly && bst >= 0 && !d.idx.ents[bents[0]].isPref {
		placeStart, placeEnd, ents = bst, before, bents
		before = addrSkipSpacesBack(text, placeStart, floor, 1)
		bst, bents = d.idx.longest(text, before, floor)
	}
	if !addrTownOK(text, placeEnd, s, prefOnly) {
		return key, false
	}

	start := placeStart
	var pref *addrPlaceEntry
	muni := -1 // index into d.idx.ents, -1 when not resolved to one place
	if prefOnly {
		pref = &d.idx.ents[ents[0]]
	} else {
		if bst >= 0 && d.idx.ents[bents[0]].isPref {
			pe := &d.idx.ents[bents[0]]
			if m := addrResolve(d.idx, ents, pe.pref); m >= 0 {
				pref, muni, start = pe, m, bst
			} else if addrOnlyShared(d.idx, ents, pe.pref) {
				pref, start = pe, bst
			}
		}
		if pref == nil {
			muni = addrResolve(d.idx, ents, 0)
		}
	}

	conf := Medium
	if prefOnly {
		conf = Low
	} else if pref != nil {
		conf = High
	} else if start > floor {
		// A place glued to the end of a longer word (新横浜市...) is doubtful.
		if r, _ := addrRuneBefore(text, floor, start); addrIsKanji(r) || addrIsKatakana(r) {
			conf = Low
		}
	}
	if ps := addrPostalBefore(text, start, floor); ps >= 0 {
		start = ps
		if conf < High {
			conf++
		}
	}

	h.start, h.conf, h.masked = start, conf, ""
	switch {
	case muni >= 0:
		key = append(key, d.idx.ents[muni].full...)
		h.masked = d.idx.ents[muni].masked
	case pref != nil && prefOnly:
		key = append(key, pref.full...)
		h.masked = pref.masked
	case pref != nil:
		key = append(key, pref.full...)
		key = addrAppendFold(key, text[placeStart:placeEnd])
	default:
		key = addrAppendFold(key, text[placeStart:placeEnd])
	}
	h.prefixLen = len(key)
	key = addrAppendTown(key, text[placeEnd:s])
	for i := 0; i < b.n; i++ {
		if i > 0 {
			key = append(key, '-')
		}
		key = strconv.AppendInt(key, int64(b.nums[i]), 10)
	}
	return key, true
}

// addrResolve returns the entry among ents that is the one place with prefecture
// pref (with pref 0: the one place, if the spelling names only one), or -1
// when there is none or several.
func addrResolve(idx *addrPlaceIndex, ents []int32, pref uint8) int {
	found, code := -1, int32(0)
	for _, e := range ents {
		pe := &idx.ents[e]
		if pref == 0 && pe.shared {
			return -1
		}
		if pref != 0 && pe.pref != pref {
			continue
		}
		if found >= 0 && pe.code != code {
			return -1
		}
		found, code = int(e), pe.code
	}
	return found
}

// addrOnlyShared reports whether several entries of ents lie in prefecture pref
// (so the prefecture fits but does not pick one place).
func addrOnlyShared(idx *addrPlaceIndex, ents []int32, pref uint8) bool {
	for _, e := range ents {
		if idx.ents[e].pref == pref {
			return true
		}
	}
	return false
}

// addrSkipSpacesBack steps back over at most max spaces before p.
func addrSkipSpacesBack(text []byte, p, floor, max int) int {
	for k := 0; k < max && p > floor; k++ {
		r, size := addrRuneBefore(text, floor, p)
		if !addrIsSpace(r) {
			break
		}
		p -= size
	}
	return p
}

// addrTownOK checks the town name text[from:to] between the place and the block.
func addrTownOK(text []byte, from, to int, prefOnly bool) bool {
	var last rune
	n := 0
	for p := from; p < to; {
		r, size := addrRuneAt(text, p)
		p += size
		if addrIsSpace(r) {
			continue
		}
		if addrIsParticle(r) || (prefOnly && r != 'が' && addrIsTailParticle(r)) {
			return false
		}
		last = r
		n++
	}
	if prefOnly && n == 0 {
		return false // 東京都1-2: nothing says where
	}
	return n == 0 || !addrIsTailParticle(last)
}

// addrPostalBefore returns the start of a postal code (〒100-0001, 1000001,
// 〒１００－０００１) right before p, or -1.
func addrPostalBefore(text []byte, p, floor int) int {
	q := addrSkipSpacesBack(text, p, floor, 2)
	digits, dash := 0, false
	for q > floor {
		r, size := addrRuneBefore(text, floor, q)
		switch {
		case addrIsDigitRune(r):
			digits++
		case addrIsDash(r) && digits == 4 && !dash:
			dash = true
		default:
			goto done
		}
		q -= size
		if digits == 7 {
			break
		}
	}
done:
	if digits != 7 {
		return -1
	}
	if q > floor {
		r, _ := addrRuneBefore(text, floor, q)
		if addrIsDigitRune(r) || addrIsDash(r) || r < utf8.RuneSelf && addrIsASCIIAlnum(byte(r)) {
			return -1
		}
	}
	m := addrSkipSpacesBack(text, q, floor, 1)
	if m > floor {
		if r, size := addrRuneBefore(text, floor, m); r == '〒' || r == '〶' {
			return m - size
		}
	}
	return q
}

// addrAppendFold appends a written place spelling in key form.
func addrAppendFold(key, b []byte) []byte {
	for p := 0; p < len(b); {
		r, size := addrRuneAt(b, p)
		p += size
		if !addrIsSpace(r) {
			key = utf8.AppendRune(key, addrFoldRune(r))
		}
	}
	return key
}

// addrAppendTown appends the town name in key form: no spaces, ASCII for
// full-width letters and digits, ヶ/ケ/が (before kanji) as ケ, kanji numerals
// before 条 and 線 as digits (北一条西 = 北1条西).
func addrAppendTown(key, b []byte) []byte {
	for p := 0; p < len(b); {
		r, size := addrRuneAt(b, p)
		p += size
		switch {
		case addrIsSpace(r):
			continue
		case r >= '！' && r <= '～':
			r -= '！' - '!'
		case r == 'が':
			if r2, _ := addrRuneAt(b, p); addrIsKanji(r2) {
				r = 'ケ'
			}
		default:
			if _, ok := addrKanjiDigit(r); ok {
				// a run of kanji numerals followed by 条 or 線
				q := p
				var kbuf [addrMaxKanji + 1]int
				ks := kbuf[:0]
				k, _ := addrKanjiDigit(r)
				ks = append(ks, k)
				for q < len(b) && len(ks) <= addrMaxKanji {
					r2, s2 := addrRuneAt(b, q)
					k2, ok2 := addrKanjiDigit(r2)
					if !ok2 {
						break
					}
					ks = append(ks, k2)
					q += s2
				}
				if r2, _ := addrRuneAt(b, q); (r2 == '条' || r2 == '線') && len(ks) <= addrMaxKanji {
					if v, ok := addrKanjiValue(ks); ok {
						key = strconv.AppendInt(key, int64(v), 10)
						p = q
						continue
					}
				}
			}
		}
		key = utf8.AppendRune(key, addrFoldRune(r))
	}
	return key
}
