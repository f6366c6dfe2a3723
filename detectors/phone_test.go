package detectors

import "testing"

func TestPhonePlan(t *testing.T) {
	for _, c := range []struct {
		s  string
		ok bool
	}{
		{"0312345678", true}, {"0661234567", true}, {"0422123456", true}, {"0126723456", true},
		{"09012345678", true}, {"08012345678", true}, {"07012345678", true}, {"06012345678", true},
		{"05012345678", true}, {"02012345678", true}, {"0120123456", true}, {"08001234567", true},
		{"0570123456", true}, {"0990123456", true}, {"031234567", false}, {"0901234567", false},
		{"0012345678", false}, {"09001234567", false}, {"05001234567", false}, {"0800123456", false},
		{"1312345678", false}, {"031234567890", false}, {"04012345678", false}, {"0312345a78", false},
	} {
		if got := PhoneValid([]byte(c.s)); got != c.ok {
			t.Errorf("%s: valid=%v, want %v", c.s, got, c.ok)
		}
	}
}

func TestPhone(t *testing.T) {
	const tokyo = "0312345678"
	one := func(k string) []string { return []string{k} }
	runVectors(t, PhoneDetector{}, []vec{
		// jp-dlp-domain.md §2.4, verified vectors.
		{"03-1234-5678", one(tokyo), Medium},
		{"03(1234)5678", one(tokyo), Medium},
		{"(03)1234-5678", one(tokyo), Medium},
		{"（03）1234-5678", one(tokyo), Medium},
		{"０３（１２３４）５６７８", one(tokyo), Medium},
		{"（０３）１２３４－５６７８", one(tokyo), Medium},
		{"06-6123-4567", one("0661234567"), Medium},
		{"045-123-4567", one("0451234567"), Medium},
		{"0422-12-3456", one("0422123456"), Medium},
		{"01267-2-3456", one("0126723456"), Medium},
		{"03.1234.5678", one(tokyo), Medium},
		{"0312345678", one(tokyo), Low},
		{"03 1234 5678", one(tokyo), Medium},
		{"090-1234-5678", one("09012345678"), Medium},
		{"080-1234-5678", one("08012345678"), Medium},
		{"070-1234-5678", one("07012345678"), Medium},
		{"060-1234-5678", one("06012345678"), Medium},
		{"050-1234-5678", one("05012345678"), Medium},
		{"0120-123-456", one("0120123456"), Medium},
		{"0120-12-3456", one("0120123456"), Medium},
		{"0800-123-4567", one("08001234567"), Medium},
		{"0570-123-456", one("0570123456"), Medium},
		{"0990-123-456", one("0990123456"), Medium},
		{"020-1234-5678", one("02012345678"), Medium},
		{"+81-3-1234-5678", one(tokyo), Medium},
		{"81-3-1234-5678", one(tokyo), Medium},
		{"+81 (0)3-1234-5678", one(tokyo), Medium},
		{"010-81-3-1234-5678", one(tokyo), Medium},
		{"＋８１－９０－１２３４－５６７８", one("09012345678"), Medium},
		{"+81(0)90-1234-5678", one("09012345678"), Medium},
		{"+81 90 1234 5678", one("09012345678"), Medium},
		{"(+81)3-1234-5678", one(tokyo), Medium},
		{"+81312345678", one(tokyo), Medium},
		{"03ー1234ー5678", one(tokyo), Medium},
		{"０３－１２３４－５６７８", one(tokyo), Medium},
		{"03−1234−5678", one(tokyo), Medium},
		// Labels.
		{"TEL 03-1234-5678", one(tokyo), High},
		{"Tel:03-1234-5678", one(tokyo), High},
		{"TEL03-1234-5678", one(tokyo), High},
		{"電話：03-1234-5678", one(tokyo), High},
		{"電話番号は0312345678です", one(tokyo), High},
		{"☎ 03-1234-5678", one(tokyo), High},
		{"携帯 090-1234-5678", one("09012345678"), High},
		{"FAX 03-1234-5679", one("0312345679"), High},
		{"TEL 03-1234-5678 FAX 03-1234-5679", []string{tokyo, "0312345679"}, High},
		{"連絡先（090-1234-5678）", one("09012345678"), High},
		// Not phones.
		{"03-1234-567", nil, 0},
		{"090-1234-567", nil, 0},
		{"2024-11-25", nil, 0},
		{"2024/01/15", nil, 0},
		{"123-4567", nil, 0},
		{"〒100-0001", nil, 0},
		{"〒060-0001", nil, 0},
		{"1234-5678-9018", nil, 0},
		{"0227-6833-3797", nil, 0},
		{"00-1234-5678", nil, 0},
		{"03-1234-5678-9012", nil, 0},
		{"4111-1111-1111-1111", nil, 0},
		{"7010705000725", nil, 0},
		{"192.168.0.1", nil, 0},
		{"010.123.045.067", nil, 0},
		{"v0.12.3456", nil, 0},
		{"ver03.1234.5678", nil, 0},
		{"ABC0312345678", nil, 0},
		{"031234567890", nil, 0},
		{"注文番号：0312345678", nil, 0},
		{"伝票番号 090-1234-5678", nil, 0},
		{"会員番号0312345678", nil, 0},
		{"Order No. 0312345678", nil, 0},
		{"個人番号 0312345678", nil, 0},
		{"09:00-18:00", nil, 0},
		{"03-12-34", nil, 0},
		{"+1 212 555 0100", nil, 0},
		{"03-1234-5678 と 03(1234)5678 と +81-3-1234-5678", []string{tokyo, tokyo, tokyo}, Medium},
	})
}

func TestPhoneMask(t *testing.T) {
	for in, want := range map[string]string{
		"090-1234-5678":   "***-****-5678",
		"03(1234)5678":    "**-****-5678",
		"0312345678":      "******5678",
		"+81-3-1234-5678": "**-****-5678",
		"0120-123-456":    "****-**3-456",
	} {
		ms := scanAll(PhoneDetector{}, in)
		if len(ms) != 1 || ms[0].Masked != want {
			t.Errorf("%s: %v, want masked %s", in, ms, want)
		}
	}
}
