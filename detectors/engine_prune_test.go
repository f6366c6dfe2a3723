package detectors

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// A Scan drops a built-in detector once its count is saturated with every
// value at High confidence (Scan.prune): what it would find next cannot
// change the tally. These tests check that the tally is exactly the one
// found without that shortcut, and that the shortcut is taken.

// ownTally is tallyOf with the counts and their saturation.
func ownTally(e *Engine, text []byte, chunk int) (map[string][]Value, map[string]bool) {
	s := e.NewScan("p")
	for b := text; len(b) > 0; {
		n := min(chunk, len(b))
		s.Write(b[:n])
		b = b[n:]
	}
	tl := s.Close()
	vals, sat := map[string][]Value{}, map[string]bool{}
	for _, id := range tl.Detectors() {
		vals[id] = tl.Samples(id, -1)
		_, sat[id] = tl.Count(id)
	}
	return vals, sat
}

func TestScanPruneSaturated(t *testing.T) {
	// Past MaxDistinct rows every column is saturated at High; then a
	// lower-confidence value of each kind and a new card, which still counts.
	var b strings.Builder
	b.Write(genRoster(700<<10, 9))
	b.WriteString("\n\n報告：携帯 090-9999-8888、個人番号 123456789018 は別件。\n")
	b.WriteString("千代田区丸の内9-9-9 と 090 8888 7777、カード番号 4111 1111 1111 1111\n")
	text := []byte(b.String())
	var own []Detector
	for _, d := range Builtin() {
		own = append(own, ownPass{d})
	}
	for _, chunk := range []int{32 << 10, 4093} {
		want, wantSat := ownTally(NewEngine(own...), text, chunk)
		got, gotSat := ownTally(NewEngine(Builtin()...), text, chunk)
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotSat, wantSat) {
			for id := range want {
				if !reflect.DeepEqual(got[id], want[id]) || gotSat[id] != wantSat[id] {
					t.Errorf("chunk %d: %s: %d values (saturated %v), want %d (%v)", chunk, id,
						len(got[id]), gotSat[id], len(want[id]), wantSat[id])
				}
			}
			t.Fatalf("chunk %d: engine tally differs from the detectors' own passes", chunk)
		}
		for _, id := range []string{MyNumber, Phone, Address} {
			if !gotSat[id] {
				t.Errorf("chunk %d: %s not saturated: the test does not reach the shortcut", chunk, id)
			}
		}
		if len(got[CreditCard]) != 1 {
			t.Errorf("chunk %d: the card after the saturated columns was lost", chunk)
		}
	}
	// Phones at Medium past MaxDistinct, then the first one labelled: the
	// detector must not be dropped, so that its confidence is raised.
	b.Reset()
	for i := range MaxDistinct + 50 {
		fmt.Fprintf(&b, "第%d便 03-%04d-%04d\n", i, 1000+i/10000, i%10000)
	}
	b.WriteString("TEL 03-1000-0000\n")
	text2 := []byte(b.String())
	want, _ := ownTally(NewEngine(own...), text2, 32<<10)
	got, sat := ownTally(NewEngine(Builtin()...), text2, 32<<10)
	if !sat[Phone] || len(got[Phone]) != MaxDistinct || got[Phone][0].Confidence != High || got[Phone][1].Confidence != Medium {
		t.Errorf("medium phones: %d (saturated %v), first %v", len(got[Phone]), sat[Phone], got[Phone][0].Confidence)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("medium phones: engine tally differs from the detectors' own passes")
	}

	// The shortcut is taken: the saturated detectors are dropped.
	s := NewEngine(Builtin()...).NewScan("p")
	for b := text; len(b) > 0; b = b[min(32<<10, len(b)):] {
		s.Write(b[:min(32<<10, len(b))])
	}
	s.Close()
	if s.addrOn || len(s.chain) != 2 {
		t.Errorf("after the roster: address on %v, %d chain detectors, want off and 2 (corporate, card)", s.addrOn, len(s.chain))
	}
}

func TestTallyFull(t *testing.T) {
	tl := NewTally()
	for i := range MaxDistinct {
		c := High
		if i == 7 {
			c = Medium
		}
		tl.Add(Match{Detector: Phone, Key: fmt.Sprint(i), Masked: "*", Confidence: c}, "p")
	}
	if tl.full(Phone) {
		t.Fatal("full before any value was dropped")
	}
	tl.Add(Match{Detector: Phone, Key: "new", Masked: "*", Confidence: High}, "p")
	if tl.full(Phone) {
		t.Fatal("full with a Medium value that a High one may still raise")
	}
	if !tl.known(Phone, []byte("7"), High) || tl.Samples(Phone, 8)[7].Confidence != High {
		t.Fatal("known did not raise the Medium value")
	}
	if !tl.full(Phone) || !tl.known(Phone, []byte("other"), Low) {
		t.Fatal("not full with every value High and the count saturated")
	}
	if n, sat := tl.Count(Phone); n != MaxDistinct || !sat {
		t.Fatalf("count %d %v", n, sat)
	}
	tl.Remove(Phone, func(k string) bool { return k != "3" })
	if tl.full(Phone) || tl.known(Phone, []byte("other"), Low) {
		t.Fatal("still full after Remove made room")
	}
	if tl.full(MyNumber) || NewTally().full(Phone) {
		t.Fatal("an empty detector is full")
	}
}

// The tally's hash index must agree with a map through Add, known, Merge and
// Remove, also with keys that share hash bits.
func TestTallyIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tl, ref := NewTally(), map[string]bool{}
	for i := 0; i < 3*MaxDistinct; i++ {
		k := fmt.Sprint(r.IntN(6000))
		if got := tl.known(Address, []byte(k), Low); got != (ref[k] || len(ref) >= MaxDistinct) {
			t.Fatalf("known(%s) = %v with %d keys", k, got, len(ref))
		}
		tl.Add(Match{Detector: Address, Key: k, Masked: "*", Confidence: Low}, "p")
		if len(ref) < MaxDistinct {
			ref[k] = true
		}
		if n, _ := tl.Count(Address); n != len(ref) {
			t.Fatalf("count %d, want %d", n, len(ref))
		}
	}
	tl.Remove(Address, func(k string) bool { return k[len(k)-1] != '5' })
	for k := range ref {
		if k[len(k)-1] == '5' {
			delete(ref, k)
		}
	}
	m := NewTally()
	m.Merge(tl)
	for i := range 6000 {
		k := fmt.Sprint(i)
		if got := m.known(Address, []byte(k), Low); got != ref[k] {
			t.Fatalf("after Remove and Merge: known(%s) = %v, want %v", k, got, ref[k])
		}
	}
}
