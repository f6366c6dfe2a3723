// sekisho patch: tests of the XFORWARD extension (not part of upstream).

package smtp_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
)

type xfBackend struct {
	allowed bool
	mu      sync.Mutex
	got     []map[string]string // per XFORWARD command
	atMail  map[string]string   // what the session held when MAIL came
	resets  int
}

type xfSession struct {
	be  *xfBackend
	cur map[string]string
}

func (b *xfBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &xfSession{be: b}, nil }
func (s *xfSession) XForwardAllowed() bool                       { return s.be.allowed }
func (s *xfSession) XForward(attrs map[string]string) error {
	s.be.mu.Lock()
	defer s.be.mu.Unlock()
	if attrs["ADDR"] == "192.0.2.66" {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "not that one"}
	}
	s.be.got = append(s.be.got, attrs)
	if s.cur == nil {
		s.cur = map[string]string{}
	}
	for k, v := range attrs {
		s.cur[k] = v
	}
	return nil
}
func (s *xfSession) Mail(string, *smtp.MailOptions) error {
	s.be.mu.Lock()
	defer s.be.mu.Unlock()
	s.be.atMail = s.cur
	return nil
}
func (s *xfSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *xfSession) Data(r io.Reader) error               { _, err := io.Copy(io.Discard, r); return err }
func (s *xfSession) Reset() {
	s.be.mu.Lock()
	defer s.be.mu.Unlock()
	s.cur = nil
	s.be.resets++
}
func (s *xfSession) Logout() error { return nil }

// xfDialog starts a server for be and returns a function that sends one
// line and returns the reply's lines.
func xfDialog(t *testing.T, be smtp.Backend) func(cmd string) []string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := smtp.NewServer(be)
	s.Domain = "localhost"
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	r := bufio.NewReader(c)
	read := func() []string {
		var lines []string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("read reply: %v (so far %q)", err, lines)
			}
			lines = append(lines, strings.TrimRight(line, "\r\n"))
			if len(line) < 4 || line[3] != '-' {
				return lines
			}
		}
	}
	read() // greeting
	return func(cmd string) []string {
		if _, err := io.WriteString(c, cmd+"\r\n"); err != nil {
			t.Fatal(err)
		}
		return read()
	}
}

func TestXForwardAllowed(t *testing.T) {
	be := &xfBackend{allowed: true}
	say := xfDialog(t, be)
	if got := say("XFORWARD ADDR=192.0.2.7"); !strings.HasPrefix(got[0], "503 5.5.1") {
		t.Errorf("XFORWARD before EHLO: %q, want 503", got)
	}
	ehlo := strings.Join(say("EHLO mta.test"), "\n")
	if !strings.Contains(ehlo, "250-XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE") &&
		!strings.Contains(ehlo, "250 XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE") {
		t.Fatalf("EHLO does not offer XFORWARD:\n%s", ehlo)
	}
	// Two commands (as Postfix splits them), xtext decoded, names in any case.
	for _, cmd := range []string{
		"XFORWARD NAME=pc12.city.example ADDR=192.0.2.7 PORT=50123 PROTO=ESMTP",
		"XFORWARD helo=PC+2D12 IDENT=4XyZ1 SOURCE=REMOTE",
	} {
		if got := say(cmd); got[0] != "250 2.0.0 Ok" {
			t.Fatalf("%s: %q", cmd, got)
		}
	}
	say("MAIL FROM:<a@city.example>")
	if got := say("XFORWARD ADDR=192.0.2.8"); !strings.HasPrefix(got[0], "503 5.5.1") {
		t.Errorf("XFORWARD inside a transaction: %q, want 503", got)
	}
	say("RSET")
	for cmd, want := range map[string]string{
		"XFORWARD":                    "501 5.5.4",
		"XFORWARD FOO=bar":            "501 5.5.4",
		"XFORWARD ADDR":               "501 5.5.4",
		"XFORWARD ADDR=1+2":           "501 5.5.4", // broken xtext
		"XFORWARD ADDR=192.0.2.66":    "550 5.7.1", // the session's own refusal
		"XFORWARD NAME=[UNAVAILABLE]": "250 2.0.0",
	} {
		if got := say(cmd); !strings.HasPrefix(got[0], want) {
			t.Errorf("%s: %q, want %s", cmd, got, want)
		}
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	want := map[string]string{"NAME": "pc12.city.example", "ADDR": "192.0.2.7", "PORT": "50123", "PROTO": "ESMTP",
		"HELO": "PC-12", "IDENT": "4XyZ1", "SOURCE": "REMOTE"}
	for k, v := range want {
		if be.atMail[k] != v {
			t.Errorf("at MAIL %s = %q, want %q (all: %v)", k, be.atMail[k], v, be.atMail)
		}
	}
	if len(be.got) != 3 || be.got[2]["NAME"] != "[UNAVAILABLE]" {
		t.Errorf("commands passed on: %v", be.got)
	}
}

func TestXForwardNotAllowed(t *testing.T) {
	be := &xfBackend{allowed: false}
	say := xfDialog(t, be)
	if ehlo := strings.Join(say("EHLO mta.test"), "\n"); strings.Contains(ehlo, "XFORWARD") {
		t.Fatalf("EHLO offers XFORWARD to a client that may not use it:\n%s", ehlo)
	}
	if got := say("XFORWARD ADDR=192.0.2.7"); !strings.HasPrefix(got[0], "550 5.7.0") {
		t.Errorf("XFORWARD from a client not allowed: %q, want 550 5.7.0", got)
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	if len(be.got) != 0 {
		t.Errorf("attributes passed on: %v", be.got)
	}
}

// A session that does not implement XForwardSession: the command is unknown.
func TestXForwardUnknownWithoutSession(t *testing.T) {
	say := xfDialog(t, &plainBackend{})
	if ehlo := strings.Join(say("EHLO mta.test"), "\n"); strings.Contains(ehlo, "XFORWARD") {
		t.Fatalf("EHLO offers XFORWARD:\n%s", ehlo)
	}
	if got := say("XFORWARD ADDR=192.0.2.7"); !strings.HasPrefix(got[0], "500 5.5.2") {
		t.Errorf("XFORWARD: %q, want 500", got)
	}
}

type plainBackend struct{}
type plainSession struct{}

func (plainBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return plainSession{}, nil }
func (plainSession) Mail(string, *smtp.MailOptions) error        { return nil }
func (plainSession) Rcpt(string, *smtp.RcptOptions) error        { return nil }
func (plainSession) Data(io.Reader) error                        { return nil }
func (plainSession) Reset()                                      {}
func (plainSession) Logout() error                               { return nil }
