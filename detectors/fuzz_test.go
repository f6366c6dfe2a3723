package detectors

import (
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	"個人番号：484238472595", "1234 5678 9018", "１２３４－５６７８－９０１８", "1.23456789018E+11",
	"TEL 03-1234-5678", "+81 (0)3-1234-5678", "（０３）１２３４－５６７８", "010-81-3-1234-5678",
	"4111 1111 1111 1111", "3782 822463 10005", "T7010705000725", "法人番号 7010705000725",
	"氏名,個人番号\n山田,123456789018\n", "注文番号：123456789018", "〒100-0001 2024-11-25",
	"(+81)", "+8", "1.E", "0(", "4111-", "9E+99", "\xef\xbc", "１\xef", "03-\xe3\x83",
	// header rows far from their values, and a row that ends the table
	"氏名,電話,備考\nitem-00001,widget 1,shelf 2\n山田,0312345678,なし\n", "氏名,個人番号\na,b,c\n山田,123456789018\n",
}

// fuzzDetector checks the invariants of d on arbitrary text: no panic,
// offsets in range and ordered, a masked form that does not show the key.
func fuzzDetector(f *testing.F, d Detector) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var ctx Context
		d.Scan([]byte(s), &ctx, func(m Match) { checkMatch(t, s, m) })
		e := NewEngine(d).NewScan("fuzz")
		half := len(s) / 2
		e.WriteString(s[:half])
		e.WriteString(s[half:])
		tl := e.Close()
		for _, v := range tl.Samples(d.ID(), -1) {
			if strings.Contains(v.Masked, v.key) {
				t.Fatalf("tally value shows its key")
			}
		}
	})
}

func FuzzMyNumber(f *testing.F)        { fuzzDetector(f, MyNumberDetector{}) }
func FuzzCorporateNumber(f *testing.F) { fuzzDetector(f, CorporateNumberDetector{}) }
func FuzzPhone(f *testing.F)           { fuzzDetector(f, PhoneDetector{}) }
func FuzzCreditCard(f *testing.F)      { fuzzDetector(f, CreditCardDetector{}) }

// FuzzEngineChunking checks that how text is written does not change what
// the built-in detectors find.
func FuzzEngineChunking(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, s string, chunk uint8) {
		if a, b := engineValues(s, 0), engineValues(s, int(chunk%16)+1); !equalValues(a, b) {
			t.Fatalf("chunking changed the result: %v vs %v", a, b)
		}
	})
}
