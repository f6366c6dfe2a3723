package detectors

// PhoneDetector finds Japanese telephone numbers that are valid under the
// 総務省 numbering plan: fixed numbers (10 digits, area code + exchange = 6
// digits after the grouping), mobile 070/080/090 and 060, IP 050, M2M 020
// (11 digits), 0120/0570/0170/0180/0990 (10 digits) and 0800/0600 (11
// digits). Written with dashes of any kind, dots, spaces, parentheses
// (03(1234)5678, (03)1234-5678), in full-width digits, or in international
// form (+81-3-1234-5678, +81 (0)90-1234-5678, 010-81-…, 81-3-…). Dates,
// postal codes, My Numbers, card numbers, IP addresses and version strings
// do not fit the plan or the grouping; numbers labelled as something else
// (注文番号, 〒, ...) are left out. The key is the national number (0 +
// digits), so +81-3-… and 03-… are one value.
type PhoneDetector struct{}

var (
	_ Detector      = PhoneDetector{}
	_ chainDetector = PhoneDetector{}
)

// ID implements Detector.
func (PhoneDetector) ID() string { return Phone }

// Scan implements Detector.
func (d PhoneDetector) Scan(text []byte, ctx *Context, emit func(Match)) {
	scanAlone(d, text, ctx, emit)
}

// PhoneValid reports whether national (ASCII digits with the leading 0) is a
// number of the Japanese numbering plan.
func PhoneValid(national []byte) bool {
	for _, b := range national {
		if b-'0' > 9 {
			return false
		}
	}
	return phonePlan(national)
}

func phonePlan(n []byte) bool {
	if len(n) < 10 || n[0] != '0' || n[1] == '0' {
		return false
	}
	switch len(n) {
	case 10:
		// Fixed numbers and 0120/0570/0170/0180/0990; 0A0 ranges need 11 digits.
		return n[2] != '0'
	case 11:
		if n[2] != '0' {
			return false
		}
		switch n[1] {
		case '2', '5', '6', '7', '8', '9':
		default:
			return false
		}
		if n[3] == '0' {
			return n[1] == '8' || n[1] == '6' // 0800, 0600
		}
		return true
	}
	return false
}

// service10 reports a 10-digit 0AB0 service number (0120, 0570, ...).
func service10(n []byte) bool {
	return len(n) == 10 && n[3] == '0' && (string(n[:4]) == "0120" || string(n[:4]) == "0570" ||
		string(n[:4]) == "0170" || string(n[:4]) == "0180" || string(n[:4]) == "0990")
}

// phoneGroups reports whether the written grouping fits the number: a fixed
// number splits as area+exchange (6 digits) and 4 subscriber digits, mobile
// and other 11-digit numbers as 3-4-4 (0800 as 4-3-4 or 4-4-3), services as
// 4-3-3 or 4-2-4.
func phoneGroups(n []byte, g []int) bool {
	switch len(g) {
	case 1:
		return true
	case 2:
		return g[0] >= 2 && g[0] <= 5 && g[1] >= 4
	case 3:
		a, b, c := g[0], g[1], g[2]
		if len(n) == 11 {
			return (a == 3 && b == 4 && c == 4) || (a == 4 && b+c == 7 && b >= 3 && c >= 3)
		}
		if service10(n) && a == 4 && b == 3 && c == 3 {
			return true
		}
		return a >= 2 && a <= 5 && a+b == 6 && c == 4
	}
	return false
}

func phoneJoin(k sepKind) bool { return k != sepNone }

// phoneCand is a phone number found in a chain.
type phoneCand struct {
	start, end int
	last       int // index of the last run used
	national   [12]byte
	n          int
	groups     [4]int
	ng         int
	formatted  bool // grouped or international (more than a bare digit run)
}

func (PhoneDetector) scanChain(st *scanState, c *chain, emit func(Match)) {
	if c.total < 10 {
		return
	}
	for i := 0; i < len(c.runs); i++ {
		var p phoneCand
		if !phoneAt(c, i, &p) {
			continue
		}
		i = p.last
		phoneReport(st, c, &p, emit)
	}
}

// phoneAt looks for a phone number starting with run i.
func phoneAt(c *chain, i int, p *phoneCand) bool {
	text := c.text
	r := &c.runs[i]
	ds := c.digitsOf(i)
	if r.n > 12 || len(ds) < 2 {
		return false
	}
	start := r.start
	plus := plusBefore(text, start)
	if plus > 0 {
		start -= plus
		start -= openBefore(text, start)
	}
	prev := c.sepBefore(i)
	if prev != sepNone && prev != sepSpace {
		return false // inside a longer chain (the +81 and 010-81 forms start earlier)
	}
	if plus > 0 || (string(ds) == "81" && r.sep == sepDash) || (string(ds) == "010" && r.n == 3) {
		return phoneIntl(c, i, start, plus > 0, p)
	}
	if ds[0] != '0' {
		return false
	}
	open := openBefore(text, start)
	for pass := 0; pass < 2; pass++ {
		withOpen := pass == 0
		if withOpen && open == 0 {
			continue
		}
		for k := min(3, len(c.runs)-i); k >= 1; k-- {
			if withOpen && k == 1 {
				continue
			}
			if phoneNational(c, i, k, withOpen, p) {
				p.start = start
				if withOpen {
					p.start -= open
				}
				return true
			}
		}
	}
	return false
}

// phoneNational tries runs i..i+k-1 as a national number.
func phoneNational(c *chain, i, k int, open bool, p *phoneCand) bool {
	last := i + k - 1
	if a := c.sepAfter(last); a != sepNone && a != sepSpace {
		return false
	}
	// The separators must make one style.
	switch k {
	case 2:
		s := c.runs[i].sep
		if open {
			if s != sepClose {
				return false
			}
		} else if s != sepDash && s != sepSpace && s != sepDot {
			return false
		}
	case 3:
		s1, s2 := c.runs[i].sep, c.runs[i+1].sep
		switch {
		case open:
			if s1 != sepClose || (s2 != sepDash && s2 != sepSpace) {
				return false
			}
		case s1 == sepOpen:
			if s2 != sepClose {
				return false
			}
		case s1 == s2 && (s1 == sepDash || s1 == sepSpace || s1 == sepDot):
		default:
			return false
		}
	}
	p.n, p.ng = 0, 0
	for j := i; j <= last; j++ {
		d := c.digitsOf(j)
		if p.n+len(d) > 11 || c.runs[j].n != len(d) {
			return false
		}
		p.n += copy(p.national[p.n:], d)
		p.groups[p.ng] = len(d)
		p.ng++
	}
	nat := p.national[:p.n]
	if !phonePlan(nat) || !phoneGroups(nat, p.groups[:p.ng]) {
		return false
	}
	p.end, p.last, p.formatted = c.runs[last].end, last, k > 1
	return true
}

// phoneIntl parses the international forms: +81…, +81 (0)…, 010-81-…, 81-….
func phoneIntl(c *chain, i, start int, plus bool, p *phoneCand) bool {
	ds := c.digitsOf(i)
	j := i + 1
	switch {
	case plus && len(ds) > 2 && string(ds[:2]) == "81":
		// +81312345678: one run.
		if c.runs[i].n != len(ds) || len(ds) > 12 {
			return false
		}
		p.national[0] = '0'
		p.n = 1 + copy(p.national[1:], ds[2:])
		p.groups[0], p.ng = p.n, 1
		if a := c.sepAfter(i); a != sepNone && a != sepSpace && a != sepClose {
			return false
		}
		if !phonePlan(p.national[:p.n]) {
			return false
		}
		p.start, p.end, p.last, p.formatted = start, c.runs[i].end, i, true
		return true
	case string(ds) == "81":
	case !plus && string(ds) == "010" && j < len(c.runs) && string(c.digitsOf(j)) == "81" &&
		(c.runs[i].sep == sepDash || c.runs[i].sep == sepSpace):
		j++
	default:
		return false
	}
	if !plus && c.runs[j-1].sep != sepDash && c.runs[j-1].sep != sepSpace {
		return false
	}
	if !phoneJoin(c.runs[j-1].sep) || j >= len(c.runs) {
		return false
	}
	// +81 (0)3-…: skip the trunk 0 in parentheses.
	if j+1 < len(c.runs) && c.runs[j].n == 1 && c.digitsOf(j)[0] == '0' && c.runs[j-1].sep == sepOpen && c.runs[j].sep == sepClose {
		j++
	}
	d0 := c.digitsOf(j)
	if len(d0) == 0 || d0[0] == '0' {
		return false
	}
	for k := min(4, len(c.runs)-j); k >= 1; k-- {
		last := j + k - 1
		if a := c.sepAfter(last); a != sepNone && a != sepSpace {
			continue
		}
		if !plus && k < 2 {
			continue
		}
		p.national[0] = '0'
		p.n, p.ng = 1, 0
		ok := true
		for m := j; m <= last; m++ {
			d := c.digitsOf(m)
			if p.n+len(d) > 11 || c.runs[m].n != len(d) || (m < last && (c.runs[m].sep == sepOpen)) {
				ok = false
				break
			}
			p.n += copy(p.national[p.n:], d)
			p.groups[p.ng] = len(d)
			p.ng++
		}
		if !ok || !phonePlan(p.national[:p.n]) {
			continue
		}
		p.groups[0]++ // the trunk 0 belongs to the first group
		p.start, p.end, p.last, p.formatted = start, c.runs[last].end, last, true
		return true
	}
	return false
}

// phoneReport weighs the context of a valid phone number and emits it.
func phoneReport(st *scanState, c *chain, p *phoneCand, emit func(Match)) {
	col := st.columnAt(p.start)
	lab := st.labelBefore(p.start)
	if lab != ColNone && lab != ColPhone {
		return
	}
	conf := Low
	switch {
	case lab == ColPhone, col == ColPhone:
		conf = High
	case col != ColNone && col != ColAddress:
		return
	case p.formatted:
		conf = Medium
	}
	st.report(emit, Phone, p.start, p.end, p.national[:p.n], conf, p.groups[:p.ng])
}

// maskPhone masks all but the last four digits, keeping the written
// grouping: "***-****-5678".
func maskPhone(n []byte, groups []int) string { return string(appendMaskPhone(nil, n, groups)) }

// appendMaskPhone appends maskPhone(n, groups) to b.
func appendMaskPhone(b, n []byte, groups []int) []byte {
	k := 0
	for gi, g := range groups {
		if gi > 0 {
			b = append(b, '-')
		}
		for j := 0; j < g && k < len(n); j++ {
			if k >= len(n)-4 {
				b = append(b, n[k])
			} else {
				b = append(b, '*')
			}
			k++
		}
	}
	return b
}
