package detectors

import (
	"encoding/binary"
	"math/bits"
)

// This file holds what the digit detectors (My Number, corporate number,
// phone, card) share: recognising ASCII and full-width digits and the
// separators people put between digit groups, a word-at-a-time search for the
// next digit, and the tokeniser that cuts text into chains of digit runs.

// digitAt returns the ASCII digit at text[i] ('0'..'9' or full-width ０..９,
// U+FF10..U+FF19 = EF BC 90..99) and its width in bytes; w is 0 if there is
// no digit at i.
func digitAt(text []byte, i int) (d byte, w int) {
	b := text[i]
	if b-'0' <= 9 {
		return b, 1
	}
	if b == 0xEF && i+2 < len(text) && text[i+1] == 0xBC && text[i+2]-0x90 <= 9 {
		return '0' + text[i+2] - 0x90, 3
	}
	return 0, 0
}

// digitBefore reports whether a digit ends just before i.
func digitBefore(text []byte, i int) bool {
	if i <= 0 {
		return false
	}
	if b := text[i-1]; b-'0' <= 9 {
		return true
	}
	return i >= 3 && text[i-3] == 0xEF && text[i-2] == 0xBC && text[i-1]-0x90 <= 9
}

const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
	swarLow7 = 0x7f7f7f7f7f7f7f7f
)

// candMask flags (in the high bit of each byte) the bytes of x that are an
// ASCII digit or 0xEF, the lead byte of full-width digits. The lowest flagged
// byte is always exact (the zero-byte test can only over-report above a true
// hit), which is all nextDigit relies on.
func candMask(x uint64) uint64 {
	t := x & swarLow7
	ge0 := t + (0x80-'0')*swarOnes    // high bit set where t >= '0'
	gt9 := t + (0x80-'9'-1)*swarOnes  // high bit set where t > '9'
	dig := ge0 &^ gt9 &^ x & swarHigh // '0' <= byte <= '9', high bit clear
	y := x ^ (0xEF * swarOnes)        // zero bytes where x == 0xEF
	ef := (y - swarOnes) &^ y & swarHigh
	return dig | ef
}

// nextDigit returns the index of the first digit (ASCII or full-width) in
// text at or after i, or -1. It tests eight bytes at a time.
func nextDigit(text []byte, i int) int {
	for i >= 0 && i+16 <= len(text) {
		w := text[i : i+16 : i+16]
		m := candMask(binary.LittleEndian.Uint64(w))
		m2 := candMask(binary.LittleEndian.Uint64(w[8:]))
		if m|m2 == 0 {
			i += 16
			continue
		}
		if m == 0 {
			m, i = m2, i+8
		}
		j := i + bits.TrailingZeros64(m)>>3
		if _, w := digitAt(text, j); w > 0 {
			return j
		}
		i = j + 1
	}
	for i+8 <= len(text) {
		m := candMask(binary.LittleEndian.Uint64(text[i:]))
		if m == 0 {
			i += 8
			continue
		}
		j := i + bits.TrailingZeros64(m)>>3
		if _, w := digitAt(text, j); w > 0 {
			return j
		}
		i = j + 1
	}
	for ; i < len(text); i++ {
		if _, w := digitAt(text, i); w > 0 {
			return i
		}
	}
	return -1
}

// asciiEnd returns the offset of the first byte at or after i that is not
// ASCII, or len(text). It tests eight bytes at a time.
func asciiEnd(text []byte, i int) int {
	for ; i+8 <= len(text); i += 8 {
		if m := binary.LittleEndian.Uint64(text[i:]) & swarHigh; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < len(text) && text[i] < 0x80 {
		i++
	}
	return i
}

// dashAt returns the width of a hyphen or dash at text[i], or 0. The class
// is the one Japanese text uses between digit groups: - ‐ ‑ ‒ – — ― − ー －
// ｰ ﹣ (only between digits: ー is also the long-vowel mark).
func dashAt(text []byte, i int) int {
	if i >= len(text) {
		return 0
	}
	switch b := text[i]; {
	case b == '-':
		return 1
	case b < 0xE2 || b > 0xEF || i+2 >= len(text):
		return 0
	}
	b1, b2 := text[i+1], text[i+2]
	switch text[i] {
	case 0xE2:
		if (b1 == 0x80 && b2 >= 0x90 && b2 <= 0x95) || (b1 == 0x88 && b2 == 0x92) {
			return 3 // U+2010..U+2015, U+2212
		}
	case 0xE3:
		if b1 == 0x83 && b2 == 0xBC {
			return 3 // U+30FC ー
		}
	case 0xEF:
		if (b1 == 0xBC && b2 == 0x8D) || (b1 == 0xBD && b2 == 0xB0) || (b1 == 0xB9 && b2 == 0xA3) {
			return 3 // U+FF0D －, U+FF70 ｰ, U+FE63 ﹣
		}
	}
	return 0
}

// spaceAt returns the width of a space between digit groups at text[i]
// (ASCII space, NBSP, U+3000 ideographic space), or 0. Tabs are cell
// delimiters, not group separators.
func spaceAt(text []byte, i int) int {
	if i >= len(text) {
		return 0
	}
	switch text[i] {
	case ' ':
		return 1
	case 0xC2:
		if i+1 < len(text) && text[i+1] == 0xA0 {
			return 2
		}
	case 0xE3:
		if i+2 < len(text) && text[i+1] == 0x80 && text[i+2] == 0x80 {
			return 3
		}
	}
	return 0
}

// openAt and closeAt return the width of an ASCII or full-width parenthesis.
func openAt(text []byte, i int) int {
	if i >= len(text) {
		return 0
	}
	if text[i] == '(' {
		return 1
	}
	if text[i] == 0xEF && i+2 < len(text) && text[i+1] == 0xBC && text[i+2] == 0x88 {
		return 3
	}
	return 0
}

func closeAt(text []byte, i int) int {
	if i >= len(text) {
		return 0
	}
	if text[i] == ')' {
		return 1
	}
	if text[i] == 0xEF && i+2 < len(text) && text[i+1] == 0xBC && text[i+2] == 0x89 {
		return 3
	}
	return 0
}

func dotAt(text []byte, i int) int {
	if i >= len(text) {
		return 0
	}
	if text[i] == '.' {
		return 1
	}
	if text[i] == 0xEF && i+2 < len(text) && text[i+1] == 0xBC && text[i+2] == 0x8E {
		return 3 // ．
	}
	return 0
}

// plusBefore returns the width of a + or ＋ ending just before i, or 0.
func plusBefore(text []byte, i int) int {
	if i >= 1 && text[i-1] == '+' {
		return 1
	}
	if i >= 3 && text[i-3] == 0xEF && text[i-2] == 0xBC && text[i-1] == 0x8B {
		return 3
	}
	return 0
}

// openBefore returns the width of a ( or （ ending just before i, or 0.
func openBefore(text []byte, i int) int {
	if i >= 1 && text[i-1] == '(' {
		return 1
	}
	if i >= 3 && text[i-3] == 0xEF && text[i-2] == 0xBC && text[i-1] == 0x88 {
		return 3
	}
	return 0
}

func isLetter(b byte) bool { return (b|0x20)-'a' < 26 }

// letterBefore and letterAfter report an ASCII letter touching [start,end).
func letterBefore(text []byte, start int) bool { return start > 0 && isLetter(text[start-1]) }
func letterAfter(text []byte, end int) bool    { return end < len(text) && isLetter(text[end]) }

// sepKind says how a digit run is joined to the next one.
type sepKind uint8

const (
	sepNone  sepKind = iota // not joined: the next run (if any) is a separate value
	sepDash                 // one dash-class character, optionally with a space either side
	sepSpace                // one space character
	sepDot                  // . or ．
	sepOpen                 // ( or （, optionally after a space: 03(1234)5678, +81 (0)3
	sepClose                // ) or ）, optionally followed by a space or a dash: (03)1234-5678
)

// joinAt classifies the gap starting at i (just after a digit run). It
// returns sepNone unless the gap is one of the separator forms and a digit
// follows it; next is the index of that digit.
func joinAt(text []byte, i int) (k sepKind, next int) {
	if i >= len(text) {
		return sepNone, i
	}
	switch b := text[i]; {
	case b < 0x80:
		if b != ' ' && b != '-' && b != '.' && b != '(' && b != ')' {
			return sepNone, i
		}
	case b != 0xE2 && b != 0xE3 && b != 0xEF && b != 0xC2:
		return sepNone, i
	}
	j := i
	if w := spaceAt(text, j); w > 0 {
		j += w
		if w := dashAt(text, j); w > 0 {
			j += w
			j += spaceAt(text, j)
			k = sepDash
		} else if w := openAt(text, j); w > 0 {
			j += w
			k = sepOpen
		} else {
			k = sepSpace
		}
	} else if w := dashAt(text, j); w > 0 {
		j += w
		j += spaceAt(text, j)
		k = sepDash
	} else if w := dotAt(text, j); w > 0 {
		j += w
		k = sepDot
	} else if w := openAt(text, j); w > 0 {
		j += w
		k = sepOpen
	} else if w := closeAt(text, j); w > 0 {
		j += w
		if w := spaceAt(text, j); w > 0 {
			j += w
		} else {
			j += dashAt(text, j)
		}
		k = sepClose
	} else {
		return sepNone, i
	}
	if j >= len(text) {
		return sepNone, i
	}
	if _, w := digitAt(text, j); w == 0 {
		return sepNone, i
	}
	return k, j
}

// run is one maximal run of digits.
type run struct {
	start, end int     // byte offsets of the run in the text
	n          int     // number of digits (may exceed what digits holds)
	d0, d1     int     // the run's ASCII digits are chain.digits[d0:d1]
	sep        sepKind // how the run is joined to the next run of the chain
}

// maxRuns bounds the runs of one chain; a longer chain is cut (the cut is
// visible to detectors through chain.before and chain.after).
const maxRuns = 32

// maxRunDigits bounds the digits kept per run: no detector looks at a run
// longer than 19 digits except to reject it.
const maxRunDigits = 24

// chain is a sequence of digit runs joined by separators, such as
// "03-1234-5678" or "1234 5678 9018" or "+81 (0)3-1234-5678" (the + is not
// part of the chain; detectors look at the text around it).
type chain struct {
	text   []byte
	runs   []run
	digits []byte
	before sepKind // join from a previous run cut off by maxRuns (normally sepNone)
	after  sepKind // join to a following run cut off by maxRuns (normally sepNone)
	total  int     // digits in the chain
}

// digitsOf returns the ASCII digits of run i.
func (c *chain) digitsOf(i int) []byte { return c.digits[c.runs[i].d0:c.runs[i].d1] }

// sepBefore returns how run i is joined to the run before it.
func (c *chain) sepBefore(i int) sepKind {
	if i == 0 {
		return c.before
	}
	return c.runs[i-1].sep
}

// sepAfter returns how run i is joined to the run after it.
func (c *chain) sepAfter(i int) sepKind {
	if i == len(c.runs)-1 {
		if c.runs[i].sep != sepNone {
			return c.runs[i].sep
		}
		return c.after
	}
	return c.runs[i].sep
}

// tokenizer cuts text into chains. Its buffers are reused from chain to chain
// (and, in an Engine, from chunk to chunk).
type tokenizer struct {
	text  []byte
	pos   int
	carry sepKind // join into the next chain when a chain was cut at maxRuns
	c     chain

	// With mark set, next also records what the address detector starts
	// from (see addrAnchor), so that it needs no pass of its own: the
	// bounds of every digit run and the start of every 丁目 and 番.
	mark   bool
	paused bool  // next stopped early (returning false) so that the lists can be drained
	runs   []int // start, end of each digit run, in text order
	kanji  []int // offset of each 丁目 and 番, in text order
	ri, ki int   // entries before these have been used
}

// maxMarks bounds the anchors a tokenizer records before they are drained.
const maxMarks = 1024

func (t *tokenizer) reset(text []byte) {
	t.text, t.pos, t.carry = text, 0, sepNone
	t.c.text = text
	t.mark, t.paused = false, false
	t.dropMarks()
}

// dropMarks forgets the recorded anchors.
func (t *tokenizer) dropMarks() {
	t.runs, t.kanji, t.ri, t.ki = t.runs[:0], t.kanji[:0], 0, 0
}

// pairMask flags (in the high bit of each byte) the bytes of x that may
// end 番 (E7 95 AA) or 丁目 (E4 B8 81 E7 9B AE): 0xAA or 0xAE after 0x95 or
// 0x9B. carry is the high bit of byte 0 when the byte before x was 0x95 or
// 0x9B; next is that for the following word. It may flag a byte above a true
// hit (a borrow), never misses one.
func pairMask(x, carry uint64) (m, next uint64) {
	y := x ^ (0x95 * swarOnes)
	z := x ^ (0x9B * swarOnes)
	mid := ((y - swarOnes) &^ y) | ((z - swarOnes) &^ z)
	y = (x | 0x04*swarOnes) ^ (0xAE * swarOnes) // 0xAA or 0xAE
	return (y - swarOnes) &^ y & (mid<<8 | carry) & swarHigh, (mid >> 56) & 0x80
}

// markAt records the 丁目 or 番 ending at text[j], if there is one.
func (t *tokenizer) markAt(j int) {
	text := t.text
	switch text[j] {
	case 0xAE: // 丁目 E4 B8 81 E7 9B AE
		if j >= 5 && text[j-2] == 0xE7 && text[j-1] == 0x9B && text[j-5] == 0xE4 && text[j-4] == 0xB8 && text[j-3] == 0x81 {
			t.kanji = append(t.kanji, j-5)
		}
	case 0xAA: // 番 E7 95 AA
		if j >= 2 && text[j-2] == 0xE7 && text[j-1] == 0x95 {
			t.kanji = append(t.kanji, j-2)
		}
	}
}

// nextDigitMark is nextDigit recording the 丁目 and 番 it passes. It
// returns -2, with t.pos where to go on, when maxMarks are recorded.
func (t *tokenizer) nextDigitMark(i int) int {
	text := t.text
	var carry uint64
	if i > 0 && (text[i-1] == 0x95 || text[i-1] == 0x9B) {
		carry = 0x80
	}
	for i+8 <= len(text) {
		x := binary.LittleEndian.Uint64(text[i:])
		m := candMask(x)
		if x&swarHigh != 0 {
			pm, nc := pairMask(x, carry)
			m, carry = m|pm, nc
		} else {
			carry = 0 // ASCII: no byte of 丁目 or 番 here
		}
		if m == 0 {
			i += 8
			continue
		}
		if len(t.kanji) >= maxMarks {
			t.pos = i
			return -2
		}
		for ; m != 0; m &= m - 1 {
			j := i + bits.TrailingZeros64(m)>>3
			if _, w := digitAt(text, j); w > 0 {
				return j
			}
			t.markAt(j)
		}
		i += 8
	}
	for ; i < len(text); i++ {
		if _, w := digitAt(text, i); w > 0 {
			return i
		}
		t.markAt(i)
	}
	return -1
}

// addrAnchor returns the first anchor of the address detector at or after
// i among those recorded: a digit (ASCII or full-width), 丁目 or 番. ok is
// false when none is recorded there (yet). It is what nextAddrAnchor
// returns, provided the text up to the anchor has been tokenised.
func (t *tokenizer) addrAnchor(i int) (a int, ok bool) {
	text := t.text
	d := -1
	for t.ri < len(t.runs) {
		s, e := t.runs[t.ri], t.runs[t.ri+1]
		if e <= i {
			t.ri += 2
			continue
		}
		if s >= i {
			d = s
			break
		}
		for j := i; j < e; j++ { // i inside the run
			if _, w := digitAt(text, j); w > 0 {
				d = j
				break
			}
		}
		if d >= 0 {
			break
		}
		t.ri += 2
	}
	for t.ki < len(t.kanji) && t.kanji[t.ki] < i {
		t.ki++
	}
	k := -1
	if t.ki < len(t.kanji) {
		k = t.kanji[t.ki]
	}
	switch {
	case d < 0 && k < 0:
		return -1, false
	case d < 0 || (k >= 0 && k < d):
		return k, true
	}
	return d, true
}

// next fills t.c with the next chain and reports whether there was one.
func (t *tokenizer) next() bool {
	text := t.text
	i := t.pos
	t.paused = false
	if t.carry == sepNone {
		for {
			if t.mark {
				if len(t.runs)+len(t.kanji) >= maxMarks {
					t.pos, t.paused = i, true
					return false
				}
				if i = t.nextDigitMark(i); i == -2 {
					t.paused = true
					return false
				}
			} else {
				i = nextDigit(text, i)
			}
			if i < 0 {
				t.pos = len(text)
				return false
			}
			// Most digits in text are short lone numbers (dates, times,
			// amounts): no detector looks at them, so they are passed
			// over without building a chain.
			j := shortLoneRun(text, i)
			if j < 0 {
				break
			}
			if t.mark {
				t.runs = append(t.runs, i, j)
			}
			i = j
		}
	}
	c := &t.c
	c.runs, c.digits, c.total = c.runs[:0], c.digits[:0], 0
	c.before, c.after = t.carry, sepNone
	t.carry = sepNone
	for {
		r := run{start: i, d0: len(c.digits)}
		for i < len(text) {
			d, w := digitAt(text, i)
			if w == 0 {
				break
			}
			if r.n < maxRunDigits {
				c.digits = append(c.digits, d)
			}
			r.n++
			i += w
		}
		r.end, r.d1 = i, len(c.digits)
		if t.mark {
			t.runs = append(t.runs, r.start, r.end)
		}
		c.total += r.n
		k, nx := joinAt(text, i)
		r.sep = k
		c.runs = append(c.runs, r)
		if k == sepNone {
			t.pos = i
			return true
		}
		if len(c.runs) == maxRuns {
			c.runs[len(c.runs)-1].sep = sepNone
			c.after, t.carry, t.pos = k, k, nx
			return true
		}
		i = nx
	}
}

// shortLoneRun returns the end of the run of ASCII digits at i when it is a
// whole chain of fewer than 10 digits with no exponent after it (a chain no
// detector looks at: see Scan.scan), or -1.
func shortLoneRun(text []byte, i int) int {
	j := i
	for j < len(text) && j-i < 10 && text[j]-'0' <= 9 {
		j++
	}
	if j-i >= 10 {
		return -1
	}
	if j < len(text) {
		switch text[j] {
		case ' ', '-', '.', '(', ')', 'e', 'E', 0xC2, 0xE2, 0xE3, 0xEF:
			return -1 // a separator, an exponent or a full-width digit may follow
		}
	}
	return j
}

// exponentAfter reports whether the chain is followed by an exponent mark
// (1.2E+11), which lets a short mantissa stand for a long number.
func (c *chain) exponentAfter() bool {
	e := c.runs[len(c.runs)-1].end
	return e < len(c.text) && c.text[e]|0x20 == 'e'
}

// maskDigits masks all but the last keep digits: "********9018".
func maskDigits(d []byte, keep int) string { return string(appendMaskDigits(nil, d, keep)) }

// appendMaskDigits appends maskDigits(d, keep) to b.
func appendMaskDigits(b, d []byte, keep int) []byte {
	for i := range d {
		if keep < len(d) && i >= len(d)-keep { // a value this short is masked whole
			b = append(b, d[i])
		} else {
			b = append(b, '*')
		}
	}
	return b
}
