package detectors

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/sekisho-dlp/sekisho/detectors/cputime"
)

// Benchmarks of the built-in detectors on generated text:
//
//	go test -run '^$' -bench 'Builtin' -benchtime=3x ./detectors/

var (
	genSparse = sync.OnceValue(func() []byte { return genBusinessText(64<<20, 1) })
	genDense  = sync.OnceValue(func() []byte { return genRoster(16<<20, 2) })
)

func BenchmarkBuiltinSparse(b *testing.B)      { benchEngine(b, NewEngine(Builtin()...), genSparse()) }
func BenchmarkBuiltinDenseRoster(b *testing.B) { benchEngine(b, NewEngine(Builtin()...), genDense()) }

// The same text cut into 256 KiB parts, each scanned on its own: no count
// reaches MaxDistinct, so no detector is dropped as saturated (Scan.prune)
// and every value is weighed and counted, as in a mail of many small
// attachments.
func BenchmarkBuiltinSparseParts(b *testing.B) {
	var parts [][]byte
	for p := genSparse(); len(p) > 0; p = p[min(256<<10, len(p)):] {
		parts = append(parts, p[:min(256<<10, len(p))])
	}
	benchParts(b, NewEngine(Builtin()...), parts)
}

// Rosters of 256 KiB (about 2,000 rows), each with its header row.
func BenchmarkBuiltinDenseRosterParts(b *testing.B) {
	var parts [][]byte
	for i := range 64 {
		parts = append(parts, genRoster(256<<10, uint64(100+i)))
	}
	benchParts(b, NewEngine(Builtin()...), parts)
}

// The four digit detectors alone (the shared-chain path).
func BenchmarkDigitsSparse(b *testing.B) {
	benchEngine(b, NewEngine(MyNumberDetector{}, CorporateNumberDetector{}, PhoneDetector{}, CreditCardDetector{}), genSparse())
}

func BenchmarkDigitsDenseRoster(b *testing.B) {
	benchEngine(b, NewEngine(MyNumberDetector{}, CorporateNumberDetector{}, PhoneDetector{}, CreditCardDetector{}), genDense())
}

// benchEngine scans text as extraction does: 32 KiB writes into one Scan.
func benchEngine(b *testing.B, e *Engine, text []byte) {
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	cpu0 := cputime.Process().Seconds()
	n := 0
	for b.Loop() {
		n++
		s := e.NewScan("bench")
		for p := text; len(p) > 0; {
			n := min(32<<10, len(p))
			s.Write(p[:n])
			p = p[n:]
		}
		if s.Close().Empty() {
			b.Fatal("nothing found")
		}
	}
	// The machine may be shared: also report throughput per CPU second.
	if cpu := cputime.Process().Seconds() - cpu0; cpu > 0 {
		b.ReportMetric(float64(len(text))*float64(n)/cpu/1e6, "MB/cpu-s")
	}
}

// benchParts is benchEngine with a Scan per part.
func benchParts(b *testing.B, e *Engine, parts [][]byte) {
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	cpu0 := cputime.Process().Seconds()
	n := 0
	for b.Loop() {
		n++
		found := false
		for _, part := range parts {
			s := e.NewScan("bench")
			for p := part; len(p) > 0; {
				n := min(32<<10, len(p))
				s.Write(p[:n])
				p = p[n:]
			}
			found = !s.Close().Empty() || found
		}
		if !found {
			b.Fatal("nothing found")
		}
	}
	if cpu := cputime.Process().Seconds() - cpu0; cpu > 0 {
		b.ReportMetric(float64(size)*float64(n)/cpu/1e6, "MB/cpu-s")
	}
}

var genPhrases = []string{
	"いつも大変お世話になっております。",
	"標記の件につきまして、下記のとおりご案内申し上げます。",
	"ご不明な点がございましたら、担当までお問い合わせください。",
	"本日の会議資料を添付いたしますので、ご確認のほどよろしくお願いいたします。",
	"先日お送りした見積書の内容に一部誤りがございました。",
	"納期につきましては、前回のお打ち合わせのとおりで問題ございません。",
	"請求書は月末締め翌月末払いにて発行いたします。",
	"来週の定例会は会議室Bにて開催予定です。",
	"システムの保守作業に伴い、一時的にサービスを停止いたします。",
	"今後ともどうぞよろしくお願い申し上げます。",
	"市民課窓口の受付時間が変更となりますのでお知らせします。",
	"The attached report summarises the results of the third quarter.",
	"取り急ぎご報告まで。",
	"在庫状況を確認のうえ、改めてご連絡いたします。",
}

var genNames = []string{"山田 太郎", "佐藤 花子", "鈴木 一郎", "高橋 美咲", "田中 健太", "伊藤 さくら", "渡辺 大輔", "中村 由美"}
var genKana = []string{"ヤマダ タロウ", "サトウ ハナコ", "スズキ イチロウ", "タカハシ ミサキ", "タナカ ケンタ", "イトウ サクラ", "ワタナベ ダイスケ", "ナカムラ ユミ"}
var genTowns = []string{"東京都千代田区丸の内", "大阪府大阪市北区梅田", "神奈川県横浜市中区山下町", "愛知県名古屋市中村区名駅",
	"福岡県福岡市博多区博多駅前", "北海道札幌市中央区北一条西", "京都府京都市下京区四条通", "宮城県仙台市青葉区一番町"}

// genMyNumber returns a random valid My Number.
func genMyNumber(r *rand.Rand) string {
	var b [12]byte
	for i := range 11 {
		b[i] = byte('0' + r.IntN(10))
	}
	w := [11]int{6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
	sum := 0
	for i := range 11 {
		sum += int(b[i]-'0') * w[i]
	}
	b[11] = '0'
	if m := sum % 11; m > 1 {
		b[11] = byte('0' + 11 - m)
	}
	return string(b[:])
}

// genBusinessText generates size bytes of Japanese business mail and
// documents: prose, dates, times, amounts, order numbers, product codes,
// and now and then a company phone number or a piece of personal data.
func genBusinessText(size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 42))
	var sb strings.Builder
	sb.Grow(size + 1024)
	for sb.Len() < size {
		switch k := r.IntN(100); {
		case k < 45:
			sb.WriteString(genPhrases[r.IntN(len(genPhrases))])
		case k < 55:
			fmt.Fprintf(&sb, "%d年%d月%d日（%s）%d:%02dより、", 2024+r.IntN(2), 1+r.IntN(12), 1+r.IntN(28), "月火水木金"[r.IntN(5)*3:][:3], 9+r.IntN(9), r.IntN(4)*15)
		case k < 63:
			fmt.Fprintf(&sb, "合計金額は%d,%03d円（税込）です。", 1+r.IntN(999), r.IntN(1000))
		case k < 70:
			fmt.Fprintf(&sb, "注文番号：%d%08d の件、", 2024, r.IntN(1e8))
		case k < 76:
			fmt.Fprintf(&sb, "品番 XJ-%04d-%c を%d個、", r.IntN(10000), 'A'+r.IntN(26), 1+r.IntN(50))
		case k < 80:
			fmt.Fprintf(&sb, "%d-%02d-%02d 更新 ver.%d.%d.%d ", 2024, 1+r.IntN(12), 1+r.IntN(28), r.IntN(5), r.IntN(20), r.IntN(100))
		case k < 83:
			fmt.Fprintf(&sb, "お問い合わせ番号 %04d-%04d-%04d ", r.IntN(1e4), r.IntN(1e4), r.IntN(1e4))
		case k < 86:
			fmt.Fprintf(&sb, "〒%03d-%04d %s%d-%d-%d ", r.IntN(1000), r.IntN(10000), genTowns[r.IntN(len(genTowns))], 1+r.IntN(9), 1+r.IntN(20), 1+r.IntN(30))
		case k < 89:
			fmt.Fprintf(&sb, "TEL 03-%04d-%04d（代表）", 3000+r.IntN(10), r.IntN(1e4))
		case k < 90:
			// Sparse personal data.
			switch r.IntN(4) {
			case 0:
				fmt.Fprintf(&sb, "個人番号：%s ", genMyNumber(r))
			case 1:
				fmt.Fprintf(&sb, "携帯 090-%04d-%04d ", r.IntN(1e4), r.IntN(1e4))
			case 2:
				sb.WriteString("カード番号 4111 1111 1111 1111 ")
			default:
				fmt.Fprintf(&sb, "%s様 ", genNames[r.IntN(len(genNames))])
			}
		default:
			sb.WriteString("\n")
		}
		if r.IntN(6) == 0 {
			sb.WriteString("\n")
		}
	}
	return []byte(sb.String())
}

// genRoster generates a CSV 名簿 of size bytes: header row, then one person
// per row with name, furigana, birthdate, address, phone and My Number.
func genRoster(size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	var sb strings.Builder
	sb.Grow(size + 1024)
	sb.WriteString("氏名,フリガナ,生年月日,住所,電話番号,個人番号\r\n")
	for sb.Len() < size {
		i := r.IntN(len(genNames))
		phone := fmt.Sprintf("0%d-%04d-%04d", 3+r.IntN(7), r.IntN(1e4), r.IntN(1e4))
		if r.IntN(2) == 0 {
			phone = fmt.Sprintf("0%d0-%04d-%04d", 7+r.IntN(3), 1000+r.IntN(9000), r.IntN(1e4))
		}
		fmt.Fprintf(&sb, "%s,%s,%d/%02d/%02d,%s%d-%d-%d,%s,%s\r\n", genNames[i], genKana[i],
			1940+r.IntN(65), 1+r.IntN(12), 1+r.IntN(28), genTowns[r.IntN(len(genTowns))],
			1+r.IntN(9), 1+r.IntN(20), 1+r.IntN(30), phone, genMyNumber(r))
	}
	return []byte(sb.String())
}

func TestGeneratedText(t *testing.T) {
	// The generators are deterministic and what the benchmarks claim.
	a, b := genBusinessText(1<<20, 1), genBusinessText(1<<20, 1)
	if string(a) != string(b) {
		t.Fatal("business text is not deterministic")
	}
	v := engineValues(string(a), 32<<10)
	if len(v[MyNumber]) == 0 || len(v[Phone]) == 0 || len(v[CreditCard]) != 1 {
		t.Errorf("business text: %d my numbers %d phones %d cards", len(v[MyNumber]), len(v[Phone]), len(v[CreditCard]))
	}
	for k, c := range v[MyNumber] {
		if c != High {
			t.Errorf("business text: my number %s…: %v (an order or inquiry number slipped through?)", k[:2], c)
			break
		}
	}
	roster := genRoster(1<<20, 2)
	rows := strings.Count(string(roster), "\n") - 1
	v = engineValues(string(roster), 32<<10)
	if n := len(v[MyNumber]); n != min(rows, MaxDistinct) {
		t.Errorf("roster: %d my numbers, want %d", n, min(rows, MaxDistinct))
	}
	for _, c := range v[MyNumber] {
		if c != High {
			t.Errorf("roster my number: %v, want high (column header)", c)
			break
		}
	}
	if len(v[Phone]) < MaxDistinct/2 {
		t.Errorf("roster: %d phones", len(v[Phone]))
	}
}

// genInventory is the body of the proxy benchmark's POST (peers/http-bench.sh):
// a paragraph of prose, then eight inventory rows, repeated to size — short
// digit runs everywhere, nothing personal.
func genInventory(size int) []byte {
	const prose = "The quarterly planning meeting is moved to Thursday afternoon. Please\n" +
		"bring the updated schedule for the warehouse migration, the list of open\n" +
		"purchase orders and your notes on the supplier review.\n"
	var b []byte
	for i := 0; len(b) < size; {
		b = append(b, prose...)
		for range 8 {
			i++
			b = fmt.Appendf(b, "item-%05d,widget model %d,shelf %d,qty %d,unit price %d.%02d EUR\n",
				i, i%97, i%13, i%50+1, i%40+1, i%100)
		}
	}
	return b[:size]
}

// One 100 KiB upload of that body, scanned as the proxy scans it (one
// part, one write); it must find nothing.
func BenchmarkBuiltinInventoryUpload(b *testing.B) {
	e := NewEngine(Builtin()...)
	body := genInventory(100 << 10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		s := e.NewScan("body")
		s.Write(body)
		if t := s.Close(); !t.Empty() {
			b.Fatalf("benign inventory text: found %+v", t)
		}
	}
}
