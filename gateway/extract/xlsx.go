package extract

import (
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// maxColumnGap bounds the tabs written for empty columns between two cells.
const maxColumnGap = 64

// xlsx writes a workbook's text: for each sheet its name, then one TSV
// line per row. Shared strings are resolved, inline strings read, and
// numbers written as their exact digits when they are integers (a My
// Number typed into Excel is a number, sometimes stored as
// 1.23456789018E+11), left-padded when the cell format is a run of zeros.
func (d *officeDoc) xlsx(t *textSink) error {
	shared, err := d.sharedStrings()
	if err != nil {
		return err
	}
	pads, err := d.cellPads()
	if err != nil {
		return err
	}
	sheets, err := d.sheets()
	if err != nil {
		return err
	}
	for _, sh := range sheets {
		rc, err := d.open(sh.file)
		if err != nil {
			return err
		}
		if rc == nil {
			continue
		}
		if sh.name != "" {
			if err := t.text(sh.name); err != nil {
				rc.Close()
				return err
			}
			if err := t.hard("\n"); err != nil {
				rc.Close()
				return err
			}
		}
		err = sheetText(rc, shared, pads, t)
		rc.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", sh.file, err)
		}
	}
	return nil
}

// eachToken reads the office XML in r with a lenient decoder and calls f
// for each token, until the end of r or an error, its own or f's.
func eachToken(r io.Reader, f func(xml.Token) error) error {
	dec := xml.NewDecoder(r)
	dec.Strict = false
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) { return in, nil }
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := f(tok); err != nil {
			return err
		}
	}
}

// sharedStrings reads xl/sharedStrings.xml: the text of each <si>, taking
// <t> of the string or its rich-text runs but not phonetic readings (<rPh>).
func (d *officeDoc) sharedStrings() ([]string, error) {
	rc, err := d.open("xl/sharedStrings.xml")
	if err != nil || rc == nil {
		return nil, err
	}
	defer rc.Close()
	var (
		out         []string
		b           strings.Builder
		inSI, inT   bool
		skip, total int
	)
	err = eachToken(rc, func(tok xml.Token) error {
		switch tk := tok.(type) {
		case xml.StartElement:
			switch {
			case skip > 0:
				skip++
			case tk.Name.Local == "rPh":
				skip = 1
			case tk.Name.Local == "si":
				inSI = true
				b.Reset()
			case tk.Name.Local == "t" && inSI:
				inT = true
			}
		case xml.EndElement:
			switch {
			case skip > 0:
				skip--
			case tk.Name.Local == "t":
				inT = false
			case tk.Name.Local == "si":
				inSI = false
				total += b.Len()
				if total > maxSharedStrings {
					return errTooManyStrings
				}
				out = append(out, b.String())
			}
		case xml.CharData:
			if inT && skip == 0 {
				b.Write(tk)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("xl/sharedStrings.xml: %w", err)
	}
	return out, nil
}

// cellPads reads xl/styles.xml and returns, per cell format index (the
// cell's s attribute), the width to left-pad integers to when the number
// format is a run of zeros ("000000000000" shows 22768333797 as
// 022768333797), else 0.
func (d *officeDoc) cellPads() ([]int, error) {
	rc, err := d.open("xl/styles.xml")
	if err != nil || rc == nil {
		return nil, err
	}
	defer rc.Close()
	formats := map[string]int{}
	var pads []int
	inXfs := false
	err = eachToken(rc, func(tok xml.Token) error {
		switch tk := tok.(type) {
		case xml.StartElement:
			switch tk.Name.Local {
			case "numFmt":
				code := attr(tk, "formatCode")
				if len(code) > 1 && strings.Trim(code, "0") == "" {
					formats[attr(tk, "numFmtId")] = len(code)
				}
			case "cellXfs":
				inXfs = true
			case "xf":
				if inXfs {
					pads = append(pads, formats[attr(tk, "numFmtId")])
				}
			}
		case xml.EndElement:
			if tk.Name.Local == "cellXfs" {
				inXfs = false
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("xl/styles.xml: %w", err)
	}
	return pads, nil
}

type sheetRef struct{ name, file string }

// sheets lists the worksheets in workbook order with their names, from
// xl/workbook.xml and its relationships; failing those, sheetN.xml by N.
func (d *officeDoc) sheets() ([]sheetRef, error) {
	rels := map[string]string{}
	if rc, err := d.open("xl/_rels/workbook.xml.rels"); err != nil {
		return nil, err
	} else if rc != nil {
		err := eachStart(rc, func(se xml.StartElement) {
			if se.Name.Local == "Relationship" {
				rels[attr(se, "Id")] = attr(se, "Target")
			}
		})
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("xl/_rels/workbook.xml.rels: %w", err)
		}
	}
	var out []sheetRef
	seen := map[string]bool{}
	if rc, err := d.open("xl/workbook.xml"); err != nil {
		return nil, err
	} else if rc != nil {
		err := eachStart(rc, func(se xml.StartElement) {
			if se.Name.Local != "sheet" {
				return
			}
			target := rels[attr(se, "id")]
			if target == "" {
				return
			}
			if strings.HasPrefix(target, "/") {
				target = strings.TrimPrefix(target, "/")
			} else {
				target = path.Join("xl", target)
			}
			if d.files[target] != nil && !seen[target] {
				seen[target] = true
				out = append(out, sheetRef{name: attr(se, "name"), file: target})
			}
		})
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("xl/workbook.xml: %w", err)
		}
	}
	for _, name := range d.numbered("xl/worksheets", "sheet") {
		if !seen[name] {
			out = append(out, sheetRef{file: name})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no worksheets")
	}
	return out, nil
}

// eachStart calls f for every start element of an XML stream.
func eachStart(r io.Reader, f func(xml.StartElement)) error {
	return eachToken(r, func(tok xml.Token) error {
		if se, ok := tok.(xml.StartElement); ok {
			f(se)
		}
		return nil
	})
}

// attr returns the value of the attribute with the given local name.
func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// sheetText writes one worksheet as TSV lines.
func sheetText(r io.Reader, shared []string, pads []int, t *textSink) error {
	var (
		col                    int // next column to write in the row
		inCell, inV, inIS, inT bool
		skip                   int
		cellCol                int
		cellType               string
		cellStyle              int
		v, is                  strings.Builder
	)
	return eachToken(r, func(tok xml.Token) error {
		switch tk := tok.(type) {
		case xml.StartElement:
			if skip > 0 {
				skip++
				return nil
			}
			switch tk.Name.Local {
			case "row":
				col = 0
			case "c":
				inCell = true
				cellType = attr(tk, "t")
				cellStyle, _ = strconv.Atoi(attr(tk, "s"))
				cellCol = columnIndex(attr(tk, "r"), col)
				v.Reset()
				is.Reset()
			case "v":
				inV = inCell
			case "is":
				inIS = inCell
			case "t":
				inT = inIS
			case "rPh", "f":
				skip = 1
			}
		case xml.EndElement:
			if skip > 0 {
				skip--
				return nil
			}
			switch tk.Name.Local {
			case "v":
				inV = false
			case "t":
				inT = false
			case "is":
				inIS = false
			case "c":
				inCell = false
				val := cellValue(cellType, v.String(), is.String(), shared, padFor(pads, cellStyle))
				if val == "" {
					return nil
				}
				gap := min(cellCol-col, maxColumnGap)
				if col > 0 {
					gap++ // the separator after the previous cell
				}
				if gap > 0 {
					if err := t.hard(strings.Repeat("\t", gap)); err != nil {
						return err
					}
				}
				if err := t.text(strings.ReplaceAll(val, "\n", " ")); err != nil {
					return err
				}
				col = max(cellCol, col) + 1
			case "row":
				if err := t.hard("\n"); err != nil {
					return err
				}
			}
		case xml.CharData:
			switch {
			case skip > 0:
			case inV:
				v.Write(tk)
			case inT:
				is.Write(tk)
			}
		}
		return nil
	})
}

func padFor(pads []int, style int) int {
	if style >= 0 && style < len(pads) {
		return pads[style]
	}
	return 0
}

// cellValue returns a cell's text from its type, <v> and inline string.
func cellValue(typ, v, inline string, shared []string, pad int) string {
	switch typ {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i < 0 || i >= len(shared) {
			return ""
		}
		return shared[i]
	case "inlineStr":
		return inline
	case "b":
		if strings.TrimSpace(v) == "1" {
			return "TRUE"
		}
		return "FALSE"
	case "str", "e", "d":
		return v
	}
	v = strings.TrimSpace(v)
	if s, ok := integralDigits(v); ok {
		if pad > len(s) && !strings.HasPrefix(s, "-") {
			s = strings.Repeat("0", pad-len(s)) + s
		}
		return s
	}
	return v
}

// columnIndex returns the 0-based column of a cell reference ("B2" → 1),
// or def when there is none.
func columnIndex(ref string, def int) int {
	c := 0
	n := 0
	for _, r := range ref {
		if r < 'A' || r > 'Z' {
			break
		}
		c = c*26 + int(r-'A'+1)
		n++
		if n > 3 {
			return def
		}
	}
	if n == 0 {
		return def
	}
	return c - 1
}

// maxIntegralDigits bounds the digits integralDigits writes for an
// exponent form (1E+300 is not a number anyone typed).
const maxIntegralDigits = 30

// integralDigits returns the decimal digits of a number written as an
// xsd:double ("123456789018", "1.23456789018E+11", "-42.0") when it is
// an integer, converting exactly from the text (no float rounding).
func integralDigits(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 400 || e < -400 {
			return "", false
		}
		mant, exp = s[:i], e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" && frac == "" {
		return "", false
	}
	digits := intPart + frac
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "", false
		}
	}
	point := len(intPart) + exp // digits before the decimal point
	switch {
	case point >= len(digits):
		if point > maxIntegralDigits {
			return "", false
		}
		digits += strings.Repeat("0", point-len(digits))
	case point < 0:
		if strings.Trim(digits, "0") != "" {
			return "", false
		}
		digits = "0"
	default:
		if strings.Trim(digits[point:], "0") != "" {
			return "", false
		}
		digits = digits[:point]
	}
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return "0", true
	}
	if neg {
		digits = "-" + digits
	}
	return digits, true
}
