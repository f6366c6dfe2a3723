package gateway

import (
	"errors"
	"io"
	"runtime"
	"sync"

	"github.com/sekisho-dlp/sekisho/detectors"
)

// Text moves from extraction to detection in chunks: textChunk bytes each,
// at most textChunks of them in flight (a message costs at most
// textChunks*textChunk bytes of buffers, however large its parts).
const (
	textChunk  = 128 << 10
	textChunks = 8
)

// chunkPool keeps text chunk buffers across items, so that inspecting a
// small message or upload does not allocate a fresh 128 KiB each time.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, textChunk); return &b }}

func getChunk() []byte  { return *chunkPool.Get().(*[]byte) }
func putChunk(b []byte) { b = b[:cap(b)]; chunkPool.Put(&b) }

// maxDetectors is how many detection goroutines one item may use: each
// large part goes to one of them (a part's text must be scanned in order),
// the next large part to the next one.
const maxDetectors = 2

// scanText writes all of text, the text of part i, into s and returns the
// bytes read and the read error (nil at the end of the text). The tally of
// the part is recorded with setTally, now or, for a part detected on the
// pipeline, by finish.
//
// Extraction runs in text's Read calls (transfer decoding, decompression,
// charset conversion) and detection in s.Write. A part that fits in one
// chunk (a subject, a mail body) is scanned right here. A larger one is
// handed to a detection goroutine chunk by chunk, so that extraction and
// detection overlap, across parts too: the walk goes on to the next part
// while the detection of this one finishes, and the next large part goes
// to another detection goroutine.
func (c *collector) scanText(i int, s *detectors.Scan, text io.Reader) (int64, error) {
	b := c.buffer()
	m, err := readChunk(text, b)
	if err != nil {
		s.Write(b[:m])
		c.setTally(i, s.Close())
		c.release(b)
		return int64(m), endOK(err)
	}
	if c.pipe == nil {
		c.pipe = startDetectPipe()
		c.first = nil // b now belongs to the pipeline's pool
	}
	p := c.pipe
	d := p.dets[p.next]
	p.next = (p.next + 1) % len(p.dets)
	d.work <- detectWork{s: s, b: b[:m]}
	n := int64(m)
	for err == nil {
		b := <-p.free
		m, err = readChunk(text, b)
		n += int64(m)
		if m > 0 {
			d.work <- detectWork{s: s, b: b[:m]}
		} else {
			p.free <- b
		}
	}
	d.work <- detectWork{s: s, part: i, end: true}
	return n, endOK(err)
}

// buffer returns a chunk buffer: from the pipeline's pool once it runs
// (waiting for the detection to give one back), else the collector's own.
func (c *collector) buffer() []byte {
	if c.pipe != nil {
		return <-c.pipe.free
	}
	if c.first == nil {
		c.first = getChunk()
	}
	return c.first
}

// release gives back a buffer that buffer returned.
func (c *collector) release(b []byte) {
	if c.pipe != nil {
		c.pipe.free <- b[:cap(b)]
	}
}

// finish waits for the detection goroutines to scan what they were given
// and records the tallies of their parts. It must be called once the walk
// is over, whatever its outcome. A panic of a detector fails the item.
func (c *collector) finish() error {
	if c.first != nil {
		putChunk(c.first)
		c.first = nil
	}
	p := c.pipe
	if p == nil {
		return nil
	}
	c.pipe = nil
	// Every buffer is back in p.free once the detectors are done: return
	// them to the pool.
	defer func() {
		for {
			select {
			case b := <-p.free:
				putChunk(b)
			default:
				return
			}
		}
	}()
	var panicked any
	for _, d := range p.dets {
		close(d.work)
		<-d.done
		for _, r := range d.results {
			c.setTally(r.part, r.tally)
		}
		if panicked == nil {
			panicked = d.panicked
		}
	}
	if panicked != nil {
		// The panic value of a runtime error says where, never what was
		// scanned; any other value is not shown.
		msg := "inspect: a detector failed"
		if re, ok := panicked.(runtime.Error); ok {
			msg += ": " + re.Error()
		}
		return errors.New(msg)
	}
	return nil
}

// detectPipe is the detection goroutines of one item and their chunk pool.
type detectPipe struct {
	dets []*detector
	next int         // the detector of the next large part
	free chan []byte // the pool: textChunks buffers
}

// detector is one detection goroutine.
type detector struct {
	work chan detectWork // chunks and part ends, in order
	free chan []byte     // the pipe's pool
	done chan struct{}   // closed when the goroutine has drained work
	// Owned by the goroutine until done is closed.
	results  []detectResult
	panicked any
}

// detectWork is a chunk of the text of the part scanned by s, or (end) the
// end of part number part.
type detectWork struct {
	s    *detectors.Scan
	b    []byte
	end  bool
	part int
}

type detectResult struct {
	part  int
	tally *detectors.Tally
}

// startDetectPipe starts the detection goroutines (two, or one when Go
// may use a single CPU) with a pool of textChunks-1 buffers (the caller
// holds the last one and hands it over as its first chunk).
func startDetectPipe() *detectPipe {
	p := &detectPipe{free: make(chan []byte, textChunks)}
	for range textChunks - 1 {
		p.free <- getChunk()
	}
	n := min(maxDetectors, runtime.GOMAXPROCS(0))
	for range n {
		d := &detector{work: make(chan detectWork, textChunks+1), free: p.free, done: make(chan struct{})}
		p.dets = append(p.dets, d)
		go d.run()
	}
	return p
}

// run scans the chunks in order. After a panic it only drains (and gives
// the buffers back, so that extraction never blocks).
func (d *detector) run() {
	defer close(d.done)
	for w := range d.work {
		if w.end {
			if d.panicked == nil {
				var t *detectors.Tally
				if d.panicked = guard(func() { t = w.s.Close() }); d.panicked == nil {
					d.results = append(d.results, detectResult{part: w.part, tally: t})
				}
			}
			continue
		}
		if d.panicked == nil {
			d.panicked = guard(func() { w.s.Write(w.b) })
		}
		d.free <- w.b[:cap(w.b)]
	}
}

// guard runs f and returns the value of its panic, if any.
func guard(f func()) (panicked any) {
	defer func() { panicked = recover() }()
	f()
	return nil
}

// readChunk fills b from r. It returns len(b) and nil when b is full, else
// the bytes read and the error that stopped it (io.EOF at the end).
func readChunk(r io.Reader, b []byte) (int, error) {
	n, empty := 0, 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m > 0 {
			empty = 0
		} else if empty++; empty >= 100 {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}

// endOK maps io.EOF, the normal end of a text, to nil.
func endOK(err error) error {
	if err == io.EOF {
		return nil
	}
	return err
}
