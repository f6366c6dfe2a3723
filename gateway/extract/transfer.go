package extract

// Content-Transfer-Encoding decoders: base64 and quoted-printable, streamed
// through pooled buffers. A body that cannot be decoded fails the read with
// a transferError, whose reason makes the part uninspectable.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"sync"

	sbase64 "github.com/segmentio/asm/base64"
)

// The base64 decoders: segmentio/asm's decode with AVX2 where the CPU has
// it (about ten times encoding/base64 on clean input) and encoding/base64
// otherwise; same results, same errors. The vectorised one writes scratch
// bytes past what it has decoded, within the decoded length of its input:
// dst must have room for all of it (encoding/base64 asks that too).
var (
	stdBase64    = sbase64.StdEncoding
	rawStdBase64 = sbase64.RawStdEncoding
)

// transferError is a transfer-decoding failure found while reading; its
// reason becomes the part's uninspectable reason.
type transferError struct{ reason string }

func (e *transferError) Error() string { return "extract: " + e.reason }

// transferDecoder decodes a Content-Transfer-Encoding. An unknown encoding
// gives a reason (and r undecoded).
func transferDecoder(cte string, r io.Reader) (io.Reader, string) {
	switch c := strings.ToLower(strings.Trim(strings.TrimSpace(cte), "\"'")); c {
	case "", "7bit", "8bit", "binary", "7-bit", "8-bit":
		return r, ""
	case "base64":
		return newBase64Reader(r), ""
	case "quoted-printable":
		return &qpReader{src: r}, ""
	default:
		return r, "unknown transfer encoding " + safeToken(c)
	}
}

// safeToken shortens a header token for a reason string: printable ASCII,
// at most 40 bytes.
func safeToken(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 40; i++ {
		if c := s[i]; c > 0x20 && c < 0x7F {
			b.WriteByte(c)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

// base64Reader decodes base64 as a stream, ignoring white space, accepting
// a missing final padding and padded chunks concatenated (some encoders
// write them). Anything else fails with transferError "broken base64",
// after the bytes decoded so far.
type base64Reader struct {
	src    io.Reader
	in     []byte // carry + raw input
	carry  int    // undecoded characters kept at the start of in
	padded bool   // the last chunk ended with a padded quantum
	lines  bool   // fillLines may be used (tests compare with it off)
	obuf   []byte
	out    []byte
	err    error
	bufs   *base64Bufs // in and obuf, from base64Pool until release

	rest [128]byte // fillLines' copy of a chunk's unfinished line (a local would escape to the heap)

	// srcErr is the error that came with the last bytes read, kept for the
	// next fill when fillLines took those bytes.
	srcErr error

	stripped int // input bytes that took the stripping path (tests check the line path is used)
}

const base64Chunk = 48 << 10

// base64Bufs are a base64Reader's buffers. They are pooled: every base64
// part needs 84 KiB of them, and fresh ones are memory the GC clears and
// the kernel faults in, per part.
type base64Bufs struct{ in, obuf []byte }

var base64Pool = sync.Pool{New: func() any {
	return &base64Bufs{in: make([]byte, 4+base64Chunk), obuf: make([]byte, (base64Chunk+8)/4*3+3)}
}}

var errDecoderReleased = errors.New("extract: transfer decoder read after its buffers were released")

func newBase64Reader(r io.Reader) *base64Reader {
	b := base64Pool.Get().(*base64Bufs)
	return &base64Reader{src: r, in: b.in, obuf: b.obuf, lines: true, bufs: b}
}

// release gives the buffers back to the pool; a later Read fails.
func (d *base64Reader) release() {
	if d.bufs == nil {
		return
	}
	base64Pool.Put(d.bufs)
	d.bufs, d.in, d.obuf, d.out, d.err = nil, nil, nil, nil, errDecoderReleased
}

// releaseDecoder releases what transferDecoder allocated for dec. The
// walk is synchronous: the caller does so when the part has been read
// (its visitor has returned).
func releaseDecoder(dec io.Reader) {
	if d, ok := dec.(*base64Reader); ok {
		d.release()
	}
}

func (d *base64Reader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		if len(p) >= len(d.obuf) {
			// Room for a whole chunk: decode straight into p (a spooled
			// attachment is read in 64 KiB chunks) instead of copying it
			// there afterwards.
			obuf := d.obuf
			d.obuf = p[:len(obuf)]
			d.fill()
			d.obuf = obuf
			n := len(d.out)
			d.out = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		d.fill()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

func (d *base64Reader) fill() {
	var n int
	rerr := d.srcErr
	if rerr == nil {
		n, rerr = d.src.Read(d.in[d.carry:])
	}
	if d.lines && n > 0 && !d.padded {
		var ok bool
		if n, ok = d.fillLines(n); ok {
			// The end of input (or a read error) that came with these
			// bytes waits for the next fill: the stripping path then
			// decodes the characters carried, as the last ones.
			d.srcErr = rerr
			return
		}
	}
	d.stripped += n
	j, garbage := stripSpace(d.in, d.carry, d.carry+n)
	if garbage {
		d.err = &transferError{reason: reasonBrokenBase64}
		return
	}
	final := rerr != nil
	clean := d.in[:j]
	if d.padded && d.carry == 0 {
		// More padding after a padded quantum that ended the last chunk.
		for len(clean) > 0 && clean[0] == '=' {
			clean = clean[1:]
		}
	}
	if len(clean) > 0 {
		d.padded = false
	}
	o, used, broken := decodeBase64Chunk(d.obuf, clean, final)
	d.out = d.obuf[:o]
	if broken {
		d.err = &transferError{reason: reasonBrokenBase64}
		return
	}
	d.carry = copy(d.in, clean[used:])
	if used > 0 && used == len(clean) && clean[used-1] == '=' {
		d.padded = true
	}
	if final {
		d.err = rerr
	}
}

// stripSpace removes the white space of b[from:to] in place, after the
// clean characters b[:from], and returns the end of the clean characters
// and whether a byte that is neither base64 nor white space was seen. It
// goes eight bytes at a time while none of them is white space or a
// control byte (most of a base64 line).
func stripSpace(b []byte, from, to int) (j int, garbage bool) {
	j = from
	src := b[from:to]
	for i := 0; i < len(src); {
		if i+8 <= len(src) {
			if x := binary.LittleEndian.Uint64(src[i:]); (x-0x2121212121212121)&^x&0x8080808080808080 == 0 {
				binary.LittleEndian.PutUint64(b[j:], x) // j <= from+i: only read bytes are overwritten
				i += 8
				j += 8
				continue
			}
		}
		c := src[i]
		i++
		if c > ' ' {
			b[j] = c
			j++
			continue
		}
		if c != '\n' && c != '\r' && c != ' ' && c != '\t' && c != '\f' && c != '\v' {
			garbage = true
		}
	}
	return j, garbage
}

// fillLines is fill's fast path for base64 as mailers write it — whole
// lines of the alphabet ending in CRLF or LF, no padding yet. The n bytes
// just read (after the clean carry) have their line ends removed in place
// (compactLines), which is all the stripping path would remove from such
// lines; the clean characters are then decoded in one piece, vectorised.
// Only the piece of a line after the last LF is stripped into the carry.
//
// Whenever that would not give exactly what the stripping path gives
// (white space other than line ends, padding, garbage) it reports false, with the
// input left as the stripping path needs it: the carry is then 0 and the
// returned count covers the compacted lines and the unread piece, which
// strip to the same characters as before.
func (d *base64Reader) fillLines(n int) (int, bool) {
	end := bytes.LastIndexByte(d.in[d.carry:d.carry+n], '\n') + 1
	if end == 0 {
		return n, false
	}
	end += d.carry
	k := d.carry + compactLines(d.in[d.carry:end])
	tail := d.in[end : d.carry+n]
	// fallback leaves the compacted lines and the tail together for the
	// stripping path.
	fallback := func() (int, bool) {
		m := k + copy(d.in[k:], tail)
		d.carry = 0
		return m, false
	}
	clean := d.in[:k]
	if bytes.IndexByte(clean, '=') >= 0 {
		return fallback()
	}
	// The lines are decoded up to their last whole quantum; the characters
	// after it (under four: the carry makes the count of a chunk's lines
	// any number) go with the piece after the last line end, which must
	// strip cleanly too (it is short): else the stripping path reports the
	// garbage for the chunk.
	k4 := k / 4 * 4
	rest := d.rest[:]
	if k-k4+len(tail) > len(rest) {
		return fallback()
	}
	over := copy(rest, clean[k4:])
	copy(rest[over:], tail)
	r, garbage := stripSpace(rest, 0, over+len(tail))
	if garbage || bytes.IndexByte(rest[:r], '=') >= 0 {
		return fallback()
	}
	m, err := stdBase64.Decode(d.obuf, clean[:k4])
	if err != nil {
		return fallback() // the stripping path decodes the same input and reports it
	}
	// The whole quanta of that piece too, as the stripping path would:
	// what is carried is under four characters either way.
	q := r / 4 * 4
	m2, err := stdBase64.Decode(d.obuf[m:], rest[:q])
	if err != nil {
		return fallback()
	}
	d.out = d.obuf[:m+m2]
	d.carry = copy(d.in, rest[q:r])
	return 0, true
}

// compactLines removes the line ends of b in place — each LF and a CR
// just before it — and returns the length of what is left. It searches
// for a line's end once and then, while the following lines end where
// lines of the same width would (mailers write fixed-width base64), only
// checks there. It removes nothing but line breaks; what it leaves — a
// CR or LF inside what it took for a line, other white space — either
// the decoder skips as encoding/base64 does (CR, LF) or refuses, and the
// stripping path then takes the chunk: the bytes decoded are the same.
func compactLines(b []byte) int {
	j := 0
	for i := 0; i < len(b); {
		e := bytes.IndexByte(b[i:], '\n')
		if e < 0 {
			return j + copy(b[j:], b[i:])
		}
		keep, w := e, e+1 // bytes kept of each line, and its width with the end
		crlf := e > 0 && b[i+e-1] == '\r'
		if crlf {
			keep--
		}
		for {
			j += copy(b[j:], b[i:i+keep]) // j <= i: only read bytes are overwritten
			i += w
			if i+w > len(b) || b[i+w-1] != '\n' || crlf && b[i+w-2] != '\r' {
				break
			}
		}
	}
	return j
}

// decodeBase64Chunk decodes clean (base64 without white space) into dst and
// returns the bytes written and the characters used; the rest (under four
// characters) waits for more input unless final.
func decodeBase64Chunk(dst, clean []byte, final bool) (o, i int, broken bool) {
	for {
		rest := clean[i:]
		eq := bytes.IndexByte(rest, '=')
		lim := len(rest)
		if eq >= 0 {
			lim = eq
		}
		nq := lim / 4 * 4
		if nq > 0 {
			m, err := stdBase64.Decode(dst[o:], rest[:nq])
			o += m
			if err != nil {
				return o, i, true
			}
			i += nq
		}
		if eq < 0 {
			break
		}
		// A quantum with padding: "xx==" or "xxx=".
		q := clean[i:]
		pos := eq - nq
		if pos < 2 {
			return o, i, true
		}
		if len(q) < 4 {
			if !final {
				return o, i, false
			}
			for _, c := range q[pos:] {
				if c != '=' {
					return o, i, true
				}
			}
			m, err := rawStdBase64.Decode(dst[o:], q[:pos])
			o += m
			return o, len(clean), err != nil
		}
		m, err := stdBase64.Decode(dst[o:], q[:4])
		o += m
		if err != nil {
			return o, i, true
		}
		i += 4
		for i < len(clean) && clean[i] == '=' {
			i++
		}
	}
	if final {
		left := clean[i:]
		switch len(left) {
		case 0:
		case 1:
			return o, i, true
		default:
			m, err := rawStdBase64.Decode(dst[o:], left)
			o += m
			if err != nil {
				return o, i, true
			}
			i = len(clean)
		}
	}
	return o, i, false
}

// qpReader decodes quoted-printable leniently: "=XX" is a byte, "=" before
// a line end a soft break, any other "=" and every other byte literal. It
// never fails by itself.
type qpReader struct {
	src   io.Reader
	in    []byte // carry + raw input
	obuf  []byte
	carry int
	pending
}

const (
	qpChunk    = 32 << 10
	qpMaxCarry = 80 // "=" followed by this much white space is literal
)

func (q *qpReader) Read(p []byte) (int, error) { return q.read(p, q) }

func (q *qpReader) produce() {
	if q.in == nil {
		q.in = make([]byte, qpMaxCarry+qpChunk)
		q.obuf = make([]byte, qpMaxCarry+qpChunk)
	}
	n, rerr := q.src.Read(q.in[q.carry : q.carry+qpChunk])
	data := q.in[:q.carry+n]
	final := rerr != nil
	o, i := 0, 0
	dst := q.obuf
	for i < len(data) {
		c := data[i]
		if c != '=' {
			dst[o] = c
			o++
			i++
			continue
		}
		rem := data[i+1:]
		if len(rem) >= 2 && isHex(rem[0]) && isHex(rem[1]) {
			dst[o] = unhex(rem[0])<<4 | unhex(rem[1])
			o++
			i += 3
			continue
		}
		k := 0
		for k < len(rem) && (rem[k] == ' ' || rem[k] == '\t') {
			k++
		}
		switch {
		case k < len(rem) && rem[k] == '\n':
			i += 1 + k + 1 // soft line break
			continue
		case k+1 < len(rem) && rem[k] == '\r' && rem[k+1] == '\n':
			i += 1 + k + 2
			continue
		}
		undecided := k == len(rem) || rem[k] == '\r' && k+1 == len(rem) || len(rem) == 1 && isHex(rem[0])
		if undecided && !final && len(rem) < qpMaxCarry {
			break // wait for more input
		}
		if undecided && final && k == len(rem) {
			i = len(data) // "=" at the very end: a soft break
			continue
		}
		dst[o] = '='
		o++
		i++
		continue
	}
	q.out = dst[:o]
	q.carry = copy(q.in, data[i:])
	if final {
		q.out = append(q.out, q.in[:q.carry]...)
		q.carry = 0
		q.err = rerr
	}
}
