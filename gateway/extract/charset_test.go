package extract

import (
	"bytes"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
)

func mtDecode(t *testing.T, r io.Reader, label string) (string, string) {
	t.Helper()
	tr, reason := textReader(r, label)
	if reason != "" {
		return "", reason
	}
	b, err := io.ReadAll(tr)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b), ""
}

func TestTextReader(t *testing.T) {
	const jp = "氏名：山田太郎　個人番号：１２３４５６７８９０１８　住所：大阪市北区①㈱ ｶﾀｶﾅ\n"
	utf16le, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String("番号 123")
	utf16noBOM, _ := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewEncoder().String("phone 03-1234-5678")
	latin1, _ := charmap.ISO8859_1.NewEncoder().String("Grüße aus München, café à la crème. Ärger über Öl.")
	for _, tc := range []struct {
		name, in, label, want string
	}{
		{"utf8", jp, "", jp},
		{"utf8 labelled sjis", jp, "shift_jis", jp},
		{"utf8 bom", "\xEF\xBB\xBF" + jp, "iso-2022-jp", jp},
		{"sjis no label", mtEncode(t, japanese.ShiftJIS, jp), "", jp},
		{"sjis cp932", mtEncode(t, japanese.ShiftJIS, jp), "cp932", jp},
		{"sjis latin1 label", mtEncode(t, japanese.ShiftJIS, jp), "ISO-8859-1", jp},
		{"sjis windows-1252 label", mtEncode(t, japanese.ShiftJIS, jp), "windows-1252", jp},
		{"sjis us-ascii label", mtEncode(t, japanese.ShiftJIS, jp), "us-ascii", jp},
		{"sjis utf-8 label", mtEncode(t, japanese.ShiftJIS, jp), "utf-8", jp},
		{"sjis euc-jp label", mtEncode(t, japanese.ShiftJIS, jp), "euc-jp", jp},
		{"sjis refused label", mtEncode(t, japanese.ShiftJIS, jp), "iso-2022-kr", jp},
		{"eucjp no label", mtEncode(t, japanese.EUCJP, jp), "", jp},
		{"eucjp sjis label", mtEncode(t, japanese.EUCJP, jp), "shift_jis", jp},
		{"eucjp latin1 label", mtEncode(t, japanese.EUCJP, jp), "iso-8859-1", jp},
		{"jis no label", mtEncode(t, japanese.ISO2022JP, "番号 123\n住所"), "", "番号 123\n住所"},
		{"jis utf-16 label", mtEncode(t, japanese.ISO2022JP, "番号 123"), "utf-16", "番号 123"},
		{"jis replacement label", mtEncode(t, japanese.ISO2022JP, "番号 123"), "replacement", "番号 123"},
		{"ascii utf-16 label", "plain ascii text 123456789018", "utf-16", "plain ascii text 123456789018"},
		{"utf16 bom", utf16le, "", "番号 123"},
		{"utf16 no bom", utf16noBOM, "utf-16le", "phone 03-1234-5678"},
		{"utf16 no bom no label", utf16noBOM, "", "phone 03-1234-5678"},
		{"latin1 labelled", latin1, "iso-8859-1", "Grüße aus München, café à la crème. Ärger über Öl."},
		{"latin1 unlabelled", latin1, "", "Grüße aus München, café à la crème. Ärger über Öl."},
		{"koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4", "koi8-r", "Привет"},
		{"gb2312", "\xc4\xe3\xba\xc3", "gb2312", "你好"},
		{"empty", "", "shift_jis", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := mtDecode(t, strings.NewReader(tc.in), tc.label)
			if reason != "" || got != tc.want {
				t.Errorf("got %q (reason %q), want %q", got, reason, tc.want)
			}
			// The same, one byte at a time: decoding streams.
			got, _ = mtDecode(t, iotest.OneByteReader(strings.NewReader(tc.in)), tc.label)
			if got != tc.want {
				t.Errorf("one byte at a time: got %q", got)
			}
		})
	}
}

func TestTextReaderBinary(t *testing.T) {
	bin := []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00")
	for i := 0; i < 4000; i++ {
		bin = append(bin, byte(i*7), byte(i>>3), 0, 1)
	}
	if _, reason := textReader(bytes.NewReader(bin), "utf-8"); reason != reasonUndecodable {
		t.Errorf("binary: reason %q", reason)
	}
}

// Japanese text that starts after more than the sniff window of ASCII is
// still decoded by its own encoding.
func TestTextReaderLateJapanese(t *testing.T) {
	ascii := strings.Repeat("The quick brown fox 0123456789.\n", 3000) // 96 000 bytes
	jp := "後半：マイナンバー１２３４　住所：東京都\n"
	for _, enc := range []struct {
		name string
		in   string
	}{
		{"sjis", mtEncode(t, japanese.ShiftJIS, jp)},
		{"euc", mtEncode(t, japanese.EUCJP, jp)},
		{"jis", mtEncode(t, japanese.ISO2022JP, jp)},
	} {
		got, reason := mtDecode(t, strings.NewReader(ascii+enc.in), "")
		if reason != "" || got != ascii+jp {
			t.Errorf("%s: reason %q, tail %q", enc.name, reason, got[max(0, len(got)-80):])
		}
	}
}

func TestTextReaderKeepsReadError(t *testing.T) {
	r := io.MultiReader(strings.NewReader(mtEncode(t, japanese.ShiftJIS, "番号")), iotest.ErrReader(io.ErrUnexpectedEOF))
	tr, _ := textReader(r, "")
	b, err := io.ReadAll(tr)
	if err != io.ErrUnexpectedEOF || string(b) != "番号" {
		t.Errorf("got %q, %v", b, err)
	}
}

func TestLookupCharset(t *testing.T) {
	for label, want := range map[string]csKind{
		"CP932": csJapanese, "ms932": csJapanese, "Windows-31J": csJapanese, "x-sjis": csJapanese,
		"\"Shift_JIS\"": csJapanese, "iso-2022-jp-ms": csJapanese, "EUC-JP": csJapanese,
		"UTF-8": csUTF8, "us-ascii": csASCII, "iso-8859-1": csSingleByte, "windows-1252": csSingleByte,
		"iso-2022-kr": csUnknown, "x-unknown": csUnknown, "nonsense": csUnknown, "": csUnknown,
		"utf-16": csUTF16, "big5": csMultiByte, "euc-kr": csMultiByte,
	} {
		if got := lookupCharset(label).kind; got != want {
			t.Errorf("%q: kind %d, want %d", label, got, want)
		}
	}
}

// controlCountsByTable is controlCounts without the eight-byte skip: the
// reference the fast path must agree with.
func controlCountsByTable(head []byte) (nul, ctrl int) {
	for _, c := range head {
		k := binaryClass[c]
		ctrl += int(k & 1)
		nul += int(k >> 1)
	}
	return nul, ctrl
}

func TestControlCountsMatchTable(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	alphabets := [][]byte{
		[]byte("abc xyz\n\t\r0123"),
		{0x00, 0x01, 0x1F, 0x20, 0x7E, 0x7F, 0x80, 0xFF, '\n', 'a'},
		[]byte("テキスト\x1b$B\x0e\x0f\x7f"),
	}
	for trial := range 3000 {
		ab := alphabets[trial%len(alphabets)]
		b := make([]byte, rnd.IntN(300))
		for i := range b {
			if rnd.IntN(40) == 0 {
				b[i] = byte(rnd.IntN(256))
			} else {
				b[i] = ab[rnd.IntN(len(ab))]
			}
		}
		gn, gc := controlCounts(b)
		wn, wc := controlCountsByTable(b)
		if gn != wn || gc != wc {
			t.Fatalf("controlCounts(%q) = %d NUL, %d control; table says %d, %d", b, gn, gc, wn, wc)
		}
	}
}

func TestASCIIPrefixAndUTF16PatternMatchBytewise(t *testing.T) {
	ref := func(b []byte) int {
		i := 0
		for i < len(b) && b[i] < 0x80 && b[i] != 0x1B {
			i++
		}
		return i
	}
	refUTF16 := func(head []byte) (even, odd int) {
		for i := 0; i+1 < len(head); i += 2 {
			if head[i] == 0 {
				even++
			}
			if head[i+1] == 0 {
				odd++
			}
		}
		return
	}
	rnd := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte{'a', ' ', '\n', 0x00, 0x1A, 0x1B, 0x1C, 0x7F, 0x80, 0x9B, 0xFF}
	for trial := range 5000 {
		b := make([]byte, rnd.IntN(100))
		rare := 2 + trial%30
		for i := range b {
			if rnd.IntN(rare) == 0 {
				b[i] = alphabet[rnd.IntN(len(alphabet))]
			} else {
				b[i] = 'a' + byte(rnd.IntN(26))
			}
		}
		if got, want := asciiPrefix(b), ref(b); got != want {
			t.Fatalf("asciiPrefix(%q) = %d, want %d", b, got, want)
		}
		even, odd := refUTF16(b)
		if ge, go_ := zeroParity(b); ge != even || go_ != odd {
			t.Fatalf("zeroParity(%q) = %d, %d; want %d, %d", b, ge, go_, even, odd)
		}
		n := len(b) / 2
		wantLE := n >= 2 && odd*10 >= n*7 && even*10 < n
		wantBE := n >= 2 && even*10 >= n*7 && odd*10 < n
		if le, be := utf16Pattern(b); le != wantLE || be != wantBE {
			t.Fatalf("utf16Pattern(%q) = %v, %v; want %v, %v", b, le, be, wantLE, wantBE)
		}
	}
	// UTF-16 text itself, both byte orders.
	le := []byte("a\x00b\x00c\x00\n\x00d\x00e\x00f\x00g\x00h\x00i\x00")
	if l, b := utf16Pattern(le); !l || b {
		t.Errorf("UTF-16LE text: le %v be %v", l, b)
	}
	if l, b := utf16Pattern(append([]byte{0}, le[:len(le)-1]...)); l || !b {
		t.Errorf("UTF-16BE text: le %v be %v", l, b)
	}
}
