package extract

import (
	"strings"
	"testing"
)

func TestDocx(t *testing.T) {
	parts := walkFixture(t, "letter.docx")
	if len(parts) != 1 {
		t.Fatalf("want the docx as one part:\n%s", dump(parts))
	}
	d := mustPart(t, parts, "letter.docx")
	if d.Type != "docx" || d.Container {
		t.Errorf("part = %+v", d.Part)
	}
	// "12345678" and a bold "9018" are separate runs: they must join.
	for _, want := range []string{"マイナンバー：123456789018をご確認ください。\n", "氏名\t個人番号\n", "山田太郎\t123456789018\n"} {
		if !strings.Contains(d.text, want) {
			t.Errorf("docx text lacks %q:\n%q", want, d.text)
		}
	}
}

func TestXlsx(t *testing.T) {
	d := mustPart(t, walkFixture(t, "meibo.xlsx"), "meibo.xlsx")
	if d.Type != "xlsx" {
		t.Errorf("type %q", d.Type)
	}
	lines := strings.Split(d.text, "\n")
	want := []string{
		"meibo",
		"氏名\t個人番号\t電話番号\t住所",
		"山田太郎\t123456789018\t03-1234-5678\t東京都千代田区千代田1-1",
		"鈴木花子\t987654321098\t090-1234-5678\t大阪府大阪市北区梅田1-2-3",
	}
	if len(lines) < len(want) {
		t.Fatalf("xlsx text %q", d.text)
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d = %q, want %q", i, lines[i], w)
		}
	}
}

func TestPptx(t *testing.T) {
	d := mustPart(t, walkFixture(t, "slides.pptx"), "slides.pptx")
	if !strings.Contains(d.text, "顧客リスト\n個人番号 1234 5678 9018\n電話 03-1234-5678") {
		t.Errorf("pptx text %q", d.text)
	}
}

func TestODF(t *testing.T) {
	d := mustPart(t, walkFixture(t, "letter.odt"), "letter.odt")
	if !strings.Contains(d.text, "マイナンバー：123456789018をご確認ください。\n") || !strings.Contains(d.text, "山田太郎\t123456789018\n") {
		t.Errorf("odt text %q", d.text)
	}
	s := mustPart(t, walkFixture(t, "meibo.ods"), "meibo.ods")
	if !strings.Contains(s.text, "山田太郎\t123456789018\t03-1234-5678") {
		t.Errorf("ods text %q", s.text)
	}
}

func TestLegacyOffice(t *testing.T) {
	d := mustPart(t, walkFixture(t, "letter.doc"), "letter.doc")
	if d.Type != "doc" || !strings.Contains(d.text, "マイナンバー：123456789018") || !strings.Contains(d.text, "山田太郎") {
		t.Errorf("doc = %+v text %q", d.Part, d.text)
	}
	x := mustPart(t, walkFixture(t, "meibo.xls"), "meibo.xls")
	// The numbers are NUMBER records, the names UTF-16 strings.
	for _, want := range []string{"個人番号", "山田太郎", "\n123456789018\n", "987654321098"} {
		if !strings.Contains(x.text, want) {
			t.Errorf("xls text lacks %q: %q", want, x.text)
		}
	}
}

func TestIntegralDigits(t *testing.T) {
	for in, want := range map[string]string{
		"123456789018":           "123456789018",
		"1.23456789018E+11":      "123456789018",
		"4.84238472595E+11":      "484238472595",
		"1.2345678901234567E+19": "12345678901234567000",
		"-42.0":                  "-42",
		"0":                      "0",
		"1E3":                    "1000",
		"0.000":                  "0",
		"12e-1":                  "",
		"3.14":                   "",
		"1E+400":                 "",
		"abc":                    "",
		"":                       "",
		"1.5E+0":                 "",
		"15E-1":                  "",
		"150E-1":                 "15",
	} {
		got, ok := integralDigits(in)
		if got != want || ok != (want != "") {
			t.Errorf("integralDigits(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// TestXlsxCells checks cell values against the SpreadsheetML forms that
// LibreOffice does not write: exponent numbers, zero-padded formats,
// inline strings and phonetic runs.
func TestXlsxCells(t *testing.T) {
	shared := []string{"氏名", "山田"}
	for _, c := range []struct {
		typ, v, inline string
		pad            int
		want           string
	}{
		{"s", "1", "", 0, "山田"},
		{"s", "9", "", 0, ""},
		{"", "1.23456789018E+11", "", 0, "123456789018"},
		{"n", "22768333797", "", 12, "022768333797"},
		{"", "22768333797", "", 0, "22768333797"},
		{"", "3.5", "", 12, "3.5"},
		{"inlineStr", "", "個人番号", 0, "個人番号"},
		{"b", "1", "", 0, "TRUE"},
		{"str", "abc", "", 0, "abc"},
	} {
		if got := cellValue(c.typ, c.v, c.inline, shared, c.pad); got != c.want {
			t.Errorf("cellValue(%q, %q, %q, %d) = %q, want %q", c.typ, c.v, c.inline, c.pad, got, c.want)
		}
	}
	if got := columnIndex("AB12", 0); got != 27 {
		t.Errorf("columnIndex(AB12) = %d", got)
	}
}

func TestSharedStringsSkipPhonetic(t *testing.T) {
	const sst = `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>山田太郎</t><rPh sb="0" eb="2"><t>ヤマダタロウ</t></rPh></si><si><r><t>鈴木</t></r><r><t>一郎</t></r></si><si><t>&#27663;&#21517;</t></si></sst>`
	const sheet = `<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>2</v></c><c r="C1" t="s"><v>0</v></c></row><row r="2"><c r="B2" t="s"><v>1</v></c><c r="C2"><f>1+1</f><v>2</v></c></row></sheetData></worksheet>`
	d := &officeDoc{w: newWalker(t.Context(), Limits{}, nil), files: zipFiles(t, map[string]string{"xl/sharedStrings.xml": sst, "xl/worksheets/sheet1.xml": sheet})}
	got := runSink(t, d.xlsx)
	if want := "氏名\t\t山田太郎\n\t鈴木一郎\t2\n"; got != want {
		t.Errorf("xlsx text %q, want %q", got, want)
	}
}
