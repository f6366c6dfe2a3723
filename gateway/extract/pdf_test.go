package extract

import (
	"strings"
	"testing"
)

func TestPDFText(t *testing.T) {
	for _, name := range []string{"letter.pdf", "pdf-rc4-owneronly.pdf", "pdf-aes128-owneronly.pdf",
		"pdf-aes256-owneronly.pdf", "pdf-aes256r5-owneronly.pdf", "pdf-aes256-objstm-owneronly.pdf"} {
		d := mustPart(t, walkFixture(t, name), name)
		if d.Type != "pdf" || d.Encrypted {
			t.Errorf("%s: part %+v", name, d.Part)
		}
		// LibreOffice draws "12345678" and the bold "9018" as two text
		// objects on one line: they must join.
		for _, want := range []string{"マイナンバー：123456789018をご確認ください。\n", "氏名\t個人番号\n", "123456789018\n以上"} {
			if !strings.Contains(d.text, want) {
				t.Errorf("%s: text lacks %q: %q", name, want, d.text)
			}
		}
	}
}

func TestPDFJapaneseCMaps(t *testing.T) {
	// Predefined UniJIS-UCS2-H without ToUnicode, and a subset TrueType
	// font with ToUnicode: the same text.
	for _, name := range []string{"pdf-ja-cid-predefined-cmap.pdf", "pdf-ja-embedded-subset.pdf"} {
		d := mustPart(t, walkFixture(t, name), name)
		if !strings.Contains(d.text, "個人番号：１２３４ ５６７８ ９０１８\n東京都千代田区霞が関１丁目２－３") {
			t.Errorf("%s: text %q", name, d.text)
		}
	}
}

func TestPDFEncrypted(t *testing.T) {
	parts := walkFixture(t, "pdf-aes128-userpw.pdf")
	if len(parts) != 1 || !parts[0].Encrypted || parts[0].Encryption != "pdf-user-password" || parts[0].text != "" {
		t.Fatalf("user-password PDF:\n%s", dump(parts))
	}
	parts = walkFixture(t, "pdf-aes256-userpw.pdf")
	if len(parts) != 1 || !parts[0].Encrypted || parts[0].Encryption != "pdf-user-password" || parts[0].text != "" {
		t.Fatalf("AES-256 user-password PDF:\n%s", dump(parts))
	}
}

func TestPDFHeaderVariants(t *testing.T) {
	data := fixture(t, "letter.pdf")
	v2 := append([]byte(nil), data...)
	copy(v2, "%PDF-2.0")
	junk := append(append([]byte(nil), data...), "\n%% trailing junk\n"...)
	for name, b := range map[string][]byte{"v2.pdf": v2, "junk.pdf": junk} {
		parts, err := walkFileBytes(t, name, b, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		p := find(parts, name)
		if p == nil || p.Type != "pdf" || !strings.Contains(p.text, "123456789018") {
			t.Errorf("%s:\n%s %q", name, dump(parts), p.text)
		}
	}
}

func TestPredefinedCMaps(t *testing.T) {
	for _, c := range []struct {
		cmap, code, want string
	}{
		{"UniJIS-UCS2-H", "\x50\x0b", "個"},
		{"UniJIS-UTF16-H", "\xd8\x40\xdc\x0b", "𠀋"},
		{"90ms-RKSJ-H", "\x8c\xc2", "個"},
		{"90ms-RKSJ-H", "A", "A"},
		{"EUC-H", "\xb8\xc4", "個"},
		{"H", "\x38\x44", "個"},
		{"Identity-H", "\x12\x34", ""},
	} {
		p := predefined(c.cmap)
		code := c.code[:p.codeLen(c.code)]
		if got := p.decode(code); got != c.want || (c.want != "" && code != c.code) {
			t.Errorf("%s %x: %q (code %x), want %q", c.cmap, c.code, got, code, c.want)
		}
	}
}
