package detectors

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2/v2"
	"github.com/dlclark/regexp2/v2/syntax"
)

// customRegexp is the pattern engine behind a custom detector. The detector
// only needs "every match of this group, as rune ranges, with a bound on
// time", so the engine can be swapped (regexp2 v1, v2, a generated matcher)
// without touching the scanning code.
type customRegexp interface {
	// numGroups is the number of capture groups, group 0 (the whole match)
	// included.
	numGroups() int
	// each calls yield with the rune range [start, end) of group of every
	// match in runes, in order, until yield returns false; a match where the
	// group did not take part is skipped. It returns an error when a search
	// ran past the timeout or its memory bound (the caller fails closed).
	each(runes []rune, group int, yield func(start, end int) bool) error
	// matchAt tries a match starting exactly at rune at (not later): ok
	// reports one, [gs, ge) is its group's range (gs < 0: the group did not
	// take part) and end the end of the whole match. canAnchor says whether
	// the engine supports it.
	matchAt(runes []rune, at, group int) (gs, ge, end int, ok bool, err error)
	canAnchor() bool
}

// maxBacktrack bounds the backtracking stack of one match, in int slots
// (8 MiB). regexp2 v2's default (100,000) rejects legitimate long matches
// of nested loops in a 64 KiB window, such as `([0-9]+ ?)+` over a long
// column of numbers; a window is at most customWindow runes, so this bound
// leaves room for several slots a rune.
const maxBacktrack = 1 << 20

// regexpV2 is github.com/dlclark/regexp2/v2.
type regexpV2 struct {
	re     *regexp2.Regexp
	anch   *regexp2.Regexp // \G(?:pattern): matches only where asked; nil if unavailable
	groups int
}

var _ customRegexp = (*regexpV2)(nil)

// compileV2 compiles a custom pattern (multiline, optionally ignoring case)
// with regexp2 v2, turning a parser panic into an error.
func compileV2(pattern string, ignoreCase bool, timeout time.Duration) (rx customRegexp, err error) {
	defer func() {
		if r := recover(); r != nil {
			rx, err = nil, fmt.Errorf("cannot compile: %v", r)
		}
	}()
	re, err := regexp2.Compile(pattern, customOptions(ignoreCase), regexp2.OptionMaxBacktrackingStackSize(maxBacktrack))
	if err != nil {
		return nil, err
	}
	re.MatchTimeout = timeout
	rx2 := &regexpV2{re: re, groups: len(re.GetGroupNumbers())}
	// The anchored twin. A '#' might open a comment under (?x) that would
	// swallow the closing parenthesis: then there is no twin.
	if !strings.Contains(pattern, "#") {
		anch, err := regexp2.Compile(`\G(?:`+pattern+`)`, customOptions(ignoreCase), regexp2.OptionMaxBacktrackingStackSize(maxBacktrack))
		if err == nil && len(anch.GetGroupNumbers()) == rx2.groups {
			anch.MatchTimeout = timeout
			rx2.anch = anch
		}
	}
	return rx2, nil
}

func customOptions(ignoreCase bool) regexp2.RegexOptions {
	opt := regexp2.Multiline
	if ignoreCase {
		opt |= regexp2.IgnoreCase
	}
	return opt
}

func (r *regexpV2) numGroups() int { return r.groups }

func (r *regexpV2) each(runes []rune, group int, yield func(start, end int) bool) error {
	err := r.re.FindRunesMatches(runes, 0, func(v regexp2.MatchView) bool {
		i, n, ok := v.GroupRange(group)
		if !ok {
			return true
		}
		return yield(i, i+n)
	})
	if err != nil {
		// regexp2's timeout error holds the whole input: never pass it on.
		return errCustomAbort
	}
	return nil
}

func (r *regexpV2) canAnchor() bool { return r.anch != nil }

func (r *regexpV2) matchAt(runes []rune, at, group int) (gs, ge, end int, ok bool, err error) {
	gs = -1
	err = r.anch.FindRunesMatches(runes, at, func(v regexp2.MatchView) bool {
		i, n, _ := v.GroupRange(0)
		if i != at {
			return false // \G holds only at the start; never expected
		}
		ok, end = true, i+n
		if j, m, in := v.GroupRange(group); in {
			gs, ge = j, j+m
		}
		return false
	})
	if err != nil {
		return -1, -1, 0, false, errCustomAbort
	}
	return gs, ge, end, ok, nil
}

// errCustomAbort replaces regexp2's errors, whose text holds the input.
var errCustomAbort = errors.New("detectors: custom pattern timed out or ran out of backtracking stack; the part cannot be inspected")

// patternInfo is what a custom detector learns from its pattern's syntax
// tree to skip work: facts true of every match, checked on a window before
// the pattern runs there (a window without them holds no match).
type patternInfo struct {
	// literals are strings (UTF-8) that every match contains.
	literals [][]byte
	// runs are character sets of which every match holds a run of at least
	// min consecutive runes.
	runs []setRun
	// anchor is a literal (UTF-8) found at rune offset anchorAt from the
	// start of every match; nil when the pattern's start has none. Matches
	// are then tried only where it occurs.
	anchor   []byte
	anchorAt int
	// reach bounds, in runes, a match plus the context its lookarounds and
	// anchors look at; -1 when unbounded (loops without a maximum,
	// backreferences, conditionals).
	reach int
}

type setRun struct {
	set *syntax.CharSet
	key string // the set's description: equal sets share a run count
	min int
}

// analyse parses pattern as regexp2 v2 does and returns what it can prove.
// Anything it cannot read gives an empty patternInfo (no shortcut).
func analyse(pattern string, ignoreCase bool) (info patternInfo) {
	info.reach = -1
	defer func() {
		if recover() != nil {
			info = patternInfo{reach: -1}
		}
	}()
	tree, err := syntax.Parse(pattern, syntax.ParseOptions{RegexOptions: syntax.RegexOptions(customOptions(ignoreCase))})
	if err != nil || tree.Root == nil || tree.Options&syntax.RightToLeft != 0 {
		return info
	}
	required(tree.Root, &info)
	fixedAnchor(tree.Root, &info)
	if n := maxReach(tree.Root); n >= 0 && n < 1<<20 {
		info.reach = n + 2 // an anchor or \b looks at one rune on each side
	}
	return info
}

// required collects the literals and set runs that every match of n holds.
func required(n *syntax.RegexNode, info *patternInfo) {
	switch n.T {
	case syntax.NtCapture, syntax.NtGroup, syntax.NtAtomic, syntax.NtConcatenate:
		for _, c := range n.Children {
			required(c, info)
		}
	case syntax.NtLoop, syntax.NtLazyloop:
		if n.M >= 1 && len(n.Children) == 1 {
			required(n.Children[0], info)
		}
	case syntax.NtOne:
		addLiteral(info, []rune{n.Ch}, n.Options)
	case syntax.NtMulti:
		addLiteral(info, n.Str, n.Options)
	case syntax.NtOneloop, syntax.NtOnelazy, syntax.NtOneloopatomic:
		if n.M >= 1 {
			addLiteral(info, []rune(strings.Repeat(string(n.Ch), min(n.M, 16))), n.Options)
		}
	case syntax.NtSetloop, syntax.NtSetlazy, syntax.NtSetloopatomic:
		if n.M >= 2 && n.Set != nil {
			info.runs = append(info.runs, setRun{set: n.Set, key: n.Set.String(), min: n.M})
		}
	}
}

// fixedAnchor finds the longest literal at a fixed offset from the start
// of every match: it walks the pattern's top-level sequence while each step
// has a fixed length.
func fixedAnchor(root *syntax.RegexNode, info *patternInfo) {
	seq := []*syntax.RegexNode{root}
	for len(seq) == 1 && (seq[0].T == syntax.NtCapture || seq[0].T == syntax.NtGroup || seq[0].T == syntax.NtConcatenate) {
		seq = seq[0].Children
	}
	at := 0
	for _, n := range seq {
		var lit []rune
		switch n.T {
		case syntax.NtOne:
			lit = []rune{n.Ch}
		case syntax.NtMulti:
			lit = n.Str
		}
		if lit != nil {
			var probe patternInfo
			addLiteral(&probe, lit, n.Options)
			if len(probe.literals) == 1 && len(probe.literals[0]) > len(info.anchor) {
				info.anchor, info.anchorAt = probe.literals[0], at
			}
		}
		l, ok := fixedLen(n)
		if !ok {
			return
		}
		at += l
	}
}

// fixedLen is the length in runes of every match of n, if it has one.
func fixedLen(n *syntax.RegexNode) (int, bool) {
	switch n.T {
	case syntax.NtOne, syntax.NtNotone, syntax.NtSet:
		return 1, true
	case syntax.NtMulti:
		return len(n.Str), true
	case syntax.NtOneloop, syntax.NtNotoneloop, syntax.NtSetloop, syntax.NtOnelazy, syntax.NtNotonelazy,
		syntax.NtSetlazy, syntax.NtOneloopatomic, syntax.NtNotoneloopatomic, syntax.NtSetloopatomic:
		return n.M, n.M == n.N && n.M >= 0
	case syntax.NtBol, syntax.NtEol, syntax.NtBoundary, syntax.NtNonboundary, syntax.NtECMABoundary,
		syntax.NtNonECMABoundary, syntax.NtBeginning, syntax.NtStart, syntax.NtEndZ, syntax.NtEnd,
		syntax.NtEmpty, syntax.NtUpdateBumpalong, syntax.NtPosLook, syntax.NtNegLook:
		return 0, true
	case syntax.NtCapture, syntax.NtGroup, syntax.NtAtomic, syntax.NtConcatenate:
		total := 0
		for _, c := range n.Children {
			l, ok := fixedLen(c)
			if !ok {
				return 0, false
			}
			total += l
		}
		return total, true
	case syntax.NtAlternate:
		l := -1
		for _, c := range n.Children {
			m, ok := fixedLen(c)
			if !ok || (l >= 0 && m != l) {
				return 0, false
			}
			l = m
		}
		return l, l >= 0
	case syntax.NtLoop, syntax.NtLazyloop:
		if len(n.Children) == 1 && n.M == n.N && n.M >= 0 && n.M < 1<<16 {
			if l, ok := fixedLen(n.Children[0]); ok {
				return l * n.M, true
			}
		}
	}
	return 0, false
}

// addLiteral records a literal unless matching it could depend on case (the
// parser folds case into sets, but be safe) or on how bad UTF-8 decodes.
func addLiteral(info *patternInfo, rs []rune, opt syntax.RegexOptions) {
	for _, r := range rs {
		if r == utf8.RuneError || r == sentinel || r > unicode.MaxRune || (opt&syntax.IgnoreCase != 0 && unicode.SimpleFold(r) != r) {
			return
		}
	}
	info.literals = append(info.literals, []byte(string(rs)))
}

// maxReach bounds the runes a match of n spans, counting the bodies of
// lookarounds as if they were consumed; -1 when unbounded.
func maxReach(n *syntax.RegexNode) int {
	const inf = -1
	add := func(a, b int) int {
		if a < 0 || b < 0 {
			return inf
		}
		return a + b
	}
	switch n.T {
	case syntax.NtOne, syntax.NtNotone, syntax.NtSet:
		return 1
	case syntax.NtMulti:
		return len(n.Str)
	case syntax.NtOneloop, syntax.NtNotoneloop, syntax.NtSetloop, syntax.NtOnelazy, syntax.NtNotonelazy,
		syntax.NtSetlazy, syntax.NtOneloopatomic, syntax.NtNotoneloopatomic, syntax.NtSetloopatomic:
		if n.N < 0 || n.N >= 1<<20 {
			return inf
		}
		return n.N
	case syntax.NtBol, syntax.NtEol, syntax.NtBoundary, syntax.NtNonboundary, syntax.NtECMABoundary,
		syntax.NtNonECMABoundary, syntax.NtBeginning, syntax.NtStart, syntax.NtEndZ, syntax.NtEnd,
		syntax.NtNothing, syntax.NtEmpty, syntax.NtUpdateBumpalong, syntax.NtResetCapture:
		return 0
	case syntax.NtCapture, syntax.NtGroup, syntax.NtAtomic, syntax.NtPosLook, syntax.NtNegLook, syntax.NtConcatenate:
		total := 0
		for _, c := range n.Children {
			total = add(total, maxReach(c))
		}
		return total
	case syntax.NtAlternate:
		best := 0
		for _, c := range n.Children {
			m := maxReach(c)
			if m < 0 {
				return inf
			}
			best = max(best, m)
		}
		return best
	case syntax.NtLoop, syntax.NtLazyloop:
		if len(n.Children) != 1 || n.N < 0 || n.N >= 1<<20 {
			return inf
		}
		m := maxReach(n.Children[0])
		if m < 0 || m*n.N >= 1<<20 {
			return inf
		}
		return m * n.N
	}
	return inf // backreferences, conditionals, graphemes, anything new
}

// runCounter finds, per window, the longest run of each set the members'
// patterns need, testing ASCII runes against a bitmap.
type runCounter struct {
	sets []runSet
}

type runSet struct {
	set       *syntax.CharSet
	key       string
	ascii     [2]uint64
	asciiOnly bool // no rune ≥ 0x80 is in the set
}

// id returns the index of set in c, adding it.
func (c *runCounter) id(r setRun) int {
	for i, s := range c.sets {
		if s.key == r.key {
			return i
		}
	}
	s := runSet{set: r.set, key: r.key}
	for b := rune(0); b < 0x80; b++ {
		if r.set.CharIn(b) {
			s.ascii[b>>6] |= 1 << (b & 63)
		}
	}
	for k := 1; k <= 8 && !r.set.IsNegated(); k++ {
		if rg := r.set.GetIfNRanges(k); rg != nil {
			s.asciiOnly = true
			for _, x := range rg {
				if x.Last >= 0x80 {
					s.asciiOnly = false
				}
			}
			break
		}
	}
	c.sets = append(c.sets, s)
	return len(c.sets) - 1
}

// longest returns the longest run of runes of set i in rs.
func (c *runCounter) longest(i int, rs []rune) int {
	s := &c.sets[i]
	best, cur := 0, 0
	for _, r := range rs {
		var in bool
		if r < 0x80 {
			in = s.ascii[r>>6]&(1<<(r&63)) != 0
		} else if !s.asciiOnly {
			in = s.set.CharIn(r)
		}
		if in {
			cur++
			if cur > best {
				best = cur
			}
		} else {
			cur = 0
		}
	}
	return best
}
