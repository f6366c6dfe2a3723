package detectors

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/dlclark/regexp2"
)

// regexpV1 is github.com/dlclark/regexp2 (v1) behind customRegexp: the
// reference the v2 engine and the shortcuts are checked against, and the
// proof that the engine can be swapped back.
type regexpV1 struct {
	re *v1.Regexp
}

func compileV1(t testing.TB, pattern string, ignoreCase bool, timeout time.Duration) *regexpV1 {
	t.Helper()
	opt := v1.RegexOptions(v1.Multiline)
	if ignoreCase {
		opt |= v1.IgnoreCase
	}
	re, err := v1.Compile(pattern, opt)
	if err != nil {
		t.Fatal(err)
	}
	re.MatchTimeout = timeout
	return &regexpV1{re: re}
}

func (r *regexpV1) numGroups() int  { return len(r.re.GetGroupNumbers()) }
func (r *regexpV1) canAnchor() bool { return false }
func (r *regexpV1) matchAt([]rune, int, int) (int, int, int, bool, error) {
	return -1, -1, 0, false, errCustomAbort
}

func (r *regexpV1) each(runes []rune, group int, yield func(start, end int) bool) error {
	m, err := r.re.FindRunesMatch(runes)
	for ; m != nil && err == nil; m, err = r.re.FindNextMatch(m) {
		g := m.GroupByNumber(group)
		if g == nil || len(g.Captures) == 0 {
			continue
		}
		if !yield(g.Index, g.Index+g.Length) {
			return nil
		}
	}
	if err != nil {
		return errCustomAbort
	}
	return nil
}

// referenceGroup is g's rules run the plain way: regexp2 v1, no literal,
// set-run or anchor shortcut, the widest keyword slack, and every keyword
// found by bytes.Index.
func referenceGroup(t testing.TB, specs []CustomSpec) *CustomGroup {
	t.Helper()
	g, err := NewCustomGroup(specs)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range g.set.members {
		if c.re != nil {
			c.re = compileV1(t, c.spec.Pattern, c.spec.IgnoreCase, MinMatchTimeout)
		}
		c.info = patternInfo{reach: -1}
	}
	g.set.kw = nil
	g.set.runs = runCounter{}
	for i := range g.set.runIDs {
		g.set.runIDs[i] = nil
	}
	return g
}

func scanCustomAll(g *CustomGroup, text []byte, chunk int) []string {
	var out []string
	var ctx Context
	for off := 0; off < len(text); {
		n := min(chunk, len(text)-off)
		if i := bytes.LastIndexByte(text[off:off+n], '\n'); i >= 0 && off+n < len(text) {
			n = i + 1
		}
		base := off
		g.Scan(text[off:off+n], &ctx, func(m Match) {
			out = append(out, fmt.Sprintf("%s %d-%d %s %v", m.Detector, base+m.Start, base+m.End, m.Key, m.Confidence))
		})
		ctx.advance(text[off:off+n], nil)
		off += n
	}
	slices.Sort(out)
	return out
}

// customEdgeText holds what the shortcuts could get wrong: values at line
// and window ends, full-width digits, overlapping keywords, case variants,
// a long line the scan must cut.
func customEdgeText() []byte {
	var b bytes.Buffer
	b.WriteString("職員番号123456\n123456職員番号\n住民票コード住民票 12345678\n番号番号番号 1234567\n")
	b.WriteString("ORD-123456ORD-654321 ORD-1234567 ord-123456 ＯＲＤ－１２３４５６\n")
	b.WriteString("2024/01/05 1999/12/31 2000/1/1 3024/01/05 12024/01/05 2024/13/01\n")
	b.WriteString("Taro.Yamada@mail.EXAMPLE0.JP x@y.example1.jp @example2.jp a@b.example3.jpx\n")
	b.WriteString("１２３４５６７８９ 123456789 1234567890 12345678901234567890\n")
	b.WriteString(strings.Repeat("あ", 30000) + " 職員番号 12345678 ORD-111111 2021/02/03 " + strings.Repeat("い", 30000) + "\n")
	b.WriteString(strings.Repeat("1", 70000) + "\n")
	return b.Bytes()
}

// TestCustomEngineAgrees: the 50 benchmark rules and the tests' patterns
// find exactly what the plain regexp2 v1 scan finds, on the corpus and on
// edge cases, whatever the chunking.
func TestCustomEngineAgrees(t *testing.T) {
	specs := append(benchRules(),
		CustomSpec{ID: "jumin", Pattern: `(?<![0-9０-９])[0-9０-９]{11}(?![0-9０-９])`, Normalize: NormalizeDigits},
		CustomSpec{ID: "staff", Pattern: `staff-(?<n>[0-9]{8})`, Group: 1, IgnoreCase: true},
		CustomSpec{ID: "eol", Pattern: `[0-9]{4}$`},
		CustomSpec{ID: "bol", Pattern: `^[0-9]{3}`},
		CustomSpec{ID: "card", Pattern: `(?<![0-9])[0-9]{4}(-?[0-9]{4}){3}(?![0-9])`, Validator: ValidatorLuhn},
		CustomSpec{ID: "kwnear", Pattern: `\d{6,}`, Keywords: []string{"番号", "職員番号"}, Proximity: 3},
		CustomSpec{ID: "slash", Pattern: `\d+/\d+`},
		CustomSpec{ID: "dup", Pattern: `(ORD|INV)-\d{6}`},
	)
	text := append(customCorpus(128<<10), customEdgeText()...)
	fast, err := NewCustomGroup(specs)
	if err != nil {
		t.Fatal(err)
	}
	ref := referenceGroup(t, specs)
	for _, chunk := range []int{1 << 20, 5000} {
		want := scanCustomAll(ref, text, chunk)
		got := scanCustomAll(fast, text, chunk)
		// v1 times out on the e-mail rules over the line of 70,000
		// digits (it retries [a-z0-9._-]+ from every digit); v2 sees
		// that no '@' follows. Leave those rules out of the comparison.
		slow := map[string]bool{}
		for _, m := range want {
			if id, ok := strings.CutPrefix(strings.Fields(m)[0], TimeoutPrefix); ok {
				slow[id] = true
			}
		}
		for _, m := range got {
			if strings.HasPrefix(m, TimeoutPrefix) {
				t.Fatalf("chunk %d: %s", chunk, m)
			}
		}
		keep := func(m string) bool {
			id := strings.Fields(m)[0]
			return !slow[id] && !slow[strings.TrimPrefix(id, TimeoutPrefix)]
		}
		want = slices.DeleteFunc(want, func(m string) bool { return !keep(m) })
		got = slices.DeleteFunc(got, func(m string) bool { return !keep(m) })
		if len(want) < 1000 {
			t.Fatalf("chunk %d: only %d reference matches", chunk, len(want))
		}
		if !slices.Equal(got, want) {
			for i := 0; i < max(len(got), len(want)); i++ {
				var g, w string
				if i < len(got) {
					g = got[i]
				}
				if i < len(want) {
					w = want[i]
				}
				if g != w {
					t.Fatalf("chunk %d: %d matches, want %d; first difference at %d: got %q, want %q", chunk, len(got), len(want), i, g, w)
				}
			}
		}
	}
}

// TestCustomAnalyse checks what the shortcuts learn from patterns.
func TestCustomAnalyse(t *testing.T) {
	cases := []struct {
		pattern  string
		ic       bool
		literals string
		anchor   string
		at       int
		reach    int
	}{
		{`ORD-[0-9]{6}(?![0-9])`, false, "ORD-", "ORD-", 0, 11 + 2},
		{`ORD-[0-9]{6}`, true, "-", "-", 3, 10 + 2}, // letters fold into sets
		{`(?<![0-9])(19|20)[0-9]{2}/(0?[1-9]|1[0-2])/0[0-9]`, false, "/,/0", "/", 4, 11 + 2},
		{`[a-z0-9._-]+@[a-z0-9-]+\.example0\.jp`, false, "@,.example0.jp", "", 0, -1},
		{`(?<![0-9])[0-9]{9}(?![0-9])`, false, "", "", 0, 11 + 2},
		{`(a|b)\1`, false, "", "", 0, -1},
		{`x?y`, false, "y", "", 0, 2 + 2},
	}
	for _, c := range cases {
		info := analyse(c.pattern, c.ic)
		var lits []string
		for _, l := range info.literals {
			lits = append(lits, string(l))
		}
		if got := strings.Join(lits, ","); got != c.literals || string(info.anchor) != c.anchor || info.anchorAt != c.at || info.reach != c.reach {
			t.Errorf("%s: literals %q anchor %q at %d reach %d, want %q %q %d %d", c.pattern, got, info.anchor, info.anchorAt, info.reach, c.literals, c.anchor, c.at, c.reach)
		}
	}
	if info := analyse(`[0-9]{9}`, false); len(info.runs) != 1 || info.runs[0].min != 9 {
		t.Errorf("runs of [0-9]{9}: %+v", info.runs)
	}
}

// TestCustomKeywordIndex: the one-pass keyword search finds what repeated
// bytes.Index finds, overlapping keywords included.
func TestCustomKeywordIndex(t *testing.T) {
	g, err := NewCustomGroup([]CustomSpec{
		{ID: "a", Keywords: []string{"住民票", "住民票コード", "番号"}},
		{ID: "b", Keywords: []string{"番号番号", "コード", "ab", "aba"}},
		{ID: "c", Pattern: "x", Keywords: []string{"番号"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	text := append([]byte("住民票コード番号番号番号 ababa aba 住民票\n"), customCorpus(200<<10)...)
	var w window
	w.set(text, false, false)
	spans := make([][]span, 3)
	g.set.kw.find(&w, spans)
	for m, c := range g.set.members {
		want := findKeywordsNaive(c.keywords, &w, nil)
		got := spans[m]
		norm := func(s []span) {
			slices.SortFunc(s, func(a, b span) int {
				if a.start != b.start {
					return a.start - b.start
				}
				return a.kw - b.kw
			})
		}
		norm(want)
		norm(got)
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("%s: %d spans, want %d", c.spec.ID, len(got), len(want))
		}
	}
}
