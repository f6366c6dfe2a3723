package fileformat

import (
	"bytes"
	"strconv"
)

// A minimal PDF object parser: enough to read a trailer, a cross-reference
// stream dictionary and an encryption dictionary. It works on a byte slice
// and bounds nesting and element counts.

type (
	pdfName   string
	pdfString []byte
	pdfDict   map[string]any
	pdfArray  []any
	pdfRef    struct{ num, gen int64 }
	pdfKW     string // true, false, null, obj, R, stream, ...
)

const (
	pdfMaxDepth    = 32
	pdfMaxElements = 1 << 16
)

type pdfParser struct {
	b     []byte
	pos   int
	elems int
}

// IsPDFSpace reports a PDF white-space character (ISO 32000-1, 7.2.2).
func IsPDFSpace(c byte) bool {
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

// IsPDFDelim reports a PDF delimiter character (ISO 32000-1, 7.2.2).
func IsPDFDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func (p *pdfParser) skipSpace() {
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		switch {
		case IsPDFSpace(c):
			p.pos++
		case c == '%':
			for p.pos < len(p.b) && p.b[p.pos] != '\n' && p.b[p.pos] != '\r' {
				p.pos++
			}
		default:
			return
		}
	}
}

// regular reads a run of regular characters (a number or keyword).
func (p *pdfParser) regular() []byte {
	start := p.pos
	for p.pos < len(p.b) && !IsPDFSpace(p.b[p.pos]) && !IsPDFDelim(p.b[p.pos]) {
		p.pos++
	}
	return p.b[start:p.pos]
}

// value parses one object. A number followed by "G R" becomes a pdfRef.
func (p *pdfParser) value(depth int) (any, error) {
	if depth > pdfMaxDepth {
		return nil, corrupt("PDF object nested deeper than %d", pdfMaxDepth)
	}
	p.elems++
	if p.elems > pdfMaxElements {
		return nil, corrupt("PDF object has more than %d elements", pdfMaxElements)
	}
	p.skipSpace()
	if p.pos >= len(p.b) {
		return nil, corrupt("PDF object truncated")
	}
	c := p.b[p.pos]
	switch {
	case c == '<' && p.pos+1 < len(p.b) && p.b[p.pos+1] == '<':
		p.pos += 2
		d := pdfDict{}
		for {
			p.skipSpace()
			if p.pos+1 < len(p.b) && p.b[p.pos] == '>' && p.b[p.pos+1] == '>' {
				p.pos += 2
				return d, nil
			}
			if p.pos >= len(p.b) {
				return nil, corrupt("PDF dictionary not closed")
			}
			k, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			key, ok := k.(pdfName)
			if !ok {
				return nil, corrupt("PDF dictionary key is not a name")
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			d[string(key)] = v
		}
	case c == '[':
		p.pos++
		var a pdfArray
		for {
			p.skipSpace()
			if p.pos < len(p.b) && p.b[p.pos] == ']' {
				p.pos++
				return a, nil
			}
			if p.pos >= len(p.b) {
				return nil, corrupt("PDF array not closed")
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
	case c == '(':
		return p.literal()
	case c == '<':
		return p.hex()
	case c == '/':
		p.pos++
		return p.name(), nil
	case c == ')' || c == '>' || c == ']' || c == '}' || c == '{':
		return nil, corrupt("PDF object: unexpected %q", c)
	}
	tok := p.regular()
	if len(tok) == 0 {
		p.pos++
		return nil, corrupt("PDF object: unexpected byte 0x%02x", c)
	}
	if n, err := strconv.ParseInt(string(tok), 10, 64); err == nil {
		// Look ahead for "gen R".
		save := p.pos
		p.skipSpace()
		g := p.regular()
		if gen, err := strconv.ParseInt(string(g), 10, 64); err == nil && len(g) > 0 {
			p.skipSpace()
			if r := p.regular(); string(r) == "R" {
				return pdfRef{n, gen}, nil
			}
		}
		p.pos = save
		return n, nil
	}
	if f, err := strconv.ParseFloat(string(tok), 64); err == nil {
		return f, nil
	}
	return pdfKW(tok), nil
}

func (p *pdfParser) name() pdfName {
	var out []byte
	for p.pos < len(p.b) && !IsPDFSpace(p.b[p.pos]) && !IsPDFDelim(p.b[p.pos]) {
		c := p.b[p.pos]
		if c == '#' && p.pos+2 < len(p.b) {
			if v, err := strconv.ParseUint(string(p.b[p.pos+1:p.pos+3]), 16, 8); err == nil {
				out = append(out, byte(v))
				p.pos += 3
				continue
			}
		}
		out = append(out, c)
		p.pos++
	}
	return pdfName(out)
}

func (p *pdfParser) literal() (pdfString, error) {
	p.pos++ // (
	var out []byte
	depth := 1
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		p.pos++
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return out, nil
			}
		case '\\':
			if p.pos >= len(p.b) {
				return nil, corrupt("PDF string truncated")
			}
			e := p.b[p.pos]
			p.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if p.pos < len(p.b) && p.b[p.pos] == '\n' {
					p.pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for i := 0; i < 2 && p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '7'; i++ {
						v = v*8 + int(p.b[p.pos]-'0')
						p.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out = append(out, c)
	}
	return nil, corrupt("PDF string not closed")
}

func (p *pdfParser) hex() (pdfString, error) {
	p.pos++ // <
	var out []byte
	var hi byte
	half := false
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		p.pos++
		var v byte
		switch {
		case c == '>':
			if half {
				out = append(out, hi<<4)
			}
			return out, nil
		case IsPDFSpace(c):
			continue
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return nil, corrupt("PDF hex string has a non-hex byte")
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	return nil, corrupt("PDF hex string not closed")
}

// parseIndirect parses "N G obj <value>" at the start of b.
func parseIndirect(b []byte) (pdfRef, any, error) {
	p := &pdfParser{b: b}
	p.skipSpace()
	n, err1 := strconv.ParseInt(string(p.regular()), 10, 64)
	p.skipSpace()
	g, err2 := strconv.ParseInt(string(p.regular()), 10, 64)
	p.skipSpace()
	kw := p.regular()
	if err1 != nil || err2 != nil || !bytes.Equal(kw, []byte("obj")) {
		return pdfRef{}, nil, corrupt("PDF indirect object header missing")
	}
	v, err := p.value(0)
	return pdfRef{n, g}, v, err
}

// Typed accessors that tolerate missing or wrong-typed entries.

func (d pdfDict) name(k string) string {
	if v, ok := d[k].(pdfName); ok {
		return string(v)
	}
	return ""
}

func (d pdfDict) int(k string, def int64) int64 {
	switch v := d[k].(type) {
	case int64:
		return v
	case float64:
		return int64(v)
	}
	return def
}

func (d pdfDict) str(k string) []byte {
	if v, ok := d[k].(pdfString); ok {
		return v
	}
	return nil
}

func (d pdfDict) dict(k string) pdfDict {
	if v, ok := d[k].(pdfDict); ok {
		return v
	}
	return nil
}

func (d pdfDict) bool(k string, def bool) bool {
	if v, ok := d[k].(pdfKW); ok {
		switch v {
		case "true":
			return true
		case "false":
			return false
		}
	}
	return def
}
