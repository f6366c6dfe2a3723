package detectors

import (
	"fmt"
	"slices"
	"testing"
)

func TestTally(t *testing.T) {
	tl := NewTally()
	if !tl.Empty() {
		t.Fatal("new tally not empty")
	}
	tl.Add(Match{Detector: MyNumber, Key: "123456789018", Masked: "********9018", Confidence: Low}, "body")
	tl.Add(Match{Detector: MyNumber, Key: "123456789018", Masked: "********9018", Confidence: High}, "att")
	tl.Add(Match{Detector: MyNumber, Key: "484238472595", Masked: "********2595", Confidence: Medium}, "att")
	tl.Add(Match{Detector: Phone, Key: "0312345678", Masked: "**-****-5678", Confidence: Medium}, "body")
	if n, sat := tl.Count(MyNumber); n != 2 || sat {
		t.Errorf("Count = %d, %v", n, sat)
	}
	s := tl.Samples(MyNumber, 5)
	if len(s) != 2 || s[0].Confidence != High || s[0].Path != "body" || s[1].Masked != "********2595" {
		t.Errorf("Samples = %+v", s)
	}
	if got := tl.Samples(MyNumber, 1); len(got) != 1 {
		t.Errorf("Samples(1) = %d", len(got))
	}
	if got := tl.Detectors(); !slices.Equal(got, []string{MyNumber, Phone}) {
		t.Errorf("Detectors = %v", got)
	}
	if got := tl.Counts(); got[MyNumber] != 2 || got[Phone] != 1 || len(got) != 2 {
		t.Errorf("Counts = %v", got)
	}
	tl.Remove(Phone, func(k string) bool { return k != "0312345678" })
	if n, _ := tl.Count(Phone); n != 0 || slices.Contains(tl.Detectors(), Phone) {
		t.Errorf("Remove left %d phones", n)
	}
	if n, _ := tl.Count(CreditCard); n != 0 || tl.Samples(CreditCard, 3) != nil {
		t.Error("unknown detector has values")
	}
}

func TestTallyMerge(t *testing.T) {
	a, b := NewTally(), NewTally()
	a.Add(Match{Detector: MyNumber, Key: "1", Masked: "*", Confidence: Low}, "a")
	b.Add(Match{Detector: MyNumber, Key: "1", Masked: "*", Confidence: High}, "b")
	b.Add(Match{Detector: MyNumber, Key: "2", Masked: "*", Confidence: Low}, "b")
	b.Add(Match{Detector: CreditCard, Key: "3", Masked: "*", Confidence: Low}, "b")
	a.Merge(b)
	a.Merge(nil)
	if n, _ := a.Count(MyNumber); n != 2 {
		t.Errorf("merged my numbers %d", n)
	}
	if v := a.Samples(MyNumber, -1); v[0].Confidence != High || v[0].Path != "a" || v[1].Path != "b" {
		t.Errorf("merged values %+v", v)
	}
	if n, _ := a.Count(CreditCard); n != 1 {
		t.Errorf("merged cards %d", n)
	}
}

func TestTallySaturation(t *testing.T) {
	tl := NewTally()
	for i := 0; i < MaxDistinct+10; i++ {
		tl.Add(Match{Detector: Phone, Key: fmt.Sprint(i), Masked: "*"}, "p")
	}
	if n, sat := tl.Count(Phone); n != MaxDistinct || !sat {
		t.Errorf("Count = %d, %v", n, sat)
	}
	// Known values still raise their confidence; new ones keep it saturated.
	if !tl.known(Phone, []byte("5"), High) || tl.Samples(Phone, 6)[5].Confidence != High {
		t.Error("known did not raise the confidence of a counted value")
	}
	if !tl.known(Phone, []byte("new"), Low) {
		t.Error("known: a saturated count must not take new values")
	}
	if NewTally().known(Phone, []byte("1"), Low) {
		t.Error("known on an empty tally")
	}
	other := NewTally()
	other.Add(Match{Detector: Phone, Key: "x", Masked: "*"}, "q")
	other.Merge(tl)
	if _, sat := other.Count(Phone); !sat {
		t.Error("merge lost saturation")
	}
}
