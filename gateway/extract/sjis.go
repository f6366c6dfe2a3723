package extract

import (
	"encoding/binary"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// newDecoder returns the decoder of enc to UTF-8. Shift_JIS (CP932) gets a
// faster decoder with the same output as x/text's.
func newDecoder(enc encoding.Encoding) transform.Transformer {
	if enc == japanese.ShiftJIS {
		return &sjisDecoder{inner: enc.NewDecoder()}
	}
	return enc.NewDecoder()
}

// sjisDecoder is japanese.ShiftJIS's decoder made faster for text such as a
// CSV, which is mostly ASCII: it copies ASCII runs eight bytes at a time
// and decodes two-byte characters from a table made from x/text's decoder.
// Anything else (an invalid byte, a lead byte without a valid trail byte,
// a character cut at the end of src) goes to x/text's decoder, one
// character at a time, so the output is exactly x/text's.
type sjisDecoder struct {
	inner transform.Transformer
}

var _ transform.Transformer = (*sjisDecoder)(nil)

// Lead bytes 0x81-0x9F and 0xE0-0xFC (60), trail bytes 0x40-0xFC (189).
const (
	sjisLeads  = 60
	sjisTrails = 0xFD - 0x40
)

// sjisTable maps a lead and trail byte pair to its character in UTF-8:
// the length in the low byte (0: not a valid pair, ask x/text), then the
// bytes. It is made once, from x/text's decoder.
var sjisTable = sync.OnceValue(func() *[sjisLeads * sjisTrails]uint32 {
	var t [sjisLeads * sjisTrails]uint32
	dec := japanese.ShiftJIS.NewDecoder()
	var out [8]byte
	for l := range sjisLeads {
		lead := byte(0x81 + l)
		if l >= 31 {
			lead = byte(0xE0 + l - 31)
		}
		for tr := range sjisTrails {
			dec.Reset()
			n, used, err := dec.Transform(out[:], []byte{lead, byte(0x40 + tr)}, true)
			if err != nil || used != 2 || n == 0 || n > 3 {
				continue
			}
			if r, size := utf8.DecodeRune(out[:n]); size != n || r == utf8.RuneError {
				continue // an unmapped pair: x/text writes U+FFFD, let it
			}
			e := uint32(n)
			for i := range n {
				e |= uint32(out[i]) << (8 * (i + 1))
			}
			t[l*sjisTrails+tr] = e
		}
	}
	return &t
})

func (d *sjisDecoder) Reset() { d.inner.Reset() }

func (d *sjisDecoder) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	table := sjisTable()
	for nSrc < len(src) {
		c := src[nSrc]
		if c < 0x80 {
			i := nSrc
			for i+8 <= len(src) && binary.LittleEndian.Uint64(src[i:])&0x8080808080808080 == 0 {
				i += 8
			}
			for i < len(src) && src[i] < 0x80 {
				i++
			}
			k := copy(dst[nDst:], src[nSrc:i])
			nDst += k
			nSrc += k
			if nSrc < i {
				return nDst, nSrc, transform.ErrShortDst
			}
			continue
		}
		if 0xA1 <= c && c < 0xE0 { // half-width katakana
			if len(dst)-nDst < 3 {
				return nDst, nSrc, transform.ErrShortDst
			}
			nDst += utf8.EncodeRune(dst[nDst:], rune(c)+(0xFF61-0xA1))
			nSrc++
			continue
		}
		lead := (0x81 <= c && c < 0xA0) || (0xE0 <= c && c < 0xFD)
		if lead && nSrc+1 < len(src) {
			if t := src[nSrc+1]; t >= 0x40 && t < 0xFD {
				l := int(c) - 0x81
				if c >= 0xE0 {
					l = int(c) - 0xE0 + 31
				}
				if e := table[l*sjisTrails+int(t)-0x40]; e != 0 {
					n := int(e & 0xFF)
					if len(dst)-nDst < n {
						return nDst, nSrc, transform.ErrShortDst
					}
					dst[nDst] = byte(e >> 8)
					dst[nDst+1] = byte(e >> 16)
					if n == 3 {
						dst[nDst+2] = byte(e >> 24)
					}
					nDst += n
					nSrc += 2
					continue
				}
			}
		}
		// One character by x/text: a lead byte with its trail byte (or
		// the end of src), or a single byte.
		end, final := nSrc+1, true
		if lead {
			end = nSrc + 2
		}
		if end >= len(src) {
			end, final = len(src), atEOF
		}
		dn, sn, err := d.inner.Transform(dst[nDst:], src[nSrc:end], final)
		nDst += dn
		nSrc += sn
		if err != nil {
			return nDst, nSrc, err
		}
	}
	return nDst, nSrc, nil
}
