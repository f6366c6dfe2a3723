package detectors

import (
	"math/rand/v2"
	"testing"
)

// shortLoneRun lets the tokenizer pass over a digit run without building a
// chain: only when the chain would be that run alone, under 10 digits and
// without an exponent (the chains every caller skips).
func TestShortLoneRun(t *testing.T) {
	parts := []string{"1", "2", "0", "12", "2024", "123456789", "1234567890", "１", "２３", " ", "-", ".", "(", ")", "（", "）",
		"－", "ー", "　", "\u00a0", "e", "E+11", "年", "月", "円", ",", ":", "/", "\n", "番", "丁目", "a", "\t", "−", "．"}
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 20000; n++ {
		var b []byte
		for k := r.IntN(12); k >= 0; k-- {
			b = append(b, parts[r.IntN(len(parts))]...)
		}
		for i := range b {
			if _, w := digitAt(b, i); w == 0 || digitBefore(b, i) {
				continue
			}
			j := shortLoneRun(b, i)
			if j < 0 {
				continue
			}
			var tk tokenizer
			tk.reset(b)
			tk.pos = i
			// Without the skip, the chain at i: reuse the chain builder by
			// starting mid-chain (carry set) so that next does not skip.
			tk.carry = sepSpace
			if !tk.next() {
				t.Fatalf("%q at %d: no chain", b, i)
			}
			c := &tk.c
			if len(c.runs) != 1 || c.total >= 10 || c.exponentAfter() || c.runs[0].end != j || c.after != sepNone {
				t.Fatalf("%q at %d: shortLoneRun = %d but the chain is %+v", b, i, j, c.runs)
			}
		}
	}
}

func TestMaskAppend(t *testing.T) {
	for _, c := range []struct {
		d    string
		keep int
		want string
	}{{"123456789018", 4, "********9018"}, {"123", 4, "***"}, {"1234", 4, "****"}, {"12345", 4, "*2345"}, {"", 4, ""}} {
		if got := maskDigits([]byte(c.d), c.keep); got != c.want {
			t.Errorf("maskDigits(%s, %d) = %s, want %s", c.d, c.keep, got, c.want)
		}
	}
	if got := maskPhone([]byte("09012345678"), []int{3, 4, 4}); got != "***-****-5678" {
		t.Errorf("maskPhone = %s", got)
	}
	if got := string(appendMaskPhone([]byte("0312345678"), []byte("0312345678"), []int{2, 4, 4})); got != "0312345678**-****-5678" {
		t.Errorf("appendMaskPhone = %s", got)
	}
}

func TestNextDigit(t *testing.T) {
	parts := []string{"1", "０", "９", "（", "）", "：", "ｱ", "あ", "漢", "a", " ", "\xef", "\xef\xbc", "番", "丁目", "\n"}
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 5000; n++ {
		var b []byte
		for k := r.IntN(40); k >= 0; k-- {
			if r.IntN(4) == 0 {
				b = append(b, parts[r.IntN(len(parts))]...)
			} else {
				b = append(b, "漢字かなカナ"[3*r.IntN(6):][:3]...)
			}
		}
		for i := 0; i <= len(b); i++ {
			want := -1
			for j := i; j < len(b); j++ {
				if _, w := digitAt(b, j); w > 0 {
					want = j
					break
				}
			}
			if got := nextDigit(b, i); got != want {
				t.Fatalf("nextDigit(%q, %d) = %d, want %d", b, i, got, want)
			}
		}
	}
}
