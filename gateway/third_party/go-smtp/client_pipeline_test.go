// sekisho patch: tests of Client.MailRcpt (not part of upstream).

package smtp

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// writeLog records each Write separately.
type writeLog struct{ writes []string }

func (w *writeLog) Write(p []byte) (int, error) {
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func pipelineClient(server string) (*Client, *writeLog) {
	w := &writeLog{}
	fake := faker{ReadWriter: struct {
		io.Reader
		io.Writer
	}{strings.NewReader(strings.ReplaceAll(server, "\n", "\r\n")), w}}
	c := NewClient(fake)
	c.didHello = true
	c.ext = map[string]string{"PIPELINING": "", "8BITMIME": ""}
	return c, w
}

func smtpCode(err error) int {
	var se *SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func TestMailRcptOneWrite(t *testing.T) {
	c, w := pipelineClient("250 2.1.0 ok\n250 2.1.5 ok\n250 2.1.5 ok\n")
	mailErr, rcptErr := c.MailRcpt("a@example.jp", nil, "b@example.com", nil)
	if mailErr != nil || rcptErr != nil {
		t.Fatalf("MailRcpt = %v, %v", mailErr, rcptErr)
	}
	want := "MAIL FROM:<a@example.jp> BODY=8BITMIME\r\nRCPT TO:<b@example.com>\r\n"
	if len(w.writes) != 1 || w.writes[0] != want {
		t.Fatalf("writes = %q, want one write %q", w.writes, want)
	}
	// The textproto sequencer moved on: a later command does not hang and
	// reads its own reply.
	if err := c.Rcpt("c@example.com", nil); err != nil {
		t.Fatalf("second Rcpt: %v", err)
	}
	if strings.Join(c.rcpts, ",") != "b@example.com,c@example.com" {
		t.Errorf("rcpts = %q", c.rcpts)
	}
}

func TestMailRcptMailRefused(t *testing.T) {
	c, _ := pipelineClient("553 5.1.8 sender refused\n503 5.5.1 need MAIL\n250 2.0.0 reset\n")
	mailErr, rcptErr := c.MailRcpt("bad@example.jp", nil, "b@example.com", nil)
	if smtpCode(mailErr) != 553 || rcptErr != mailErr {
		t.Fatalf("MailRcpt = %v, %v; want the 553 as both", mailErr, rcptErr)
	}
	// Both replies were consumed: RSET reads its own 250, not the 503.
	if err := c.Reset(); err != nil {
		t.Fatalf("Reset after refused MAIL: %v", err)
	}
}

func TestMailRcptRcptRefused(t *testing.T) {
	c, _ := pipelineClient("250 ok\n550 5.1.1 no such user\n")
	mailErr, rcptErr := c.MailRcpt("a@example.jp", nil, "nobody@example.com", nil)
	if mailErr != nil || smtpCode(rcptErr) != 550 {
		t.Fatalf("MailRcpt = %v, %v; want nil, 550", mailErr, rcptErr)
	}
	if len(c.rcpts) != 0 {
		t.Errorf("rcpts = %q, want none", c.rcpts)
	}
}

func TestMailRcptConnectionLost(t *testing.T) {
	// Closed before any reply: both are connection errors.
	c, _ := pipelineClient("")
	mailErr, rcptErr := c.MailRcpt("a@example.jp", nil, "b@example.com", nil)
	if mailErr == nil || smtpCode(mailErr) != 0 || rcptErr == nil || smtpCode(rcptErr) != 0 {
		t.Fatalf("MailRcpt = %v, %v; want two connection errors", mailErr, rcptErr)
	}
	// Closed after the MAIL refusal: the refusal, and the broken connection.
	c, _ = pipelineClient("451 4.3.0 try later\n")
	mailErr, rcptErr = c.MailRcpt("a@example.jp", nil, "b@example.com", nil)
	if smtpCode(mailErr) != 451 || rcptErr == nil || smtpCode(rcptErr) != 0 {
		t.Fatalf("MailRcpt = %v, %v; want 451 and a connection error", mailErr, rcptErr)
	}
}

func TestMailRcptBadAddressSendsNothing(t *testing.T) {
	c, w := pipelineClient("")
	mailErr, rcptErr := c.MailRcpt("a@example.jp", nil, "b@example.com\r\nDATA", nil)
	if mailErr == nil || rcptErr == nil {
		t.Fatalf("MailRcpt = %v, %v; want an error", mailErr, rcptErr)
	}
	if len(w.writes) != 0 {
		t.Fatalf("writes = %q, want none", w.writes)
	}
}
