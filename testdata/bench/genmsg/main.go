// Command genmsg writes the deterministic test message of sekisho's
// end-to-end scan benchmark (issue 2): an RFC 5322 message of about
// 100 MiB on the wire with a short Japanese body (ISO-2022-JP) and three
// base64 attachments:
//
//   - 受注一覧.csv: a CP932 (Shift_JIS) CSV of orders and inventory (order
//     numbers, dates, product codes, JAN codes, amounts, warehouses, notes);
//   - app.log: an application log (timestamps, levels, client IPs, request
//     ids, paths, latencies);
//   - data.zip: both files again, deflated.
//
// The personal information is sparse and below the default policy's
// thresholds: two supplier phone numbers and the sender's signature number
// (jp_phone threshold 5) and two delivery addresses (jp_address threshold
// 3), so the message should pass. With -roster the CSV also carries a
// My Number column for one row in 5000, which makes it block.
//
// Usage (from the module root):
//
//	go run ./testdata/bench/genmsg -o /tmp/msg.eml [-size 104857600] [-roster]
//
// The output depends only on the flags.
package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

func main() {
	out := flag.String("o", "-", "output `FILE` (- is stdout)")
	size := flag.Int64("size", 100<<20, "target size on the wire in `BYTES`")
	roster := flag.Bool("roster", false, "add sparse My Numbers to the CSV (the message then blocks)")
	flag.Parse()
	if err := run(*out, *size, *roster); err != nil {
		fmt.Fprintln(os.Stderr, "genmsg:", err)
		os.Exit(1)
	}
}

func run(out string, size int64, roster bool) error {
	// The zip's share of the wire depends on how well the text deflates:
	// measure it on a sample, then size the two files so that the message
	// comes out at about size bytes.
	const sample = 2 << 20
	csv, err := genCSV(sample, roster)
	if err != nil {
		return err
	}
	lg := genLog(sample)
	z, err := zipBoth(csv, lg)
	if err != nil {
		return err
	}
	ratio := float64(len(z)) / float64(len(csv)+len(lg))
	// Base64 with 76-character CRLF lines: 78 wire bytes per 57 bytes.
	each := int(float64(size-64<<10) / (78.0 / 57.0) / (2 * (1 + ratio)))
	if csv, err = genCSV(each, roster); err != nil {
		return err
	}
	lg = genLog(each)
	if z, err = zipBoth(csv, lg); err != nil {
		return err
	}

	var w io.Writer = os.Stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := writeMessage(bw, csv, lg, z); err != nil {
		return err
	}
	return bw.Flush()
}

const boundary = "----=_Part_sekisho_bench_0001"

func writeMessage(w *bufio.Writer, csv, lg, z []byte) error {
	body, err := iso2022jp("営業部各位\r\n\r\nお疲れ様です。今月分の受注一覧とアプリケーションログを添付します。\r\n" +
		"同じものをまとめた zip も付けましたので、ご確認ください。\r\n\r\n" +
		"--\r\n株式会社サンプル商事 システム管理課 関所 一郎\r\nTEL 03-5555-0100\r\n")
	if err != nil {
		return err
	}
	subj, err := iso2022jp("今月の受注一覧とログ")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "From: =?ISO-2022-JP?B?%s?= <ichiro.sekisho@example.co.jp>\r\n", base64.StdEncoding.EncodeToString(mustJIS("関所 一郎")))
	fmt.Fprintf(w, "To: eigyo@example.co.jp\r\n")
	fmt.Fprintf(w, "Subject: =?ISO-2022-JP?B?%s?=\r\n", base64.StdEncoding.EncodeToString(subj))
	fmt.Fprintf(w, "Date: Mon, 01 Apr 2024 09:30:00 +0900\r\n")
	fmt.Fprintf(w, "Message-ID: <bench-0001@example.co.jp>\r\n")
	fmt.Fprintf(w, "MIME-Version: 1.0\r\n")
	fmt.Fprintf(w, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", boundary)
	fmt.Fprintf(w, "This is a multi-part message in MIME format.\r\n")
	fmt.Fprintf(w, "--%s\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n", boundary)
	w.Write(body)
	attach(w, "text/csv; charset=Shift_JIS", "受注一覧.csv", csv)
	attach(w, "text/plain; charset=UTF-8", "app.log", lg)
	attach(w, "application/zip", "data.zip", z)
	_, err = fmt.Fprintf(w, "\r\n--%s--\r\n", boundary)
	return err
}

// attach writes one base64 attachment, its name encoded as RFC 2231.
func attach(w *bufio.Writer, ctype, name string, data []byte) {
	var enc strings.Builder
	for _, b := range []byte(name) {
		if b < 0x80 && (b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '-' || b == '_') {
			enc.WriteByte(b)
		} else {
			fmt.Fprintf(&enc, "%%%02X", b)
		}
	}
	fmt.Fprintf(w, "\r\n--%s\r\nContent-Type: %s\r\nContent-Disposition: attachment; filename*=UTF-8''%s\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n", boundary, ctype, enc.String())
	line := make([]byte, 76)
	for len(data) > 0 {
		n := min(57, len(data))
		base64.StdEncoding.Encode(line, data[:n])
		w.Write(line[:base64.StdEncoding.EncodedLen(n)])
		w.WriteString("\r\n")
		data = data[n:]
	}
}

func iso2022jp(s string) ([]byte, error) {
	b, _, err := transform.Bytes(japanese.ISO2022JP.NewEncoder(), []byte(s))
	return b, err
}

func mustJIS(s string) []byte {
	b, err := iso2022jp(s)
	if err != nil {
		panic(err)
	}
	return b
}

var (
	products = []string{"ボールペン（黒）", "ボールペン（赤）", "A4コピー用紙 500枚", "クリアファイル 10枚組", "ホッチキス針 No.10",
		"付箋 75mm角", "ノート B5 30枚", "ファイルボックス", "電卓 12桁", "印鑑ケース", "封筒 長形3号 100枚", "ガムテープ 50mm",
		"トナーカートリッジ", "USBメモリ 32GB", "LANケーブル 3m", "マウス（無線）"}
	warehouses = []string{"東京第一倉庫", "東京第二倉庫", "大阪倉庫", "名古屋倉庫", "福岡倉庫"}
	staff      = []string{"営業一課", "営業二課", "営業三課", "業務課", "購買課"}
	notes      = []string{"", "", "", "", "", "", "至急", "分納可", "代引", "請求書別送", "検品済", "入荷待ち", "返品あり", "見積 No.Q-2024-%04d 参照"}
	// Sparse personal information: below the default thresholds.
	rareNotes = []string{"仕入先担当 03-5555-0123 に確認済", "配送業者 06-6666-0456 へ再配達依頼",
		"配送先 大阪府大阪市北区梅田1-2-3 へ変更", "配送先 神奈川県横浜市中区山下町10-5 へ直送"}
)

// genCSV returns about size bytes of an orders CSV encoded in CP932.
func genCSV(size int, roster bool) ([]byte, error) {
	r := rand.New(rand.NewPCG(2024, 4))
	var sb strings.Builder
	sb.Grow(size + size/2)
	head := "受注番号,受注日,商品コード,JANコード,商品名,数量,単価,金額,倉庫,担当,備考"
	if roster {
		head += ",顧客個人番号"
	}
	sb.WriteString(head + "\r\n")
	// CP932 takes two bytes where UTF-8 takes three for most of the
	// Japanese text: generate UTF-8 until the encoded size is reached.
	for n := 0; ; n++ {
		if n%4096 == 0 && cp932Len(sb.String()) >= size {
			break
		}
		qty := 1 + r.IntN(200)
		price := 50 + r.IntN(20000)
		note := notes[r.IntN(len(notes))]
		if strings.Contains(note, "%") {
			note = fmt.Sprintf(note, r.IntN(10000))
		}
		if r.IntN(20000) == 0 {
			note = rareNotes[r.IntN(len(rareNotes))]
		}
		fmt.Fprintf(&sb, "ORD-2024%02d-%06d,2024/%02d/%02d,P%02d-%05d,%s,%s,%d,%d,%d,%s,%s,%s",
			1+n%12, n%1000000, 1+r.IntN(12), 1+r.IntN(28), r.IntN(100), r.IntN(100000), jan(r),
			products[r.IntN(len(products))], qty, price, qty*price, warehouses[r.IntN(len(warehouses))],
			staff[r.IntN(len(staff))], note)
		if roster {
			mn := ""
			if r.IntN(5000) == 0 {
				mn = myNumber(r)
			}
			sb.WriteString("," + mn)
		}
		sb.WriteString("\r\n")
	}
	b, _, err := transform.Bytes(japanese.ShiftJIS.NewEncoder(), []byte(sb.String()))
	return b, err
}

// cp932Len estimates the CP932 size of s: one byte per ASCII character,
// two for everything else.
func cp932Len(s string) int {
	n := 0
	for _, c := range s {
		if c < 0x80 {
			n++
		} else {
			n += 2
		}
	}
	return n
}

// jan returns a 13-digit JAN (EAN-13) code with a Japanese prefix (45, 49)
// and a valid check digit.
func jan(r *rand.Rand) string {
	var b [13]byte
	b[0], b[1] = '4', "59"[r.IntN(2)]
	for i := 2; i < 12; i++ {
		b[i] = byte('0' + r.IntN(10))
	}
	sum := 0
	for i := range 12 {
		d := int(b[i] - '0')
		if i%2 == 1 {
			d *= 3
		}
		sum += d
	}
	b[12] = byte('0' + (10-sum%10)%10)
	return string(b[:])
}

// myNumber returns a random valid My Number (check digit per the 省令).
func myNumber(r *rand.Rand) string {
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

var (
	levels  = []string{"INFO", "INFO", "INFO", "INFO", "INFO", "DEBUG", "DEBUG", "WARN", "ERROR"}
	methods = []string{"GET", "GET", "GET", "POST", "PUT", "DELETE"}
	paths   = []string{"/api/v1/orders", "/api/v1/orders/%d", "/api/v1/inventory/P%02d-%05d", "/api/v1/customers/%d/orders",
		"/login", "/static/app.%x.js", "/healthz", "/api/v1/reports/monthly?month=2024-%02d"}
	messages = []string{"request completed", "cache miss", "slow query detected", "retrying upstream call",
		"session refreshed", "rate limit applied", "在庫引当完了", "受注データを登録しました"}
)

// genLog returns about size bytes of an application log (UTF-8).
func genLog(size int) []byte {
	r := rand.New(rand.NewPCG(2024, 5))
	var buf bytes.Buffer
	buf.Grow(size + 4096)
	sec := 0
	for buf.Len() < size {
		sec += r.IntN(2)
		p := paths[r.IntN(len(paths))]
		switch strings.Count(p, "%") {
		case 1:
			p = fmt.Sprintf(p, r.IntN(100000))
		case 2:
			p = fmt.Sprintf(p, r.IntN(100), r.IntN(100000))
		}
		fmt.Fprintf(&buf, "2024-04-%02dT%02d:%02d:%02d.%03d+09:00 %-5s [req=%08x-%04x-%04x] client=10.%d.%d.%d %s %s status=%d dur=%dms user=u%05d msg=%q\n",
			1+sec/86400%30, sec/3600%24, sec/60%60, sec%60, r.IntN(1000), levels[r.IntN(len(levels))],
			r.Uint32(), r.IntN(1<<16), r.IntN(1<<16), r.IntN(256), r.IntN(256), r.IntN(256),
			methods[r.IntN(len(methods))], p, []int{200, 200, 200, 201, 204, 304, 400, 404, 500}[r.IntN(9)],
			r.IntN(2000), r.IntN(100000), messages[r.IntN(len(messages))])
	}
	return buf.Bytes()
}

// fixedTime is the members' modification time (the output must not
// depend on when it is made).
var fixedTime = time.Date(2024, 4, 1, 9, 0, 0, 0, time.FixedZone("JST", 9*3600))

// zipBoth returns a zip (deflate) of the CSV and the log.
func zipBoth(csv, lg []byte) ([]byte, error) {
	var z bytes.Buffer
	zw := zip.NewWriter(&z)
	for _, f := range []struct {
		name string
		data []byte
	}{{"受注一覧.csv", csv}, {"app.log", lg}} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: fixedTime})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return z.Bytes(), nil
}
