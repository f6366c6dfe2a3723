package httpproxy

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sekisho-dlp/sekisho/gateway"
	"github.com/sekisho-dlp/sekisho/gateway/extract"
	"github.com/sekisho-dlp/sekisho/rules"
)

const myNumberForm = "name=%E5%B1%B1%E7%94%B0%E5%A4%AA%E9%83%8E&mynumber=484238472595&note=hello"

func TestFormWithMyNumberBlocked(t *testing.T) {
	o := newOrigin(t, false)
	p := startProxy(t, nil)
	code, body := curl(t, p.addr, "--data", myNumberForm, o.srv.URL+"/submit")
	if code != 403 {
		t.Fatalf("status %d, want 403; body %s", code, body)
	}
	if len(o.bodies()) != 0 {
		t.Fatalf("the origin got the blocked form")
	}
	ja, en := strings.Index(body, "送信をブロックしました"), strings.Index(body, "Blocked by sekisho")
	if ja < 0 || en < 0 || ja > en {
		t.Errorf("page must say it in Japanese first, then English:\n%s", body)
	}
	if strings.Contains(body, "484238472595") {
		t.Errorf("the page shows the detected value")
	}
	if !strings.Contains(body, "個人番号(マイナンバー) 1 件") || !strings.Contains(body, "1 × My Number") {
		t.Errorf("the page must say what was found and how many:\n%s", body)
	}
	ev := p.events.all()
	if len(ev) != 1 || ev[0].Verdict != "block" || ev[0].Channel != "http" || !strings.Contains(body, ev[0].ID) {
		t.Fatalf("want one block event whose id is on the page; got %+v", ev)
	}
	if ev[0].Reasons[0].Code != "cleartext_upload" || ev[0].Reasons[0].Article == "" {
		t.Errorf("reason %+v, want cleartext_upload with its article", ev[0].Reasons)
	}
}

func TestAllowedUploadArrivesByteIdentical(t *testing.T) {
	o := newOrigin(t, false)
	p := startProxy(t, nil)
	inv := fixture(t, "inventory.csv")
	want, _ := os.ReadFile(inv)
	code, _ := curl(t, p.addr, "--data-binary", "@"+inv, "-H", "Content-Type: text/csv", o.srv.URL+"/upload")
	if code != 200 {
		t.Fatalf("status %d, want 200", code)
	}
	got := o.bodies()
	if len(got) != 1 || !bytes.Equal(got[0], want) {
		t.Fatalf("origin got %q, want the file byte for byte", got)
	}
	// Chunked transfer of the same body.
	code, _ = curl(t, p.addr, "--data-binary", "@"+inv, "-H", "Transfer-Encoding: chunked", o.srv.URL+"/upload")
	if got := o.bodies(); code != 200 || len(got) != 2 || !bytes.Equal(got[1], want) {
		t.Fatalf("chunked upload: status %d, origin got %d bodies", code, len(got))
	}
}

func TestMultipartUploads(t *testing.T) {
	o := newOrigin(t, false)
	p := startProxy(t, nil)
	cases := []struct {
		file string
		want int
	}{
		{"roster.csv", 403},           // a roster in clear
		{"roster-plain.zip", 403},     // the same roster zipped without a password
		{"roster-zipcrypto.zip", 200}, // zip -P: encrypted
		{"inventory.csv", 200},        // no personal information
	}
	for _, c := range cases {
		before := len(o.bodies())
		code, body := curl(t, p.addr, "-F", "comment=see attached", "-F", "file=@"+fixture(t, c.file), o.srv.URL+"/upload")
		if code != c.want {
			t.Errorf("%s: status %d, want %d (%s)", c.file, code, c.want, body)
		}
		if arrived := len(o.bodies()) > before; arrived != (c.want == 200) {
			t.Errorf("%s: arrived at origin = %v", c.file, arrived)
		}
	}
}

func TestGzipBodyInspected(t *testing.T) {
	o := newOrigin(t, false)
	p := startProxy(t, nil)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	roster, _ := os.ReadFile(fixture(t, "roster.csv"))
	zw.Write(roster)
	zw.Close()
	path := filepath.Join(t.TempDir(), "body.gz")
	os.WriteFile(path, gz.Bytes(), 0o644)
	code, _ := curl(t, p.addr, "--data-binary", "@"+path, "-H", "Content-Encoding: gzip", "-H", "Content-Type: text/csv", o.srv.URL+"/upload")
	if code != 403 || len(o.bodies()) != 0 {
		t.Fatalf("gzip roster: status %d, origin got %d bodies; want 403 and none", code, len(o.bodies()))
	}
}

func TestJSONClientsGetJSON(t *testing.T) {
	o := newOrigin(t, false)
	p := startProxy(t, nil)
	code, body := curl(t, p.addr, "-H", "Accept: application/json", "-H", "Content-Type: application/json",
		"--data", `{"customer":{"name":"山田太郎","card":"4111 1111 1111 1111"}}`, o.srv.URL+"/api")
	if code != 403 {
		t.Fatalf("status %d", code)
	}
	var j blockJSON
	if err := json.Unmarshal([]byte(body), &j); err != nil || j.EventID == "" || len(j.Reasons) == 0 {
		t.Fatalf("want a JSON block answer, got %q (%v)", body, err)
	}
	if strings.Contains(body, "4111") {
		t.Errorf("JSON answer shows the card number")
	}
}

func TestWebFaxHostBlockedBeforeDNS(t *testing.T) {
	p := startProxy(t, nil)
	// Plain HTTP to a web-FAX host: 403 page without resolving the name
	// (this machine has no DNS; a lookup would fail with 502).
	code, body := curl(t, p.addr, "--data", "x=1", "http://movfax.lcloud.jp/send")
	if code != 403 || !strings.Contains(body, "第11条(6)") {
		t.Fatalf("plain HTTP to web-FAX: status %d body %s", code, body)
	}
	// HTTPS: refused at CONNECT.
	code, _ = curl(t, p.addr, "https://www.interfax.jp/")
	if code != 403 {
		t.Fatalf("CONNECT to web-FAX: status %d, want 403", code)
	}
	if ev := p.events.all(); len(ev) != 2 || ev[0].Reasons[0].Code != "fax" {
		t.Fatalf("want two fax events, got %+v", ev)
	}
}

func TestInterceptedHTTPS(t *testing.T) {
	o := newOrigin(t, true)
	dir := t.TempDir()
	caPath, err := InitCA(dir, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, func(c *Config) { c.CA = ca; c.Upstream = originTransport(o) })
	code, _ := curl(t, p.addr, "--cacert", caPath, "-F", "file=@"+fixture(t, "roster.csv"), o.srv.URL+"/upload")
	if code != 403 || len(o.bodies()) != 0 {
		t.Fatalf("roster over intercepted HTTPS: status %d, origin got %d; want 403, none", code, len(o.bodies()))
	}
	inv := fixture(t, "inventory.csv")
	want, _ := os.ReadFile(inv)
	code, _ = curl(t, p.addr, "--cacert", caPath, "--data-binary", "@"+inv, o.srv.URL+"/upload")
	if got := o.bodies(); code != 200 || len(got) != 1 || !bytes.Equal(got[0], want) {
		t.Fatalf("clean upload over intercepted HTTPS: status %d", code)
	}
	// A second CA refuses to overwrite the first.
	if _, err := InitCA(dir, "test", false); err == nil {
		t.Errorf("InitCA overwrote an existing CA")
	}
}

func TestClientNotAllowed(t *testing.T) {
	o := newOrigin(t, false)
	p := startProxy(t, func(c *Config) { c.AllowedNets = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} })
	code, _ := curl(t, p.addr, o.srv.URL+"/")
	if code != 403 || len(o.bodies()) != 0 {
		t.Fatalf("client outside the allowed networks: status %d", code)
	}
}

func TestProxyAuth(t *testing.T) {
	o := newOrigin(t, false)
	p := startProxy(t, func(c *Config) { c.Authenticate = func(u, pw string) bool { return u == "tanaka" && pw == "s3cret" } })
	if code, _ := curl(t, p.addr, o.srv.URL+"/"); code != 407 {
		t.Fatalf("no credentials: status %d, want 407", code)
	}
	if code, _ := curl(t, p.addr, "-U", "tanaka:s3cret", o.srv.URL+"/"); code != 200 {
		t.Fatalf("good credentials: status %d, want 200", code)
	}
	if h := o.hdrs[len(o.hdrs)-1]; h.Get("Proxy-Authorization") != "" {
		t.Errorf("Proxy-Authorization was forwarded to the origin")
	}
}

func TestUploadTooLarge(t *testing.T) {
	o := newOrigin(t, false)
	p := startProxy(t, func(c *Config) { c.MaxUploadBytes = 1000 })
	big := filepath.Join(t.TempDir(), "big")
	os.WriteFile(big, bytes.Repeat([]byte("a"), 5000), 0o644)
	code, _ := curl(t, p.addr, "--data-binary", "@"+big, o.srv.URL+"/")
	if code != 413 || len(o.bodies()) != 0 {
		t.Fatalf("status %d, want 413 and nothing forwarded", code)
	}
	code, _ = curl(t, p.addr, "-H", "Transfer-Encoding: chunked", "--data-binary", "@"+big, o.srv.URL+"/")
	if code != 413 || len(o.bodies()) != 0 {
		t.Fatalf("chunked: status %d, want 413 and nothing forwarded", code)
	}
}

type failingInspector struct{}

func (failingInspector) Inspect(context.Context, gateway.Item) (*gateway.Verdict, error) {
	return nil, errors.New("boom")
}

func TestInspectionFailureFailsClosed(t *testing.T) {
	o := newOrigin(t, false)
	p := startProxy(t, func(c *Config) { c.Inspector = failingInspector{} })
	code, body := curl(t, p.addr, "--data", "hello", o.srv.URL+"/")
	if code != 503 || len(o.bodies()) != 0 || !strings.Contains(body, "fail closed") {
		t.Fatalf("status %d, body %q; want 503 and nothing forwarded", code, body)
	}
}

func TestAllowlistedUploadIsLedgerEntry(t *testing.T) {
	o := newOrigin(t, false)
	pol, err := rules.Parse([]byte("hosts:\n  upload_allowlist: [127.0.0.1]\n"), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, func(c *Config) {
		c.Inspector = &gateway.Inspector{Policy: func() *rules.Policy { return pol }, Limits: extract.DefaultLimits()}
		c.Hosts = func() HostPolicy { return pol }
	})
	code, _ := curl(t, p.addr, "-F", "file=@"+fixture(t, "roster.csv"), o.srv.URL+"/transfer")
	if code != 200 || len(o.bodies()) != 1 {
		t.Fatalf("roster to the approved transfer host: status %d, want 200 and delivered", code)
	}
	// A clean upload to the same host is not a ledger entry.
	curl(t, p.addr, "--data-binary", "@"+fixture(t, "inventory.csv"), o.srv.URL+"/transfer")
	ev := p.events.all()
	if len(ev) != 1 || ev[0].Verdict != "allow" || !ev[0].Ledger || ev[0].Action != "forward" {
		t.Fatalf("want exactly one allowed ledger event, got %+v", ev)
	}
}

func TestLargeUploadSpoolsToFile(t *testing.T) {
	o := newOrigin(t, false)
	spoolDir := t.TempDir()
	p := startProxy(t, func(c *Config) { c.SpoolDir = spoolDir })
	var big bytes.Buffer
	inv, _ := os.ReadFile(fixture(t, "inventory.csv"))
	for big.Len() < 3*memSpoolMax {
		big.Write(inv)
	}
	path := filepath.Join(t.TempDir(), "big.csv")
	os.WriteFile(path, big.Bytes(), 0o644)
	code, _ := curl(t, p.addr, "--data-binary", "@"+path, "-H", "Content-Type: text/csv", o.srv.URL+"/upload")
	if got := o.bodies(); code != 200 || len(got) != 1 || !bytes.Equal(got[0], big.Bytes()) {
		t.Fatalf("3 MiB upload: status %d, delivered intact: %v", code, len(got) == 1 && bytes.Equal(got[0], big.Bytes()))
	}
	if left, _ := os.ReadDir(spoolDir); len(left) != 0 {
		t.Errorf("spool files left behind: %d", len(left))
	}
}

// With one inspection slot, uploads arriving together wait their turn and
// all get through (a slot that was not given back would hold them all).
func TestInspectionSlotsQueueUploads(t *testing.T) {
	o := newOrigin(t, false)
	p := startProxy(t, func(c *Config) { c.MaxInspections = 1 })
	proxyURL, _ := url.Parse("http://" + p.addr)
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}, Timeout: 30 * time.Second}
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			body := strings.Repeat(fmt.Sprintf("upload %d: quarterly inventory, nothing personal.\n", i), 2000)
			resp, err := client.Post(o.srv.URL+"/upload", "text/plain", strings.NewReader(body))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != 200 {
					err = fmt.Errorf("upload %d: status %d", i, resp.StatusCode)
				}
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := len(o.bodies()); got != n {
		t.Errorf("origin got %d uploads, want %d", got, n)
	}
}

// An origin that does not answer within UpstreamTimeout gets the client a
// 504, one that cannot be reached a 502, both with the reason in Japanese
// and English (goproxy alone answers 500 with the transport's error).
func TestUpstreamFailures(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	core, logs := observer.New(zap.InfoLevel)
	p := startProxy(t, func(c *Config) {
		c.UpstreamTimeout = 300 * time.Millisecond
		c.Log = zap.New(core)
	})
	start := time.Now()
	code, body := curl(t, p.addr, slow.URL+"/report?name=yamada")
	if code != http.StatusGatewayTimeout || !strings.Contains(body, "時間内に応答がありません") || !strings.Contains(body, "did not answer in time") {
		t.Errorf("slow origin: %d %q", code, body)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the timeout took %v", d)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	code, body = curl(t, p.addr, "http://"+closed+"/")
	if code != http.StatusBadGateway || !strings.Contains(body, "接続できない") || !strings.Contains(body, "could not be reached") {
		t.Errorf("closed port: %d %q", code, body)
	}
	failed := logs.FilterMessage("origin server failed").All()
	if len(failed) != 2 {
		t.Errorf("%d failures logged, want 2", len(failed))
	}
	for _, e := range failed {
		if s := fmt.Sprint(e.ContextMap()); strings.Contains(s, "yamada") {
			t.Errorf("the log holds the query: %s", s)
		}
	}
}

// By default one CPU is left to forwarding: inspections at once are one
// fewer than GOMAXPROCS, at least one.
func TestDefaultInspectionSlots(t *testing.T) {
	pol := rules.Default()
	p, err := New(Config{Inspector: &gateway.Inspector{}, Hosts: func() HostPolicy { return pol }})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cap(p.slots), max(1, runtime.GOMAXPROCS(0)-1); got != want {
		t.Errorf("%d inspection slots, want %d", got, want)
	}
}
