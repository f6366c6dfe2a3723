package detectors

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Custom detectors are a site's own rules, given as data in the
// configuration: a regular expression (github.com/dlclark/regexp2/v2, so
// lookarounds are allowed), a keyword dictionary, or both (a value counts
// only when a keyword is within Proximity characters of it), and an optional
// check-digit validator.
//
// regexp2 backtracks, so a bad pattern can take exponential time. Every
// match is bounded by MatchTimeout, and the time one rule spends on one
// window of text is bounded by the same value (the clock is read every
// deadlineEvery searches). When a rule times out (or
// its backtracking stack passes maxBacktrack), the detector emits a Match
// whose Detector is TimeoutID(id) (Key "timeout", Masked "timeout") and the
// rule stops for the rest of the part: the policy turns such a match into
// the reason uninspectable (or a temporary failure, per configuration), so a
// message never hangs and never passes unjudged.
//
// Speed. The engine is regexp2 v2 (pinned, v2.13.0) behind customRegexp,
// so v1 or a generated matcher can be swapped in. All rules of a group share
// one conversion of each window (customWindow bytes, cut at a line end) to
// runes, and each rule runs once over a window, not per line. Before a rule
// runs on a window, cheap facts proved from its syntax tree must hold there
// (patternInfo: a literal every match contains, such as "ORD-" or "@", and
// a run of a set every match holds, such as nine digits for [0-9]{9}); the
// keywords of all rules are found in one Aho–Corasick pass, so a
// keyword-gated rule costs nothing on windows without its keywords, and
// where they occur the pattern runs only on the text within reach of them
// (the proximity plus twice the longest stretch a match and its lookarounds
// can span, or keywordSlack runes when that is unbounded). A pattern with a
// literal at a fixed offset from its start (the "/" of a date, "ORD-") is
// tried, anchored, only where that literal occurs. Each shortcut finds the
// same matches as a plain search (TestCustomEngineAgrees checks them all
// against regexp2 v1 without shortcuts).
//
// Go's regexp (linear time) was measured for the rules that need no
// lookaround or backreference and not chosen: on the benchmark's e-mail
// rules it ran 190–370 ms per 8 MiB against 5–40 ms for regexp2 v2, and
// regexp2's RE2 option changes what \d, \w, \s, \b and $ mean (ASCII
// only), so it would silently change what a site's pattern finds
// (full-width digits). A rule compatible with both is therefore still run
// by regexp2 v2, bounded by its timeout.

// TimeoutPrefix starts the Detector ID of the match a custom detector emits
// when its pattern timed out: "timeout:<id>".
const TimeoutPrefix = "timeout:"

// TimeoutID is the Detector ID of the match recorded when custom detector id
// timed out.
func TimeoutID(id string) string { return TimeoutPrefix + id }

// Validators a custom detector may use.
const (
	ValidatorLuhn  = "luhn"  // ISO/IEC 7812 (card numbers)
	ValidatorMod11 = "mod11" // weights 2..7 from the right, check = 11 - sum%11 (0 when ≤ 1): マイナンバー and similar
)

// Normalisations of a custom match into its key (the distinct value).
const (
	NormalizeText   = "text"   // NFKC, lower case, without spaces and hyphens (the default)
	NormalizeDigits = "digits" // the digits only (after NFKC)
)

// Bounds of a custom detector.
const (
	DefaultMatchTimeout = time.Second
	MinMatchTimeout     = 100 * time.Millisecond // regexp2's clock ticks every 100 ms
	MaxMatchTimeout     = 60 * time.Second
	DefaultProximity    = 50
	// customWindow is how much text (at line ends) one regexp run sees.
	customWindow = 64 << 10
)

// CustomSpec describes a custom detector.
type CustomSpec struct {
	ID string
	// Pattern is a regexp2 pattern (.NET syntax; \d also matches full-width
	// digits). Multiline is on, so ^ and $ match at line ends. Empty means a
	// keyword-only detector: each distinct keyword found is a value.
	Pattern    string
	IgnoreCase bool
	// Group selects the capture group that holds the value (0: the whole match).
	Group int
	// Keywords, when set with a Pattern, must occur within Proximity
	// characters (runes) of a match for it to count. Matched exactly.
	Keywords  []string
	Proximity int // 0: DefaultProximity
	// Validator is "", ValidatorLuhn or ValidatorMod11 (applied to the digits of the value).
	Validator string
	// Normalize is NormalizeText ("" too) or NormalizeDigits.
	Normalize string
	// MatchTimeout bounds each match and each window (0: DefaultMatchTimeout).
	MatchTimeout time.Duration
}

// Custom is one compiled custom detector. It is safe for concurrent use.
type Custom struct {
	spec     CustomSpec
	re       customRegexp
	info     patternInfo
	keywords [][]byte
	digits   bool
	solo     *customSet // the detector alone, for Scan and Find
}

var _ Detector = (*Custom)(nil)

// NewCustom compiles spec. Errors name the field at fault.
func NewCustom(spec CustomSpec) (Detector, error) { return newCustom(spec) }

func newCustom(spec CustomSpec) (*Custom, error) {
	if err := checkCustomID(spec.ID); err != nil {
		return nil, err
	}
	c := &Custom{spec: spec}
	if spec.MatchTimeout == 0 {
		c.spec.MatchTimeout = DefaultMatchTimeout
	}
	if c.spec.MatchTimeout < MinMatchTimeout || c.spec.MatchTimeout > MaxMatchTimeout {
		return nil, fmt.Errorf("match_timeout: %v is out of range (%v to %v)", spec.MatchTimeout, MinMatchTimeout, MaxMatchTimeout)
	}
	if spec.Proximity < 0 {
		return nil, fmt.Errorf("proximity: %d is negative", spec.Proximity)
	}
	if c.spec.Proximity == 0 {
		c.spec.Proximity = DefaultProximity
	}
	switch spec.Validator {
	case "", ValidatorLuhn, ValidatorMod11:
	default:
		return nil, fmt.Errorf("validator: %q is not one of luhn, mod11", spec.Validator)
	}
	switch spec.Normalize {
	case "", NormalizeText:
	case NormalizeDigits:
		c.digits = true
	default:
		return nil, fmt.Errorf("normalize: %q is not one of text, digits", spec.Normalize)
	}
	if spec.Validator != "" {
		c.digits = true
	}
	seen := map[string]bool{}
	for i, k := range spec.Keywords {
		if strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("keywords[%d]: empty keyword", i)
		}
		if !utf8.ValidString(k) {
			return nil, fmt.Errorf("keywords[%d]: not valid UTF-8", i)
		}
		if seen[k] {
			return nil, fmt.Errorf("keywords[%d]: duplicate keyword", i)
		}
		seen[k] = true
		c.keywords = append(c.keywords, []byte(k))
	}
	if spec.Pattern == "" {
		if len(c.keywords) == 0 {
			return nil, errors.New("pattern: a custom detector needs a pattern, keywords or both")
		}
		if spec.Validator != "" {
			return nil, errors.New("validator: a keyword-only detector has no value to validate")
		}
		if spec.Group != 0 {
			return nil, errors.New("group: a keyword-only detector has no groups")
		}
		return c.alone()
	}
	re, err := compileV2(spec.Pattern, spec.IgnoreCase, c.spec.MatchTimeout)
	if err != nil {
		return nil, fmt.Errorf("pattern: %v", err)
	}
	if spec.Group < 0 || spec.Group >= re.numGroups() {
		return nil, fmt.Errorf("group: %d is not a group of the pattern (it has %d)", spec.Group, re.numGroups()-1)
	}
	c.re = re
	c.info = analyse(spec.Pattern, spec.IgnoreCase)
	return c.alone()
}

// alone sets up the detector's own scanner (for Scan and Find).
func (c *Custom) alone() (*Custom, error) {
	cs, err := newCustomSet([]*Custom{c})
	if err != nil {
		return nil, err
	}
	c.solo = cs
	return c, nil
}

func checkCustomID(id string) error {
	if id == "" {
		return errors.New("id: empty")
	}
	for i, r := range id {
		ok := r >= 'a' && r <= 'z' || r == '_' || (i > 0 && (r >= '0' && r <= '9' || r == '-'))
		if !ok {
			return fmt.Errorf("id: %q must be lower-case letters, digits, '_' or '-', starting with a letter or '_'", id)
		}
	}
	if len(id) > 64 {
		return fmt.Errorf("id: %q is longer than 64 characters", id)
	}
	return nil
}

// ID returns the detector's ID.
func (c *Custom) ID() string { return c.spec.ID }

// Spec returns the specification the detector was compiled from (with defaults filled in).
func (c *Custom) Spec() CustomSpec { return c.spec }

// Scan reports every value in text.
func (c *Custom) Scan(text []byte, ctx *Context, emit func(Match)) {
	c.solo.scan(c.solo.memo, text, ctx, emit)
}

// Find runs the detector over text (one part) and returns its matches and
// whether it timed out. It is for checking examples and for tests.
func (c *Custom) Find(text string) (ms []Match, timedOut bool) {
	var ctx Context
	c.solo.scan(nil, []byte(text), &ctx, func(m Match) {
		if strings.HasPrefix(m.Detector, TimeoutPrefix) {
			timedOut = true
			return
		}
		ms = append(ms, m)
	})
	return ms, timedOut
}

// CustomGroup runs several custom detectors over one conversion of the text
// to runes (regexp2 works on runes). Its ID is "custom"; the matches it emits
// carry each member's own ID.
type CustomGroup struct {
	set *customSet
}

var _ Detector = (*CustomGroup)(nil)

// NewCustomGroup compiles specs into one detector. IDs must be distinct.
func NewCustomGroup(specs []CustomSpec) (*CustomGroup, error) {
	var members []*Custom
	seen := map[string]bool{}
	for i, s := range specs {
		if seen[s.ID] {
			return nil, fmt.Errorf("detectors: custom detector %d: id %q is used twice", i, s.ID)
		}
		seen[s.ID] = true
		c, err := newCustom(s)
		if err != nil {
			return nil, fmt.Errorf("detectors: custom detector %q: %w", s.ID, err)
		}
		members = append(members, c)
	}
	cs, err := newCustomSet(members)
	if err != nil {
		return nil, err
	}
	return &CustomGroup{set: cs}, nil
}

// ID returns "custom".
func (g *CustomGroup) ID() string { return "custom" }

// IDs returns the IDs of the members, in order.
func (g *CustomGroup) IDs() []string {
	ids := make([]string, len(g.set.members))
	for i, c := range g.set.members {
		ids[i] = c.spec.ID
	}
	return ids
}

// Scan reports every value of every member in text.
func (g *CustomGroup) Scan(text []byte, ctx *Context, emit func(Match)) {
	g.set.scan(g.set.memo, text, ctx, emit)
}

// customSet is several custom detectors run together: one conversion of
// each window to runes, one keyword search, one count of each set run.
type customSet struct {
	members []*Custom
	kw      *keywordIndex
	runs    runCounter
	runIDs  [][]int // runIDs[m][i] is the runCounter id of members[m].info.runs[i]
	memo    *timeoutMemo
}

func newCustomSet(members []*Custom) (*customSet, error) {
	cs := &customSet{members: members, memo: &timeoutMemo{}, runIDs: make([][]int, len(members))}
	kw, err := newKeywordIndex(members)
	if err != nil {
		return nil, fmt.Errorf("keywords: cannot index them: %v", err)
	}
	cs.kw = kw
	for m, c := range members {
		for _, r := range c.info.runs {
			cs.runIDs[m] = append(cs.runIDs[m], cs.runs.id(r))
		}
	}
	return cs, nil
}

// scan runs the members over text, window by window. memo remembers, per
// part, the members that timed out, so that they stop for the rest of it.
func (cs *customSet) scan(memo *timeoutMemo, text []byte, ctx *Context, emit func(Match)) {
	members := cs.members
	if len(members) == 0 {
		return
	}
	dead := memo.lookup(ctx)
	var w window
	spans := make([][]span, len(members))
	longest := make([]int, len(cs.runs.sets))
	// A chunk that starts or ends inside a line (the engine cuts lines
	// longer than maxLine) must not let ^ and $ match at the cut.
	tail := ctx.Tail()
	cutBefore := len(tail) > 0 && tail[len(tail)-1] != '\n'
	off := 0 // offset of the window in text
	emitAt := func(m Match) {
		m.Start += off
		m.End += off
		emit(m)
	}
	for len(text) > 0 {
		n := len(text)
		cutAfter := false
		if n > customWindow {
			n = customWindow
			if i := bytes.LastIndexByte(text[:n], '\n'); i >= 0 {
				n = i + 1
			} else {
				for n > 0 && !utf8.RuneStart(text[n]) {
					n--
				}
				if n == 0 {
					n = customWindow
				}
				cutAfter = true
			}
		} else if text[n-1] != '\n' && n >= maxLine/2 {
			cutAfter = true // the engine's cut of an over-long line
		}
		w.set(text[:n], cutBefore, cutAfter)
		cutBefore = cutAfter
		for i := range spans {
			spans[i] = spans[i][:0]
		}
		if cs.kw != nil {
			cs.kw.find(&w, spans)
		} else {
			for m, c := range members {
				spans[m] = findKeywordsNaive(c.keywords, &w, spans[m])
			}
		}
		for i := range longest {
			longest[i] = -1
		}
		for m, c := range members {
			if dead[c.spec.ID] || !cs.gate(m, &w, longest) {
				continue
			}
			if !c.scanWindow(&w, spans[m], emitAt) {
				if dead == nil {
					dead = map[string]bool{}
					memo.store(ctx, dead)
				}
				dead[c.spec.ID] = true
				emit(Match{Detector: TimeoutID(c.spec.ID), Key: "timeout", Masked: "timeout", Confidence: High})
			}
		}
		text = text[n:]
		off += n
	}
}

// gate reports whether member m's pattern can match in w: every literal it
// needs is in the text and every set run it needs is long enough. longest
// caches the run lengths of the window (-1: not counted yet).
func (cs *customSet) gate(m int, w *window, longest []int) bool {
	c := cs.members[m]
	if c.re == nil {
		return true
	}
	for _, lit := range c.info.literals {
		if !bytes.Contains(w.text, lit) {
			return false
		}
	}
	for i, id := range cs.runIDs[m] {
		if longest[id] < 0 {
			longest[id] = cs.runs.longest(id, w.runes[w.first:w.end])
		}
		if longest[id] < c.info.runs[i].min {
			return false
		}
	}
	return true
}

// timeoutMemo remembers which custom detectors timed out in the part a
// Context belongs to. The Context has no slot for it, so the memo is keyed
// by the Context's address: a Context whose Tail is empty is at the start
// of a part (the engine has not advanced it yet), which starts afresh, so
// an address reused by a later part never inherits a verdict. Entries exist
// only for parts where something timed out, and at most maxMemo of them are
// kept (past that the memo starts over: a rule then times out again in the
// next chunk, which costs time but never lets anything pass unjudged).
type timeoutMemo struct {
	mu sync.Mutex
	n  atomic.Int64
	m  map[*Context]map[string]bool
}

const maxMemo = 4096

// lookup returns the dead set of ctx's part, or nil.
func (t *timeoutMemo) lookup(ctx *Context) map[string]bool {
	if t == nil || t.n.Load() == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(ctx.Tail()) == 0 {
		if _, ok := t.m[ctx]; ok {
			delete(t.m, ctx)
			t.n.Store(int64(len(t.m)))
		}
		return nil
	}
	return t.m[ctx]
}

func (t *timeoutMemo) store(ctx *Context, dead map[string]bool) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil || len(t.m) >= maxMemo {
		t.m = map[*Context]map[string]bool{}
	}
	t.m[ctx] = dead
	t.n.Store(int64(len(t.m)))
}

// window is one stretch of text with its runes, converted once. When the
// stretch starts or ends inside a line, a sentinel rune stands for the rest
// of the line on that side, so that ^, $ and lookarounds do not take the cut
// for a line end; matches that touch a sentinel are dropped.
type window struct {
	text       []byte
	runes      []rune
	offs       []int // offs[i] is the byte offset of rune i; offs[len(runes)] == len(text)
	first, end int   // the real runes are runes[first:end]
}

// sentinel is a noncharacter: never in real text, not a line end, not a
// digit, not a word character of any script.
const sentinel = '\uFFFF'

func (w *window) set(text []byte, cutBefore, cutAfter bool) {
	w.text = text
	w.runes = w.runes[:0]
	w.offs = w.offs[:0]
	w.first = 0
	if cutBefore {
		w.runes = append(w.runes, sentinel)
		w.offs = append(w.offs, 0)
		w.first = 1
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRune(text[i:])
		w.runes = append(w.runes, r)
		w.offs = append(w.offs, i)
		i += size
	}
	w.end = len(w.runes)
	if cutAfter {
		w.runes = append(w.runes, sentinel)
		w.offs = append(w.offs, len(text))
	}
	w.offs = append(w.offs, len(text))
}

// runeAtFrom is runeAt for an offset at or after that of rune from: it
// gallops forward from there (offsets searched in order cost little).
func (w *window) runeAtFrom(b, from int) int {
	if from < 0 || from >= len(w.offs) || w.offs[from] > b {
		return w.runeAt(b)
	}
	lo, step := from, 1
	for lo+step < len(w.offs) && w.offs[lo+step] <= b {
		lo += step
		step *= 2
	}
	hi := min(lo+step, len(w.offs)) // offs[hi] > b, or hi is the end
	return lo + sort.Search(hi-lo, func(i int) bool { return w.offs[lo+i] > b }) - 1
}

// runeAt returns the index of the rune that starts at or contains byte offset b.
func (w *window) runeAt(b int) int {
	return sort.Search(len(w.offs), func(i int) bool { return w.offs[i] > b }) - 1
}

// scanWindow emits the member's values in w; it returns false on a timeout.
// kws are the member's keyword occurrences in w, as rune spans sorted by start.
func (c *Custom) scanWindow(w *window, kws []span, emit func(Match)) bool {
	if len(c.keywords) > 0 && len(kws) == 0 {
		return true
	}
	if c.re == nil {
		seen := map[int]bool{}
		for _, k := range kws {
			if seen[k.kw] {
				continue
			}
			seen[k.kw] = true
			kw := string(c.keywords[k.kw])
			emit(Match{Detector: c.spec.ID, Start: w.offs[k.start], End: w.offs[k.end], Key: kw, Masked: kw, Confidence: Medium})
		}
		return true
	}
	deadline := time.Now().Add(c.spec.MatchTimeout)
	if len(kws) == 0 {
		if c.info.anchor != nil && c.re.canAnchor() {
			return c.runAnchored(w, deadline, emit)
		}
		return c.run(w, w.runes, 0, 0, len(w.runes), nil, deadline, emit)
	}
	// Keyword-gated: run the pattern only on the text around the keywords
	// (proximity plus the slack on each side), with a sentinel where such a
	// stretch cuts a line.
	var buf []rune
	for _, r := range keywordRanges(kws, c.spec.Proximity+c.slack(), w.first, w.end) {
		a, b := r[0], r[1]
		if a == w.first {
			a = 0
		}
		if b == w.end {
			b = len(w.runes)
		}
		buf = buf[:0]
		lead := 0
		if a > 0 && w.runes[a-1] != '\n' {
			buf = append(buf, sentinel)
			lead = 1
		}
		buf = append(buf, w.runes[a:b]...)
		hi := len(buf)
		if b < len(w.runes) && w.runes[b] != '\n' {
			buf = append(buf, sentinel)
		}
		if !c.run(w, buf, a-lead, lead, hi, kws, deadline, emit) {
			return false
		}
	}
	return true
}

// deadlineEvery is how many searches a rule makes between looks at the
// clock (time.Now is dear next to a search). Each search is bounded by
// MatchTimeout on its own, so a window can overrun its deadline by at most
// deadlineEvery searches.
const deadlineEvery = 8

// keywordSlack is how far beyond the proximity a keyword-gated pattern of
// unbounded reach sees: a value longer than this that does not reach within
// Proximity of its keyword is not found.
const keywordSlack = 256

// slack is how far beyond the proximity a keyword-gated pattern sees: twice
// the reach of a match (so that where the stretch is cut, at most one
// stray match of the cut text lies before the values that count, and the
// lookarounds of those see real text), capped by keywordSlack.
func (c *Custom) slack() int {
	if c.info.reach < 0 {
		return keywordSlack
	}
	return min(keywordSlack, 2*c.info.reach+2)
}

// keywordRanges returns the merged rune ranges [a, b) within [lo, hi) that
// lie within reach runes of a keyword.
func keywordRanges(kws []span, reach, lo, hi int) [][2]int {
	var out [][2]int
	for _, k := range kws {
		a, b := max(lo, k.start-reach), min(hi, k.end+reach)
		if n := len(out); n > 0 && a <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], b)
			continue
		}
		out = append(out, [2]int{a, b})
	}
	return out
}

// run emits the member's values among the matches of its pattern in runes,
// whose index i is index base+i of w. Matches outside runes[lo:hi] (on a
// sentinel) are dropped. It returns false on a timeout.
func (c *Custom) run(w *window, runes []rune, base, lo, hi int, kws []span, deadline time.Time, emit func(Match)) bool {
	late := false
	n := 0
	err := c.re.each(runes, c.spec.Group, func(gs, ge int) bool {
		if n++; n%deadlineEvery == 0 && time.Now().After(deadline) {
			late = true
			return false
		}
		c.value(w, gs, ge, base, lo, hi, kws, emit)
		return true
	})
	return err == nil && !late
}

// runAnchored is run over the whole window for a pattern with an anchor
// literal at a fixed offset from the start of every match: the pattern is
// tried only at the starts the literal's occurrences imply, in order, each
// next try after the end of the last match. That finds the same matches as
// a search from every position, at the cost of one try per occurrence.
func (c *Custom) runAnchored(w *window, deadline time.Time, emit func(Match)) bool {
	lit := c.info.anchor
	_, step := utf8.DecodeRune(lit)
	pos := 0 // no match starts before pos
	r, n := 0, 0
	for b := 0; b < len(w.text); {
		j := bytes.Index(w.text[b:], lit)
		if j < 0 {
			break
		}
		ob := b + j
		b = ob + step
		r = w.runeAtFrom(ob, r)
		at := r - c.info.anchorAt
		if at < pos {
			continue
		}
		if n++; n%deadlineEvery == 0 && time.Now().After(deadline) {
			return false
		}
		gs, ge, end, ok, err := c.re.matchAt(w.runes, at, c.spec.Group)
		if err != nil {
			return false
		}
		if !ok {
			continue
		}
		pos = max(end, at+1)
		if gs >= 0 {
			c.value(w, gs, ge, 0, 0, len(w.runes), nil, emit)
		}
	}
	return true
}

// value emits the value at runes [gs, ge) of a run whose index i is index
// base+i of w, unless it lies outside [lo, hi), on a sentinel, too far from
// the keywords, or the validator rejects it.
func (c *Custom) value(w *window, gs, ge, base, lo, hi int, kws []span, emit func(Match)) {
	if gs < lo || ge > hi {
		return
	}
	start, end := base+gs, base+ge
	if start == end || start < w.first || end > w.end {
		return
	}
	conf := Low
	if len(kws) > 0 {
		if !near(kws, start, end, c.spec.Proximity) {
			return
		}
		conf = Medium
	}
	key, ok := c.key(w.runes[start:end])
	if !ok {
		return
	}
	emit(Match{Detector: c.spec.ID, Start: w.offs[start], End: w.offs[end], Key: key, Masked: maskKey(key), Confidence: conf})
}

type span struct{ start, end, kw int }

// near reports whether some keyword span lies within prox runes of [start, end).
func near(kws []span, start, end, prox int) bool {
	for _, k := range kws {
		if k.start > end+prox {
			return false
		}
		if k.end >= start-prox {
			return true
		}
	}
	return false
}

// key normalises a matched value; ok is false when the validator rejects it.
func (c *Custom) key(value []rune) (string, bool) {
	if k, ok, done := c.asciiKey(value); done {
		return k, ok
	}
	s := norm.NFKC.String(string(value))
	if c.digits {
		var b strings.Builder
		for _, r := range s {
			if r >= '0' && r <= '9' {
				b.WriteRune(r)
			}
		}
		return c.validate(b.String())
	}
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsSpace(r) || r == '-' || r == '‐' || r == '−' || r == 'ー' {
			continue
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "", false
	}
	return b.String(), true
}

// asciiKey is key for a short ASCII value (NFKC leaves ASCII alone), built
// in one allocation; done is false for any other value.
func (c *Custom) asciiKey(value []rune) (key string, ok, done bool) {
	var buf [64]byte
	if len(value) > len(buf) {
		return "", false, false
	}
	n := 0
	for _, r := range value {
		if r >= 0x80 {
			return "", false, false
		}
		b := byte(r)
		if c.digits {
			if b-'0' > 9 {
				continue
			}
		} else {
			if b == ' ' || b-'\t' <= '\r'-'\t' || b == '-' {
				continue
			}
			if b-'A' < 26 {
				b += 'a' - 'A'
			}
		}
		buf[n] = b
		n++
	}
	if c.digits {
		key, ok = c.validate(string(buf[:n]))
		return key, ok, true
	}
	if n == 0 {
		return "", false, true
	}
	return string(buf[:n]), true, true
}

// validate applies the validator to the digits d of a value.
func (c *Custom) validate(d string) (string, bool) {
	switch c.spec.Validator {
	case ValidatorLuhn:
		if !Luhn(d) {
			return "", false
		}
	case ValidatorMod11:
		if !Mod11(d) {
			return "", false
		}
	}
	if d == "" {
		return "", false
	}
	return d, true
}

// maskKey masks a key for logs: all but the last 4 characters of a long key,
// the last 2 of a medium one, everything of a short one.
func maskKey(key string) string {
	if len(key) <= 64 {
		var buf [64]byte
		ascii := true
		for i := 0; i < len(key); i++ {
			if key[i] >= 0x80 {
				ascii = false
				break
			}
			buf[i] = '*'
		}
		if ascii {
			keep := 0
			switch {
			case len(key) >= 10:
				keep = 4
			case len(key) >= 6:
				keep = 2
			}
			copy(buf[len(key)-keep:], key[len(key)-keep:])
			return string(buf[:len(key)])
		}
	}
	rs := []rune(key)
	keep := 0
	switch {
	case len(rs) >= 10:
		keep = 4
	case len(rs) >= 6:
		keep = 2
	}
	return strings.Repeat("*", len(rs)-keep) + string(rs[len(rs)-keep:])
}

// Luhn reports whether digits (ASCII) pass the Luhn check. It needs at least 2 digits.
func Luhn(digits string) bool {
	if len(digits) < 2 {
		return false
	}
	sum := 0
	for i := 0; i < len(digits); i++ {
		d := int(digits[len(digits)-1-i] - '0')
		if d < 0 || d > 9 {
			return false
		}
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// Mod11 reports whether the last of digits (ASCII) is the mod-11 check digit
// of the others, with weights 2, 3, 4, 5, 6, 7, 2, 3, ... from the right and
// check = 11 - sum%11, or 0 when sum%11 ≤ 1. For 12 digits this is the
// マイナンバー check digit. It needs at least 2 digits.
func Mod11(digits string) bool {
	if len(digits) < 2 {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	body := digits[:len(digits)-1]
	sum := 0
	for i := 0; i < len(body); i++ {
		d := int(body[len(body)-1-i] - '0')
		sum += d * (2 + i%6)
	}
	r := sum % 11
	check := 0
	if r > 1 {
		check = 11 - r
	}
	return int(digits[len(digits)-1]-'0') == check
}
