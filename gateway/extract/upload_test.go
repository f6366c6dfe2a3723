package extract

import (
	"io"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/text/encoding/japanese"
)

func mtUpload(t *testing.T, contentType, body string) *mtResult {
	t.Helper()
	res := &mtResult{}
	res.err = Upload(mtContext(&res.files), contentType, strings.NewReader(body), Limits{}, mtVisitor(&res.parts))
	if res.err != nil {
		t.Fatalf("upload: %v", res.err)
	}
	return res
}

func TestUploadURLEncoded(t *testing.T) {
	v := url.Values{}
	v.Set("name", "山田 太郎")
	v.Set("mynumber", "1234-5678-9018")
	v.Set("memo", "a&b=c+d%\n2行目")
	res := mtUpload(t, "application/x-www-form-urlencoded", v.Encode())
	if len(res.parts) != 1 {
		t.Fatalf("parts: %s", res.paths())
	}
	p := res.parts[0]
	want := "memo=a&b=c+d%\n2行目\nmynumber=1234-5678-9018\nname=山田 太郎"
	if p.Path != "form" || p.Role != RoleBody || p.text != want {
		t.Errorf("form %+v\n got %q\nwant %q", p.Part, p.text, want)
	}

	// A Shift_JIS form (an old Japanese site), percent-encoded, read
	// through a one-byte reader so that escapes straddle reads.
	sj := url.QueryEscape(mtEncode(t, japanese.ShiftJIS, "住所=東京都千代田区"))
	var parts []mtPart
	err := Upload(mtContext(new([]mtFile)), "application/x-www-form-urlencoded; charset=Shift_JIS",
		iotest.OneByteReader(strings.NewReader("addr="+sj+"&x=1")), Limits{}, mtVisitor(&parts))
	if err != nil || len(parts) != 1 || parts[0].text != "addr=住所=東京都千代田区\nx=1" {
		t.Errorf("sjis form: %v %+v", err, parts)
	}
}

func TestUploadMultipartFormData(t *testing.T) {
	body := crlf("--XyZ\n" +
		"Content-Disposition: form-data; name=\"title\"\n\n" +
		"個人番号の件\n" +
		"--XyZ\n" +
		"Content-Disposition: form-data; name=\"file\"; filename=\"名簿.csv\"\n" +
		"Content-Type: text/csv\n\n" +
		"氏名,番号\n山田,123456789018\n" +
		"--XyZ\n" +
		"Content-Disposition: form-data; name=\"empty\"; filename=\"\"\n" +
		"Content-Type: application/octet-stream\n\n" +
		"\n" +
		"--XyZ\n" +
		"Content-Disposition: form-data; name=\"comment\"\n\n" +
		"電話 03-1234-5678\n" +
		"--XyZ\n" +
		"Content-Disposition: form-data; name=\"doc\"; filename=\"C:\\\\tmp\\\\a.pdf\"\n" +
		"Content-Type: application/pdf\n\n" +
		"%PDF-1.4\n" +
		"--XyZ--\n")
	res := mtUpload(t, `multipart/form-data; boundary="XyZ"`, body)
	if len(res.files) != 2 {
		t.Fatalf("files: %+v", res.files)
	}
	f := res.file(t, "upload[1]/名簿.csv")
	if f.fi.name != "名簿.csv" || f.fi.attachment != 1 || f.fi.role != RoleAttachment || f.fi.declared != "text/csv" ||
		string(f.data) != "氏名,番号\r\n山田,123456789018" {
		t.Errorf("csv %+v %q", f.fi, f.data)
	}
	if f := res.file(t, "upload[2]/a.pdf"); f.fi.attachment != 2 || string(f.data) != "%PDF-1.4" {
		t.Errorf("pdf %+v %q", f.fi, f.data)
	}
	form := res.part(t, "form")
	if form.text != "title=個人番号の件\ncomment=電話 03-1234-5678\n" || form.Role != RoleBody {
		t.Errorf("form %+v %q", form.Part, form.text)
	}
}

func TestUploadMultipartLargeField(t *testing.T) {
	big := strings.Repeat("あ", maxFormBytes/3+10)
	body := "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nsmall\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"big\"\r\n\r\n" + big + "\r\n--b--\r\n"
	res := mtUpload(t, "multipart/form-data; boundary=b", body)
	if p := res.part(t, "form"); p.text != "a=small\n" {
		t.Errorf("form %q", p.text)
	}
	if p := res.part(t, "form[2]"); p.text != "big="+big {
		t.Errorf("big field: %d bytes", len(p.text))
	}
}

func TestUploadJSON(t *testing.T) {
	body := `{"user":{"name":"\u5c71\u7530","tags":["a","b"],"mynumber":123456789018,"ok":true,"n":null},` +
		`"list":[{"tel":"03-1234-5678"}],"esc":"line\nbreak \"q\""}`
	res := mtUpload(t, "application/json; charset=utf-8", body)
	p := res.part(t, "json")
	want := "name: 山田\ntags: a\ntags: b\nmynumber: 123456789018\ntel: 03-1234-5678\nesc: line\nbreak \"q\"\n"
	if p.text != want || p.readErr != nil {
		t.Errorf("json\n got %q (%v)\nwant %q", p.text, p.readErr, want)
	}
	// Malformed JSON: the rest is scanned raw and the part fails.
	res = mtUpload(t, "application/json", `{"a":"x", oops "\u5c71" 123456789018`)
	p = res.part(t, "json")
	if !strings.Contains(p.text, "a: x") || !strings.Contains(p.text, "123456789018") || p.readErr == nil {
		t.Errorf("malformed json %q %v", p.text, p.readErr)
	}
	// Declared JSON that is not JSON at all is scanned as text.
	res = mtUpload(t, "application/json", "mynumber=123456789018")
	if p := res.part(t, "json"); p.text != "mynumber=123456789018" || p.readErr != nil {
		t.Errorf("not json %q", p.text)
	}
}

func TestUploadRaw(t *testing.T) {
	res := mtUpload(t, "text/plain; charset=Shift_JIS", mtEncode(t, japanese.ShiftJIS, "電話 03-1234-5678"))
	if p := res.part(t, "body"); p.text != "電話 03-1234-5678" || p.Role != RoleBody {
		t.Errorf("text %+v %q", p.Part, p.text)
	}
	res = mtUpload(t, "text/html", "<table><tr><td>a</td><td>b</td></tr></table>")
	if p := res.part(t, "body"); p.text != "a\tb\n" {
		t.Errorf("html %q", p.text)
	}
	// A zip posted as text/plain, and an octet-stream: files.
	for _, ct := range []string{"text/plain", "application/octet-stream", ""} {
		res = mtUpload(t, ct, "PK\x03\x04rest of a zip")
		if f := res.file(t, "upload[1]"); f.fi.attachment != 1 || string(f.data) != "PK\x03\x04rest of a zip" {
			t.Errorf("%q: %+v", ct, f.fi)
		}
		if len(res.parts) != 0 {
			t.Errorf("%q: parts %s", ct, res.paths())
		}
	}
	// Binary without a magic number posted as text/plain: a file, whole
	// (the text sniffing must not eat its head).
	bin := strings.Repeat("\x00\x01\x02\x03binary\x7f", 10000)
	res = mtUpload(t, "text/plain", bin)
	if f := res.file(t, "upload[1]"); string(f.data) != bin {
		t.Errorf("binary text/plain: file of %d bytes, want %d", len(f.data), len(bin))
	}
	if res := mtUpload(t, "text/plain", ""); len(res.parts)+len(res.files) != 0 {
		t.Errorf("empty body reported")
	}
}

func TestFormReaderSplitEscapes(t *testing.T) {
	in := "a=%E5%B1%B1%E7%94%B0+%ZZ%4&b=%"
	for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in)),
		iotest.HalfReader(strings.NewReader(in))} {
		b, err := io.ReadAll(&formReader{src: r})
		if err != nil || string(b) != "a=山田 %ZZ%4\nb=%" {
			t.Errorf("got %q %v", b, err)
		}
	}
}
