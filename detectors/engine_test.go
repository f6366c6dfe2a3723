package detectors

import (
	"fmt"
	"maps"
	"strings"
	"testing"
)

// sampleText mixes every kind of value with decoys, in prose and tables.
func sampleText() string {
	var b strings.Builder
	b.WriteString("株式会社サンプル 総務部\r\n")
	b.WriteString("いつもお世話になっております。2024-11-25 12:00 の件です。注文番号：123456789018\r\n")
	b.WriteString("個人番号：484238472595、電話 03-1234-5678、携帯 090-1234-5678\r\n")
	b.WriteString("カード番号 4111 1111 1111 1111 / 法人番号 7010705000725 / 〒100-0001\r\n")
	b.WriteString("氏名\tマイナンバー\t電話\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "山田%d\t%s\t0%d-1234-56%02d\n", i, myNumberFor(i), 3+i%5, i)
	}
	b.WriteString(strings.Repeat("あいうえお、かきくけこ。", 30))
	b.WriteString("ＴＥＬ：０３（１２３４）５６７９ 最後の行は改行なし ９２６４８０２８２２３０")
	return b.String()
}

// myNumberFor makes a valid My Number from i.
func myNumberFor(i int) string {
	s := fmt.Sprintf("%011d", 31415926535+int64(i)*7919)
	w := []int{6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
	sum := 0
	for k := 0; k < 11; k++ {
		sum += int(s[k]-'0') * w[k]
	}
	r := sum % 11
	if r <= 1 {
		return s + "0"
	}
	return s + string(rune('0'+11-r))
}

func TestEngineChunking(t *testing.T) {
	text := sampleText()
	whole := engineValues(text, 0)
	if n := len(whole[MyNumber]); n != 42 {
		t.Errorf("my numbers: %d, want 42: %v", n, whole[MyNumber])
	}
	if whole[MyNumber]["484238472595"] != High || whole[MyNumber][myNumberFor(7)] != High {
		t.Errorf("labelled / column my numbers not high: %v", whole[MyNumber])
	}
	if _, ok := whole[MyNumber]["123456789018"]; ok {
		t.Error("order number counted as a my number")
	}
	if whole[Phone]["0312345679"] != High || whole[Phone]["09012345678"] != High {
		t.Errorf("phones: %v", whole[Phone])
	}
	if len(whole[CreditCard]) != 1 || len(whole[CorporateNumber]) != 1 {
		t.Errorf("cards %v corporate %v", whole[CreditCard], whole[CorporateNumber])
	}
	for _, chunk := range []int{1, 2, 3, 7, 64, 4096} {
		got := engineValues(text, chunk)
		if !equalValues(got, whole) {
			t.Errorf("chunk %d: %v\nwant %v", chunk, got, whole)
		}
	}
}

func equalValues(a, b map[string]map[string]Confidence) bool {
	return maps.EqualFunc(a, b, func(x, y map[string]Confidence) bool { return maps.Equal(x, y) })
}

func TestEngineLongLine(t *testing.T) {
	// A line far longer than maxLine, with values all along it.
	var b strings.Builder
	for b.Len() < 3*maxLine {
		b.WriteString("本文です。個人番号 1234 5678 9018 とカード 4111-1111-1111-1111 と TEL 03-1234-5678、")
		fmt.Fprintf(&b, "連番%d。マイナンバー：%s。", b.Len(), myNumberFor(b.Len()))
	}
	text := b.String()
	whole := engineValues(text, 0)
	if len(whole[MyNumber]) < 100 || len(whole[Phone]) != 1 || len(whole[CreditCard]) != 1 {
		t.Fatalf("long line: %d my numbers, %v phones, %v cards", len(whole[MyNumber]), whole[Phone], whole[CreditCard])
	}
	for _, chunk := range []int{1, 7, 1000, maxLine + 3} {
		if got := engineValues(text, chunk); !equalValues(got, whole) {
			t.Errorf("chunk %d: %d my numbers, want %d", chunk, len(got[MyNumber]), len(whole[MyNumber]))
		}
	}
}

func TestEngineCRLF(t *testing.T) {
	lf := "個人番号\n1234 5678 9018\nTEL\n03-1234-5678\n"
	crlf := strings.ReplaceAll(lf, "\n", "\r\n")
	if a, b := engineValues(lf, 0), engineValues(crlf, 0); !equalValues(a, b) || len(a[MyNumber]) != 1 || len(a[Phone]) != 1 {
		t.Errorf("LF %v, CRLF %v", a, b)
	}
}

func TestEngineMixed(t *testing.T) {
	// A detector that is not a chain detector runs on the text, beside the
	// shared chains, and sees the context as it was before the chunk.
	var seen []int
	probe := probeDetector{f: func(text []byte, ctx *Context) { seen = append(seen, ctx.Lines) }}
	s := NewEngine(MyNumberDetector{}, probe).NewScan("x")
	s.WriteString("a\nb\n")
	s.WriteString("123456789018\n")
	tl := s.Close()
	if n, _ := tl.Count(MyNumber); n != 1 {
		t.Errorf("my numbers %d", n)
	}
	if fmt.Sprint(seen) != "[0 2]" {
		t.Errorf("probe saw lines %v, want [0 2]", seen)
	}
	if got := len(NewEngine(Builtin()...).Detectors()); got != len(Builtin()) {
		t.Errorf("Detectors() = %d", got)
	}
}

type probeDetector struct{ f func([]byte, *Context) }

func (probeDetector) ID() string { return "probe" }
func (p probeDetector) Scan(text []byte, ctx *Context, _ func(Match)) {
	p.f(text, ctx)
}

func TestEngineEmpty(t *testing.T) {
	s := NewEngine(Builtin()...).NewScan("x")
	if tl := s.Close(); !tl.Empty() {
		t.Error("empty part not empty")
	}
	s = NewEngine().NewScan("x")
	s.WriteString("個人番号 123456789018")
	if tl := s.Close(); !tl.Empty() {
		t.Error("engine without detectors found something")
	}
}

func TestLastNewline(t *testing.T) {
	for _, s := range []string{"", "\n", "a", "ab\ncd", "\n0123456789abcdef", "0123456789abcdef\n", "01234567\n89abcdef\n01",
		"\x0b\x0a\x8a\x09\xff\n\x01\x0a\x0b\x00\x0a\x01\x8a", "日本語\nの文章\n終わり", "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"} {
		for k := 0; k <= len(s); k++ {
			if got, want := lastNewline([]byte(s[:k])), strings.LastIndexByte(s[:k], '\n'); got != want {
				t.Errorf("lastNewline(%q) = %d, want %d", s[:k], got, want)
			}
		}
	}
}
