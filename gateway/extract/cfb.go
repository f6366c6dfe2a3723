package extract

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf16"

	"github.com/richardlehane/mscfb"
)

// Bounds on the best-effort text scan of legacy Office files.
const (
	maxCFBStream  = 32 << 20 // bytes of one stream scanned (read into memory)
	minUTF16Run   = 2        // characters of a UTF-16LE run with CJK
	minASCIIRun   = 4        // characters of an ASCII or UTF-16LE Latin run
	maxCFBStreams = 256      // streams of a generic compound file scanned
)

// cfb reports a legacy Office file (.doc, .xls, .ppt) or another OLE
// compound file that is not encrypted, with the text a cheap scan finds:
// runs of UTF-16LE text (how Word, Excel and PowerPoint store Japanese),
// runs of ASCII (Excel's compressed strings, PowerPoint's TextBytesAtom)
// and, for Excel, the integers of NUMBER and RK cells. This is best effort:
// the binary formats are not parsed.
func (w *walker) cfb(ra io.ReaderAt, p *Part, typ string) error {
	doc, err := openCFB(ra)
	if err != nil {
		p.Uninspectable = "corrupt " + typ + ": " + err.Error()
		return w.emit(p, nil)
	}
	var streams []*mscfb.File
	for _, f := range doc.File {
		if f.Size <= 0 || len(f.Path) > 0 && typ != "cfb" {
			continue
		}
		switch typ {
		case "doc":
			if f.Name != "WordDocument" {
				continue
			}
		case "xls":
			if f.Name != "Workbook" && f.Name != "Book" {
				continue
			}
		case "ppt":
			if f.Name != "PowerPoint Document" {
				continue
			}
		}
		if len(streams) < maxCFBStreams {
			streams = append(streams, f)
		}
	}
	if len(streams) == 0 {
		p.Uninspectable = typ + " text: no text stream"
		return w.emit(p, nil)
	}
	return w.emitText(p, typ+" text", func(t *textSink) error {
		for _, f := range streams {
			if f.Size > maxCFBStream {
				return fmt.Errorf("stream %s larger than %d bytes", f.Name, maxCFBStream)
			}
			b := make([]byte, f.Size)
			if _, err := io.ReadFull(w.meter(io.NewSectionReader(f, 0, f.Size)), b); err != nil {
				return fmt.Errorf("stream %s: %w", f.Name, err)
			}
			if err := scanUTF16(b, t); err != nil {
				return err
			}
			if err := scanASCII(b, t); err != nil {
				return err
			}
			if f.Name == "Workbook" || f.Name == "Book" {
				if err := biffNumbers(b, t); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func openCFB(ra io.ReaderAt) (doc *mscfb.Reader, err error) {
	defer func() {
		if x := recover(); x != nil {
			doc, err = nil, fmt.Errorf("malformed compound file (%v)", x)
		}
	}()
	return mscfb.New(ra)
}

// textUnit reports whether a UTF-16 code unit is likely document text, and
// whether it is CJK (kana, kanji, full-width forms).
func textUnit(u uint16) (ok, cjk bool) {
	switch {
	case u == '\t' || u == '\r' || u == '\n':
		return true, false
	case u >= 0x20 && u < 0x7F:
		return true, false
	case u >= 0x3000 && u <= 0x30FF, u >= 0x4E00 && u <= 0x9FFF, u >= 0xFF01 && u <= 0xFF9F:
		return true, true
	}
	return false, false
}

// scanUTF16 writes runs of UTF-16LE text found at any alignment, one per
// line. Where runs start at two neighbouring offsets, the longer wins (a
// stray byte before the text must not shift the whole run).
func scanUTF16(b []byte, t *textSink) error {
	for i := 0; i+1 < len(b); {
		n, cjk := utf16Run(b[i:])
		if n == 0 {
			i++
			continue
		}
		if n1, _ := utf16Run(b[i+1:]); n1 > n {
			i++
			continue
		}
		if n >= minASCIIRun || (cjk && n >= minUTF16Run) {
			u := make([]uint16, n)
			for k := range u {
				u[k] = binary.LittleEndian.Uint16(b[i+2*k:])
			}
			s := strings.ReplaceAll(string(utf16.Decode(u)), "\r", "\n")
			if err := t.text(s); err != nil {
				return err
			}
			t.soft("\n")
			i += 2 * n
			continue
		}
		i++
	}
	return nil
}

// utf16Run returns the length in code units of the text run at the start
// of b and whether it holds CJK.
func utf16Run(b []byte) (n int, cjk bool) {
	for j := 0; j+1 < len(b); j += 2 {
		ok, c := textUnit(binary.LittleEndian.Uint16(b[j:]))
		if !ok {
			break
		}
		n++
		cjk = cjk || c
	}
	return n, cjk
}

// scanASCII writes runs of printable ASCII, one per line.
func scanASCII(b []byte, t *textSink) error {
	start := -1
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] >= 0x20 && b[i] < 0x7F {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= minASCIIRun {
			if err := t.text(string(b[start:i])); err != nil {
				return err
			}
			t.soft("\n")
		}
		start = -1
	}
	return nil
}

// biffNumbers writes the integral values of an Excel BIFF workbook's
// NUMBER (0x0203), RK (0x027E) and MULRK (0x00BD) cell records.
func biffNumbers(b []byte, t *textSink) error {
	emit := func(v float64) error {
		if v != math.Trunc(v) || math.Abs(v) >= 1e18 {
			return nil
		}
		if err := t.text(fmt.Sprintf("%d", int64(v))); err != nil {
			return err
		}
		t.soft("\n")
		return nil
	}
	for i := 0; i+4 <= len(b); {
		typ := binary.LittleEndian.Uint16(b[i:])
		n := int(binary.LittleEndian.Uint16(b[i+2:]))
		data := b[i+4 : min(len(b), i+4+n)]
		i += 4 + n
		switch {
		case typ == 0x0203 && len(data) >= 14:
			if err := emit(math.Float64frombits(binary.LittleEndian.Uint64(data[6:]))); err != nil {
				return err
			}
		case typ == 0x027E && len(data) >= 10:
			if err := emit(rkValue(binary.LittleEndian.Uint32(data[6:]))); err != nil {
				return err
			}
		case typ == 0x00BD && len(data) >= 6:
			for k := 4; k+6 <= len(data)-2; k += 6 {
				if err := emit(rkValue(binary.LittleEndian.Uint32(data[k+2:]))); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// rkValue decodes an Excel RK number.
func rkValue(rk uint32) float64 {
	var v float64
	if rk&2 != 0 {
		v = float64(int32(rk) >> 2)
	} else {
		v = math.Float64frombits(uint64(rk&^3) << 32)
	}
	if rk&1 != 0 {
		v /= 100
	}
	return v
}
