package httpproxy

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// formPage is the origin's page: a form a clerk might fill in.
const formPage = `<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>申請フォーム</title></head>
<body><form method="post" action="/apply">
<label>氏名 <input name="name" value="山田太郎"></label>
<label>個人番号 <input name="mynumber" value="4842 3847 2595"></label>
<button id="send" type="submit">送信</button></form></body></html>`

// TestBrowserFormBlocked drives a real headless Chromium through the proxy
// (WebDriver protocol to chromedriver): it submits a form carrying a My
// Number to a local origin, gets the 403 page, and a screenshot is taken.
// The screenshot is kept in $SEKISHO_SCREENSHOT_DIR when set.
func TestBrowserFormBlocked(t *testing.T) {
	chromium := needTool(t, "chromium", "chromium")
	driver := needTool(t, "chromedriver", "chromium-driver")
	o := newOrigin(t, false)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, formPage)
	})
	mux.HandleFunc("/apply", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		o.mu.Lock()
		o.got = append(o.got, b)
		o.mu.Unlock()
		io.WriteString(w, "受け付けました")
	})
	o.srv.Config.Handler = mux
	p := startProxy(t, nil)

	wd := startChromedriver(t, driver)
	sess := wd.newSession(t, chromium, p.addr)
	defer wd.call(t, "DELETE", "/session/"+sess, nil)

	wd.call(t, "POST", "/session/"+sess+"/url", map[string]any{"url": o.srv.URL + "/"})
	el := wd.call(t, "POST", "/session/"+sess+"/element", map[string]any{"using": "css selector", "value": "#send"})
	var elem map[string]string
	json.Unmarshal(el, &elem)
	var id string
	for _, v := range elem {
		id = v
	}
	wd.call(t, "POST", "/session/"+sess+"/element/"+id+"/click", map[string]any{})
	var text string
	for i := 0; i < 50; i++ { // bounded wait for the answer page
		raw := wd.call(t, "POST", "/session/"+sess+"/execute/sync", map[string]any{"script": "return document.body ? document.body.innerText : ''", "args": []any{}})
		json.Unmarshal(raw, &text)
		if strings.Contains(text, "Blocked by sekisho") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	shot := wd.call(t, "GET", "/session/"+sess+"/screenshot", nil)
	var b64 string
	json.Unmarshal(shot, &b64)
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	dir := os.Getenv("SEKISHO_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	os.WriteFile(filepath.Join(dir, "proxy-block-page.png"), png, 0o644)

	if !strings.Contains(text, "送信をブロックしました") || !strings.Contains(text, "Blocked by sekisho") {
		t.Fatalf("the browser did not show the block page; it shows:\n%s", text)
	}
	if ev := p.events.all(); len(ev) != 1 || !strings.Contains(text, ev[0].ID) {
		t.Fatalf("the page must carry the event id; events %+v", ev)
	}
	if strings.Contains(text, "484238472595") || strings.Contains(text, "4842 3847 2595") {
		t.Errorf("the block page shows the My Number")
	}
	if len(o.bodies()) != 0 {
		t.Fatalf("the origin received the form")
	}
}

type webdriver struct{ base string }

func startChromedriver(t *testing.T, bin string) *webdriver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, fmt.Sprintf("--port=%d", port), "--allowed-ips=127.0.0.1")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	wd := &webdriver{base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	for i := 0; i < 100; i++ {
		if resp, err := http.Get(wd.base + "/status"); err == nil {
			resp.Body.Close()
			return wd
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("chromedriver did not start")
	return nil
}

func (wd *webdriver) newSession(t *testing.T, chromium, proxy string) string {
	t.Helper()
	args := []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--window-size=1000,800", "--user-data-dir=" + t.TempDir(),
		"--proxy-server=http://" + proxy,
		"--proxy-bypass-list=<-loopback>", // send 127.0.0.1 through the proxy too
	}
	raw := wd.call(t, "POST", "/session", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome", "goog:chromeOptions": map[string]any{"binary": chromium, "args": args},
	}}})
	var s struct {
		SessionID string `json:"sessionId"`
	}
	if err := json.Unmarshal(raw, &s); err != nil || s.SessionID == "" {
		t.Fatalf("no WebDriver session: %s", raw)
	}
	return s.SessionID
}

// call sends one WebDriver command and returns its "value".
func (wd *webdriver) call(t *testing.T, method, path string, body any) json.RawMessage {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, wd.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("webdriver %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out struct {
		Value json.RawMessage `json:"value"`
	}
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &out)
	if resp.StatusCode != 200 {
		t.Fatalf("webdriver %s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return out.Value
}
