package detectors

import "bytes"

// maxLine bounds how much of a line without a line end a Scan holds before
// it cuts: a value longer than this is not a value any detector looks for.
const maxLine = 64 << 10

// Engine is the set of detectors in force. It is immutable and safe for
// concurrent use; each part gets its own Scan.
type Engine struct {
	dets []Detector
}

// NewEngine returns an engine running dets in order.
func NewEngine(dets ...Detector) *Engine { return &Engine{dets: dets} }

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
}

// NewScan starts scanning the part at path (the path is recorded with each
// value so that reports can say where it was found).
func (e *Engine) NewScan(path string) *Scan {
	s := &Scan{e: e, path: path, tally: NewTally()}
	s.ctx.reset()
	return s
}

// Write feeds text. It never fails.
func (s *Scan) Write(p []byte) (int, error) {
	n := len(p)
	if len(s.pending) > 0 {
		i := bytes.LastIndexByte(p, '\n')
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

// flushPending scans an over-long line up to a rune boundary.
func (s *Scan) flushPending() {
	cut := len(s.pending)
	for cut > 0 && cut > len(s.pending)-4 && s.pending[cut-1]&0xC0 == 0x80 {
		cut--
	}
	if cut > 0 && s.pending[cut-1] >= 0xC0 { // cut before an incomplete lead byte
		cut--
	}
	s.scan(s.pending[:cut])
	s.pending = append(s.pending[:0], s.pending[cut:]...)
}

// WriteString is Write for strings.
func (s *Scan) WriteString(str string) (int, error) { return s.Write([]byte(str)) }

func (s *Scan) scan(text []byte) {
	if len(text) == 0 {
		return
	}
	emit := func(m Match) { s.tally.Add(m, s.path) }
	for _, d := range s.e.dets {
		d.Scan(text, &s.ctx, emit)
	}
	s.ctx.advance(text)
}

// Close scans what is left and returns the tally of the part.
func (s *Scan) Close() *Tally {
	if len(s.pending) > 0 {
		s.scan(s.pending)
		s.pending = nil
	}
	return s.tally
}
