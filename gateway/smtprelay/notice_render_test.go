package smtprelay

import (
	"bytes"
	"context"
	"html"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset"
)

// TestNoticeRendersInBrowser decodes a bounce notice the way a mail client
// does (go-message, with charsets) and renders it as a page in headless
// Chromium: the Japanese part must come first and read correctly, and a
// screenshot is taken ($SEKISHO_SCREENSHOT_DIR keeps it).
func TestNoticeRendersInBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is missing: apt-get install chromium (.ci/run installs it)")
		}
		t.Skip("chromium not installed")
	}
	var raw bytes.Buffer
	if err := WriteNotice(&raw, sampleNotice(), NoticeOptions{ReportingMTA: "sekisho.test", Postmaster: "MAILER-DAEMON@sekisho.test",
		OriginalHeader: []byte("From: taro@city.example\r\nTo: hanako@partner.example\r\nSubject: =?utf-8?b?5ZCN57C/44Gu6YCB5LuY?=\r\n\r\n")}); err != nil {
		t.Fatal(err)
	}
	ent, err := message.Read(&raw)
	if err != nil {
		t.Fatal(err)
	}
	subject := ent.Header.Get("Subject")
	var page strings.Builder
	page.WriteString(`<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{font-family:sans-serif;margin:1em}pre{white-space:pre-wrap;font-size:13px}h1{font-size:15px}</style></head><body>`)
	mh := message.Header{Header: ent.Header.Header}
	if s, err := mh.Text("Subject"); err == nil {
		subject = s
	}
	page.WriteString("<h1>" + html.EscapeString(subject) + "</h1>")
	mr := ent.MultipartReader()
	if mr == nil {
		t.Fatal("notice is not multipart")
	}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p.Body)
		ct, _, _ := p.Header.ContentType()
		page.WriteString("<h2 style=\"font-size:12px;color:#666\">" + html.EscapeString(ct) + "</h2><pre>" + html.EscapeString(string(b)) + "</pre>")
	}
	page.WriteString("</body></html>")
	dir := t.TempDir()
	pagePath := filepath.Join(dir, "notice.html")
	os.WriteFile(pagePath, []byte(page.String()), 0o644)
	shotDir := os.Getenv("SEKISHO_SCREENSHOT_DIR")
	if shotDir == "" {
		shotDir = dir
	}
	shot := filepath.Join(shotDir, "bounce-notice.png")
	args := []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir(),
		"--window-size=900,1600"}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, chromium, append(args, "--screenshot="+shot, "file://"+pagePath)...).CombinedOutput(); err != nil {
		t.Fatalf("chromium screenshot: %v\n%s", err, out)
	}
	png, err := os.ReadFile(shot)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) || len(png) < 10000 {
		t.Fatalf("no usable screenshot (%d bytes): %v", len(png), err)
	}
	dom, err := exec.CommandContext(ctx, chromium, append(args, "--dump-dom", "file://"+pagePath)...).Output()
	if err != nil {
		t.Fatalf("chromium dump-dom: %v", err)
	}
	text := html.UnescapeString(string(dom))
	ja := strings.Index(text, "このメールは送信されませんでした")
	en := strings.Index(text, "This message was NOT delivered")
	if ja < 0 || en < 0 || ja > en {
		t.Fatalf("rendered notice must read Japanese first, then English (ja at %d, en at %d)", ja, en)
	}
	for _, want := range []string{"第11条(7)", "送信できませんでした", "delivery-status", "Status: 5.7.1"} {
		if !strings.Contains(text, want) {
			t.Errorf("rendered notice lacks %q", want)
		}
	}
}
