package detectors

// CorporateNumberDetector finds 法人番号 (corporate numbers): 13 digits whose
// FIRST digit is the check digit of 法人番号の指定等に関する省令 第2条, also as
// the digits of an invoice registration number (T + 13 digits). Corporate
// numbers are public; whether they matter is the policy's business. Digits
// of a longer run, or labelled as another kind of number, do not count.
type CorporateNumberDetector struct{}

var (
	_ Detector      = CorporateNumberDetector{}
	_ chainDetector = CorporateNumberDetector{}
)

// ID implements Detector.
func (CorporateNumberDetector) ID() string { return CorporateNumber }

// Scan implements Detector.
func (d CorporateNumberDetector) Scan(text []byte, ctx *Context, emit func(Match)) {
	scanAlone(d, text, ctx, emit)
}

// CorporateNumberValid reports whether s is 13 ASCII digits with a valid
// leading check digit.
func CorporateNumberValid(s []byte) bool {
	if len(s) != 13 {
		return false
	}
	for _, b := range s {
		if b-'0' > 9 {
			return false
		}
	}
	return corporateCheck(s)
}

// corporateCheck validates 13 ASCII digits: over the 12 base digits from the
// right, weights 1,2,1,2,...; check = 9 - (sum mod 9), which is never 0.
func corporateCheck(s []byte) bool {
	sum := 0
	for i := 1; i < 13; i++ {
		d := int(s[i] - '0')
		if (13-i)%2 == 0 { // even position from the right
			d *= 2
		}
		sum += d
	}
	return int(s[0]-'0') == 9-sum%9
}

func (CorporateNumberDetector) scanChain(st *scanState, c *chain, emit func(Match)) {
	if c.total < 13 {
		return
	}
	text := c.text
	for i := range c.runs {
		r := &c.runs[i]
		if r.n != 13 {
			continue
		}
		if b, a := c.sepBefore(i), c.sepAfter(i); b == sepDash || b == sepDot || a == sepDash || a == sepDot {
			continue
		}
		if letterAfter(text, r.end) {
			continue
		}
		ds := c.digitsOf(i)
		if !corporateCheck(ds) {
			continue
		}
		start, conf := r.start, Low
		if start > 0 && (text[start-1] == 'T' || text[start-1] == 't') && !letterBefore(text, start-1) {
			start-- // invoice registration number T + 13 digits
			conf = High
		}
		col := st.columnAt(start)
		switch st.labelBefore(start) {
		case ColCorporate:
			conf = High
		case ColNone:
		default:
			if conf != High {
				continue
			}
		}
		switch {
		case col == ColCorporate:
			conf = High
		case col != ColNone && col != ColAddress && conf != High:
			continue
		case conf != High && st.near(start, r.end)&(1<<ColCorporate) != 0:
			conf = High
		}
		st.report(emit, CorporateNumber, start, r.end, ds, conf, nil)
	}
}
