package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sekisho-dlp/sekisho/gateway/event"
	"github.com/sekisho-dlp/sekisho/gateway/quarantine"
)

const quarantineTestMessage = "From: tanaka@city.example.jp\r\nTo: x@example.com\r\nSubject: list\r\n\r\n" +
	"個人番号 123456789012\r\n.leading dot line\r\n"

// quarantineFixture makes a data dir with an event log and a quarantine
// (key in the environment) holding one fresh and one expired message.
func quarantineFixture(t *testing.T) (dir, fresh, expired string) {
	t.Helper()
	t.Setenv(quarantine.DefaultKeyEnv, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	dir = t.TempDir()
	l, err := event.Open(filepath.Join(dir, "events.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	q, err := quarantine.Open(filepath.Join(dir, "quarantine"), quarantine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := quarantine.Meta{EventID: "20261125T224010.000Z-000000000001", Channel: "smtp",
		Sender: "tanaka@city.example.jp", Recipients: []string{"x@example.com", "y@example.com"},
		Reasons: []string{"pii-cleartext"}}
	if fresh, err = q.Put(context.Background(), m, strings.NewReader(quarantineTestMessage)); err != nil {
		t.Fatal(err)
	}
	m.Time = time.Now().Add(-40 * 24 * time.Hour)
	if expired, err = q.Put(context.Background(), m, strings.NewReader("old")); err != nil {
		t.Fatal(err)
	}
	return dir, fresh, expired
}

func quarantineEventActions(t *testing.T, dir string) []string {
	t.Helper()
	l, err := openEventLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	evs, err := l.Query(context.Background(), event.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, e := range evs {
		s = append(s, e.Action+":"+e.QuarantineID)
	}
	return s
}

func TestQuarantineListShowDeleteSweep(t *testing.T) {
	dir, fresh, expired := quarantineFixture(t)
	code, out, errs := runCmdForTest(cmdQuarantine, "list", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, fresh) || !strings.Contains(out, expired) || !strings.Contains(out, "x@example.com,y@example.com") {
		t.Fatalf("list: %d %s %s", code, out, errs)
	}
	code, out, errs = runCmdForTest(cmdQuarantine, "show", fresh, "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "tanaka@city.example.jp") || !strings.Contains(out, "pii-cleartext") {
		t.Fatalf("show: %d %s %s", code, out, errs)
	}
	code, out, errs = runCmdForTest(cmdQuarantine, "show", fresh, "--body", "--data-dir", dir)
	if code != 0 || out != quarantineTestMessage {
		t.Fatalf("show --body: %d %q %s", code, out, errs)
	}
	code, out, errs = runCmdForTest(cmdQuarantine, "sweep", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "destroyed "+expired) || !strings.Contains(out, "1 items destroyed") {
		t.Fatalf("sweep: %d %s %s", code, out, errs)
	}
	code, out, errs = runCmdForTest(cmdQuarantine, "delete", fresh, "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "deleted "+fresh) {
		t.Fatalf("delete: %d %s %s", code, out, errs)
	}
	code, _, errs = runCmdForTest(cmdQuarantine, "delete", fresh, "--data-dir", dir)
	if code != 1 || !strings.Contains(errs, "no such item") {
		t.Fatalf("second delete: %d %s", code, errs)
	}
	code, out, _ = runCmdForTest(cmdQuarantine, "list", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "empty") {
		t.Fatalf("list after: %d %s", code, out)
	}
	want := "viewed:" + fresh + " destroyed:" + expired + " deleted:" + fresh
	if got := strings.Join(quarantineEventActions(t, dir), " "); got != want {
		t.Fatalf("events = %s, want %s", got, want)
	}
	if code, out, _ := runCmdForTest(cmdEvents, "verify", "--data-dir", dir); code != 0 || !strings.Contains(out, "3 events") {
		t.Fatalf("verify: %d %s", code, out)
	}
}

func TestQuarantineErrors(t *testing.T) {
	dir, fresh, _ := quarantineFixture(t)
	missing := filepath.Join(t.TempDir(), "nope")
	code, _, errs := runCmdForTest(cmdQuarantine, "list", "--data-dir", missing)
	if code != 1 || !strings.Contains(errs, "is --data-dir right?") {
		t.Fatalf("missing dir: %d %s", code, errs)
	}
	for _, args := range [][]string{{}, {"purge"}, {"show"}, {"release", fresh}, {"list", "x"}} {
		code, _, errs := runCmdForTest(cmdQuarantine, append(args, "--data-dir", dir)...)
		if code != 2 || errs == "" {
			t.Errorf("quarantine %v: exit %d, stderr %q", args, code, errs)
		}
	}
	// Another key: a clear error, not garbage.
	t.Setenv(quarantine.DefaultKeyEnv, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{8}, 32)))
	code, out, errs := runCmdForTest(cmdQuarantine, "show", fresh, "--body", "--data-dir", dir)
	if code != 1 || out != "" || !strings.Contains(errs, "another key") {
		t.Fatalf("show with another key: %d %q %s", code, out, errs)
	}
}

// testNextHop is a go-smtp server on 127.0.0.1 that keeps what it receives.
type testNextHop struct {
	mu       sync.Mutex
	from     string
	rcpts    []string
	data     []byte
	rejectTo string
	tls      *tls.Config // STARTTLS offered when set
	overTLS  bool        // the last session was inside TLS
}

type hopSession struct{ h *testNextHop }

func (h *testNextHop) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	h.mu.Lock()
	h.overTLS = isTLS
	h.mu.Unlock()
	return &hopSession{h}, nil
}
func (s *hopSession) Reset()        {}
func (s *hopSession) Logout() error { return nil }
func (s *hopSession) Mail(from string, _ *smtp.MailOptions) error {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	s.h.from = from
	return nil
}
func (s *hopSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	if to == s.h.rejectTo {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.h.rcpts = append(s.h.rcpts, to)
	return nil
}
func (s *hopSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	s.h.data = b
	return err
}

func startTestNextHop(t *testing.T, h *testNextHop) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(h)
	srv.Domain = "next-hop.test"
	srv.TLSConfig = h.tls
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			t.Error(err)
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return ln.Addr().String()
}

func TestQuarantineReleaseOverSMTP(t *testing.T) {
	dir, fresh, _ := quarantineFixture(t)
	// A next hop that refuses a recipient: the item stays.
	refusing := &testNextHop{rejectTo: "y@example.com"}
	addr := startTestNextHop(t, refusing)
	code, _, errs := runCmdForTest(cmdQuarantine, "release", fresh, "--smtp-next-hop", addr, "--data-dir", dir)
	if code != 1 || !strings.Contains(errs, "RCPT TO:<y@example.com>") || !strings.Contains(errs, "no such user") {
		t.Fatalf("release to a refusing hop: %d %s", code, errs)
	}
	if refusing.data != nil {
		t.Fatal("the refusing hop got data")
	}
	if code, out, _ := runCmdForTest(cmdQuarantine, "list", "--data-dir", dir); code != 0 || !strings.Contains(out, fresh) {
		t.Fatalf("item gone after a failed release: %s", out)
	}

	hop := &testNextHop{}
	addr = startTestNextHop(t, hop)
	code, out, errs := runCmdForTest(cmdQuarantine, "release", "--data-dir", dir, fresh, "--smtp-next-hop", addr, "--helo", "sekisho.test")
	if code != 0 || !strings.Contains(out, "released "+fresh) {
		t.Fatalf("release: %d %s %s", code, out, errs)
	}
	hop.mu.Lock()
	defer hop.mu.Unlock()
	if hop.from != "tanaka@city.example.jp" || strings.Join(hop.rcpts, ",") != "x@example.com,y@example.com" {
		t.Fatalf("envelope at the next hop: %q %v", hop.from, hop.rcpts)
	}
	if string(hop.data) != quarantineTestMessage {
		t.Fatalf("message at the next hop:\n%q\nwant\n%q", hop.data, quarantineTestMessage)
	}
	if code, _, _ := runCmdForTest(cmdQuarantine, "show", fresh, "--data-dir", dir); code != 1 {
		t.Fatal("released item still in the quarantine")
	}
	got := quarantineEventActions(t, dir)
	if len(got) != 2 || got[0] != "release-failed:"+fresh || got[1] != "released:"+fresh {
		t.Fatalf("events = %v", got)
	}
}

// TestQuarantineReleaseNextHopTLS: release says STARTTLS as the relay does.
// Opportunistic (the default) encrypts to a next hop that offers it even
// with a self-signed certificate; required refuses a next hop without
// STARTTLS or with a certificate that does not verify, and the item stays;
// none stays in plain text.
func TestQuarantineReleaseNextHopTLS(t *testing.T) {
	certFile, keyFile := filepath.Join(t.TempDir(), "cert.pem"), filepath.Join(t.TempDir(), "key.pem")
	selfSignedPEM(t, certFile, keyFile)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	for _, tc := range []struct {
		name      string
		offerTLS  bool
		flags     []string
		wantErr   string // "" = released
		wantOnTLS bool
	}{
		{"required, not offered", false, []string{"--smtp-next-hop-tls", "required"}, "does not offer STARTTLS", false},
		{"required, self-signed", true, []string{"--smtp-next-hop-tls", "required"}, "certificate", false},
		{"opportunistic, not offered", false, nil, "", false},
		{"opportunistic, offered", true, nil, "", true},
		{"none, offered", true, []string{"--smtp-next-hop-tls", "none"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, fresh, _ := quarantineFixture(t)
			hop := &testNextHop{}
			if tc.offerTLS {
				hop.tls = serverTLS
			}
			addr := startTestNextHop(t, hop)
			args := append([]string{"release", fresh, "--data-dir", dir, "--smtp-next-hop", addr, "--timeout", "10s"}, tc.flags...)
			code, _, errs := runCmdForTest(cmdQuarantine, args...)
			hop.mu.Lock()
			defer hop.mu.Unlock()
			if tc.wantErr != "" {
				if code != 1 || !strings.Contains(errs, tc.wantErr) || hop.data != nil {
					t.Fatalf("exit %d, stderr %q, next hop got %d bytes; want a refusal naming %q and nothing sent", code, errs, len(hop.data), tc.wantErr)
				}
				if code, out, _ := runCmdForTest(cmdQuarantine, "list", "--data-dir", dir); code != 0 || !strings.Contains(out, fresh) {
					t.Fatalf("item gone after a refused release: %s", out)
				}
				return
			}
			if code != 0 || string(hop.data) != quarantineTestMessage {
				t.Fatalf("exit %d, stderr %q; next hop got %q", code, errs, hop.data)
			}
			if hop.overTLS != tc.wantOnTLS {
				t.Errorf("sent inside TLS: %v, want %v", hop.overTLS, tc.wantOnTLS)
			}
		})
	}
	if code, _, errs := runCmdForTest(cmdQuarantine, "release", "x", "--smtp-next-hop", "127.0.0.1:1", "--smtp-next-hop-tls", "maybe"); code != 2 || !strings.Contains(errs, "not one of") {
		t.Errorf("bad --smtp-next-hop-tls: exit %d, %q", code, errs)
	}
}
