package detectors

// CreditCardDetector finds payment card numbers: 13 to 19 digits with a
// valid Luhn digit and the prefix and length of a known issuer (Visa,
// Mastercard, American Express, JCB, Diners Club, Discover, UnionPay),
// written plain or in groups joined by the same kind of separator (space or
// any dash), in ASCII or full-width digits. Digits of a longer run or chain,
// or labelled as another kind of number, do not count.
type CreditCardDetector struct{}

var (
	_ Detector      = CreditCardDetector{}
	_ chainDetector = CreditCardDetector{}
)

// ID implements Detector.
func (CreditCardDetector) ID() string { return CreditCard }

// Scan implements Detector.
func (d CreditCardDetector) Scan(text []byte, ctx *Context, emit func(Match)) {
	scanAlone(d, text, ctx, emit)
}

// CardValid reports whether s (ASCII digits) is a card number: a known
// issuer's prefix and length, and a valid Luhn check digit.
func CardValid(s []byte) bool {
	for _, b := range s {
		if b-'0' > 9 {
			return false
		}
	}
	return cardIssuer(s) && luhn(s)
}

func luhn(s []byte) bool {
	sum, dbl := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if dbl {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		dbl = !dbl
	}
	return sum%10 == 0
}

// cardIssuer reports whether the prefix and length of s fit a known issuer.
func cardIssuer(s []byte) bool {
	n := len(s)
	if n < 13 || n > 19 {
		return false
	}
	p2 := int(s[0]-'0')*10 + int(s[1]-'0')
	p3 := p2*10 + int(s[2]-'0')
	p4 := p3*10 + int(s[3]-'0')
	switch {
	case s[0] == '4': // Visa
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		return n == 16
	case p2 == 34 || p2 == 37: // American Express
		return n == 15
	case p4 >= 3528 && p4 <= 3589: // JCB
		return n >= 16
	case p3 >= 300 && p3 <= 305, p2 == 36, p2 == 38: // Diners Club
		return n >= 14
	case p4 == 6011, p2 == 65, p3 >= 644 && p3 <= 649: // Discover
		return n >= 16
	case p2 == 62: // UnionPay
		return n >= 16
	}
	return false
}

func (CreditCardDetector) scanChain(st *scanState, c *chain, emit func(Match)) {
	if c.total < 13 {
		return
	}
	text := c.text
	var buf [19]byte
	for i := 0; i < len(c.runs); i++ {
		r := &c.runs[i]
		if r.n >= 13 && r.n <= 19 {
			if b, a := c.sepBefore(i), c.sepAfter(i); b == sepDash || b == sepDot || a == sepDash || a == sepDot {
				continue
			}
			ds := c.digitsOf(i)
			if !letterAfter(text, r.end) && cardIssuer(ds) && luhn(ds) {
				// A 13-digit corporate number is far likelier than an old
				// 13-digit Visa: without card context it is not a card.
				cardReport(st, r.start, r.end, ds, false, r.n == 13 && corporateCheck(ds), emit)
			}
			continue
		}
		s := r.sep
		if r.n != 4 || (s != sepDash && s != sepSpace) {
			continue
		}
		if b := c.sepBefore(i); b == sepDot || (b == sepDash && s == sepDash) {
			continue // inside a longer chain
		}
		// Groups i..j joined by s, the first of four digits, the others of 3-6.
		last := i
		for j := i + 1; j < len(c.runs) && j-i < 6; j++ {
			if c.runs[j].n < 1 || c.runs[j].n > 6 {
				break
			}
			last = j
			if c.runs[j].sep != s {
				break
			}
		}
		for j := last; j > i; j-- {
			if a := c.sepAfter(j); a == sepDot || (a == sepDash && s == sepDash) {
				if s == sepDash {
					break // a dash chain must be used whole
				}
				continue
			}
			total := 0
			ok := true
			for k := i; k <= j; k++ {
				total += c.runs[k].n
				if k > i && k < j && c.runs[k].n < 3 {
					ok = false
				}
			}
			if !ok || total < 13 || total > 19 || letterAfter(text, c.runs[j].end) {
				continue
			}
			n := 0
			for k := i; k <= j; k++ {
				n += copy(buf[n:], c.digitsOf(k))
			}
			ds := buf[:n]
			if cardIssuer(ds) && luhn(ds) {
				cardReport(st, r.start, c.runs[j].end, ds, true, false, emit)
				i = j
				break
			}
		}
	}
}

// cardReport weighs the context of a valid card number and emits it.
func cardReport(st *scanState, start, end int, ds []byte, grouped, needContext bool, emit func(Match)) {
	col := st.columnAt(start)
	lab := st.labelBefore(start)
	if lab != ColNone && lab != ColCard {
		return
	}
	conf := Low
	switch {
	case lab == ColCard, col == ColCard:
		conf = High
	case col != ColNone && col != ColAddress:
		return
	case st.near(start, end)&(1<<ColCard) != 0:
		conf = High
	case needContext:
		return
	case grouped:
		conf = Medium
	}
	st.report(emit, CreditCard, start, end, ds, conf, nil)
}
