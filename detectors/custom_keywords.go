package detectors

import (
	"bytes"

	"github.com/coregx/ahocorasick"
)

// keywordIndex finds the keywords of several custom detectors in one pass
// over a window (Aho–Corasick), so that a keyword-gated or keyword-only
// detector costs nothing on text without its keywords.
type keywordIndex struct {
	ac *ahocorasick.Automaton
	// owners[p] lists the (member, keyword) pairs of distinct keyword p.
	owners [][]kwOwner
	// lens[p] is the byte length of keyword p.
	lens []int
}

type kwOwner struct{ member, kw int }

// newKeywordIndex indexes the keywords of members; nil when none has any.
func newKeywordIndex(members []*Custom) (*keywordIndex, error) {
	ix := &keywordIndex{}
	ids := map[string]int{}
	var pats [][]byte
	for m, c := range members {
		for k, kw := range c.keywords {
			p, ok := ids[string(kw)]
			if !ok {
				p = len(pats)
				ids[string(kw)] = p
				pats = append(pats, kw)
				ix.owners = append(ix.owners, nil)
				ix.lens = append(ix.lens, len(kw))
			}
			ix.owners[p] = append(ix.owners[p], kwOwner{member: m, kw: k})
		}
	}
	if len(pats) == 0 {
		return nil, nil
	}
	ac, err := ahocorasick.NewBuilder().AddPatterns(pats).Build()
	if err != nil {
		return nil, err
	}
	ix.ac = ac
	return ix, nil
}

// find appends to spans[m] every occurrence of member m's keywords in w, as
// rune spans sorted by start. Occurrences of one keyword do not overlap (the
// leftmost wins, as a repeated bytes.Index would find them).
func (ix *keywordIndex) find(w *window, spans [][]span) {
	if ix == nil {
		return
	}
	// lastEnd[p] is the end of the last kept occurrence of keyword p.
	lastEnd := make([]int, len(ix.lens))
	for _, m := range ix.ac.FindAllOverlapping(w.text) {
		p := m.PatternID
		if p < 0 || p >= len(ix.lens) || m.Start < lastEnd[p] {
			continue
		}
		lastEnd[p] = m.End
		s := w.runeAt(m.Start)
		e := w.runeAt(m.End-1) + 1
		for _, o := range ix.owners[p] {
			spans[o.member] = append(spans[o.member], span{start: s, end: e, kw: o.kw})
		}
	}
	for _, sp := range spans {
		sortSpans(sp)
	}
}

// sortSpans sorts by start (insertion sort: the spans come nearly sorted,
// by end, from the automaton).
func sortSpans(s []span) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].start < s[j-1].start; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// findKeywordsNaive finds every keyword by repeated bytes.Index: the plain
// search the index replaces, used when there is no index.
func findKeywordsNaive(keywords [][]byte, w *window, out []span) []span {
	for i, k := range keywords {
		for off := 0; off < len(w.text); {
			j := bytes.Index(w.text[off:], k)
			if j < 0 {
				break
			}
			b := off + j
			out = append(out, span{start: w.runeAt(b), end: w.runeAt(b+len(k)-1) + 1, kw: i})
			off = b + len(k)
		}
	}
	sortSpans(out)
	return out
}
