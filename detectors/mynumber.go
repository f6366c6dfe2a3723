package detectors

// MyNumberDetector finds 個人番号 (My Number): 12 digits whose last digit is
// the check digit of 平成26年総務省令第85号 第5条. It accepts the number
// plain, in three groups of four joined by the same kind of separator (space
// or any dash), in full-width digits, and as an Excel number in exponent form
// (1.23456789018E+11). Digits that belong to a longer run or chain are not a
// My Number. A label naming another number right before it (注文番号, TEL,
// Order No ...) or a table column of another kind rules it out; 個人番号 /
// マイナンバー as a label, in a column header or close by makes it High.
type MyNumberDetector struct{}

var (
	_ Detector      = MyNumberDetector{}
	_ chainDetector = MyNumberDetector{}
)

// ID implements Detector.
func (MyNumberDetector) ID() string { return MyNumber }

// Scan implements Detector.
func (d MyNumberDetector) Scan(text []byte, ctx *Context, emit func(Match)) {
	scanAlone(d, text, ctx, emit)
}

// MyNumberValid reports whether s is 12 ASCII digits with a valid check digit.
func MyNumberValid(s []byte) bool {
	if len(s) != 12 {
		return false
	}
	for _, b := range s {
		if b-'0' > 9 {
			return false
		}
	}
	return myNumberCheck(s)
}

// myNumberCheck validates 12 ASCII digits: weights 6,5,4,3,2,7,6,5,4,3,2 over
// the first eleven, r = sum mod 11, check = 0 if r <= 1 else 11 - r.
func myNumberCheck(s []byte) bool {
	sum := 6*int(s[0]-'0') + 5*int(s[1]-'0') + 4*int(s[2]-'0') + 3*int(s[3]-'0') + 2*int(s[4]-'0') +
		7*int(s[5]-'0') + 6*int(s[6]-'0') + 5*int(s[7]-'0') + 4*int(s[8]-'0') + 3*int(s[9]-'0') + 2*int(s[10]-'0')
	r := sum % 11
	want := 0
	if r > 1 {
		want = 11 - r
	}
	return int(s[11]-'0') == want
}

func (MyNumberDetector) scanChain(st *scanState, c *chain, emit func(Match)) {
	if c.total < 12 && !c.exponentAfter() {
		return
	}
	text := c.text
	var buf [12]byte
	for i := 0; i < len(c.runs); i++ {
		r := &c.runs[i]
		switch {
		case r.n == 12:
			before, after := c.sepBefore(i), c.sepAfter(i)
			if before == sepDash || before == sepDot || after == sepDash || after == sepDot {
				continue
			}
			if letterAfter(text, r.end) {
				continue
			}
			ds := c.digitsOf(i)
			if myNumberCheck(ds) {
				myNumberReport(st, r.start, r.end, ds, false, emit)
			}
		case r.n == 4 && i+2 < len(c.runs):
			s := r.sep
			if (s != sepDash && s != sepSpace) || c.runs[i+1].sep != s || c.runs[i+1].n != 4 || c.runs[i+2].n != 4 {
				continue
			}
			if b := c.sepBefore(i); b == sepDash || b == sepDot || (b == s && i > 0 && c.runs[i-1].n == 4) {
				continue
			}
			if a := c.sepAfter(i + 2); a == sepDash || a == sepDot || (a == s && i+3 < len(c.runs) && c.runs[i+3].n == 4) {
				continue
			}
			end := c.runs[i+2].end
			if letterAfter(text, end) {
				continue
			}
			n := copy(buf[:], c.digitsOf(i))
			n += copy(buf[n:], c.digitsOf(i+1))
			copy(buf[n:], c.digitsOf(i+2))
			if myNumberCheck(buf[:]) {
				myNumberReport(st, r.start, end, buf[:], true, emit)
				i += 2
			}
		case r.sep == sepDot && i+1 < len(c.runs) && c.sepAfter(i+1) == sepNone && r.n+c.runs[i+1].n <= 12 &&
			c.sepBefore(i) == sepNone:
			// Excel exponent form: 1.23456789018E+11.
			f := &c.runs[i+1]
			end, ok := exponentForm(text, f.end, r.n, f.n, c.digitsOf(i), c.digitsOf(i+1), &buf)
			if ok && myNumberCheck(buf[:]) {
				myNumberReport(st, r.start, end, buf[:], false, emit)
				i++
			}
		}
	}
}

// exponentForm parses "E+11" (or e11, E+011) at text[i] after a mantissa
// with integer digits ip and fraction digits fp; it reports whether the
// number is an integer of exactly 12 digits without a leading zero, writes
// those digits into buf and returns the end of the exponent.
func exponentForm(text []byte, i, ni, nf int, ip, fp []byte, buf *[12]byte) (int, bool) {
	if i >= len(text) || text[i]|0x20 != 'e' {
		return 0, false
	}
	i++
	if i < len(text) && text[i] == '+' {
		i++
	}
	exp, nd := 0, 0
	for i < len(text) && text[i]-'0' <= 9 && nd < 3 {
		exp = exp*10 + int(text[i]-'0')
		i++
		nd++
	}
	if nd == 0 || (i < len(text) && (text[i]-'0' <= 9 || isLetter(text[i]))) {
		return 0, false
	}
	if exp < nf || ni+exp != 12 || len(ip) != ni || len(fp) != nf || ip[0] == '0' {
		return 0, false
	}
	n := copy(buf[:], ip)
	n += copy(buf[n:], fp)
	for ; n < 12; n++ {
		buf[n] = '0'
	}
	return i, true
}

// myNumberReport weighs the context of a check-digit-valid number and emits it.
func myNumberReport(st *scanState, start, end int, digits []byte, grouped bool, emit func(Match)) {
	col := st.columnAt(start)
	lab := st.labelBefore(start)
	if lab != ColNone && lab != ColMyNumber {
		return
	}
	conf := Low
	switch {
	case lab == ColMyNumber, col == ColMyNumber:
		conf = High
	case col != ColNone && col != ColAddress:
		return
	default:
		switch near := st.near(start, end); {
		case near&(1<<ColMyNumber) != 0:
			conf = High
		case grouped, near&bitMyNumberWeak != 0:
			conf = Medium
		}
	}
	st.report(emit, MyNumber, start, end, digits, conf, nil)
}
