package extract

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

func TestDecodeHeaderText(t *testing.T) {
	sjis := mtEncode(t, japanese.ShiftJIS, "マイナンバー")
	for _, tc := range []struct{ in, want string }{
		{"plain ascii", "plain ascii"},
		{"=?ISO-2022-JP?B?GyRCOEQ/TUhWOWYbKEI=?=", "個人番号"},
		{"=?ISO-2022-JP?B?GyRCOEQ/TUhWOWYbKEI=?= =?ISO-2022-JP?B?GyRCPTs9ahsoQg==?=", "個人番号住所"},
		{"=?Shift_JIS?B?g32DQ4Npg5ODb4Fb?=", "マイナンバー"},
		{"=?cp932?B?g32DQ4Npg5ODb4Fb?=", "マイナンバー"},
		{"=?x-unknown?B?g32DQ4Npg5ODb4Fb?=", "マイナンバー"},
		{"=?utf-8?Q?=E5=80=8B=E4=BA=BA_no?=", "個人 no"},
		{"Re: =?UTF-8?B?5L2P5omA?= and more", "Re: 住所 and more"},
		{"=?UTF-8?B?5L2P5omA?= =?ISO-2022-JP?B?GyRCOEQ/TUhWOWYbKEI=?=", "住所個人番号"},
		{"=?UTF-8?B?5L2P5omA", "=?UTF-8?B?5L2P5omA"},
		{"=?UTF-8?X?abc?=", "=?UTF-8?X?abc?="},
		{"=?UTF-8?B?5L2P5omA?=", "住所"},
		{"=?UTF-8?B?5L2P5omA?=", "住所"},
		{"=?utf-8*ja?B?5L2P5omA?=", "住所"},
		{sjis, "マイナンバー"},
		{"\x1b$B%^%$%J%s%P!<\x1b(B", "マイナンバー"},
	} {
		if got := decodeHeaderText(tc.in); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseParamHeader(t *testing.T) {
	v, p, ok := parseParamHeader(`Multipart/Mixed; boundary="==_A;b=\"c\"";  charset=UTF-8 ; name*=UTF-8''a%20b.txt; junk; x=`)
	if !ok || v != "multipart/mixed" || p["boundary"] != `==_A;b="c"` || p["charset"] != "UTF-8" ||
		p["name"] != "a b.txt" || p["x"] != "" {
		t.Errorf("got %q %q %v", v, p, ok)
	}
	// RFC 2231 wins over the plain form sent alongside for old clients.
	_, p, _ = parseParamHeader(`attachment; filename="fallback.txt"; filename*=UTF-8''%E5%90%8D%E7%B0%BF.txt`)
	if p["filename"] != "名簿.txt" {
		t.Errorf("filename %q", p["filename"])
	}
	// Continuations out of order, mixed extended and plain sections.
	_, p, _ = parseParamHeader(`attachment; filename*1="b"; filename*0*=us-ascii'en'a%41; filename*2*=%43`)
	if p["filename"] != "aAbC" {
		t.Errorf("continuations %q", p["filename"])
	}
	// A gap in the sections stops the value there.
	_, p, _ = parseParamHeader(`attachment; filename*0=a; filename*2=c`)
	if p["filename"] != "a" {
		t.Errorf("gap %q", p["filename"])
	}
	// An unterminated quote takes the rest.
	_, p, _ = parseParamHeader(`attachment; filename="abc.txt`)
	if p["filename"] != "abc.txt" {
		t.Errorf("unterminated %q", p["filename"])
	}
	if _, _, ok := parseParamHeader(`"text/plain"`); ok {
		t.Errorf("a quoted type parsed as ok")
	}
	if _, _, ok := parseParamHeader(``); ok {
		t.Errorf("empty parsed as ok")
	}
}

func TestParseAddresses(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"a@Example.JP", []string{"a@example.jp"}},
		{`"Yamada, Taro" <Taro@Example.JP>, b@c.jp`, []string{"Taro@example.jp", "b@c.jp"}},
		{"=?x-bogus?B?g32DQ4Npg5ODb4Fb?= <a@b.jp>", []string{"a@b.jp"}},
		{"\x83\x7d\x83\x43 <a@b.jp>; c@D.jp", []string{"a@b.jp", "c@d.jp"}},
		{"undisclosed-recipients:;", nil},
		{"", nil},
	} {
		got := parseAddresses(tc.in)
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBaseName(t *testing.T) {
	for in, want := range map[string]string{
		`C:\Users\taro\名簿.xlsx`: "名簿.xlsx", "../../etc/passwd": "passwd", "a\x00b.txt": "ab.txt", "dir/": "dir",
		" plain.txt ": "plain.txt",
	} {
		if got := baseName(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
