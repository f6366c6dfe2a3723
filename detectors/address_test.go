package detectors

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func scanAddresses(t testing.TB, text string) []Match {
	t.Helper()
	var ms []Match
	newAddress().Scan([]byte(text), &Context{}, func(m Match) { ms = append(ms, m) })
	return ms
}

type addrWant struct {
	span   string // text[Start:End]
	key    string
	masked string
	conf   Confidence
}

func TestAddressVectors(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []addrWant
	}{
		// Valid forms.
		{"hyphens", "東京都千代田区霞が関1-2-3",
			[]addrWant{{"東京都千代田区霞が関1-2-3", "東京都千代田区霞ケ関1-2-3", "東京都千代田区****", High}}},
		{"postal code and full-width chome", "〒100-0013 東京都千代田区霞が関１丁目２番３号 テストビル401号室",
			[]addrWant{{"〒100-0013 東京都千代田区霞が関１丁目２番３号", "東京都千代田区霞ケ関1-2-3", "東京都千代田区****", High}}},
		{"kanji chome", "大阪府大阪市北区梅田一丁目2番3号",
			[]addrWant{{"大阪府大阪市北区梅田一丁目2番3号", "大阪府大阪市北区梅田1-2-3", "大阪府大阪市北区****", High}}},
		{"all kanji", "住所：東京都千代田区霞が関一丁目二番三号",
			[]addrWant{{"東京都千代田区霞が関一丁目二番三号", "東京都千代田区霞ケ関1-2-3", "東京都千代田区****", High}}},
		{"county town banchi", "北海道虻田郡洞爺湖町洞爺湖温泉１２３番地",
			[]addrWant{{"北海道虻田郡洞爺湖町洞爺湖温泉１２３番地", "北海道虻田郡洞爺湖町洞爺湖温泉123", "北海道虻田郡洞爺湖町****", High}}},
		{"town without county", "北海道洞爺湖町洞爺湖温泉123番地",
			[]addrWant{{"北海道洞爺湖町洞爺湖温泉123番地", "北海道虻田郡洞爺湖町洞爺湖温泉123", "北海道虻田郡洞爺湖町****", High}}},
		{"sapporo grid", "札幌市中央区北一条西二丁目1",
			[]addrWant{{"札幌市中央区北一条西二丁目1", "北海道札幌市中央区北1条西2-1", "北海道札幌市中央区****", Medium}}},
		{"sapporo grid digits", "札幌市中央区北1条西2丁目1",
			[]addrWant{{"札幌市中央区北1条西2丁目1", "北海道札幌市中央区北1条西2-1", "北海道札幌市中央区****", Medium}}},
		{"hamamatsu 2024 ward", "静岡県浜松市中央区元城町103-2",
			[]addrWant{{"静岡県浜松市中央区元城町103-2", "静岡県浜松市中央区元城町103-2", "静岡県浜松市中央区****", High}}},
		{"designated city full-width", "横浜市西区みなとみらい２－３－１",
			[]addrWant{{"横浜市西区みなとみらい２－３－１", "神奈川県横浜市西区みなとみらい2-3-1", "神奈川県横浜市西区****", Medium}}},
		{"kyoto streets", "京都市中京区寺町通御池上る上本能寺前町488番地",
			[]addrWant{{"京都市中京区寺町通御池上る上本能寺前町488番地", "京都府京都市中京区寺町通御池上る上本能寺前町488", "京都府京都市中京区****", Medium}}},
		{"banchi no", "神奈川県横浜市中区山下町2番地の3",
			[]addrWant{{"神奈川県横浜市中区山下町2番地の3", "神奈川県横浜市中区山下町2-3", "神奈川県横浜市中区****", High}}},
		{"banchi alone", "横浜市中区山下町1番地",
			[]addrWant{{"横浜市中区山下町1番地", "神奈川県横浜市中区山下町1", "神奈川県横浜市中区****", Medium}}},
		{"town equals ward", "千代田区千代田1-1",
			[]addrWant{{"千代田区千代田1-1", "東京都千代田区千代田1-1", "東京都千代田区****", Medium}}},
		{"long vowel mark dashes", "東京都港区芝公園4ー2ー8",
			[]addrWant{{"東京都港区芝公園4ー2ー8", "東京都港区芝公園4-2-8", "東京都港区****", High}}},
		{"dash variants", "東京都港区芝公園4‐2―8 と 東京都港区芝公園4−2–8",
			[]addrWant{
				{"東京都港区芝公園4‐2―8", "東京都港区芝公園4-2-8", "東京都港区****", High},
				{"東京都港区芝公園4−2–8", "東京都港区芝公園4-2-8", "東京都港区****", High},
			}},
		{"no separators", "東京都港区芝公園4の2の8",
			[]addrWant{{"東京都港区芝公園4の2の8", "東京都港区芝公園4-2-8", "東京都港区****", High}}},
		{"spaces between parts", "東京都 千代田区 霞が関 1-2-3",
			[]addrWant{{"東京都 千代田区 霞が関 1-2-3", "東京都千代田区霞ケ関1-2-3", "東京都千代田区****", High}}},
		{"postal code without mark", "1000013 東京都千代田区霞が関1-2-3",
			[]addrWant{{"1000013 東京都千代田区霞が関1-2-3", "東京都千代田区霞ケ関1-2-3", "東京都千代田区****", High}}},
		{"full-width postal code raises confidence", "〒２２０－００１２ 横浜市西区みなとみらい2-3-1",
			[]addrWant{{"〒２２０－００１２ 横浜市西区みなとみらい2-3-1", "神奈川県横浜市西区みなとみらい2-3-1", "神奈川県横浜市西区****", High}}},
		{"town name is a municipality", "東京都府中市府中町1-2-3",
			[]addrWant{{"東京都府中市府中町1-2-3", "東京都府中市府中町1-2-3", "東京都府中市****", High}}},
		{"city repeated as town", "千葉県市川市市川1-2",
			[]addrWant{{"千葉県市川市市川1-2", "千葉県市川市市川1-2", "千葉県市川市****", High}}},
		{"longest name wins", "東京都東村山市本町1-2-3",
			[]addrWant{{"東京都東村山市本町1-2-3", "東京都東村山市本町1-2-3", "東京都東村山市****", High}}},
		{"kanji in town with 番", "千代田区四番町5-6",
			[]addrWant{{"千代田区四番町5-6", "東京都千代田区四番町5-6", "東京都千代田区****", Medium}}},
		{"shared name without prefecture", "朝日町1-2",
			[]addrWant{{"朝日町1-2", "朝日町1-2", "朝日町****", Medium}}},
		{"shared name with prefecture", "富山県朝日町1-2",
			[]addrWant{{"富山県朝日町1-2", "富山県下新川郡朝日町1-2", "富山県下新川郡朝日町****", High}}},
		{"bare ward is ambiguous", "北区梅田1-2-3",
			[]addrWant{{"北区梅田1-2-3", "北区梅田1-2-3", "北区****", Medium}}},
		{"variant spelling", "鯵ヶ沢町本町1-2",
			[]addrWant{{"鯵ヶ沢町本町1-2", "青森県西津軽郡鰺ヶ沢町本町1-2", "青森県西津軽郡鰺ヶ沢町****", Medium}}},
		{"csv row", "1,山田太郎,東京都千代田区千代田1-1,03-1234-5678",
			[]addrWant{{"東京都千代田区千代田1-1", "東京都千代田区千代田1-1", "東京都千代田区****", High}}},
		{"two in one line", "本社:東京都港区芝公園4-2-8、支社:大阪市北区梅田1-1-3",
			[]addrWant{
				{"東京都港区芝公園4-2-8", "東京都港区芝公園4-2-8", "東京都港区****", High},
				{"大阪市北区梅田1-1-3", "大阪府大阪市北区梅田1-1-3", "大阪府大阪市北区****", Medium},
			}},
		{"room number stays out", "東京都千代田区霞が関1-2-3 401号室",
			[]addrWant{{"東京都千代田区霞が関1-2-3", "東京都千代田区霞ケ関1-2-3", "東京都千代田区****", High}}},
		{"floor", "東京都港区芝公園4-2-8 5F",
			[]addrWant{{"東京都港区芝公園4-2-8", "東京都港区芝公園4-2-8", "東京都港区****", High}}},
		{"glued to a longer word", "新横浜市中区1-2",
			[]addrWant{{"横浜市中区1-2", "神奈川県横浜市中区1-2", "神奈川県横浜市中区****", Low}}},
		{"prefecture and town only", "東京都霞が関1-2-3",
			[]addrWant{{"東京都霞が関1-2-3", "東京都霞ケ関1-2-3", "東京都****", Low}}},
		{"chome alone", "東京都千代田区霞が関三丁目",
			[]addrWant{{"東京都千代田区霞が関三丁目", "東京都千代田区霞ケ関3", "東京都千代田区****", High}}},

		// Decoys.
		{"article", "Article 1-2-3 applies", nil},
		{"product code", "品番ABC-1-2-3を出荷", nil},
		{"product code after city", "横浜市倉庫 ABC-1-2-3", nil},
		{"law article", "第1条2項に基づき", nil},
		{"law article after city", "千代田区条例第1条2項", nil},
		{"prefecture only", "東京都の天気は晴れ", nil},
		{"facility", "東京都の施設", nil},
		{"facility with number", "東京都の施設 1-2", nil},
		{"city hall", "市役所に行く", nil},
		{"ward office", "千代田区役所に行く", nil},
		{"university", "大阪市立大学の講義", nil},
		{"ward only", "中央区で会議", nil},
		{"number without municipality", "手順は3-2-1の順", nil},
		{"population", "府中市の人口は26万人", nil},
		{"phone after ward", "千代田区03-1234-5678", nil},
		{"phone free-dial", "横浜市0120-123-456", nil},
		{"date after particle", "千代田区で2024-4-1に開催", nil},
		{"iso date", "千代田区2024-04-01", nil},
		{"slash date", "千代田区 2024/4/1", nil},
		{"decimal", "横浜市中区1-2.5", nil},
		{"too many parts", "横浜市中区1-2-3-4-5", nil},
		{"number alone", "横浜市中区山下町1", nil},
		{"ban alone", "横浜市中区山下町1番", nil},
		{"go alone", "横浜市中区1号", nil},
		{"postal code alone", "〒100-0001", nil},
		{"kanji block without place", "一丁目二番三号", nil},
		{"politeness", "市区町村の番号を丁寧に確認", nil},
		{"town too long", "横浜市あいうえおかきくけこさしすせそたちつてとなにぬねの1-2", nil},
		{"sentence particle", "東京都千代田区にある1-2-3", nil},
		{"municipality name alone", "府中市", nil},
	}
	if len(tests) < 30 {
		t.Fatalf("only %d vectors", len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms := scanAddresses(t, tc.text)
			if len(ms) != len(tc.want) {
				t.Fatalf("%q: got %d matches %v, want %d", tc.text, len(ms), spans(tc.text, ms), len(tc.want))
			}
			for i, m := range ms {
				w := tc.want[i]
				if m.Start < 0 || m.End > len(tc.text) || m.Start >= m.End {
					t.Fatalf("bad offsets [%d,%d)", m.Start, m.End)
				}
				if got := tc.text[m.Start:m.End]; got != w.span {
					t.Errorf("span %q, want %q", got, w.span)
				}
				if m.Key != w.key {
					t.Errorf("key %q, want %q", m.Key, w.key)
				}
				if m.Masked != w.masked {
					t.Errorf("masked %q, want %q", m.Masked, w.masked)
				}
				if m.Confidence != w.conf {
					t.Errorf("confidence %v, want %v", m.Confidence, w.conf)
				}
				if m.Detector != Address {
					t.Errorf("detector %q", m.Detector)
				}
				checkMasked(t, m)
			}
		})
	}
}

// checkMasked asserts that a masked address shows only the place: it ends
// in the mask, holds no digit, and what it shows is the place part of the key
// (the key is place + town + block).
func checkMasked(t testing.TB, m Match) {
	t.Helper()
	place, ok := strings.CutSuffix(m.Masked, addrMask)
	if !ok || place == "" {
		t.Errorf("masked %q is not a place and the mask", m.Masked)
	}
	if strings.ContainsAny(m.Masked, "0123456789０１２３４５６７８９") {
		t.Errorf("masked %q shows a digit", m.Masked)
	}
	if !strings.HasPrefix(m.Key, place) || len(m.Key) == len(place) {
		t.Errorf("masked %q shows more than the place", m.Masked)
	}
}

func spans(text string, ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%q", text[m.Start:m.End]))
	}
	return out
}

func TestAddressSameKeyForSpellings(t *testing.T) {
	forms := []string{
		"東京都千代田区霞が関1丁目2番3号",
		"東京都千代田区霞が関1-2-3",
		"東京都千代田区霞ヶ関１－２－３",
		"東京都千代田区霞ケ関一丁目二番三号",
		"千代田区霞が関1ー2ー3",
		"〒100-0013 東京都 千代田区 霞が関 1丁目2-3",
		"東京都千代田区霞が関1の2の3",
	}
	want := ""
	for _, f := range forms {
		ms := scanAddresses(t, f)
		if len(ms) != 1 {
			t.Fatalf("%q: %d matches", f, len(ms))
		}
		if want == "" {
			want = ms[0].Key
		}
		if ms[0].Key != want {
			t.Errorf("%q: key %q, want %q", f, ms[0].Key, want)
		}
	}
}

// The company's signature, repeated in a thread and written with and
// without its prefecture, counts as one address.
func TestAddressSignatureCountsOnce(t *testing.T) {
	body := strings.Join([]string{
		"お世話になっております。",
		"資料を添付します。市役所の担当者様にもご確認ください。",
		"--",
		"株式会社テスト 情報システム部",
		"〒100-0001 東京都千代田区千代田1-1 テストビル5F",
		"TEL 03-1234-5678",
		"> --",
		"> 〒100-0001 東京都千代田区千代田1-1 テストビル5F",
		"> > 千代田区千代田１－１",
		"",
	}, "\r\n")
	e := NewEngine(newAddress())
	s := e.NewScan("body")
	for i := 0; i < len(body); i += 7 { // arbitrary chunking
		j := min(i+7, len(body))
		s.Write([]byte(body[i:j]))
	}
	tally := s.Close()
	n, sat := tally.Count(Address)
	if n != 1 || sat {
		t.Fatalf("count %d (saturated %v), want 1", n, sat)
	}
	v := tally.Samples(Address, 1)[0]
	if v.Masked != "東京都千代田区****" || v.Confidence != High {
		t.Errorf("value %+v", v)
	}
}

func TestKanjiValue(t *testing.T) {
	for in, want := range map[string]int{
		"一": 1, "十": 10, "十一": 11, "二十": 20, "二十三": 23, "九十九": 99, "百五": 105,
		"三〇一": 301, "千二百三十四": 1234, "百": 100,
	} {
		v, q, kind := addrReadNumber([]byte(in+"番地"), 0)
		if kind != addrNumKanji || v != want || q != len(in) {
			t.Errorf("%s: got %d (kind %d, end %d), want %d", in, v, kind, q, want)
		}
	}
	for _, bad := range []string{"〇", "〇一", "十百", "二三十", "一二三四五六七"} {
		if _, _, kind := addrReadNumber([]byte(bad), 0); kind == addrNumKanji {
			t.Errorf("%s: accepted", bad)
		}
	}
}

// TestMunicipalityTableMatchesCSV checks that municipalities_gen.go was
// generated from the committed CSV (internal/genmuni's own test compares the
// generated source byte for byte).
func TestMunicipalityTableMatchesCSV(t *testing.T) {
	data, err := os.ReadFile("data/jp-municipalities.csv")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != municipalitiesCSVSHA256 {
		t.Fatalf("data/jp-municipalities.csv changed (sha256 %s): run `go generate ./detectors/`", got)
	}
	lines := strings.Count(string(data), "\n") - 1
	prefs, spells := prefectureNames(), placeSpellings()
	if len(prefs) != 47 || prefs[12] != "東京都" {
		t.Fatalf("prefectures: %d, [12]=%s", len(prefs), prefs[12])
	}
	codes := map[int32]bool{}
	for _, s := range spells {
		codes[s.code] = true
		if !strings.HasPrefix(s.full, prefs[s.pref-1]) || !strings.HasSuffix(s.full, s.name[len(s.name)-len("区"):]) {
			t.Errorf("spelling %+v does not fit its full name", s)
		}
	}
	if len(codes)+len(prefs) != lines {
		t.Errorf("%d codes + 47 prefectures, CSV has %d rows", len(codes), lines)
	}
}

func TestAddressRuneBoundaries(t *testing.T) {
	text := "住所は〒１００－０００１　東京都千代田区千代田１－１です。番号一覧、丁目"
	for _, m := range scanAddresses(t, text) {
		if !utf8.ValidString(text[:m.Start]) || !utf8.ValidString(text[m.Start:m.End]) {
			t.Errorf("match [%d,%d) cuts a rune", m.Start, m.End)
		}
	}
}

// businessProse generates Japanese business text with numbers, dates, 市/区/
// 町 words, 番号 and 丁寧 but (almost) no addresses.
func businessProse(size int) []byte {
	sentences := []string{
		"いつもお世話になっております。株式会社テストの山田です。",
		"令和6年4月1日付で、市民課の窓口業務委託契約（第2024-15号）を更新いたします。",
		"本市の情報セキュリティ特記仕様書第11条に基づき、個人情報の取扱いについて丁寧にご説明します。",
		"会議は2024年10月15日（火）14:00-15:30、市役所本庁舎3階の第2会議室で行います。",
		"見積金額は1,250,000円（税込）です。お支払いは翌月末までにお願いいたします。",
		"東京都の施設の利用については、区役所の担当部署へお問い合わせください。",
		"受付番号は別途メールでお知らせします。順番にご対応ください。",
		"町内会の回覧板で周知する予定です。村の防災訓練は11月に実施されます。",
		"システムのバージョン2.3.1を適用しました。手順書の3-2-1を参照してください。",
		"Please find the attached report (ref. 2024-Q3-07).",
		"都道府県別の集計表を添付します。前年度比で約12%の増加となりました。",
		"ご不明な点がございましたら、担当までご連絡ください。よろしくお願いいたします。",
	}
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for b.Len() < size {
		b.WriteString(sentences[r.IntN(len(sentences))])
		if r.IntN(4) == 0 {
			b.WriteString("\n")
		}
	}
	return []byte(b.String())
}

// addressRoster generates a CSV roster with one address per row.
func addressRoster(size int) []byte {
	spells := placeSpellings()
	prefs := prefectureNames()
	towns := []string{"本町", "中央", "栄町", "緑が丘", "旭町", "大字東川", "山下町", "霞が関"}
	r := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	b.WriteString("番号,氏名,郵便番号,住所,電話番号\n")
	for i := 1; b.Len() < size; i++ {
		s := spells[r.IntN(len(spells))]
		pref := prefs[s.pref-1]
		fmt.Fprintf(&b, "%d,山田 太郎,〒%03d-%04d,%s%s%s%d-%d-%d,0%d-%04d-%04d\n", i,
			100+r.IntN(900), r.IntN(10000), pref, s.name, towns[r.IntN(len(towns))],
			1+r.IntN(9), 1+r.IntN(30), 1+r.IntN(20), 3+r.IntN(6), r.IntN(10000), r.IntN(10000))
	}
	return []byte(b.String())
}

func TestAddressRosterDense(t *testing.T) {
	text := addressRoster(64 << 10)
	rows := strings.Count(string(text), "\n") - 1
	n := len(scanAddresses(t, string(text)))
	if n != rows {
		t.Errorf("%d addresses in %d rows", n, rows)
	}
	if n := len(scanAddresses(t, string(businessProse(64<<10)))); n != 0 {
		t.Errorf("%d addresses in prose without addresses", n)
	}
}

func benchAddress(b *testing.B, text []byte) {
	d := newAddress()
	ctx := &Context{}
	n := 0
	emit := func(Match) { n++ }
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		d.Scan(text, ctx, emit)
	}
	_ = n
}

func BenchmarkAddressSparse(b *testing.B) { benchAddress(b, businessProse(1<<20)) }
func BenchmarkAddressDense(b *testing.B)  { benchAddress(b, addressRoster(1<<20)) }

func TestBuiltinHasAddress(t *testing.T) {
	n := 0
	for _, d := range Builtin() {
		if d.ID() == Address {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("Builtin has %d %s detectors, want 1", n, Address)
	}
}
