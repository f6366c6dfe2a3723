package extract

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
)

// mtPart is a part as the test visitor saw it.
type mtPart struct {
	Part
	text    string
	hasText bool
	readErr error
}

// mtFile is an attachment as it reached the file walk.
type mtFile struct {
	fi   fileInfo
	data []byte
	err  error
}

// mtResult is what a walk produced.
type mtResult struct {
	hdr   *Header
	parts []mtPart
	files []mtFile
	err   error
}

func (r *mtResult) part(t *testing.T, path string) mtPart {
	t.Helper()
	for _, p := range r.parts {
		if p.Path == path {
			return p
		}
	}
	t.Fatalf("no part %q; parts: %s", path, r.paths())
	return mtPart{}
}

func (r *mtResult) file(t *testing.T, path string) mtFile {
	t.Helper()
	for _, f := range r.files {
		if f.fi.path == path {
			return f
		}
	}
	var got []string
	for _, f := range r.files {
		got = append(got, f.fi.path)
	}
	t.Fatalf("no attachment %q reached the file walk; got %q", path, got)
	return mtFile{}
}

func (r *mtResult) paths() string {
	var s []string
	for _, p := range r.parts {
		s = append(s, fmt.Sprintf("%s(%s,att=%d,%q)", p.Path, p.Role, p.Attachment, p.Uninspectable))
	}
	return strings.Join(s, " ")
}

// mtContext returns a context whose file hook records attachments instead
// of walking them (the file walk is tested on its own).
func mtContext(files *[]mtFile) context.Context {
	hook := func(r io.Reader, fi fileInfo) error {
		data, err := io.ReadAll(r)
		*files = append(*files, mtFile{fi: fi, data: data, err: err})
		return err
	}
	return context.WithValue(context.Background(), fileHookKey{}, hook)
}

func mtVisitor(parts *[]mtPart) Visitor {
	return func(p *Part, text io.Reader) error {
		mp := mtPart{Part: *p}
		if text != nil {
			b, err := io.ReadAll(text)
			mp.text, mp.hasText, mp.readErr = string(b), true, err
		}
		*parts = append(*parts, mp)
		return nil
	}
}

func mtMessage(t *testing.T, msg string, lim Limits) *mtResult {
	t.Helper()
	res := &mtResult{}
	res.hdr, res.err = Message(mtContext(&res.files), strings.NewReader(msg), lim, mtVisitor(&res.parts))
	return res
}

// mtEncode encodes s with enc (an x/text Japanese encoder).
func mtEncode(t testing.TB, enc encoding.Encoding, s string) string {
	t.Helper()
	b, err := enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return string(b)
}

// crlf turns LF line ends into CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

const jpBody = "山田様\nマイナンバー：123456789018\n住所：東京都千代田区千代田1-1\n電話 03-1234-5678\n"

func TestMessageSubjectFirstAndHeader(t *testing.T) {
	msg := crlf("From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <Taro@Example.CO.JP>\n" +
		"To: a@EXAMPLE.jp, \"B\" <b@Example.Org>\n" +
		"Cc: c@example.lg.jp\n" +
		"Bcc: d@example.jp\n" +
		"Subject: =?ISO-2022-JP?B?GyRCOEQ/TUhWOWYbKEI=?=\n" +
		" =?ISO-2022-JP?B?GyRCPTs9ahsoQg==?=\n" +
		"Date: Tue, 02 Sep 2025 10:00:00 +0900\n" +
		"Message-ID: <abc@example.co.jp>\n\nhello\n")
	res := mtMessage(t, msg, Limits{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.parts) != 2 || res.parts[0].Path != "subject" {
		t.Fatalf("parts: %s", res.paths())
	}
	if got := res.parts[0].text; got != "個人番号住所" {
		t.Errorf("subject text %q", got)
	}
	if res.parts[0].Role != RoleBody || res.parts[0].Attachment != 0 {
		t.Errorf("subject role %v att %d", res.parts[0].Role, res.parts[0].Attachment)
	}
	h := res.hdr
	if h.Subject != "個人番号住所" || h.From != "Taro@example.co.jp" || h.MessageID != "abc@example.co.jp" {
		t.Errorf("header %+v", h)
	}
	if strings.Join(h.To, ",") != "a@example.jp,b@example.org" || strings.Join(h.Cc, ",") != "c@example.lg.jp" ||
		strings.Join(h.Bcc, ",") != "d@example.jp" {
		t.Errorf("addresses %q %q %q", h.To, h.Cc, h.Bcc)
	}
	if h.Date != "2025-09-02T10:00:00+09:00" {
		t.Errorf("date %q", h.Date)
	}
	b := res.part(t, "body[1]")
	if b.text != "hello\r\n" || b.Role != RoleBody || b.Type != "text/plain" {
		t.Errorf("body %+v %q", b.Part, b.text)
	}
}

func TestMessageSubjectSplitMidCharacter(t *testing.T) {
	// One ISO-2022-JP string split in the middle of a two-byte character
	// across two encoded-words (bad, but mailers do it).
	raw := mtEncode(t, japanese.ISO2022JP, "個人番号")
	w1 := base64.StdEncoding.EncodeToString([]byte(raw[:6]))
	w2 := base64.StdEncoding.EncodeToString([]byte(raw[6:]))
	msg := "Subject: =?iso-2022-jp?B?" + w1 + "?=\r\n =?ISO-2022-JP?b?" + w2 + "?=\r\n\r\nx\r\n"
	res := mtMessage(t, msg, Limits{})
	if got := res.part(t, "subject").text; got != "個人番号" {
		t.Errorf("subject %q", got)
	}
}

func TestMessageOutlookISO2022JPWithoutLabel(t *testing.T) {
	msg := crlf("From: a@example.jp\nSubject: test\nMIME-Version: 1.0\nContent-Type: text/plain\n" +
		"Content-Transfer-Encoding: 7bit\n\n" + mtEncode(t, japanese.ISO2022JP, jpBody))
	res := mtMessage(t, msg, Limits{})
	if got := res.part(t, "body[1]").text; got != crlf(jpBody) {
		t.Errorf("body %q", got)
	}
}

func TestMessageShiftJISLabelledLatin1(t *testing.T) {
	for _, cte := range []string{"8bit", "base64", "quoted-printable"} {
		t.Run(cte, func(t *testing.T) {
			body := mtEncode(t, japanese.ShiftJIS, strings.ReplaceAll(jpBody, "\n", "\r\n"))
			switch cte {
			case "base64":
				body = base64.StdEncoding.EncodeToString([]byte(body)) + "\r\n"
			case "quoted-printable":
				var b strings.Builder
				for i := 0; i < len(body); i++ {
					if body[i] >= 0x80 || body[i] == '=' {
						fmt.Fprintf(&b, "=%02X", body[i])
					} else {
						b.WriteByte(body[i])
					}
				}
				body = b.String()
			}
			msg := "Subject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\n" +
				"Content-Transfer-Encoding: " + cte + "\r\n\r\n" + body
			res := mtMessage(t, msg, Limits{})
			if got := res.part(t, "body[1]").text; got != crlf(jpBody) {
				t.Errorf("body %q", got)
			}
		})
	}
}

func TestMessageISO2022KRLabelHoldingJP(t *testing.T) {
	msg := "Subject: x\r\nContent-Type: text/plain; charset=iso-2022-kr\r\n\r\n" +
		mtEncode(t, japanese.ISO2022JP, crlf(jpBody))
	res := mtMessage(t, msg, Limits{})
	b := res.part(t, "body[1]")
	if b.text != crlf(jpBody) || b.Uninspectable != "" {
		t.Errorf("body %q (%q)", b.text, b.Uninspectable)
	}
}

func TestMessageCharsetLabels(t *testing.T) {
	for _, tc := range []struct {
		label string
		enc   encoding.Encoding
	}{
		{"shift_jis", japanese.ShiftJIS}, {"x-sjis", japanese.ShiftJIS}, {"Windows-31J", japanese.ShiftJIS},
		{"CP932", japanese.ShiftJIS}, {"MS932", japanese.ShiftJIS}, {"euc-jp", japanese.EUCJP},
		{"EUC-JP", japanese.EUCJP}, {"iso-2022-jp", japanese.ISO2022JP}, {"utf-8", nil},
		{"x-unknown", japanese.EUCJP}, {"", japanese.ShiftJIS}, {"shift_jis", japanese.EUCJP},
		{"utf-8", japanese.ShiftJIS}, {"iso-2022-jp", japanese.ShiftJIS},
	} {
		body := crlf(jpBody)
		if tc.enc != nil {
			body = mtEncode(t, tc.enc, body)
		}
		ct := "text/plain"
		if tc.label != "" {
			ct += "; charset=\"" + tc.label + "\""
		}
		res := mtMessage(t, "Content-Type: "+ct+"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"+body, Limits{})
		if got := res.part(t, "body[1]").text; got != crlf(jpBody) {
			t.Errorf("label %q enc %v: body %q", tc.label, tc.enc, got)
		}
	}
}

func TestMessageRFC2231Filenames(t *testing.T) {
	sjisName := mtEncode(t, japanese.ShiftJIS, "個人番号.xlsx")
	jisName := mtEncode(t, japanese.ISO2022JP, "名簿")
	pct := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			fmt.Fprintf(&b, "%%%02X", s[i])
		}
		return b.String()
	}
	cases := []struct{ disp, want string }{
		{"attachment; filename*=ISO-2022-JP''" + pct(jisName) + ".csv", "名簿.csv"},
		{"attachment;\r\n filename*0*=ISO-2022-JP''" + pct(jisName[:5]) + ";\r\n filename*1*=" +
			pct(jisName[5:]) + ";\r\n filename*2=\".csv\"", "名簿.csv"},
		{"attachment; filename*=Shift_JIS''" + pct(sjisName), "個人番号.xlsx"},
		{"attachment; filename*0*=UTF-8''%E5%80%8B%E4%BA%BA; filename*1*=%E7%95%AA%E5%8F%B7.csv", "個人番号.csv"},
		{"attachment; filename=\"=?ISO-2022-JP?B?GyRCOEQ/TUhWOWYbKEIueGxzeA==?=\"", "個人番号.xlsx"},
		{"attachment; filename=\"" + sjisName + "\"", "個人番号.xlsx"},
		{"attachment; filename=\"C:\\\\Users\\\\taro\\\\list.csv\"", "list.csv"},
	}
	var b strings.Builder
	b.WriteString("Subject: files\r\nContent-Type: multipart/mixed; boundary=BB\r\n\r\n")
	for _, c := range cases {
		b.WriteString("--BB\r\nContent-Type: application/octet-stream\r\nContent-Disposition: " + c.disp +
			"\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n")
	}
	b.WriteString("--BB--\r\n")
	res := mtMessage(t, b.String(), Limits{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.files) != len(cases) {
		t.Fatalf("%d files reached the file walk, want %d", len(res.files), len(cases))
	}
	for i, c := range cases {
		f := res.files[i]
		want := fmt.Sprintf("attachment[%d]/%s", i+1, c.want)
		if f.fi.name != c.want || f.fi.path != want || f.fi.attachment != i+1 || f.fi.role != RoleAttachment {
			t.Errorf("case %d: name %q path %q att %d, want %q", i, f.fi.name, f.fi.path, f.fi.attachment, c.want)
		}
		if string(f.data) != "hello" || f.fi.declared != "application/octet-stream" {
			t.Errorf("case %d: data %q declared %q", i, f.data, f.fi.declared)
		}
	}
}

func TestMessageHTMLTable(t *testing.T) {
	html := "<html><head><title>名簿</title><style>p{x:1}</style></head><body>" +
		"<p>以下の通り&amp;よろしく</p><script>var n='999999999999';</script>" +
		"<table><tr><th>氏名</th><th>個人番号</th></tr>\n" +
		"<tr><td>山田&nbsp;太郎</td><td> 1234 5678 9018 </td></tr>" +
		"<tr><td><p>鈴木</p><p>一郎</p></td><td>&#x31;23456789018</td></tr></table>末尾<br>改行</body></html>"
	msg := "Content-Type: text/html; charset=utf-8\r\n\r\n" + html
	res := mtMessage(t, msg, Limits{})
	b := res.part(t, "body[1]")
	want := "名簿\n以下の通り&よろしく\n氏名\t個人番号\n山田 太郎\t1234 5678 9018\n鈴木 一郎\t123456789018\n末尾\n改行\n"
	if b.text != want || b.Type != "text/html" {
		t.Errorf("html text\n got %q\nwant %q", b.text, want)
	}
}

func TestMessageAlternativeAndLFOnly(t *testing.T) {
	msg := "From: a@example.jp\nSubject: alt\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/alternative; boundary=\"=_alt\"\n\n" +
		"preamble\n--=_alt\nContent-Type: text/plain; charset=ISO-2022-JP\n\n" +
		mtEncode(t, japanese.ISO2022JP, "本文です\n") +
		"--=_alt\nContent-Type: text/html; charset=Shift_JIS\nContent-Transfer-Encoding: base64\n\n" +
		base64.StdEncoding.EncodeToString([]byte(mtEncode(t, japanese.ShiftJIS, "<p>本文です</p>"))) + "\n" +
		"--=_alt--\nepilogue\n"
	res := mtMessage(t, msg, Limits{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if got := res.part(t, "body[1]").text; got != "本文です" {
		t.Errorf("plain %q", got)
	}
	if got := res.part(t, "body[2]").text; got != "本文です\n" {
		t.Errorf("html %q", got)
	}
	for _, p := range res.parts {
		if p.Uninspectable != "" || p.Role != RoleBody || p.Attachment != 0 {
			t.Errorf("part %s: %+v", p.Path, p.Part)
		}
	}
	if len(res.parts) != 3 {
		t.Errorf("parts: %s", res.paths())
	}
}

func TestMessageForwardedWithAttachment(t *testing.T) {
	inner := "From: x@example.jp\r\nSubject: =?UTF-8?B?6Lui6YCB5YWD?=\r\nContent-Type: multipart/mixed; boundary=in\r\n\r\n" +
		"--in\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n転送本文 123456789018\r\n" +
		"--in\r\nContent-Type: text/csv; charset=utf-8\r\nContent-Disposition: attachment; filename=\"名簿.csv\"\r\n\r\n氏名,番号\r\n" +
		"--in--\r\n"
	msg := "Subject: Fw\r\nContent-Type: multipart/mixed; boundary=out\r\n\r\n" +
		"--out\r\nContent-Type: text/plain\r\n\r\nsee below\r\n" +
		"--out\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n" +
		"--out\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n" + inner +
		"--out\r\nContent-Type: text/plain\r\n\r\nafter\r\n" +
		"--out--\r\n"
	res := mtMessage(t, msg, Limits{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if f := res.file(t, "attachment[1]/a.pdf"); f.fi.attachment != 1 || string(f.data) != "%PDF-" {
		t.Errorf("pdf %+v %q", f.fi, f.data)
	}
	c := res.part(t, "attachment[2]/forwarded.eml")
	if !c.Container || c.Type != "message/rfc822" || c.Attachment != 2 || c.Role != RoleAttachment {
		t.Errorf("container %+v", c.Part)
	}
	s := res.part(t, "attachment[2]/forwarded.eml/subject")
	if s.text != "転送元" || s.Attachment != 2 || s.Role != RoleAttachment {
		t.Errorf("inner subject %+v %q", s.Part, s.text)
	}
	ib := res.part(t, "attachment[2]/forwarded.eml/body[1]")
	if ib.text != "転送本文 123456789018" || ib.Attachment != 2 || ib.Role != RoleAttachment {
		t.Errorf("inner body %+v %q", ib.Part, ib.text)
	}
	f := res.file(t, "attachment[2]/forwarded.eml/attachment[1]/名簿.csv")
	if f.fi.attachment != 2 || f.fi.name != "名簿.csv" || string(f.data) != "氏名,番号" || f.fi.declared != "text/csv" {
		t.Errorf("inner attachment %+v %q", f.fi, f.data)
	}
	if a := res.part(t, "body[2]"); a.text != "after" || a.Attachment != 0 {
		t.Errorf("body after the forwarded message %+v %q", a.Part, a.text)
	}
	if f.fi.depth <= c.Depth {
		t.Errorf("inner attachment depth %d not below the forwarded message's %d", f.fi.depth, c.Depth)
	}
}

func TestMessageUnknownTransferEncoding(t *testing.T) {
	msg := "Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-foo\r\n\r\n番号 123456789018\r\n" +
		"--b\r\nContent-Type: application/octet-stream; name=a.bin\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 a\r\n" +
		"--b--\r\n"
	res := mtMessage(t, msg, Limits{})
	b := res.part(t, "body[1]")
	if b.Uninspectable != "unknown transfer encoding x-foo" || !strings.Contains(b.text, "123456789018") {
		t.Errorf("text part %+v %q", b.Part, b.text)
	}
	a := res.part(t, "attachment[1]/a.bin")
	if a.Uninspectable != "unknown transfer encoding x-uuencode" || a.Attachment != 1 {
		t.Errorf("attachment %+v", a.Part)
	}
	if len(res.files) != 0 {
		t.Errorf("an undecodable attachment reached the file walk")
	}
}

func TestMessageBrokenBase64(t *testing.T) {
	good := base64.StdEncoding.EncodeToString([]byte("番号 123456789018 "))
	msg := "Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + good + "\r\n!!!!\r\n" +
		"--b\r\nContent-Type: application/zip; name=a.zip\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsD*BAo=\r\n" +
		"--b--\r\n"
	res := mtMessage(t, msg, Limits{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	b := res.part(t, "body[1]")
	if b.Uninspectable != "broken base64" || b.text != "番号 123456789018 " {
		t.Errorf("text part %+v %q", b.Part, b.text)
	}
	a := res.part(t, "attachment[1]/a.zip")
	if a.Uninspectable != "broken base64" || a.Attachment != 1 {
		t.Errorf("attachment %+v", a.Part)
	}
	var te *transferError
	if f := res.file(t, "attachment[1]/a.zip"); !errors.As(f.err, &te) {
		t.Errorf("file walk read error %v", f.err)
	}
}

func TestMessageDepthLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("Subject: deep\r\n")
	const n = 12
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nsecret 123456789018\r\n")
	for i := n - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	res := mtMessage(t, b.String(), Limits{MaxDepth: 8})
	if res.err != nil {
		t.Fatal(res.err)
	}
	found := false
	for _, p := range res.parts {
		if strings.Contains(p.text, "secret") {
			t.Errorf("text below the depth limit was reported: %s", p.Path)
		}
		if p.Uninspectable == "depth limit" {
			found = true
			if p.Depth != 9 || p.Attachment != 0 {
				t.Errorf("depth-limit part %+v", p.Part)
			}
		}
	}
	if !found {
		t.Errorf("no depth-limit part: %s", res.paths())
	}
}

func TestMessageNoMIMEHeaders(t *testing.T) {
	msg := "From: a@example.jp\nTo: b@example.jp\nSubject: plain\n\n" + mtEncode(t, japanese.ShiftJIS, jpBody)
	res := mtMessage(t, msg, Limits{})
	b := res.part(t, "body[1]")
	if b.text != jpBody || b.Uninspectable != "" || b.Type != "text/plain" || b.Depth != 0 {
		t.Errorf("body %+v %q", b.Part, b.text)
	}
	// A body without any header at all.
	res = mtMessage(t, "\n"+jpBody, Limits{})
	if got := res.part(t, "body[1]").text; got != jpBody {
		t.Errorf("headerless body %q", got)
	}
}

func TestMessageMalformed(t *testing.T) {
	t.Run("header", func(t *testing.T) {
		res := mtMessage(t, "this is not a header\n番号 123456789018\n", Limits{})
		if res.err != nil {
			t.Fatal(res.err)
		}
		b := res.part(t, "body[1]")
		if b.Uninspectable != reasonMalformedHeader || !strings.Contains(b.text, "this is not a header\n番号 123456789018") {
			t.Errorf("body %+v %q", b.Part, b.text)
		}
	})
	t.Run("wrong boundary", func(t *testing.T) {
		res := mtMessage(t, "Subject: x\r\nContent-Type: multipart/mixed; boundary=aaa\r\n\r\n--bbb\r\nhidden\r\n--bbb--\r\n", Limits{})
		p := res.part(t, "mime")
		if p.Uninspectable != reasonMalformedMulti || !p.Container {
			t.Errorf("container %+v", p.Part)
		}
	})
	t.Run("no boundary", func(t *testing.T) {
		res := mtMessage(t, "Content-Type: multipart/mixed\r\n\r\nhidden\r\n", Limits{})
		if p := res.part(t, "mime"); p.Uninspectable != reasonNoBoundary {
			t.Errorf("container %+v", p.Part)
		}
	})
	t.Run("missing close", func(t *testing.T) {
		res := mtMessage(t, "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\ntext 1\r\n", Limits{})
		b := res.part(t, "body[1]")
		if b.text != "text 1" || b.readErr == nil {
			t.Errorf("truncated part %q, read error %v", b.text, b.readErr)
		}
	})
	t.Run("mbox from line", func(t *testing.T) {
		res := mtMessage(t, "From someone@example.jp Tue Sep  2 10:00:00 2025\nSubject: s\n\nbody\n", Limits{})
		if b := res.part(t, "body[1]"); b.text != "body\n" || b.Uninspectable != "" {
			t.Errorf("body %+v %q", b.Part, b.text)
		}
	})
	t.Run("binary body", func(t *testing.T) {
		res := mtMessage(t, "Content-Type: text/plain\r\n\r\n\x00\x01\x02\x03\x04\x05\x00\x00\x07\x08", Limits{})
		if b := res.part(t, "body[1]"); b.Uninspectable != reasonUndecodable || b.hasText {
			t.Errorf("body %+v", b.Part)
		}
	})
	t.Run("partial", func(t *testing.T) {
		res := mtMessage(t, "Content-Type: message/partial; id=x; number=1\r\n\r\nFrom: a\r\n", Limits{})
		if b := res.part(t, "attachment[1]"); b.Uninspectable != reasonPartial {
			t.Errorf("partial %+v", b.Part)
		}
	})
}

type mtErrReader struct{ n int }

func (r *mtErrReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errors.New("connection reset")
	}
	s := "Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nabc"
	n := copy(p, s)
	r.n = 0
	return n, nil
}

func TestMessageReadErrorIsAnError(t *testing.T) {
	var parts []mtPart
	_, err := Message(context.Background(), &mtErrReader{n: 1}, Limits{}, mtVisitor(&parts))
	if err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("err %v", err)
	}
}

func TestMessagePartLimitAndCancel(t *testing.T) {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for i := 0; i < 50; i++ {
		b.WriteString("--b\r\n\r\nx\r\n")
	}
	b.WriteString("--b--\r\n")
	res := mtMessage(t, b.String(), Limits{MaxParts: 10})
	if !errors.Is(res.err, ErrLimit) {
		t.Errorf("part limit: err %v", res.err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Message(ctx, strings.NewReader(b.String()), Limits{}, func(*Part, io.Reader) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: err %v", err)
	}
}

func TestMessageVisitorErrorStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	_, err := Message(context.Background(), strings.NewReader("Subject: a\r\n\r\nbody\r\n"), Limits{},
		func(*Part, io.Reader) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err %v after %d parts", err, n)
	}
}

// TestMessageFixtures walks the mails written by Python's email package
// (testdata/extract/mime/make.sh).
func TestMessageFixtures(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "extract", "mime", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	t.Run("iso2022jp-rfc2231", func(t *testing.T) {
		res := mtMessage(t, read("iso2022jp-rfc2231.eml"), Limits{})
		if res.err != nil {
			t.Fatal(res.err)
		}
		if res.hdr.Subject != "個人番号の件" || res.hdr.From != "taro@example.co.jp" ||
			strings.Join(res.hdr.To, ",") != "hanako@example.jp,yamada@example.org" {
			t.Errorf("header %+v", res.hdr)
		}
		if got := res.part(t, "body[1]").text; got != crlf("山田様\nマイナンバー：123456789018\n住所：東京都千代田区千代田1-1\n") {
			t.Errorf("body %q", got)
		}
		f := res.file(t, "attachment[1]/名簿.csv")
		if want := mtEncode(t, japanese.ShiftJIS, "氏名,個人番号\n山田太郎,123456789018\n"); string(f.data) != want {
			t.Errorf("csv bytes %q", f.data)
		}
	})
	t.Run("sjis-base64", func(t *testing.T) {
		res := mtMessage(t, read("sjis-base64.eml"), Limits{})
		if res.hdr.Subject != "電話番号のお知らせ" {
			t.Errorf("subject %q", res.hdr.Subject)
		}
		if got := res.part(t, "body[1]").text; got != "電話番号：03-1234-5678\nよろしくお願いします。\n" {
			t.Errorf("body %q", got)
		}
	})
	t.Run("alternative-html-table", func(t *testing.T) {
		res := mtMessage(t, read("alternative-html-table.eml"), Limits{})
		if got := res.part(t, "body[1]").text; got != "氏名 個人番号\r\n" {
			t.Errorf("plain %q", got)
		}
		h := res.part(t, "body[2]").text
		if want := "名簿です&ご確認ください\n氏名\t個人番号\t電話\n山田 太郎\t123456789018\t03-1234-5678\n"; h != want {
			t.Errorf("html\n got %q\nwant %q", h, want)
		}
	})
	t.Run("forwarded", func(t *testing.T) {
		res := mtMessage(t, read("forwarded.eml"), Limits{})
		if res.err != nil {
			t.Fatal(res.err)
		}
		if got := res.part(t, "attachment[1]/forwarded.eml/subject").text; got != "転送元の件名" {
			t.Errorf("inner subject %q", got)
		}
		if got := res.part(t, "attachment[1]/forwarded.eml/body[1]").text; got != "転送された本文 マイナンバー 123456789018\r\n" {
			t.Errorf("inner body %q", got)
		}
		if f := res.file(t, "attachment[1]/forwarded.eml/attachment[1]/list.csv"); f.fi.attachment != 1 ||
			string(f.data) != "氏名,電話\n鈴木一郎,090-1234-5678\n" {
			t.Errorf("inner csv %+v %q", f.fi, f.data)
		}
		if f := res.file(t, "attachment[2]/資料.pdf"); f.fi.attachment != 2 || !bytes.HasPrefix(f.data, []byte("%PDF-1.4")) {
			t.Errorf("pdf %+v", f.fi)
		}
	})
}

func TestBase64Reader(t *testing.T) {
	plain := strings.Repeat("番号 123456789018 住所\n", 5000)
	enc := base64.StdEncoding.EncodeToString([]byte(plain))
	var wrapped strings.Builder
	for i := 0; i < len(enc); i += 76 {
		wrapped.WriteString(enc[i:min(i+76, len(enc))] + "\r\n")
	}
	for _, tc := range []struct {
		name, in, want string
		broken         bool
	}{
		{"wrapped", wrapped.String(), plain, false},
		{"spaces", "aGVs bG8g\td29y\fbGQ=", "hello world", false},
		{"no padding", "aGVsbG8", "hello", false},
		{"concatenated padded chunks", "aGk=\r\naGk=\r\naA==", "hihih", false},
		{"extra padding", "aGk===\r\n", "hi", false},
		{"empty", "", "", false},
		{"garbage", "aGVsbG8g!!!!", "hello ", true},
		// Long runs take the eight-byte path; white space and control
		// bytes anywhere in them still count.
		{"spaces in long runs", "aGVsbG8gd29ybGQgaGVsbG8g d29ybGQgaGVs\tbG8gd29y bGQ=", "hello world hello world hello world", false},
		{"high byte in a long run", "aGVsbG8gd29ybGQgaGVs\xe3bG8gd29ybGQgaGVsbG8gd29ybGQ=", "hello world hel", true},
		{"one stray char", "aGVsbG8gd", "hello ", true},
		{"padding first", "=aGk", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in))} {
				b, err := io.ReadAll(newBase64Reader(r))
				var te *transferError
				if tc.broken != errors.As(err, &te) || !tc.broken && err != nil {
					t.Errorf("err %v", err)
				}
				if string(b) != tc.want {
					t.Errorf("got %d bytes %q, want %d", len(b), b[:min(len(b), 40)], len(tc.want))
				}
			}
		})
	}
}

func TestBase64ReaderControlByte(t *testing.T) {
	// A control byte after whole eight-byte runs of base64 breaks the
	// decoding (in one chunk: nothing of the chunk is decoded).
	in := "aGVsbG8gd29ybGQgaGVsbG8gd29y\x01bG8gd29ybGQgaGVsbG8gd29ybGQ="
	b, err := io.ReadAll(newBase64Reader(strings.NewReader(in)))
	var te *transferError
	if !errors.As(err, &te) || len(b) != 0 {
		t.Errorf("got %q, err %v", b, err)
	}
}

func TestQPReader(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"=E5=80=8B=E4=BA=BA", "個人"},
		{"soft=\r\nbreak=  \nend", "softbreakend"},
		{"lower =e5=80=8b", "lower 個"},
		{"bad =ZZ and =4", "bad =ZZ and =4"},
		{"ctrl \x1b$B ok", "ctrl \x1b$B ok"},
		{"trailing =", "trailing "},
		{"a=\r", "a=\r"},
		{"=3D=3d", "=="},
		{strings.Repeat("x", 100) + "=" + strings.Repeat(" ", 100) + "y", strings.Repeat("x", 100) + "=" + strings.Repeat(" ", 100) + "y"},
	} {
		for _, r := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in)),
			iotest.HalfReader(strings.NewReader(tc.in))} {
			b, err := io.ReadAll(&qpReader{src: r})
			if err != nil || string(b) != tc.want {
				t.Errorf("%q: got %q (%v), want %q", tc.in, b, err, tc.want)
			}
		}
	}
}

// TestMessageLargeStreams walks a message whose text part is much larger
// than every buffer, with a one-byte reader under it.
func TestMessageLargeStreams(t *testing.T) {
	text := strings.Repeat("氏名：山田太郎 電話：03-1234-5678\n", 20000)
	sj := mtEncode(t, japanese.ShiftJIS, text)
	msg := "Content-Type: text/plain; charset=shift_jis\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString([]byte(sj))
	var parts []mtPart
	_, err := Message(context.Background(), iotest.HalfReader(strings.NewReader(msg)), Limits{}, mtVisitor(&parts))
	if err != nil || len(parts) != 2 || parts[1].text != text {
		t.Fatalf("err %v, %d parts", err, len(parts))
	}
	// The expanded-bytes budget applies to text.
	var p2 []mtPart
	_, err = Message(context.Background(), strings.NewReader(msg), Limits{MaxExpandedBytes: 1 << 16}, mtVisitor(&p2))
	if err != nil || len(p2) != 2 || !errors.Is(p2[1].readErr, ErrLimit) {
		t.Errorf("budget: err %v, read error %v", err, p2[len(p2)-1].readErr)
	}
}

func TestMessageFormatFlowed(t *testing.T) {
	body := "マイナンバーは1234 \r\n5678 \r\n9018です。\r\n> quoted \r\n>  stuffed\r\n-- \r\nsig\r\n"
	msg := "Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\r\n\r\n" + body
	if got := mtMessage(t, msg, Limits{}).part(t, "body[1]").text; got != "マイナンバーは123456789018です。\r\n> quoted>  stuffed\r\n-- \r\nsig\r\n" {
		t.Errorf("delsp=yes %q", got)
	}
	msg = "Content-Type: text/plain; format=flowed\r\n\r\n" + " stuffed 1234 \r\n5678\r\n"
	if got := mtMessage(t, msg, Limits{}).part(t, "body[1]").text; got != "stuffed 1234 5678\r\n" {
		t.Errorf("delsp=no %q", got)
	}
}

// TestMessageWithFileWalk runs a fixture through the real file walk: the
// attachments of a forwarded message come back as parts of its place.
func TestMessageWithFileWalk(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "extract", "mime", "forwarded.eml"))
	if err != nil {
		t.Fatal(err)
	}
	var parts []mtPart
	_, err = Message(context.Background(), bytes.NewReader(b), Limits{}, mtVisitor(&parts))
	if err != nil {
		t.Fatal(err)
	}
	res := &mtResult{parts: parts}
	csv := res.part(t, "attachment[1]/forwarded.eml/attachment[1]/list.csv")
	if csv.Attachment != 1 || csv.Role != RoleAttachment || !strings.Contains(csv.text, "090-1234-5678") {
		t.Errorf("csv %+v %q", csv.Part, csv.text)
	}
	if pdf := res.part(t, "attachment[2]/資料.pdf"); pdf.Attachment != 2 || pdf.Name != "資料.pdf" {
		t.Errorf("pdf %+v", pdf.Part)
	}
}

// The line fast path of the base64 reader gives exactly what the stripping
// path gives — the same bytes, then the same kind of end — on mailer-style
// input and on every kind of irregularity, read in pieces of every size.
func TestBase64LinesMatchStripping(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 10))
	for trial := range 400 {
		raw := randomBytes(rnd, rnd.IntN(60<<10))
		enc := []byte(base64.StdEncoding.EncodeToString(raw))
		width := []int{76, 76, 64, 72, 57}[trial%5]
		var in []byte
		for i := 0; i < len(enc); i += width {
			in = append(in, enc[i:min(i+width, len(enc))]...)
			if trial%3 == 0 {
				in = append(in, '\n')
			} else {
				in = append(in, '\r', '\n')
			}
		}
		// Irregularities, one per trial beyond the first ones.
		if len(in) > 10 && trial > 20 {
			at := rnd.IntN(len(in))
			switch trial % 8 {
			case 0:
				in = slices.Insert(in, at, ' ')
			case 1:
				in = slices.Insert(in, at, '!')
			case 2:
				in = slices.Insert(in, at, '=', '=')
			case 3:
				in = slices.Insert(in, at, '\t')
			case 4:
				in = slices.Delete(in, at, at+1)
			case 5:
				in = slices.Insert(in, at, 0x01)
			case 6: // a CR that ends no line
				in = slices.Insert(in, at, '\r')
			case 7: // an empty line, or a line cut short
				in = slices.Insert(in, at, '\r', '\n')
			}
		}
		chunk := 1 + rnd.IntN(70<<10)
		read := func(lines bool) ([]byte, bool) {
			d := newBase64Reader(&sizedReader{r: bytes.NewReader(in), n: chunk})
			d.lines = lines
			b, err := io.ReadAll(d)
			var te *transferError
			if err != nil && !errors.As(err, &te) {
				t.Fatalf("trial %d: unexpected error %v", trial, err)
			}
			return b, err != nil
		}
		want, wantBroken := read(false)
		got, gotBroken := read(true)
		if !bytes.Equal(got, want) || gotBroken != wantBroken {
			t.Fatalf("trial %d (%d bytes in, reads of %d): fast path %d bytes broken=%v, stripping %d bytes broken=%v",
				trial, len(in), chunk, len(got), gotBroken, len(want), wantBroken)
		}
	}
}

// randomBytes returns n bytes from rnd.
func randomBytes(rnd *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rnd.Uint32())
	}
	return b
}

// sizedReader returns at most n bytes a read.
type sizedReader struct {
	r io.Reader
	n int
}

func (s *sizedReader) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), s.n)]) }

// TestBase64ReadSizes: a reader that asks for a whole chunk or more gets
// it decoded straight into its buffer; the bytes and the broken verdict
// are the same as with small reads, which are copied from the decoder's
// own buffer.
func TestBase64ReadSizes(t *testing.T) {
	rnd := rand.New(rand.NewPCG(11, 12))
	for trial := range 200 {
		raw := randomBytes(rnd, rnd.IntN(200<<10))
		var in []byte
		enc := base64.StdEncoding.EncodeToString(raw)
		for i := 0; i < len(enc); i += 76 {
			in = append(in, enc[i:min(i+76, len(enc))]...)
			in = append(in, '\r', '\n')
		}
		if trial%2 == 1 && len(in) > 0 {
			in = slices.Insert(in, rnd.IntN(len(in)), "! =\t"[rnd.IntN(4)])
		}
		read := func(size int) ([]byte, bool) {
			d := newBase64Reader(&sizedReader{r: bytes.NewReader(in), n: 1 + rnd.IntN(70<<10)})
			var out []byte
			buf := make([]byte, size)
			for {
				n, err := d.Read(buf)
				out = append(out, buf[:n]...)
				if err == io.EOF {
					return out, false
				}
				if err != nil {
					return out, true
				}
			}
		}
		small, smallBroken := read(512)
		if trial%2 == 0 && (smallBroken || !bytes.Equal(small, raw)) {
			t.Fatalf("trial %d: clean input decoded wrong with small reads (broken=%v)", trial, smallBroken)
		}
		for _, size := range []int{len(newBase64Reader(nil).obuf), 64 << 10, 100 << 10} {
			got, broken := read(size)
			if !bytes.Equal(got, small) || broken != smallBroken {
				t.Fatalf("trial %d, reads of %d: %d bytes broken=%v, small reads %d bytes broken=%v",
					trial, size, len(got), broken, len(small), smallBroken)
			}
		}
	}
}

// A base64 decoder's buffers go back to the pool when its part is done; a
// read after that fails instead of reading buffers another part now uses.
func TestBase64ReleasedReaderFails(t *testing.T) {
	d := newBase64Reader(strings.NewReader("aGVsbG8gd29ybGQ=\r\n"))
	b := make([]byte, 4)
	if n, err := d.Read(b); n == 0 || err != nil {
		t.Fatalf("first read: %d %v", n, err)
	}
	releaseDecoder(d)
	releaseDecoder(d) // twice is harmless
	if n, err := d.Read(b); n != 0 || !errors.Is(err, errDecoderReleased) {
		t.Fatalf("read after release: %d %v", n, err)
	}
}

// parseDate gives what mail.ParseDate gives, the usual form or not.
func TestParseDateMatchesNetMail(t *testing.T) {
	for _, d := range []string{
		"Mon, 01 Jan 2024 12:00:00 +0000", "Tue, 26 Nov 2026 09:05:07 +0900", "Wed, 1 Jan 2025 00:00:00 -0500",
		"01 Jan 2024 12:00:00 +0000", "Mon, 01 Jan 2024 12:00 +0000", "Mon, 01 Jan 2024 12:00:00 GMT",
		"Mon, 01 Jan 2024 12:00:00 +0000 (UTC)", "Mon, 01 Jan 24 12:00:00 +0000", "yesterday", "",
		"Fri, 31 Feb 2024 12:00:00 +0000", "Mon, 01 Jan 2024 25:00:00 +0000",
	} {
		want, werr := mail.ParseDate(d)
		got, gerr := parseDate(d)
		if (werr == nil) != (gerr == nil) || !got.Equal(want) || got.Format(time.RFC3339) != want.Format(time.RFC3339) {
			t.Errorf("%q: parseDate %v %v, mail.ParseDate %v %v", d, got, gerr, want, werr)
		}
	}
}

// TestBase64LinesFastPathTaken: mailer-style base64 read in pieces that
// end anywhere in a line, the last of them with the end of input (as a
// multipart part's reader hands over the rest of a part when it finds
// the boundary), is decoded by the line path alone (no padding here: a
// piece with padding takes the stripping path); the stripping path, byte
// by byte, is several times slower.
func TestBase64LinesFastPathTaken(t *testing.T) {
	rnd := rand.New(rand.NewPCG(11, 12))
	raw := randomBytes(rnd, 3*(130<<10)) // a multiple of 3: no padding
	enc := base64.StdEncoding.EncodeToString(raw)
	var in []byte
	for i := 0; i < len(enc); i += 76 {
		in = append(in, enc[i:min(i+76, len(enc))]...)
		in = append(in, '\r', '\n')
	}
	for _, chunk := range []int{4093, 10001, 48 << 10, 65537, len(in)} {
		d := newBase64Reader(iotest.DataErrReader(&sizedReader{r: bytes.NewReader(in), n: chunk}))
		got, err := io.ReadAll(d)
		stripped := d.stripped
		d.release()
		if err != nil || !bytes.Equal(got, raw) {
			t.Fatalf("chunk %d: %d bytes, %v", chunk, len(got), err)
		}
		if stripped > 0 {
			t.Errorf("chunk %d: %d bytes took the stripping path, want none", chunk, stripped)
		}
	}
}
