package detectors

import (
	"fmt"
	"testing"
)

// The tally's Bloom filter (kept past bloomMin keys) must never hide a key
// it holds, through Add, known, Merge and Remove.
func TestTallyBloom(t *testing.T) {
	tl := NewTally()
	key := func(i int) string { return fmt.Sprintf("%012d", i*7919) }
	for i := 0; i < MaxDistinct+500; i++ {
		tl.Add(Match{Detector: Phone, Key: key(i), Masked: "****", Confidence: Low}, "p")
	}
	if n, sat := tl.Count(Phone); n != MaxDistinct || !sat {
		t.Fatalf("count %d saturated %v", n, sat)
	}
	for i := 0; i < MaxDistinct; i++ {
		if !tl.known(Phone, []byte(key(i)), High) {
			t.Fatalf("key %d not known", i)
		}
	}
	for _, v := range tl.Samples(Phone, -1) {
		if v.Confidence != High {
			t.Fatalf("confidence not raised: %v", v.Confidence)
		}
	}
	// Keep the even keys: the odd ones are gone and the count no longer saturated.
	tl.Remove(Phone, func(k string) bool { return k[len(k)-1]%2 == 0 })
	n, _ := tl.Count(Phone)
	if n < bloomMin || n >= MaxDistinct {
		t.Fatalf("after Remove: %d", n)
	}
	for i := 0; i < MaxDistinct; i++ {
		k := key(i)
		if got, want := tl.known(Phone, []byte(k), Low), k[len(k)-1]%2 == 0; got != want {
			t.Fatalf("after Remove: key %s known %v, want %v", k, got, want)
		}
	}
	m := NewTally()
	m.Merge(tl)
	for _, v := range tl.Samples(Phone, -1) {
		if !m.known(Phone, []byte(v.key), Low) {
			t.Fatalf("merged key %s not known", v.key)
		}
	}
}
