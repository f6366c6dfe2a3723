package detectors

import (
	"testing"
	"unicode/utf8"
)

func FuzzAddress(f *testing.F) {
	for _, s := range []string{
		"〒100-0013 東京都千代田区霞が関１丁目２番３号 テストビル401号室",
		"北海道虻田郡洞爺湖町洞爺湖温泉１２３番地",
		"札幌市中央区北一条西二丁目1",
		"京都市中京区寺町通御池上る上本能寺前町488番地",
		"東京都府中市府中町1-2-3 千代田区03-1234-5678",
		"横浜市中区山下町2番地の3、一丁目二番三号",
		"千代田区\xe4\xb8 1-2", // a cut rune
		"\xe7\x95\xaa\xe4\xb8\x81１",
		"東京都千代田区霞が関千二百三十四番地",
	} {
		f.Add([]byte(s))
	}
	d := newAddress()
	f.Fuzz(func(t *testing.T, text []byte) {
		last := 0
		d.Scan(text, &Context{}, func(m Match) {
			if m.Start < last || m.Start >= m.End || m.End > len(text) {
				t.Fatalf("bad offsets [%d,%d) after %d in %q", m.Start, m.End, last, text)
			}
			last = m.End
			if utf8.Valid(text) && (!utf8.Valid(text[:m.Start]) || !utf8.Valid(text[m.Start:m.End])) {
				t.Fatalf("match [%d,%d) cuts a rune in %q", m.Start, m.End, text)
			}
			if m.Key == "" || m.Detector != Address {
				t.Fatalf("empty key or wrong detector: %+v", m)
			}
			checkMasked(t, m)
		})
	})
}
