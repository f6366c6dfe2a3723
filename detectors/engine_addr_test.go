package detectors

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// In an Engine the address detector runs on the anchors the chain tokenizer
// records (no pass of its own) and skips values the tally already counts.
// These tests check that it finds exactly what its own pass (Scan) finds.

// ownPass hides a detector's engine fast paths: the engine runs its Scan.
type ownPass struct{ Detector }

// tallyOf writes text into a Scan of e in chunks of chunk bytes (all at once
// when chunk <= 0) and returns the values of every detector, in tally order.
func tallyOf(e *Engine, text []byte, chunk int) map[string][]Value {
	s := e.NewScan("p")
	if chunk <= 0 {
		chunk = max(1, len(text))
	}
	for b := text; len(b) > 0; {
		n := min(chunk, len(b))
		s.Write(b[:n])
		b = b[n:]
	}
	tl := s.Close()
	out := map[string][]Value{}
	for _, id := range tl.Detectors() {
		out[id] = tl.Samples(id, -1)
	}
	return out
}

// checkAddressOnePass compares the engine's address values with those of
// the detector's own pass, alone and with the digit detectors.
func checkAddressOnePass(t *testing.T, text []byte, chunk int) {
	t.Helper()
	digits := []Detector{MyNumberDetector{}, CorporateNumberDetector{}, PhoneDetector{}, CreditCardDetector{}}
	want := tallyOf(NewEngine(append(digits[:4:4], ownPass{newAddress()})...), text, chunk)
	got := tallyOf(NewEngine(Builtin()...), text, chunk)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("chunk %d: engine found\n%v\nits own pass\n%v", chunk, got[Address], want[Address])
	}
	alone := tallyOf(NewEngine(newAddress()), text, chunk)
	if !reflect.DeepEqual(alone[Address], want[Address]) {
		t.Fatalf("chunk %d: address-only engine found\n%v\nits own pass\n%v", chunk, alone[Address], want[Address])
	}
}

func TestEngineAddressOnePass(t *testing.T) {
	texts := map[string][]byte{
		"business": genBusinessText(2<<20, 3),
		"roster":   genRoster(1<<20, 4),
		"prose":    businessProse(256 << 10),
		"roster2":  addressRoster(256 << 10),
	}
	var b strings.Builder
	// More 丁目 and 番 than the tokenizer records before it is drained,
	// with and without digits among them, on one line and on many.
	for i := 0; b.Len() < 3*maxLine; i++ {
		switch i % 5 {
		case 0:
			b.WriteString(strings.Repeat("番", 700))
		case 1:
			fmt.Fprintf(&b, "東京都千代田区一番%d-%d 千代田区番%d-2 ", i%9+1, i%7+1, i%5+1)
		case 2:
			fmt.Fprintf(&b, "大阪市北区梅田二丁目%d番 横浜市中区山下町%d番地の%d\n", i%9+1, i%30+1, i%4+1)
		case 3:
			b.WriteString(strings.Repeat("丁目1丁目", 300))
		default:
			fmt.Fprintf(&b, "1,250,000円 14:00 ３番４号 札幌市中央区北%d条西%d丁目 %d ", i%20+1, i%9+1, i)
		}
	}
	texts["anchors"] = []byte(b.String())
	for name, text := range texts {
		t.Run(name, func(t *testing.T) {
			// prose has none (businessProse holds decoys only); the others
			// must have some, or the comparison would prove nothing.
			if n := len(tallyOf(NewEngine(Builtin()...), text, 32<<10)[Address]); (n == 0) != (name == "prose") {
				t.Fatalf("%d addresses found", n)
			}
			for _, chunk := range []int{0, 32 << 10, 4093} {
				checkAddressOnePass(t, text, chunk)
			}
		})
	}
}

func FuzzEngineAddress(f *testing.F) {
	for _, s := range []string{
		"〒100-0013 東京都千代田区霞が関１丁目２番３号 テストビル401号室",
		"北海道虻田郡洞爺湖町洞爺湖温泉１２３番地\n札幌市中央区北一条西二丁目1",
		"東京都府中市府中町1-2-3 千代田区03-1234-5678 千代田区番1-2-3",
		"横浜市中区山下町2番地の3、一丁目二番三号 1\n2-3 12３番",
		"千代田区\xe4\xb8 1-2\xe7\x95\xaa\xe4\xb8\x81１",
		strings.Repeat("番", 1100) + "東京都千代田区一番1-2",
	} {
		f.Add(s, uint8(5))
	}
	f.Fuzz(func(t *testing.T, s string, chunk uint8) {
		checkAddressOnePass(t, []byte(s), int(chunk%32))
	})
}

// An Engine skips the address detector on text that is all ASCII, since
// no place name is: check that every spelling of the table has a byte
// outside ASCII, and that the same addresses are found whether the text
// around them is ASCII (chunks the skip applies to) or not.
func TestAddressNeedsNonASCII(t *testing.T) {
	for _, p := range placeSpellings() {
		if asciiEnd([]byte(p.name), 0) == len(p.name) {
			t.Errorf("place spelling %q is all ASCII: an Engine would miss it in ASCII text", p.name)
		}
	}
	for _, name := range prefectureNames() {
		if asciiEnd([]byte(name), 0) == len(name) {
			t.Errorf("prefecture %q is all ASCII", name)
		}
	}
	e := NewEngine(Builtin()...)
	ascii := strings.Repeat("item-00001,widget model 1,shelf 2,qty 3 at 1-2-3 Chiyoda, Tokyo 100-0001\n", 50)
	addr := "東京都千代田区千代田1-1-1\n"
	for _, text := range []string{ascii, ascii + addr + ascii, addr + ascii} {
		s := e.NewScan("p")
		s.Write([]byte(text))
		got, _ := s.Close().Count(Address)
		want := strings.Count(text, addr)
		if got != want {
			t.Errorf("%d addresses found in text with %d", got, want)
		}
	}
}
