package detectors

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// vec is one table-test vector: the keys a detector must find in in (in
// order), and, when conf is set, the confidence of every match.
type vec struct {
	in   string
	keys []string
	conf Confidence
}

// scanAll runs d alone over text (as a detector used outside an Engine).
func scanAll(d Detector, text string) []Match {
	var ms []Match
	var ctx Context
	d.Scan([]byte(text), &ctx, func(m Match) { ms = append(ms, m) })
	return ms
}

// runVectors checks d on vecs, alone and inside an Engine (the shared-chain
// fast path), and checks the invariants of every match.
func runVectors(t *testing.T, d Detector, vecs []vec) {
	t.Helper()
	for _, v := range vecs {
		ms := scanAll(d, v.in)
		var keys []string
		for _, m := range ms {
			keys = append(keys, m.Key)
			checkMatch(t, v.in, m)
			if v.conf != 0 && m.Confidence != v.conf {
				t.Errorf("%q: %s confidence %v, want %v", v.in, m.Masked, m.Confidence, v.conf)
			}
		}
		if !slices.Equal(keys, v.keys) {
			t.Errorf("%q: keys %q, want %q", v.in, keys, v.keys)
		}
		s := NewEngine(d).NewScan("t")
		s.WriteString(v.in)
		tl := s.Close()
		var tkeys []string
		for _, val := range tl.Samples(d.ID(), -1) {
			tkeys = append(tkeys, val.key)
		}
		want := dedup(v.keys)
		if !slices.Equal(tkeys, want) {
			t.Errorf("%q: engine keys %q, want %q", v.in, tkeys, want)
		}
	}
}

func dedup(ks []string) []string {
	var out []string
	for _, k := range ks {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// digitKeyed are the detectors whose keys are ASCII digits.
var digitKeyed = map[string]bool{MyNumber: true, CorporateNumber: true, Phone: true, CreditCard: true}

// checkMatch checks the invariants every match must keep. Failures name the
// detector and the masked form, never the key.
func checkMatch(t *testing.T, text string, m Match) {
	t.Helper()
	where := text
	if len(where) > 80 {
		where = fmt.Sprintf("%d-byte text", len(text))
	}
	if m.Start < 0 || m.End > len(text) || m.Start >= m.End {
		t.Fatalf("%s: %s: bad offsets %d..%d", where, m.Detector, m.Start, m.End)
	}
	if m.Key == "" || strings.Contains(m.Masked, m.Key) || m.Masked == m.Key {
		t.Fatalf("%s: %s: masked %q shows the key", where, m.Detector, m.Masked)
	}
	if digitKeyed[m.Detector] {
		for _, b := range []byte(m.Key) {
			if b < '0' || b > '9' {
				t.Fatalf("%s: %s: key is not ASCII digits", where, m.Detector)
			}
		}
	}
	if m.Confidence < Low || m.Confidence > High {
		t.Fatalf("%s: %s: confidence %d", where, m.Detector, m.Confidence)
	}
	if m.Detector == "" {
		t.Fatalf("%s: no detector ID", where)
	}
}

// TestBuiltin runs every built-in detector over mixed text and checks the
// invariants of every match: offsets in range, a masked form that never
// shows the key, a detector ID that is the detector's own.
func TestBuiltin(t *testing.T) {
	text := sampleText() + string(genBusinessText(64<<10, 3)) + string(genRoster(16<<10, 4))
	ids := map[string]bool{}
	for _, d := range Builtin() {
		if ids[d.ID()] {
			t.Fatalf("duplicate detector %s", d.ID())
		}
		ids[d.ID()] = true
		n := 0
		var ctx Context
		d.Scan([]byte(text), &ctx, func(m Match) {
			checkMatch(t, text, m)
			if m.Detector != d.ID() {
				t.Fatalf("%s reported %s", d.ID(), m.Detector)
			}
			n++
		})
		if n == 0 {
			t.Errorf("%s found nothing in the sample text", d.ID())
		}
	}
	for _, id := range []string{MyNumber, CorporateNumber, Phone, CreditCard} {
		if !ids[id] {
			t.Errorf("%s is not built in", id)
		}
	}
}
