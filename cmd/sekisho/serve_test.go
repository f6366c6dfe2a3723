package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-smtp"
)

// ---- a capturing next hop ------------------------------------------------------

type capMsg struct {
	from string
	to   []string
	data []byte
}

type capSink struct {
	addr string
	mu   sync.Mutex
	msgs []capMsg
}

type capSession struct {
	k *capSink
	m capMsg
}

func (k *capSink) NewSession(c *smtp.Conn) (smtp.Session, error) { return &capSession{k: k}, nil }
func (s *capSession) Mail(from string, _ *smtp.MailOptions) error {
	s.m = capMsg{from: from}
	return nil
}
func (s *capSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.m.to = append(s.m.to, to)
	return nil
}
func (s *capSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.data = b
	s.k.mu.Lock()
	s.k.msgs = append(s.k.msgs, s.m)
	s.k.mu.Unlock()
	return nil
}
func (s *capSession) Reset()        { s.m = capMsg{} }
func (s *capSession) Logout() error { return nil }

func (k *capSink) messages() []capMsg {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]capMsg(nil), k.msgs...)
}

// waitFor polls until n messages arrived or the bound passes.
func (k *capSink) waitFor(t *testing.T, n int, bound time.Duration) []capMsg {
	t.Helper()
	deadline := time.Now().Add(bound)
	for time.Now().Before(deadline) {
		if m := k.messages(); len(m) >= n {
			return m
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("next hop got %d messages within %v, want %d", len(k.messages()), bound, n)
	return nil
}

func startCapSink(t *testing.T) *capSink {
	t.Helper()
	k := &capSink{}
	srv := smtp.NewServer(k)
	srv.Domain = "nexthop.test"
	srv.EnableSMTPUTF8 = true
	srv.EnableDSN = true
	srv.MaxLineLength = 1 << 20
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return k
}

// ---- sekisho serve, in process ---------------------------------------------------

type servedGateway struct {
	addrs serveAddrs
	log   *syncBuffer
	dir   string
	stop  func() int
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `sekisho serve` in process with every listener on a free
// loopback port and the given next hop.
func startServe(t *testing.T, nextHop string, extra ...string) *servedGateway {
	t.Helper()
	dir := t.TempDir()
	g := &servedGateway{log: &syncBuffer{}, dir: filepath.Join(dir, "data")}
	o := serveOptions{
		smtpListen: "127.0.0.1:0", nextHop: nextHop, proxyListen: "127.0.0.1:0", adminListen: "127.0.0.1:0",
		dataDir: g.dir, logFormat: "json",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i] == "--config" {
			o.configPath = extra[i+1]
		}
	}
	ready := make(chan serveAddrs, 1)
	reload := make(chan struct{})
	o.reload = reload
	o.ready = func(a serveAddrs) { ready <- a }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- runServe(ctx, o, g.log) }()
	select {
	case g.addrs = <-ready:
	case code := <-done:
		cancel()
		t.Fatalf("serve exited with %d:\n%s", code, g.log)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatalf("serve did not come up:\n%s", g.log)
	}
	var once sync.Once
	code := 0
	g.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(40 * time.Second):
				t.Errorf("serve did not stop within its bound")
			}
		})
		return code
	}
	t.Cleanup(func() { g.stop() })
	return g
}

func swaksPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("swaks")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("swaks is required in CI (apt-get install swaks): %v", err)
		}
		t.Skip("swaks not installed: skipping the end-to-end test (set CI=1 to make this a failure)")
	}
	return p
}

// swaks sends one message; it returns swaks's exit code and transcript.
func swaks(t *testing.T, bin, server string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--server", server, "--helo", "client.test", "--timeout", "30"}, args...)...)
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			t.Fatalf("swaks: %v", err)
		}
	}
	return code, string(out)
}

const myNumberClear = "123456789018" // check digit valid

func TestServeSwaksEndToEnd(t *testing.T) {
	bin := swaksPath(t)
	sink := startCapSink(t)
	g := startServe(t, sink.addr)

	// 1. A clean message is relayed with the trace header.
	code, out := swaks(t, bin, g.addrs.SMTP, "--from", "taro@city.example", "--to", "hanako@partner.example",
		"--header", "Subject: meeting", "--body", "See you at 10.")
	if code != 0 {
		t.Fatalf("swaks clean: exit %d\n%s\n%s", code, out, g.log)
	}
	got := sink.waitFor(t, 1, 10*time.Second)
	if got[0].from != "taro@city.example" || !bytes.Contains(got[0].data, []byte("X-Sekisho-Verdict: allow; event=")) ||
		!bytes.Contains(got[0].data, []byte("See you at 10.")) {
		t.Fatalf("clean message: from %q\n%s", got[0].from, got[0].data)
	}

	// 2. A My Number in the body: the sender gets a bounce notice, the
	// recipient gets nothing.
	code, out = swaks(t, bin, g.addrs.SMTP, "--from", "taro@city.example", "--to", "hanako@partner.example",
		"--header", "Subject: list", "--body", "マイナンバー: "+myNumberClear+"\n")
	if code != 0 {
		t.Fatalf("swaks blocked (bounce mode answers 250): exit %d\n%s", code, out)
	}
	got = sink.waitFor(t, 2, 10*time.Second)
	dsn := got[1]
	if dsn.from != "" || len(dsn.to) != 1 || dsn.to[0] != "taro@city.example" {
		t.Fatalf("notice envelope: from %q to %v", dsn.from, dsn.to)
	}
	if bytes.Contains(dsn.data, []byte(myNumberClear)) {
		t.Errorf("notice holds the My Number in clear")
	}
	e, err := message.Read(bytes.NewReader(dsn.data))
	if err != nil {
		t.Fatal(err)
	}
	if mt, p, _ := e.Header.ContentType(); mt != "multipart/report" || p["report-type"] != "delivery-status" {
		t.Errorf("notice type %s %v", mt, p)
	}
	if !bytes.Contains(dsn.data, []byte("Status: 5.7.1")) || e.Header.Get("X-Sekisho-Event") == "" {
		t.Errorf("notice lacks Status 5.7.1 or its event id:\n%s", dsn.data)
	}

	// 3. A FAX recipient is refused at RCPT, the other one still gets the mail.
	code, out = swaks(t, bin, g.addrs.SMTP, "--from", "taro@city.example", "--to", "0312345678@fax.tc,jiro@partner.example",
		"--body", "Hello")
	if !strings.Contains(out, "550 5.7.1 FAX transmission is forbidden (contract art. 11(6)); event ") {
		t.Errorf("FAX recipient not refused (exit %d):\n%s", code, out)
	}
	got = sink.waitFor(t, 3, 10*time.Second)
	if strings.Join(got[2].to, ",") != "jiro@partner.example" {
		t.Errorf("after the FAX refusal, delivered to %v", got[2].to)
	}

	// 4. Admin: health, metrics, reload with the token only.
	admin := "http://" + g.addrs.Admin
	if r, err := http.Get(admin + "/healthz"); err != nil || r.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", r, err)
	}
	r, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(r.Body)
	r.Body.Close()
	for _, want := range []string{
		`sekisho_messages_total{action="forward",channel="smtp",verdict="allow"} 2`,
		`sekisho_messages_total{action="bounce",channel="smtp",verdict="block"} 1`,
		`sekisho_messages_total{action="reject",channel="smtp",verdict="block"} 1`,
		`sekisho_inspection_seconds_count{channel="smtp"} 3`,
	} {
		if !strings.Contains(string(mb), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	req, _ := http.NewRequest("POST", admin+"/-/reload", nil)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != http.StatusUnauthorized {
		t.Errorf("reload without token: %v %v", r.StatusCode, err)
	}
	req, _ = http.NewRequest("POST", admin+"/-/reload", nil)
	req.Header.Set("Authorization", "Bearer "+g.addrs.AdminToken)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != http.StatusOK {
		t.Errorf("reload with token: %v %v", r, err)
	}
	// The HTTP proxy listener is up (a plain GET through it).
	pc := &http.Client{Transport: &http.Transport{Proxy: func(*http.Request) (*url.URL, error) {
		return url.Parse("http://" + g.addrs.Proxy)
	}}, Timeout: 10 * time.Second}
	if r, err := pc.Get(admin + "/healthz"); err != nil || r.StatusCode != 200 {
		t.Errorf("GET through the proxy listener: %v %v", r, err)
	}
	tok, err := os.ReadFile(filepath.Join(g.dir, "admin-token"))
	if st, _ := os.Stat(filepath.Join(g.dir, "admin-token")); err != nil || st.Mode().Perm() != 0o600 ||
		strings.TrimSpace(string(tok)) != g.addrs.AdminToken {
		t.Errorf("admin-token file: %v %v", st, err)
	}

	if code := g.stop(); code != 0 {
		t.Errorf("serve exit %d", code)
	}
	for _, want := range []string{`"smtp_listen":"` + g.addrs.SMTP, `"smtp_next_hop":"` + sink.addr, `"data_dir":"` + g.dir, "sekisho serve stopped"} {
		if !strings.Contains(g.log.String(), want) {
			t.Errorf("log lacks %s", want)
		}
	}
	if strings.Contains(g.log.String(), myNumberClear) {
		t.Errorf("operational log holds the My Number in clear")
	}

	// 5. At shutdown serve logged the event log's head; it anchors a verify.
	m := regexp.MustCompile(`"anchor":"(\d+:[0-9a-f]{64})"`).FindAllStringSubmatch(g.log.String(), -1)
	if len(m) == 0 {
		t.Fatalf("no event log anchor in the log:\n%s", g.log)
	}
	last := m[len(m)-1][1]
	if !strings.HasPrefix(last, "4:") { // clean, bounce, FAX refusal, FAX message
		t.Errorf("last anchor %s, want the 4th event's", last)
	}
	if code, out, errs := runCmdForTest(cmdEvents, "verify", "--data-dir", g.dir, "--anchor", last); code != 0 || !strings.Contains(out, "anchors: 1") {
		t.Errorf("verify with serve's anchor: exit %d %s %s", code, out, errs)
	}
}

func TestServeBadFlagsFailAtOnce(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--smtp-next-hop", "nohost"}, "--smtp-next-hop"},
		{[]string{"--smtp-listen", "127.0.0.1:abc"}, "--smtp-listen"},
		{[]string{"--log-format", "xml"}, "--log-format"},
		{[]string{"--no-such-flag"}, "no-such-flag"},
		{[]string{"--config", "/nonexistent/sekisho.yaml"}, "sekisho.yaml"},
	} {
		var stderr bytes.Buffer
		code := cmdServe(tc.args, io.Discard, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %s", tc.args, code, stderr.String(), tc.want)
		}
	}
}

func TestServeReloadRefusesInvalidConfig(t *testing.T) {
	sink := startCapSink(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sekisho.yaml")
	if err := os.WriteFile(cfg, []byte("log_level: info\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := startServe(t, sink.addr, "--config", cfg)
	// break the file, then ask for a reload: refused, the policy stays
	os.WriteFile(cfg, []byte("policy:\n  no_such_key: [\n"), 0o600)
	req, _ := http.NewRequest("POST", "http://"+g.addrs.Admin+"/-/reload", nil)
	req.Header.Set("Authorization", "Bearer "+g.addrs.AdminToken)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "running policy stays") {
		t.Errorf("invalid reload: %d %s", r.StatusCode, body)
	}
	if !strings.Contains(g.log.String(), "config reload refused") {
		t.Errorf("refusal not logged")
	}
	// still relaying
	c, err := smtp.Dial(g.addrs.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendMail("taro@city.example", []string{"hanako@partner.example"}, strings.NewReader("Subject: x\r\n\r\nstill up\r\n")); err != nil {
		t.Errorf("relay after refused reload: %v", err)
	}
	sink.waitFor(t, 1, 10*time.Second)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestServeReloadAppliesNewPolicy(t *testing.T) {
	sink := startCapSink(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sekisho.yaml")
	os.WriteFile(cfg, []byte("log_level: info\n"), 0o600)
	g := startServe(t, sink.addr, "--config", cfg)
	send := func(to string) error {
		c, err := smtp.Dial(g.addrs.SMTP)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.SendMail("taro@city.example", []string{to}, strings.NewReader("Subject: x\r\n\r\nhello\r\n"))
	}
	if err := send("fax-gw-7@city.example"); err != nil {
		t.Fatalf("before the reload: %v", err)
	}
	os.WriteFile(cfg, []byte("log_level: info\npolicy:\n  fax:\n    local_parts: ['^fax-gw-[0-9]+$']\n"), 0o600)
	req, _ := http.NewRequest("POST", "http://"+g.addrs.Admin+"/-/reload", nil)
	req.Header.Set("Authorization", "Bearer "+g.addrs.AdminToken)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 200 {
		t.Fatalf("reload: %v %v\n%s", r, err, g.log)
	}
	err := send("fax-gw-7@city.example")
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 550 || !strings.Contains(se.Message, "art. 11(6)") {
		t.Errorf("after the reload the new FAX rule is not applied: %v", err)
	}
}

// TestServeBinarySignals builds the binary and checks the flags of the
// benchmark harness, SIGHUP (reload) and SIGTERM (graceful stop, exit 0).
func TestServeBinarySignals(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the binary")
	}
	dir := t.TempDir()
	bin := buildSekisho(t, dir)
	sink := startCapSink(t)
	smtpPort, proxyPort, adminPort := freePort(t), freePort(t), freePort(t)
	var logBuf syncBuffer
	cmd := exec.Command(bin, "serve",
		"--smtp-listen", fmt.Sprintf("127.0.0.1:%d", smtpPort), "--smtp-next-hop", sink.addr,
		"--proxy-listen", fmt.Sprintf("127.0.0.1:%d", proxyPort), "--admin-listen", fmt.Sprintf("127.0.0.1:%d", adminPort),
		"--data-dir", filepath.Join(dir, "data"))
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	waited := make(chan struct{})
	go func() { exited <- cmd.Wait(); close(waited) }()
	defer func() {
		select {
		case <-waited:
		default:
			cmd.Process.Kill()
			<-waited
		}
	}()
	addr := fmt.Sprintf("127.0.0.1:%d", smtpPort)
	var c *smtp.Client
	for i := 0; i < 100; i++ {
		var err error
		if c, err = smtp.Dial(addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c == nil {
		t.Fatalf("binary did not listen:\n%s", logBuf.String())
	}
	if err := c.SendMail("taro@city.example", []string{"hanako@partner.example"}, strings.NewReader("Subject: x\r\n\r\nhi\r\n")); err != nil {
		t.Fatalf("relay: %v", err)
	}
	c.Close()
	sink.waitFor(t, 1, 10*time.Second)
	cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logBuf.String(), "config reloaded") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(logBuf.String(), "config reloaded") {
		t.Errorf("SIGHUP did not reload:\n%s", logBuf.String())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, logBuf.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("no exit after SIGTERM")
	}
	if !strings.Contains(logBuf.String(), "sekisho serve stopped") {
		t.Errorf("no graceful stop in the log")
	}
}

// TestServePostfixRelayhost runs a private Postfix whose relayhost is
// sekisho, whose next hop is a capturing server: a clean message is
// delivered and a blocked one's notice reaches the sender. It needs root
// and postfix; it runs with SEKISHO_POSTFIX_TEST=1 (and must run when
// CI=true).
func TestServePostfixRelayhost(t *testing.T) {
	if os.Getenv("SEKISHO_POSTFIX_TEST") == "" && os.Getenv("CI") != "true" {
		t.Skip("set SEKISHO_POSTFIX_TEST=1 to run the Postfix integration test")
	}
	postfix, err := exec.LookPath("postfix")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/postfix"); err2 != nil {
			t.Fatalf("postfix is not installed (DEBIAN_FRONTEND=noninteractive apt-get install -y postfix): %v", err)
		}
		postfix = "/usr/sbin/postfix"
	}
	if os.Geteuid() != 0 {
		t.Fatal("the Postfix test needs root (postfix -c DIR start)")
	}
	sink := startCapSink(t)
	g := startServe(t, sink.addr)

	// Postfix's processes run as the postfix user: the work dir must be
	// reachable by it (t.TempDir is 0700).
	work, err := os.MkdirTemp("", "sekisho-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	os.Chmod(work, 0o755)
	conf, spool, data := filepath.Join(work, "conf"), filepath.Join(work, "spool"), filepath.Join(work, "data")
	for _, d := range []string{conf, spool, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("chown", "postfix", data).CombinedOutput(); err != nil {
		t.Fatalf("chown postfix: %v %s", err, out)
	}
	pfPort := freePort(t)
	_, sekPort, _ := net.SplitHostPort(g.addrs.SMTP)
	mainCf := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s
data_directory = %[2]s
meta_directory = /etc/postfix
maillog_file = %[3]s/maillog
maillog_file_prefixes = %[3]s
myhostname = postfix.test
mydomain = test
myorigin = $myhostname
mydestination =
local_transport = error:local delivery disabled
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:%[4]s
smtp_dns_support_level = disabled
smtp_tls_security_level = none
alias_maps =
alias_database =
biff = no
`, spool, data, work, sekPort)
	masterCf := fmt.Sprintf(`127.0.0.1:%d inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
`, pfPort)
	os.WriteFile(filepath.Join(conf, "main.cf"), []byte(mainCf), 0o644)
	os.WriteFile(filepath.Join(conf, "master.cf"), []byte(masterCf), 0o644)
	exec.Command(postfix, "-c", conf, "check").Run()
	if out, err := exec.Command(postfix, "-c", conf, "start").CombinedOutput(); err != nil {
		maillog, _ := os.ReadFile(filepath.Join(work, "maillog"))
		t.Fatalf("postfix start: %v %s\n%s", err, out, maillog)
	}
	t.Cleanup(func() { exec.Command(postfix, "-c", conf, "stop").Run() })
	pfAddr := fmt.Sprintf("127.0.0.1:%d", pfPort)
	var c *smtp.Client
	for i := 0; i < 100; i++ {
		if c, err = smtp.Dial(pfAddr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c == nil {
		maillog, _ := os.ReadFile(filepath.Join(work, "maillog"))
		t.Fatalf("postfix did not listen on %s: %v\n%s", pfAddr, err, maillog)
	}
	c.Close()
	sendPF := func(body string) {
		t.Helper()
		c, err := smtp.Dial(pfAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		msg := "From: taro@city.example\r\nTo: hanako@partner.example\r\nSubject: postfix test\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body
		if err := c.SendMail("taro@city.example", []string{"hanako@partner.example"}, strings.NewReader(msg)); err != nil {
			t.Fatalf("submit to postfix: %v", err)
		}
	}
	maillog := func() string { b, _ := os.ReadFile(filepath.Join(work, "maillog")); return string(b) }

	sendPF("clean text\r\n")
	deadline := time.Now().Add(30 * time.Second)
	for len(sink.messages()) < 1 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	got := sink.messages()
	if len(got) < 1 {
		t.Fatalf("clean message not delivered through postfix → sekisho:\n%s\n%s", maillog(), g.log)
	}
	if got[0].from != "taro@city.example" || !bytes.Contains(got[0].data, []byte("X-Sekisho-Verdict: allow")) ||
		!bytes.Contains(got[0].data, []byte("by postfix.test")) {
		t.Errorf("clean message: from %q\n%s", got[0].from, got[0].data)
	}

	sendPF("マイナンバー: " + myNumberClear + "\r\n")
	deadline = time.Now().Add(30 * time.Second)
	for len(sink.messages()) < 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	got = sink.messages()
	if len(got) != 2 {
		t.Fatalf("want the notice at the next hop, got %d messages:\n%s\n%s", len(got), maillog(), g.log)
	}
	n := got[1]
	if n.from != "" || strings.Join(n.to, ",") != "taro@city.example" || !bytes.Contains(n.data, []byte("report-type=delivery-status")) ||
		bytes.Contains(n.data, []byte(myNumberClear)) {
		t.Errorf("notice: from %q to %v\n%s", n.from, n.to, n.data)
	}
	if !strings.Contains(maillog(), "status=sent") {
		t.Errorf("postfix did not log a delivery:\n%s", maillog())
	}
	t.Logf("postfix log:\n%s", maillog())
}

// buildSekisho builds the binary into dir and returns its path.
func buildSekisho(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "sekisho")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
