package extract

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"
	"golang.org/x/text/encoding/japanese"
)

// Bounds on one ToUnicode CMap, which is attacker-supplied.
const (
	maxCMapEntries = 1 << 17 // bfchar entries plus bfrange codes expanded
	maxCMapRange   = 1 << 16 // codes in one bfrange
)

// toUnicode is a parsed ToUnicode CMap: font codes to text.
type toUnicode struct {
	spaces [5][]codeRange // codespace ranges by code length 1..4
	chars  map[string]string
}

type codeRange struct{ lo, hi string }

// parseToUnicode reads a /ToUnicode CMap stream; nil when it has no
// mappings. Like the library's own reader, but with map lookups, correct
// range arithmetic on the whole destination and bounded size.
func parseToUnicode(strm, font pdf.Value) *toUnicode {
	m := &toUnicode{chars: map[string]string{}}
	entries := 0
	pdf.Interpret(strm, func(stk *pdf.Stack, op string) {
		switch op {
		case "findresource":
			// "/CIDInit /ProcSet findresource begin" needs a dictionary to
			// begin; any will do (its defs are never read back).
			stk.Pop()
			stk.Pop()
			stk.Push(font)
		case "begincodespacerange", "beginbfchar", "beginbfrange":
			popAll(stk) // the entry count and leftovers: the entries follow
		case "endcodespacerange":
			args := popAll(stk)
			for i := 0; i+1 < len(args); i += 2 {
				lo, hi := args[i].RawString(), args[i+1].RawString()
				if n := len(lo); n >= 1 && n <= 4 && len(hi) == n {
					m.spaces[n] = append(m.spaces[n], codeRange{lo, hi})
				}
			}
		case "endbfchar":
			args := popAll(stk)
			for i := 0; i+1 < len(args) && entries < maxCMapEntries; i += 2 {
				src := args[i].RawString()
				if args[i+1].Kind() == pdf.String && len(src) >= 1 && len(src) <= 4 {
					m.chars[src] = utf16BE(args[i+1].RawString())
					entries++
				} else if args[i+1].Kind() == pdf.Name && len(src) >= 1 && len(src) <= 4 {
					m.chars[src] = glyphName(args[i+1].Name())
					entries++
				}
			}
		case "endbfrange":
			args := popAll(stk)
			for i := 0; i+2 < len(args); i += 3 {
				lo, hi, dst := args[i].RawString(), args[i+1].RawString(), args[i+2]
				n := len(lo)
				if n < 1 || n > 4 || len(hi) != n {
					continue
				}
				a, b := codeInt(lo), codeInt(hi)
				if b < a || b-a >= maxCMapRange {
					continue
				}
				for c := a; c <= b && entries < maxCMapEntries; c++ {
					key := codeString(c, n)
					switch dst.Kind() {
					case pdf.String:
						m.chars[key] = utf16BE(addToLast(dst.RawString(), c-a))
					case pdf.Array:
						if v := dst.Index(int(c - a)); v.Kind() == pdf.String {
							m.chars[key] = utf16BE(v.RawString())
						}
					}
					entries++
				}
			}
		default:
			// other operators (def'd names, CIDSystemInfo, ...) do not matter
		}
	})
	if len(m.chars) == 0 {
		return nil
	}
	return m
}

// popAll pops every value on the stack, bottom first.
func popAll(stk *pdf.Stack) []pdf.Value {
	n := stk.Len()
	out := make([]pdf.Value, n)
	for i := n - 1; i >= 0; i-- {
		out[i] = stk.Pop()
	}
	return out
}

func codeInt(s string) uint32 {
	var v uint32
	for i := 0; i < len(s); i++ {
		v = v<<8 | uint32(s[i])
	}
	return v
}

func codeString(v uint32, n int) string {
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return string(b)
}

// addToLast adds d to the last UTF-16 code unit of the big-endian string s
// (bfrange destinations increment), carrying into the byte before.
func addToLast(s string, d uint32) string {
	if d == 0 || len(s) < 2 {
		return s
	}
	b := []byte(s)
	v := uint32(b[len(b)-2])<<8 | uint32(b[len(b)-1])
	v += d
	b[len(b)-2], b[len(b)-1] = byte(v>>8), byte(v)
	return string(b)
}

// utf16BE decodes big-endian UTF-16 (a ToUnicode destination).
func utf16BE(s string) string {
	if len(s)%2 == 1 {
		s += "\x00"
	}
	u := make([]uint16, len(s)/2)
	for i := range u {
		u[i] = uint16(s[2*i])<<8 | uint16(s[2*i+1])
	}
	return string(utf16.Decode(u))
}

// glyphName maps the few glyph names that appear in ToUnicode CMaps.
func glyphName(n string) string {
	if strings.HasPrefix(n, "uni") && len(n) == 7 {
		return utf16BE(string([]byte{hexByte(n[3:5]), hexByte(n[5:7])}))
	}
	if len(n) == 1 {
		return n
	}
	return ""
}

func hexByte(s string) byte {
	var v byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		}
	}
	return v
}

// next splits the next code off raw by the codespace ranges (def bytes
// when there are none) and returns its text and whether it was mapped.
func (m *toUnicode) next(raw string, def int) (code, text string, ok bool) {
	n := 0
	for l := 1; l <= 4 && l <= len(raw) && n == 0; l++ {
		for _, r := range m.spaces[l] {
			if r.lo <= raw[:l] && raw[:l] <= r.hi {
				n = l
				break
			}
		}
	}
	if n == 0 {
		n = min(def, len(raw))
	}
	code = raw[:n]
	text, ok = m.chars[code]
	return code, text, ok
}

// predefCMap decodes the codes of a composite font whose /Encoding
// names a predefined CMap and that has no ToUnicode: the Unicode CMaps
// (UCS2, UTF16, UTF8, UTF32) and the Japanese ones (RKSJ = Shift_JIS, EUC,
// and the plain JIS H/V CMaps, which are EUC-JP without the high bits).
type predefCMap int

const (
	cmapNone predefCMap = iota // maps to CIDs only (Identity-H) or unknown
	cmapUTF16
	cmapUTF8
	cmapUTF32
	cmapSJIS
	cmapEUC
	cmapJIS
)

// predefined classifies a predefined CMap name.
func predefined(name string) predefCMap {
	switch {
	case strings.Contains(name, "UCS2") || strings.Contains(name, "UTF16"):
		return cmapUTF16
	case strings.Contains(name, "UTF8"):
		return cmapUTF8
	case strings.Contains(name, "UTF32"):
		return cmapUTF32
	case strings.Contains(name, "RKSJ"):
		return cmapSJIS
	case strings.HasPrefix(name, "EUC-") || strings.Contains(name, "-EUC-"):
		return cmapEUC
	case isJISCMap(name):
		return cmapJIS
	}
	return cmapNone
}

// codeLen returns the byte length of the next code in raw (not empty).
func (c predefCMap) codeLen(raw string) int {
	n := 2
	b := raw[0]
	switch c {
	case cmapUTF16:
		if b >= 0xD8 && b <= 0xDB {
			n = 4
		}
	case cmapUTF8:
		_, n = utf8.DecodeRuneInString(raw)
	case cmapUTF32:
		n = 4
	case cmapSJIS:
		n = 1
		if (b >= 0x81 && b <= 0x9F) || (b >= 0xE0 && b <= 0xFC) {
			n = 2
		}
	case cmapEUC:
		switch {
		case b < 0x80:
			n = 1
		case b == 0x8F:
			n = 3
		}
	}
	return max(1, min(n, len(raw)))
}

// decode returns the text of one code, "" when it does not decode.
func (c predefCMap) decode(code string) string {
	var (
		s   string
		err error
	)
	switch c {
	case cmapUTF16:
		s = utf16BE(code)
	case cmapUTF8:
		s = code
	case cmapUTF32:
		if len(code) == 4 {
			s = string(rune(codeInt(code)))
		}
	case cmapSJIS:
		s, err = japanese.ShiftJIS.NewDecoder().String(code)
	case cmapEUC:
		s, err = japanese.EUCJP.NewDecoder().String(code)
	case cmapJIS:
		b := []byte(code)
		for i := range b {
			b[i] |= 0x80
		}
		s, err = japanese.EUCJP.NewDecoder().String(string(b))
	}
	if err != nil || !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
		return ""
	}
	return s
}

// isJISCMap reports the Adobe-Japan1 CMaps whose codes are JIS X 0208.
func isJISCMap(name string) bool {
	switch name {
	case "H", "V", "Ext-H", "Ext-V", "Add-H", "Add-V", "78-H", "78-V", "NWP-H", "NWP-V", "Hankaku", "Hiragana", "Katakana":
		return true
	}
	return false
}
