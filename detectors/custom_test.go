package detectors

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dlp/sekisho/detectors/cputime"
)

func mustCustom(t testing.TB, spec CustomSpec) *Custom {
	t.Helper()
	d, err := NewCustom(spec)
	if err != nil {
		t.Fatal(err)
	}
	return d.(*Custom)
}

func keys(ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Key)
	}
	return out
}

func TestCustomPattern(t *testing.T) {
	c := mustCustom(t, CustomSpec{ID: "juminhyo", Pattern: `(?<![0-9０-９])[0-9０-９]{11}(?![0-9０-９])`, Normalize: NormalizeDigits})
	text := "住民票コード：１２３４５６７８９０１、予備 98765432109\n長すぎる 123456789012 は除く\n"
	ms, to := c.Find(text)
	if to {
		t.Fatal("timed out")
	}
	if got := strings.Join(keys(ms), ","); got != "12345678901,98765432109" {
		t.Fatalf("keys = %s", got)
	}
	// Offsets are byte offsets into the text.
	if got := text[ms[0].Start:ms[0].End]; got != "１２３４５６７８９０１" {
		t.Errorf("text[Start:End] = %q", got)
	}
	if got := text[ms[1].Start:ms[1].End]; got != "98765432109" {
		t.Errorf("text[Start:End] = %q", got)
	}
	for _, m := range ms {
		if m.Detector != "juminhyo" || m.Masked != "*******8901" && m.Masked != "*******2109" || m.Confidence != Low {
			t.Errorf("match %+v", m)
		}
	}
}

func TestCustomKeywordsProximity(t *testing.T) {
	c := mustCustom(t, CustomSpec{ID: "staff", Pattern: `(?<![0-9])[0-9]{6}(?![0-9])`, Keywords: []string{"職員番号", "社員番号"}, Proximity: 10})
	cases := map[string][]string{
		"職員番号：123456":                                      {"123456"},
		"123456（社員番号）":                                     {"123456"},
		"職員番号は次のとおりです。担当 123456":                           nil, // 13 runes between: too far
		"職員番号は次のとおり 123456":                                {"123456"},
		"注文番号 123456":                                      nil,
		"職員番号 111111 と 222222":                             {"111111", "222222"},
		"職員番号\n123456":                                     {"123456"}, // across a line end, same window
		"社員番号 " + strings.Repeat("x", 20) + " 123456 社員番号": {"123456"},
	}
	for text, want := range cases {
		ms, _ := c.Find(text)
		if got := keys(ms); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%q: keys %v, want %v", text, got, want)
		}
		for _, m := range ms {
			if m.Confidence != Medium {
				t.Errorf("%q: confidence %v, want medium", text, m.Confidence)
			}
		}
	}
}

func TestCustomKeywordOnly(t *testing.T) {
	c := mustCustom(t, CustomSpec{ID: "words", Keywords: []string{"氏名", "生年月日", "住民票"}})
	ms, _ := c.Find("氏名：山田\n生年月日：昭和\n氏名：佐藤\n")
	if got := strings.Join(keys(ms), ","); got != "氏名,生年月日" {
		t.Fatalf("keys = %s", got)
	}
	if ms, _ := c.Find("お名前：山田"); len(ms) != 0 {
		t.Fatalf("matches %v", ms)
	}
}

func TestCustomValidators(t *testing.T) {
	valid := []string{"484238472595", "819312727438", "163382486583", "113642541276", "926480282230", "022768333797", "267380750682", "983413672523", "988338709140", "984335489110"}
	invalid := []string{"484238472596", "819312727439", "163382486584", "113642541277", "926480282231", "022768333798", "267387050682", "123456789012"}
	for _, v := range valid {
		if !Mod11(v) {
			t.Errorf("Mod11(%s) = false", v)
		}
	}
	for _, v := range invalid {
		if Mod11(v) {
			t.Errorf("Mod11(%s) = true", v)
		}
	}
	for v, want := range map[string]bool{"4111111111111111": true, "4111111111111112": false, "79927398713": true, "0": false, "5555555555554444": true, "12a4": false} {
		if Luhn(v) != want {
			t.Errorf("Luhn(%s) = %v", v, !want)
		}
	}
	mn := mustCustom(t, CustomSpec{ID: "mn", Pattern: `(?<![0-9])[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{4}(?![0-9])`, Validator: ValidatorMod11})
	ms, _ := mn.Find("1234 5678 9018 と 1234 5678 9012 と 0227-6833-3797")
	if got := strings.Join(keys(ms), ","); got != "123456789018,022768333797" {
		t.Errorf("mod11 keys = %s", got)
	}
	card := mustCustom(t, CustomSpec{ID: "card", Pattern: `(?<![0-9])[0-9]{4}(-?[0-9]{4}){3}(?![0-9])`, Validator: ValidatorLuhn})
	ms, _ = card.Find("4111-1111-1111-1111 4111-1111-1111-1112")
	if got := strings.Join(keys(ms), ","); got != "4111111111111111" {
		t.Errorf("luhn keys = %s", got)
	}
}

func TestCustomGroupAndCase(t *testing.T) {
	c := mustCustom(t, CustomSpec{ID: "s", Pattern: `staff-(?<n>[0-9]{8})`, Group: 1, IgnoreCase: true, Validator: ValidatorMod11})
	text := "STAFF-12345674 staff-12345675"
	ms, _ := c.Find(text)
	if len(ms) != 1 || ms[0].Key != "12345674" || text[ms[0].Start:ms[0].End] != "12345674" {
		t.Fatalf("matches %+v", ms)
	}
	txt := mustCustom(t, CustomSpec{ID: "t", Pattern: `[A-Z]{2}-[0-9]{3} ?[A-Z]`})
	ms, _ = txt.Find("ＡＢ－１２３ Ｘ and AB-123X")
	if got := strings.Join(keys(ms), ","); got != "ab123x" {
		t.Errorf("text keys = %s (full width is not [A-Z] in the pattern, and both normalise alike)", got)
	}
}

func TestCustomSpecErrors(t *testing.T) {
	cases := []struct {
		spec CustomSpec
		want string
	}{
		{CustomSpec{ID: "", Pattern: "x"}, "id: empty"},
		{CustomSpec{ID: "A", Pattern: "x"}, `id: "A" must be lower-case letters, digits, '_' or '-', starting with a letter or '_'`},
		{CustomSpec{ID: "a"}, "pattern: a custom detector needs a pattern, keywords or both"},
		{CustomSpec{ID: "a", Pattern: "(x"}, "pattern: error parsing regexp: missing closing ) in `(x`"},
		{CustomSpec{ID: "a", Pattern: "x", Validator: "crc"}, `validator: "crc" is not one of luhn, mod11`},
		{CustomSpec{ID: "a", Pattern: "x", Normalize: "x"}, `normalize: "x" is not one of text, digits`},
		{CustomSpec{ID: "a", Pattern: "x", MatchTimeout: time.Millisecond}, "match_timeout: 1ms is out of range (100ms to 1m0s)"},
		{CustomSpec{ID: "a", Pattern: "x", MatchTimeout: time.Hour}, "match_timeout: 1h0m0s is out of range (100ms to 1m0s)"},
		{CustomSpec{ID: "a", Pattern: "x", Proximity: -1}, "proximity: -1 is negative"},
		{CustomSpec{ID: "a", Pattern: "(x)", Group: 2}, "group: 2 is not a group of the pattern (it has 1)"},
		{CustomSpec{ID: "a", Keywords: []string{"x", "x"}}, "keywords[1]: duplicate keyword"},
		{CustomSpec{ID: "a", Keywords: []string{" "}}, "keywords[0]: empty keyword"},
		{CustomSpec{ID: "a", Keywords: []string{"\xff"}}, "keywords[0]: not valid UTF-8"},
		{CustomSpec{ID: "a", Keywords: []string{"x"}, Validator: "luhn"}, "validator: a keyword-only detector has no value to validate"},
	}
	for _, c := range cases {
		_, err := NewCustom(c.spec)
		if err == nil || err.Error() != c.want {
			t.Errorf("%+v: err %v, want %s", c.spec, err, c.want)
		}
	}
	if _, err := NewCustomGroup([]CustomSpec{{ID: "a", Pattern: "x"}, {ID: "a", Pattern: "y"}}); err == nil || err.Error() != `detectors: custom detector 1: id "a" is used twice` {
		t.Errorf("group err = %v", err)
	}
}

// TestCustomCatastrophicTimeout: (a+)+$ backtracks exponentially on a run
// of a's that ends in something else. The detector must give up within its
// timeout and say so.
func TestCustomCatastrophicTimeout(t *testing.T) {
	const timeout = 500 * time.Millisecond
	c := mustCustom(t, CustomSpec{ID: "bad", Pattern: `(a+)+$`, MatchTimeout: timeout})
	start := time.Now()
	_, to := c.Find(strings.Repeat("a", 100<<10) + "!")
	elapsed := time.Since(start)
	if !to {
		t.Fatal("no timeout reported")
	}
	// regexp2's clock ticks every 100 ms; allow for a loaded machine.
	if elapsed > 4*timeout+time.Second {
		t.Fatalf("took %v with a %v timeout", elapsed, timeout)
	}
	// A line of a's alone matches at once: no timeout.
	if ms, to := c.Find(strings.Repeat("a", 10<<10)); to || len(ms) != 1 {
		t.Errorf("matches %d, timed out %v on a matching line", len(ms), to)
	}
	// 100 KB of a's alone is longer than a window: the window ends inside
	// the line, where $ must not match, so the pattern backtracks there and
	// times out too (fail closed), still within the timeout.
	start = time.Now()
	if _, to := c.Find(strings.Repeat("a", 100<<10)); !to || time.Since(start) > 4*timeout+time.Second {
		t.Errorf("100 KB of a: timed out %v after %v", to, time.Since(start))
	}
}

// TestCustomTimeoutThroughEngine feeds a 2 MiB part whose every line is
// catastrophic, in 32 KiB writes as io.Copy does: the rule must time out
// once and then stop for the rest of the part, so the part costs about one
// timeout, not one per chunk. A benign rule in the same group keeps working.
func TestCustomTimeoutThroughEngine(t *testing.T) {
	const timeout = 300 * time.Millisecond
	g, err := NewCustomGroup([]CustomSpec{
		{ID: "bad", Pattern: `(a+)+$`, MatchTimeout: timeout},
		{ID: "ok", Pattern: `ID-[0-9]{4}`},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(g)
	var text bytes.Buffer
	for i := 0; text.Len() < 2<<20; i++ {
		fmt.Fprintf(&text, "%s! ID-%04d\n", strings.Repeat("a", 40), i%10000)
	}
	start := time.Now()
	s := e.NewScan("attachment[1]/big.txt")
	data := text.Bytes()
	for len(data) > 0 {
		n := min(32<<10, len(data))
		s.Write(data[:n])
		data = data[n:]
	}
	tl := s.Close()
	elapsed := time.Since(start)
	if n, _ := tl.Count(TimeoutID("bad")); n != 1 {
		t.Fatalf("timeout matches = %d, want 1 (%v)", n, tl.Counts())
	}
	if n, _ := tl.Count("ok"); n != 10000 && n != MaxDistinct {
		t.Errorf("ok values = %d", n)
	}
	// A rule that kept timing out would cost one timeout per 32 KiB
	// write: 64 × 300 ms ≈ 19 s. The bound leaves room for the race
	// detector and a loaded machine, and stays far below that.
	if perChunk := time.Duration(len(text.Bytes())/(32<<10)) * timeout; elapsed > perChunk/2 {
		t.Fatalf("took %v (a timeout per chunk would take %v): the timed-out rule kept running", elapsed, perChunk)
	}
	// A new part starts afresh: benign text, no timeout.
	s2 := e.NewScan("body")
	s2.WriteString("aaaa\nID-0001\n")
	if n, _ := s2.Close().Count(TimeoutID("bad")); n != 0 {
		t.Errorf("a new part inherited the timeout")
	}
}

// TestCustomWindows checks that values are found once each whatever the
// window and chunk boundaries.
func TestCustomWindows(t *testing.T) {
	g, err := NewCustomGroup([]CustomSpec{{ID: "id", Pattern: `(?<![0-9])[0-9]{7}(?![0-9])`, Keywords: []string{"番号"}, Proximity: 5}})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	want := 0
	for i := 0; text.Len() < 300<<10; i++ {
		if i%3 == 0 {
			fmt.Fprintf(&text, "会員番号 %07d です\n", i)
			want++
		} else {
			fmt.Fprintf(&text, "備考 %07d です。日本語の文章が続きます。\n", i)
		}
	}
	for _, chunk := range []int{1, 7, 4096, 1 << 20} {
		s := NewEngine(g).NewScan("x")
		data := []byte(text.String())
		for len(data) > 0 {
			n := min(chunk, len(data))
			s.Write(data[:n])
			data = data[n:]
		}
		if n, _ := s.Close().Count("id"); n != want {
			t.Errorf("chunk %d: %d values, want %d", chunk, n, want)
		}
	}
}

// TestCustomLongLineCut: ^ and $ do not match where a long line is cut.
func TestCustomLongLineCut(t *testing.T) {
	c := mustCustom(t, CustomSpec{ID: "eol", Pattern: `[0-9]{4}$`})
	line := strings.Repeat("x", customWindow-2) + "1234" + strings.Repeat("y", 100) + "5678\n"
	ms, _ := c.Find(line)
	if got := strings.Join(keys(ms), ","); got != "5678" {
		t.Fatalf("keys = %s, want only the real line end", got)
	}
	// Through an engine, which cuts lines longer than maxLine itself.
	s := NewEngine(c).NewScan("x")
	s.WriteString(strings.Repeat("x", maxLine-4) + "1234") // no line end: the engine cuts here
	s.WriteString(strings.Repeat("y", 10) + "5678\n9999\n")
	if n, _ := s.Close().Count("eol"); n != 2 {
		t.Fatalf("values through the engine = %d, want 2", n)
	}
}

func TestMaskKey(t *testing.T) {
	for key, want := range map[string]string{"123456789018": "********9018", "abcdef": "****ef", "abc": "***", "住民票": "***"} {
		if got := maskKey(key); got != want {
			t.Errorf("maskKey(%q) = %q, want %q", key, got, want)
		}
	}
}

func FuzzCustom(f *testing.F) {
	f.Add([]byte("職員番号 123456\n住民票コード １２３４５６７８９０１"))
	f.Add([]byte("\xff\xfe番号\n\n1234567"))
	g, err := NewCustomGroup([]CustomSpec{
		{ID: "a", Pattern: `(?<![0-9０-９])[0-9０-９]{6,11}(?![0-9０-９])`, Keywords: []string{"番号", "コード"}, Proximity: 8},
		{ID: "b", Pattern: `[0-9]{4}-?[0-9]{4}-?[0-9]{4}`, Validator: ValidatorMod11},
		{ID: "c", Keywords: []string{"氏名", "住民票"}},
		{ID: "d", Pattern: `^(x|y)+$`, Group: 1},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		var ctx Context
		g.Scan(text, &ctx, func(m Match) {
			if strings.HasPrefix(m.Detector, TimeoutPrefix) {
				return
			}
			if m.Start < 0 || m.End > len(text) || m.Start >= m.End {
				t.Fatalf("bad offsets %d..%d of %d", m.Start, m.End, len(text))
			}
			// A keyword-only detector's value is its keyword (config text, shown as is).
			if m.Detector != "c" && len(m.Key) >= 6 && strings.Contains(m.Masked, m.Key) {
				t.Fatalf("masked %q holds the key", m.Masked)
			}
		})
	})
}

// customCorpus is a deterministic text of size bytes: Japanese business
// prose with numbers, dates, codes and, now and then, the values the rules
// look for.
func customCorpus(size int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"お世話になっております。", "株式会社サンプル", "営業部", "ご確認ください。", "見積書", "請求書", "納期",
		"打ち合わせ", "資料を送付します", "よろしくお願いいたします。", "Meeting notes", "invoice", "order", "delivery", "令和6年",
		"東京都", "大阪府", "担当", "備考", "合計", "金額", "数量", "単価"}
	kw := []string{"職員番号", "住民票コード", "会員番号", "受付番号", "患者ID", "生年月日", "口座番号", "保険証", "氏名", "旅券番号"}
	var b bytes.Buffer
	b.Grow(size + 256)
	for b.Len() < size {
		n := 3 + r.IntN(10)
		for i := 0; i < n; i++ {
			switch r.IntN(12) {
			case 0:
				fmt.Fprintf(&b, " %d ", r.IntN(1000000))
			case 1:
				fmt.Fprintf(&b, " 20%02d/%02d/%02d ", r.IntN(30), 1+r.IntN(12), 1+r.IntN(28))
			case 2:
				fmt.Fprintf(&b, " %s: %08d ", kw[r.IntN(len(kw))], r.IntN(100000000))
			case 3:
				fmt.Fprintf(&b, " ORD-%06d ", r.IntN(1000000))
			default:
				b.WriteString(words[r.IntN(len(words))])
			}
		}
		b.WriteByte('\n')
	}
	return b.Bytes()[:size]
}

// benchRules are 50 custom rules of the kinds sites write: keyword-gated
// numbers, prefixed codes, bare numbers with lookarounds and validators,
// keyword dictionaries, dates and e-mail-like tokens.
func benchRules() []CustomSpec {
	var specs []CustomSpec
	kws := [][]string{{"職員番号"}, {"住民票コード", "住民票"}, {"会員番号"}, {"受付番号"}, {"患者ID", "カルテ"},
		{"生年月日", "誕生日"}, {"口座番号"}, {"保険証", "被保険者"}, {"旅券番号", "パスポート"}, {"免許証"}}
	for i, k := range kws {
		specs = append(specs, CustomSpec{ID: fmt.Sprintf("kw_num_%d", i), Pattern: fmt.Sprintf(`(?<![0-9])[0-9]{%d,%d}(?![0-9])`, 6+i%3, 8+i%4), Keywords: k, Proximity: 20, Normalize: NormalizeDigits})
	}
	prefixes := []string{"ORD", "INV", "CUS", "EMP", "PAT", "ACC", "REF", "TKT", "LIC", "MEM"}
	for i, p := range prefixes {
		specs = append(specs, CustomSpec{ID: fmt.Sprintf("code_%d", i), Pattern: p + `-[0-9]{6}(?![0-9])`})
	}
	for i := 0; i < 10; i++ {
		v := ""
		if i%2 == 0 {
			v = ValidatorMod11
		}
		specs = append(specs, CustomSpec{ID: fmt.Sprintf("bare_%d", i), Pattern: fmt.Sprintf(`(?<![0-9])[0-9]{%d}(?![0-9])`, 9+i), Validator: v})
	}
	dicts := [][]string{{"氏名", "生年月日", "住民票"}, {"マイナンバー", "個人番号"}, {"病名", "診断"}, {"給与", "賞与"}, {"口座", "暗証番号"},
		{"persona", "confidential"}, {"社外秘", "極秘"}, {"本籍", "戸籍"}, {"障害", "介護"}, {"逮捕", "前科"}}
	for i, d := range dicts {
		specs = append(specs, CustomSpec{ID: fmt.Sprintf("dict_%d", i), Keywords: d})
	}
	for i := 0; i < 5; i++ {
		specs = append(specs, CustomSpec{ID: fmt.Sprintf("date_%d", i), Pattern: fmt.Sprintf(`(?<![0-9])(19|20)[0-9]{2}/(0?[1-9]|1[0-2])/%d[0-9]`, i%3)})
	}
	for i := 0; i < 5; i++ {
		specs = append(specs, CustomSpec{ID: fmt.Sprintf("mail_%d", i), Pattern: fmt.Sprintf(`[a-z0-9._-]+@[a-z0-9-]+\.example%d\.jp`, i), IgnoreCase: true})
	}
	return specs
}

// BenchmarkCustom50Rules runs 50 custom rules over a 64 MiB text through an
// engine (MB/s is the figure to read).
func BenchmarkCustom50Rules(b *testing.B) {
	const size = 64 << 20
	corpus := customCorpus(size)
	specs := benchRules()
	if len(specs) != 50 {
		b.Fatalf("%d rules", len(specs))
	}
	g, err := NewCustomGroup(specs)
	if err != nil {
		b.Fatal(err)
	}
	e := NewEngine(g)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		s := e.NewScan("bench")
		for data := corpus; len(data) > 0; {
			n := min(1<<20, len(data))
			s.Write(data[:n])
			data = data[n:]
		}
		t := s.Close()
		if t.Empty() {
			b.Fatal("nothing found")
		}
		for _, id := range t.Detectors() {
			if strings.HasPrefix(id, TimeoutPrefix) {
				b.Fatalf("%s", id)
			}
		}
	}
	// The machine running benchmarks is shared: CPU time, not wall time,
	// says what the detectors cost.
	if cpu := cputime.Process() - cpu0; cpu > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/1e6/cpu.Seconds(), "MB/s-cpu")
	}
}

// TestCustomKeywordRangesAgree checks the keyword-gated search (the pattern
// runs only around keywords) against a plain one: every match of the
// pattern, kept when a keyword lies within the proximity.
func TestCustomKeywordRangesAgree(t *testing.T) {
	text := string(customCorpus(300 << 10))
	kw := []string{"職員番号", "会員番号"}
	pattern := `(?<![0-9])[0-9]{6,8}(?![0-9])`
	gated := mustCustom(t, CustomSpec{ID: "g", Pattern: pattern, Keywords: kw, Proximity: 20})
	plain := mustCustom(t, CustomSpec{ID: "p", Pattern: pattern})
	got, _ := gated.Find(text)
	all, _ := plain.Find(text)
	var want []Match
	for _, m := range all {
		lo := max(0, m.Start-20*3-12)
		hi := min(len(text), m.End+20*3+12)
		// Measure the distance in runes, as the detector does.
		near := false
		for _, k := range kw {
			for i := lo; i < hi; {
				j := strings.Index(text[i:hi], k)
				if j < 0 {
					break
				}
				ks, ke := i+j, i+j+len(k)
				var gap string
				if ke <= m.Start {
					gap = text[ke:m.Start]
				} else if ks >= m.End {
					gap = text[m.End:ks]
				}
				if len([]rune(gap)) <= 20 {
					near = true
				}
				i = ke
			}
		}
		if near {
			want = append(want, m)
		}
	}
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("gated %d matches, plain-and-filtered %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Start != want[i].Start || got[i].End != want[i].End {
			t.Fatalf("match %d: %d..%d, want %d..%d", i, got[i].Start, got[i].End, want[i].Start, want[i].End)
		}
	}
}
