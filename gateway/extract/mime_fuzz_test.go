package extract

import (
	"context"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mtCheckParts checks what must hold for any input: every part has a
// path, body parts belong to the body and attachments to an attachment.
func mtCheckParts(t *testing.T, parts []mtPart) {
	for _, p := range parts {
		if p.Path == "" {
			t.Errorf("part without a path: %+v", p.Part)
		}
		if p.Role == RoleBody && p.Attachment != 0 || p.Role == RoleAttachment && p.Attachment <= 0 {
			t.Errorf("part %q: role %v with attachment %d", p.Path, p.Role, p.Attachment)
		}
	}
}

func FuzzMessage(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "extract", "mime", "*.eml"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"Subject: =?ISO-2022-JP?B?GyRCOEQ/TUhWOWYbKEI=?=\r\n\r\nbody",
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n--c\r\n\r\nx\r\n--c--\r\n--b--\r\n",
		"Content-Type: text/html; charset=shift_jis\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<table><tr><td>=83=7D</td></tr></table>",
		"Content-Type: text/plain; charset=iso-2022-kr\r\nContent-Transfer-Encoding: base64\r\n\r\nGyRCOEQ/TUhWOWYbKEI=",
		"Content-Type: application/octet-stream; name*0*=ISO-2022-JP''%1B%24B; name*1*=L%3EJm%1B%28B\r\n\r\nPK\x03\x04",
		"From x\nSubject: s\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var parts []mtPart
		var atts []mtFile
		_, err := Message(mtContext(&atts), strings.NewReader(string(data)), Limits{MaxDepth: 6, MaxParts: 200}, mtVisitor(&parts))
		if err != nil && strings.Contains(err.Error(), "panic") {
			t.Fatal(err)
		}
		mtCheckParts(t, parts)
		if len(parts) == 0 || parts[0].Path != "subject" && parts[0].Path != "body[1]" {
			t.Errorf("first part is not the subject: %s", (&mtResult{parts: parts}).paths())
		}
	})
}

func FuzzUpload(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", []byte("a=%E5%B1%B1&b=+%"))
	f.Add("multipart/form-data; boundary=b", []byte("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.csv\"\r\n\r\nx\r\n--b--\r\n"))
	f.Add("application/json", []byte(`{"a":["\u5c71",1,{"b":null}]}`))
	f.Add("text/html", []byte("<table><tr><td>1<td>2</table>"))
	f.Add("text/plain", []byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, ct string, data []byte) {
		var parts []mtPart
		var atts []mtFile
		err := Upload(mtContext(&atts), ct, strings.NewReader(string(data)), Limits{MaxParts: 200}, mtVisitor(&parts))
		if err != nil && strings.Contains(err.Error(), "panic") {
			t.Fatal(err)
		}
		mtCheckParts(t, parts)
	})
}

// BenchmarkMessageBase64 walks a message with a short body and a 20 MB
// base64 text attachment; the visitor and the file walk discard what
// they get, so this measures the MIME walk and transfer decoding.
func BenchmarkMessageBase64(b *testing.B) {
	line := []byte("氏名,山田太郎,電話,03-1234-5678,番号,123456789018\n")
	var plain []byte
	for len(plain) < 15<<20 {
		plain = append(plain, line...)
	}
	var msg strings.Builder
	msg.WriteString("From: a@example.jp\r\nSubject: =?UTF-8?B?5ZCN57C/?=\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=bb\r\n\r\n--bb\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"添付をご確認ください。\r\n--bb\r\nContent-Type: text/csv; charset=utf-8\r\n" +
		"Content-Disposition: attachment; filename=list.csv\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(plain)
	for i := 0; i < len(enc); i += 76 {
		msg.WriteString(enc[i:min(i+76, len(enc))])
		msg.WriteString("\r\n")
	}
	msg.WriteString("--bb--\r\n")
	data := msg.String()
	discard := func(p *Part, text io.Reader) error {
		if text != nil {
			_, err := io.Copy(io.Discard, text)
			return err
		}
		return nil
	}
	ctx := context.WithValue(context.Background(), fileHookKey{}, func(r io.Reader, fi fileInfo) error {
		_, err := io.Copy(io.Discard, r)
		return err
	})
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Message(ctx, strings.NewReader(data), Limits{}, discard); err != nil {
			b.Fatal(err)
		}
	}
}
