package detectors

import (
	"bytes"
	"sync"
)

// maxLine bounds how much of a line without a line end a Scan holds before
// it cuts: a value longer than this is not a value any detector looks for.
const maxLine = 64 << 10

// chainDetector is implemented by the built-in digit detectors (My Number,
// corporate number, phone, card). An Engine cuts each chunk into chains of
// digit runs once and hands every chain to all of them, instead of letting
// each scan the text on its own.
type chainDetector interface {
	Detector
	scanChain(st *scanState, c *chain, emit func(Match))
}

// stateDetector is implemented by built-in detectors that scan the chunk on
// their own (the address detector) but share the Scan's state: its tally, to
// skip values already counted, and scratch buffers.
type stateDetector interface {
	Detector
	scanText(st *scanState, emit func(Match))
}

// scanAlone is Scan for a chain detector used outside an Engine.
func scanAlone(d chainDetector, text []byte, ctx *Context, emit func(Match)) {
	var st scanState
	st.begin(text, ctx)
	for st.tok.next() {
		if c := &st.tok.c; c.total >= 10 || c.exponentAfter() {
			d.scanChain(&st, c, emit)
		}
	}
}

// Engine is the set of detectors in force. It is immutable and safe for
// concurrent use; each part gets its own Scan.
type Engine struct {
	dets  []Detector
	chain []chainDetector  // the built-in digit detectors, run on shared chains
	state []stateDetector  // built-in detectors that share the Scan's state
	addr  *addressDetector // the address detector, fed by the chain tokenizer
	other []Detector       // every other detector, run on the text
}

// NewEngine returns an engine running dets. Values are reported in text
// order per detector; the order between detectors is not specified.
func NewEngine(dets ...Detector) *Engine {
	e := &Engine{dets: dets}
	for _, d := range dets {
		if cd, ok := d.(chainDetector); ok {
			e.chain = append(e.chain, cd)
		} else if ad, ok := d.(*addressDetector); ok && e.addr == nil {
			e.addr = ad
		} else if sd, ok := d.(stateDetector); ok {
			e.state = append(e.state, sd)
		} else {
			e.other = append(e.other, d)
		}
	}
	return e
}

// Detectors returns the detectors of the engine.
func (e *Engine) Detectors() []Detector { return e.dets }

// Scan is the detection of one part. Write text into it (any chunking; it
// splits at line ends), then Close to get the tally.
type Scan struct {
	e       *Engine
	path    string
	ctx     Context
	pending []byte
	tally   *Tally
	emit    func(Match)
	st      scanState
	addr    addrScan
	// chain and addrOn are the engine's built-in detectors whose values
	// can still change the tally: a detector whose count is saturated with
	// every value at High confidence (a large roster) is dropped, since
	// whatever it finds next is not counted.
	chain  []chainDetector
	addrOn bool
	marks  *marks // the tokenizer's mark lists, from markPool until Close
}

// marks are a tokenizer's lists of anchors; they are kept across scans
// (markPool) so that a part does not grow them afresh from nothing.
type marks struct{ runs, kanji []int }

var markPool = sync.Pool{New: func() any {
	return &marks{runs: make([]int, 0, maxMarks+8), kanji: make([]int, 0, maxMarks+8)}
}}

// NewScan starts scanning the part at path (the path is recorded with each
// value so that reports can say where it was found).
func (e *Engine) NewScan(path string) *Scan {
	s := &Scan{e: e, path: path, tally: NewTally(), chain: e.chain, addrOn: e.addr != nil}
	s.ctx.reset()
	s.emit = func(m Match) { s.tally.Add(m, s.path) }
	s.st.tally = s.tally
	s.marks = markPool.Get().(*marks)
	s.st.tok.runs, s.st.tok.kanji = s.marks.runs[:0], s.marks.kanji[:0]
	return s
}

// Write feeds text. It never fails.
func (s *Scan) Write(p []byte) (int, error) {
	n := len(p)
	if len(s.pending) > 0 {
		// Complete the pending line alone; the whole lines after it are
		// scanned in place, not copied.
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.pending = append(s.pending, p...)
			if len(s.pending) >= maxLine {
				s.flushPending()
			}
			return n, nil
		}
		s.pending = append(s.pending, p[:i+1]...)
		s.scan(s.pending)
		s.pending = s.pending[:0]
		p = p[i+1:]
	}
	if i := bytes.LastIndexByte(p, '\n'); i >= 0 {
		s.scan(p[:i+1])
		p = p[i+1:]
	}
	s.pending = append(s.pending, p...)
	if len(s.pending) >= maxLine {
		s.flushPending()
	}
	return n, nil
}

// flushPending scans an over-long line up to a point where no value can be
// cut: between two characters that are neither digits, letters nor
// separators (so the result does not depend on how the line was written).
// Without such a point in the last 4 KiB it cuts at a rune boundary.
func (s *Scan) flushPending() {
	p := s.pending
	cut := safeCut(p, max(0, len(p)-4096))
	if cut <= 0 {
		cut = len(p)
		for cut > 0 && cut > len(p)-4 && p[cut-1]&0xC0 == 0x80 {
			cut--
		}
		if cut > 0 && p[cut-1] >= 0xC0 { // cut before an incomplete lead byte
			cut--
		}
	}
	s.scan(p[:cut])
	s.pending = append(s.pending[:0], p[cut:]...)
}

// safeCut returns the last offset > floor in p where the character before
// and the character after are both plain (not part of any value), or -1.
func safeCut(p []byte, floor int) int {
	for i := len(p) - 8; i > floor; i-- {
		if p[i]&0xC0 == 0x80 { // not a rune start
			continue
		}
		if plainAt(p, i) && i >= 3 && plainBefore(p, i) {
			return i
		}
	}
	return -1
}

// plainAt reports a character at p[i] that cannot belong to or introduce a
// value: kanji, kana other than ー, or ASCII punctuation other than the
// separators and signs.
func plainAt(p []byte, i int) bool {
	b := p[i]
	if b < 0x80 {
		return !isLetter(b) && b-'0' > 9 && !bytes.ContainsRune([]byte(" -.+()#:\t"), rune(b))
	}
	if b < 0xE3 || b > 0xE9 || i+2 >= len(p) {
		return false
	}
	if b == 0xE3 && (p[i+1] == 0x80 || (p[i+1] == 0x83 && p[i+2] == 0xBC)) {
		return false // CJK punctuation and spaces, ー
	}
	return true
}

func plainBefore(p []byte, i int) bool {
	if p[i-1] < 0x80 {
		return plainAt(p, i-1)
	}
	return i >= 3 && p[i-3]&0xF0 == 0xE0 && plainAt(p, i-3)
}

// WriteString is Write for strings.
func (s *Scan) WriteString(str string) (int, error) { return s.Write([]byte(str)) }

func (s *Scan) scan(text []byte) {
	if len(text) == 0 {
		return
	}
	s.prune()
	if len(s.e.other) > 0 {
		s.ctx.settle() // other detectors read the header in force from the context
	}
	// An address names its place in kanji or kana: text that is all ASCII
	// holds none, and the tokenizer need not record anchors for it.
	addrOn := s.addrOn && asciiEnd(text, 0) < len(text)
	var st *scanState
	if len(s.chain) > 0 || len(s.e.state) > 0 || addrOn {
		st = &s.st
		st.begin(text, &s.ctx)
		if addrOn {
			// The address detector runs on the anchors the tokenizer
			// records in the same pass.
			st.tok.mark = true
			s.addr = addrScan{}
		}
		for {
			for st.tok.next() {
				c := &st.tok.c
				if len(st.tok.kanji)+len(st.tok.runs) >= maxMarks {
					s.e.addr.drain(&s.addr, st, s.emit)
				}
				if c.total < 10 && !c.exponentAfter() {
					continue
				}
				for _, d := range s.chain {
					d.scanChain(st, c, s.emit)
				}
			}
			if !st.tok.paused {
				break
			}
			s.e.addr.drain(&s.addr, st, s.emit)
		}
		if addrOn {
			s.e.addr.drain(&s.addr, st, s.emit)
		}
		for _, d := range s.e.state {
			d.scanText(st, s.emit)
		}
	}
	for _, d := range s.e.other {
		d.Scan(text, &s.ctx, s.emit)
	}
	s.ctx.advanceLazy(text, st)
}

// prune drops the built-in detectors whose values can no longer change the
// tally (see Tally.full).
func (s *Scan) prune() {
	if s.addrOn && s.tally.full(Address) {
		s.addrOn = false
	}
	for i := 0; i < len(s.chain); i++ {
		if s.tally.full(s.chain[i].ID()) {
			// Copy: s.chain may still be the engine's slice.
			s.chain = append(append([]chainDetector(nil), s.chain[:i]...), s.chain[i+1:]...)
			i--
		}
	}
}

// Close scans what is left and returns the tally of the part.
func (s *Scan) Close() *Tally {
	if len(s.pending) > 0 {
		s.scan(s.pending)
		s.pending = nil
	}
	s.ctx.release() // the header after the last chunk is never needed
	if m := s.marks; m != nil {
		// Keep what the lists grew to; this scan no longer holds them.
		m.runs, m.kanji = s.st.tok.runs[:0], s.st.tok.kanji[:0]
		s.st.tok.runs, s.st.tok.kanji, s.marks = nil, nil, nil
		markPool.Put(m)
	}
	return s.tally
}
