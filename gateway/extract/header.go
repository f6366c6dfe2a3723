package extract

import (
	"encoding/base64"
	"io"
	"mime"
	"net/mail"
	"strings"

	// The charset package makes go-message decode every charset x/text
	// knows (ISO-2022-JP, Shift_JIS, ...) wherever go-message decodes.
	_ "github.com/emersion/go-message/charset"
)

// decodeHeaderText decodes a header value for people and for scanning:
// RFC 2047 encoded-words (in any charset x/text knows; an unknown charset
// is sniffed, never left undecoded), and raw 8-bit or ISO-2022-JP bytes,
// which many Japanese mailers put in headers without encoding them.
// Adjacent encoded-words of the same charset are joined before decoding,
// so a character split across two words decodes.
func decodeHeaderText(v string) string {
	var out strings.Builder
	var pend []byte   // bytes of adjacent encoded-words not yet decoded
	var pendCS string // their charset
	flush := func() {
		if len(pend) > 0 {
			out.WriteString(decodeBytes(pend, pendCS))
			pend, pendCS = nil, ""
		}
	}
	lastWord := false // the previous token was an encoded-word
	for len(v) > 0 {
		i := strings.Index(v, "=?")
		if i < 0 {
			flush()
			out.WriteString(decodeRawText(v))
			break
		}
		cs, raw, n, ok := parseEncodedWord(v[i:])
		if !ok {
			// Not an encoded-word: keep "=?" literally and go on.
			flush()
			out.WriteString(decodeRawText(v[:i+2]))
			v = v[i+2:]
			lastWord = false
			continue
		}
		gap := v[:i]
		if !(lastWord && strings.TrimLeft(gap, " \t\r\n") == "") {
			flush()
			out.WriteString(decodeRawText(gap))
		}
		if len(pend) > 0 && !strings.EqualFold(cs, pendCS) {
			flush()
		}
		pend = append(pend, raw...)
		pendCS = cs
		lastWord = true
		v = v[i+n:]
	}
	flush()
	return out.String()
}

// decodeRawText decodes header text that is not an encoded-word.
func decodeRawText(s string) string {
	if isASCII([]byte(s)) {
		return s
	}
	return decodeBytes([]byte(s), "")
}

// parseEncodedWord parses an RFC 2047 encoded-word at the start of s and
// returns its charset, its decoded bytes and its length.
func parseEncodedWord(s string) (cs string, raw []byte, n int, ok bool) {
	if !strings.HasPrefix(s, "=?") {
		return "", nil, 0, false
	}
	rest := s[2:]
	q1 := strings.IndexByte(rest, '?')
	if q1 <= 0 || q1+3 > len(rest) || rest[q1+2] != '?' {
		return "", nil, 0, false
	}
	cs = rest[:q1]
	if strings.ContainsAny(cs, " \t\r\n") {
		return "", nil, 0, false
	}
	enc := rest[q1+1]
	text := rest[q1+3:]
	end := strings.Index(text, "?=")
	if end < 0 {
		return "", nil, 0, false
	}
	text = text[:end]
	n = 2 + q1 + 3 + end + 2
	switch enc {
	case 'B', 'b':
		t := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, text)
		raw, err := base64.StdEncoding.DecodeString(t)
		if err != nil {
			raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(t, "="))
		}
		if err != nil {
			return "", nil, 0, false
		}
		return cs, raw, n, true
	case 'Q', 'q':
		return cs, decodeQWord(text), n, true
	}
	return "", nil, 0, false
}

// decodeQWord decodes the Q encoding of RFC 2047 leniently.
func decodeQWord(s string) []byte {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_':
			b = append(b, ' ')
		case c == '=' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return b
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}

// parseParamHeader parses a Content-Type or Content-Disposition value: the
// lower-cased value before the first ';' and its parameters with lower-cased
// names. Values are decoded: RFC 2231 (any charset, with continuations),
// RFC 2047 encoded-words inside quotes (Outlook), and raw 8-bit bytes
// (sniffed). The boundary parameter is returned as it is. It never fails;
// ok is false when the value is not even roughly well formed.
func parseParamHeader(v string) (value string, params map[string]string, ok bool) {
	params = map[string]string{}
	semi := strings.IndexByte(v, ';')
	rest := ""
	if semi >= 0 {
		value, rest = v[:semi], v[semi+1:]
	} else {
		value = v
	}
	value = strings.ToLower(strings.TrimSpace(value))
	ok = value != "" && !strings.ContainsAny(value, " \t\"=")

	type section struct {
		val      string
		extended bool
	}
	plain := map[string]string{}
	ext := map[string]string{}       // name*=charset'lang'value
	sects := map[string][]*section{} // name*N[*]=
	for len(rest) > 0 {
		rest = strings.TrimLeft(rest, " \t\r\n;")
		if rest == "" {
			break
		}
		eq := strings.IndexByte(rest, '=')
		sc := strings.IndexByte(rest, ';')
		if eq < 0 || sc >= 0 && sc < eq {
			// A parameter without a value: skip it.
			if sc < 0 {
				break
			}
			rest = rest[sc+1:]
			continue
		}
		name := strings.ToLower(strings.TrimSpace(rest[:eq]))
		rest = strings.TrimLeft(rest[eq+1:], " \t\r\n")
		var val string
		if strings.HasPrefix(rest, "\"") {
			val, rest = readQuoted(rest[1:])
		} else {
			end := strings.IndexByte(rest, ';')
			if end < 0 {
				end = len(rest)
			}
			val, rest = strings.TrimSpace(rest[:end]), rest[end:]
		}
		if name == "" {
			continue
		}
		star := strings.IndexByte(name, '*')
		switch {
		case star < 0:
			if _, dup := plain[name]; !dup {
				plain[name] = val
			}
		case star == len(name)-1:
			base := name[:star]
			if _, dup := ext[base]; !dup {
				ext[base] = val
			}
		default:
			base, num := name[:star], name[star+1:]
			extended := strings.HasSuffix(num, "*")
			num = strings.TrimSuffix(num, "*")
			k, ok := atoiSmall(num)
			if !ok || k > 999 {
				continue
			}
			s := sects[base]
			for len(s) <= k {
				s = append(s, nil)
			}
			if s[k] == nil {
				s[k] = &section{val: val, extended: extended}
			}
			sects[base] = s
		}
	}
	for name, val := range plain {
		if name == "boundary" {
			params[name] = val
			continue
		}
		if strings.Contains(val, "=?") {
			params[name] = decodeHeaderText(val)
		} else {
			params[name] = decodeRawText(val)
		}
	}
	for name, s := range sects {
		var b []byte
		cs := ""
		for k, sec := range s {
			if sec == nil {
				break
			}
			if sec.extended {
				v := sec.val
				if k == 0 {
					c, rest, ok := splitRFC2231(v)
					if ok {
						cs, v = c, rest
					}
				}
				b = append(b, percentDecode(v)...)
			} else {
				b = append(b, sec.val...)
			}
		}
		if len(b) > 0 {
			params[name] = decodeBytes(b, cs)
		}
	}
	for name, val := range ext {
		cs, rest, ok := splitRFC2231(val)
		if !ok {
			rest = val
		}
		if d := decodeBytes(percentDecode(rest), cs); d != "" {
			params[name] = d
		}
	}
	return value, params, ok
}

// readQuoted reads a quoted-string whose opening quote is consumed and
// returns its value and the rest after the closing quote.
func readQuoted(s string) (string, string) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:]
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), "" // unterminated: take the rest
}

// splitRFC2231 splits charset'language'value.
func splitRFC2231(v string) (cs, rest string, ok bool) {
	i := strings.IndexByte(v, '\'')
	if i < 0 {
		return "", v, false
	}
	j := strings.IndexByte(v[i+1:], '\'')
	if j < 0 {
		return "", v, false
	}
	return v[:i], v[i+1+j+1:], true
}

func percentDecode(s string) []byte {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return b
}

func atoiSmall(s string) (int, bool) {
	if s == "" || len(s) > 4 {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// baseName returns the last element of a file name that may carry a path
// (old clients send "C:\Users\...\file.xls").
func baseName(name string) string {
	name = strings.TrimRight(strings.TrimSpace(name), `/\`)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7F {
			return -1
		}
		return r
	}, name)
}

// parseAddresses returns the addresses of an address-list header value,
// with the domain lower-cased. Display names in unknown charsets do not
// lose the addresses; a value net/mail cannot parse falls back to the
// tokens that hold an '@'.
func parseAddresses(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	p := mail.AddressParser{WordDecoder: &mime.WordDecoder{CharsetReader: lenientCharsetReader}}
	var out []string
	if list, err := p.ParseList(v); err == nil {
		for _, a := range list {
			out = append(out, lowerDomain(a.Address))
		}
		return out
	}
	for _, tok := range strings.FieldsFunc(v, func(r rune) bool {
		return r == ',' || r == ';' || r == '<' || r == '>' || r == '"' || r == '(' || r == ')' ||
			r == ' ' || r == '\t' || r == '\r' || r == '\n'
	}) {
		if strings.Count(tok, "@") == 1 && !strings.HasPrefix(tok, "@") && !strings.HasSuffix(tok, "@") {
			out = append(out, lowerDomain(tok))
		}
	}
	return out
}

// lenientCharsetReader decodes any charset for mime.WordDecoder, sniffing
// unknown ones instead of failing.
func lenientCharsetReader(label string, r io.Reader) (io.Reader, error) {
	tr, reason := textReader(r, label)
	if reason != "" {
		return r, nil
	}
	return tr, nil
}

func lowerDomain(a string) string {
	i := strings.LastIndexByte(a, '@')
	if i < 0 {
		return a
	}
	return a[:i] + "@" + strings.ToLower(a[i+1:])
}
