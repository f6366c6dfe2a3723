package detectors

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// engineValues scans text with the built-in digit detectors and returns, per
// detector, the confidence of each key.
func engineValues(text string, chunk int) map[string]map[string]Confidence {
	s := NewEngine(MyNumberDetector{}, CorporateNumberDetector{}, PhoneDetector{}, CreditCardDetector{}).NewScan("p")
	b := []byte(text)
	if chunk <= 0 {
		chunk = len(b)
	}
	for len(b) > 0 {
		n := min(chunk, len(b))
		s.Write(b[:n])
		b = b[n:]
	}
	tl := s.Close()
	out := map[string]map[string]Confidence{}
	for _, id := range tl.Detectors() {
		out[id] = map[string]Confidence{}
		for _, v := range tl.Samples(id, -1) {
			out[id][v.key] = v.Confidence
		}
	}
	return out
}

func TestColumnHeaders(t *testing.T) {
	for _, c := range []struct {
		name, text string
		det, key   string
		want       Confidence // 0: not found
	}{
		{"csv my number column", "氏名,個人番号,備考\n山田太郎,123456789018,なし\n", MyNumber, "123456789018", High},
		{"tsv my number column", "氏名\tマイナンバー\n山田\t1234 5678 9018\n", MyNumber, "123456789018", High},
		{"english header", "Name,My Number\nTaro,123456789018\n", MyNumber, "123456789018", High},
		{"other column", "氏名,備考\n山田,123456789018\n", MyNumber, "123456789018", Low},
		{"order column", "注文番号,品名\n123456789018,りんご\n", MyNumber, "123456789018", 0},
		{"order column tsv", "受付日\t受付番号\t品名\n5月1日\t123456789018\tりんご\n", MyNumber, "123456789018", 0},
		{"phone column", "氏名,電話\n山田,0312345678\n", Phone, "0312345678", High},
		{"phone in order column", "注文番号,氏名\n0312345678,山田\n", Phone, "0312345678", 0},
		{"card column", "氏名,カード番号\n山田,4111111111111111\n", CreditCard, "4111111111111111", High},
		{"corporate column", "法人名,法人番号\n日本税理士会連合会,7010705000725\n", CorporateNumber, "7010705000725", High},
		{"quoted csv", "\"氏名\",\"住所\",\"個人番号\"\n\"山田\",\"東京都千代田区1-1, 2F\",\"123456789018\"\n", MyNumber, "123456789018", High},
		{"later rows", "氏名,個人番号\n" + strings.Repeat("山田,なし\n", 50) + "佐藤,123456789018\n", MyNumber, "123456789018", High},
		{"header ends", "氏名,個人番号\n山田,なし\n\n品名,数量,備考\n" + strings.Repeat("みかん,1,なし\n", 10) + "りんご,3,123456789018\n", MyNumber, "123456789018", Low},
		{"crlf", "氏名,個人番号\r\n山田,123456789018\r\n", MyNumber, "123456789018", High},
		{"key-value form", "氏名\t山田太郎\n個人番号\t123456789018\n電話番号\t03-1234-5678\n", MyNumber, "123456789018", High},
		{"key-value phone", "氏名\t山田太郎\n電話番号\t03-1234-5678\n", Phone, "0312345678", High},
		{"key-value order", "注文番号\t123456789018\n", MyNumber, "123456789018", 0},
	} {
		for _, chunk := range []int{0, 1, 7} {
			got := engineValues(c.text, chunk)[c.det][c.key]
			if got != c.want {
				t.Errorf("%s (chunk %d): %s confidence %v, want %v", c.name, chunk, c.det, got, c.want)
			}
		}
	}
}

// advance moves the context past text at once, as a Scan does by the time
// the next chunk needs it (advanceLazy, then settle).
func (c *Context) advance(text []byte, st *scanState) {
	c.advanceLazy(text, st)
	c.settle()
}

func TestContextAdvance(t *testing.T) {
	var ctx Context
	ctx.advance([]byte("氏名,個人番号\n山田,123456789018\n"), nil)
	if ctx.Lines != 2 {
		t.Errorf("Lines = %d, want 2", ctx.Lines)
	}
	if len(ctx.Columns) != 2 || ctx.Columns[1] != ColMyNumber || ctx.Delim != ',' {
		t.Errorf("Columns = %v delim %q", ctx.Columns, ctx.Delim)
	}
	if got := ctx.ColumnAt([]byte("佐藤,1234"), len("佐藤,")); got != ColMyNumber {
		t.Errorf("ColumnAt = %v", got)
	}
	if string(ctx.Tail()) != "氏名,個人番号\n山田,123456789018\n" {
		t.Errorf("Tail = %q", ctx.Tail())
	}
	long := strings.Repeat("あ", 100)
	ctx.advance([]byte(long+"\n"), nil)
	if len(ctx.Tail()) != tailLen || !strings.HasSuffix(long+"\n", string(ctx.Tail())) {
		t.Errorf("Tail after long text = %q", ctx.Tail())
	}
}

func TestLabels(t *testing.T) {
	for in, want := range map[string]Column{
		"個人番号：": ColMyNumber, "マイナンバー ": ColMyNumber, "My Number:": ColMyNumber, "MyNumber": ColMyNumber,
		"注文番号：": ColOther, "お問い合わせ番号 ": ColOther, "品番": ColOther, "Order No.": ColOther, "ID:": ColOther,
		"電話番号：": ColPhone, "TEL": ColPhone, "Tel.": ColPhone, "☎": ColPhone, "携帯：": ColPhone, "Phone No.": ColPhone,
		"カード番号": ColCard, "Card No.": ColCard, "VISA ": ColCard,
		"法人番号：": ColCorporate, "登録番号": ColCorporate, "会社法人等番号": ColCorporate,
		"番号：": ColNone, "こちらの番号": ColNone, "山田": ColNone, "send ": ColNone, "": ColNone,
		"〒": ColOther, "ABC": ColOther,
	} {
		st := scanState{}
		text := []byte(in + "123")
		st.begin(text, &Context{})
		if got := st.labelBefore(len(in)); got != want {
			t.Errorf("%q: label %v, want %v", in, got, want)
		}
	}
}

// trimHeaderCell trims what bytes.Trim trims with its cutset, on cells of
// spaces, quotes, ideographic spaces and text (broken UTF-8 included).
func TestTrimHeaderCell(t *testing.T) {
	pieces := []string{" ", "\"", "'", "\u3000", "\xe3\x80", "\x80", "住所", "a", "\xe3", "電話 番号", "\u3001"}
	rnd := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var b []byte
		for range rnd.IntN(7) {
			b = append(b, pieces[rnd.IntN(len(pieces))]...)
		}
		want := bytes.Trim(b, " \"'\u3000")
		if got := trimHeaderCell(b); !bytes.Equal(got, want) {
			t.Fatalf("trimHeaderCell(%q) = %q, bytes.Trim gives %q", b, got, want)
		}
	}
}

// A Scan looks at header rows only when a value asks for its column (or
// 256 KiB of lines are waiting): a header row far before the value, across
// chunks of benign text, still classifies it, and a row that ends the
// table still ends it, however the text is cut.
func TestColumnHeadersDeferred(t *testing.T) {
	benign := strings.Repeat("item-00001,widget model 1,shelf 2,qty 3,unit price 2.01 EUR\n", 10000) // 600 KB
	value := "山田太郎,123456789018,なし\n"
	for _, c := range []struct {
		name, text string
		want       Confidence
	}{
		{"header far before the value", "氏名,個人番号,備考\n" + benign + value, High},
		{"header in a deferred chunk", benign + "氏名,個人番号,備考\n" + benign[:30000] + value, High},
		{"table ended before the value", "氏名,個人番号,備考\n" + benign + "a,b\n" + value, engineValues(value, 0)[MyNumber]["123456789018"]},
		{"no header", benign + value, engineValues(value, 0)[MyNumber]["123456789018"]},
	} {
		for _, chunk := range []int{0, 4096, 100 << 10, 300 << 10} {
			got := engineValues(c.text, chunk)[MyNumber]["123456789018"]
			if got != c.want {
				t.Errorf("%s, chunks of %d: confidence %v, want %v", c.name, chunk, got, c.want)
			}
		}
	}
	if engineValues(value, 0)[MyNumber]["123456789018"] == High {
		t.Fatal("the value alone is High already: the test shows nothing")
	}
}

// The lines a Scan defers are bounded (maxPend), however long the text.
func TestDeferredHeadersBounded(t *testing.T) {
	s := NewEngine(Builtin()...).NewScan("p")
	line := []byte("item-00001,widget model 1,shelf 2,qty 3,unit price 2.01 EUR\n")
	most := 0
	for range 20000 {
		s.Write(line)
		most = max(most, len(s.ctx.pend))
	}
	s.Close()
	if most > maxPend+len(line) || most < maxPend/2 {
		t.Errorf("at most %d bytes deferred, want about %d", most, maxPend)
	}
}
