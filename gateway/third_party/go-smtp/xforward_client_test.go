// sekisho patch: tests of Client.XForward (not part of upstream).

package smtp

import (
	"strings"
	"testing"
)

var xfAttrs = map[string]string{"NAME": "", "ADDR": "192.0.2.7", "HELO": "PC 12+x", "IDENT": "4XyZ1"}

func TestXForwardPipelinedWithMailRcpt(t *testing.T) {
	c, w := pipelineClient("250 2.0.0 Ok\n250 2.1.0 ok\n250 2.1.5 ok\n250 2.1.0 ok\n250 2.1.5 ok\n")
	c.ext["XFORWARD"] = "NAME ADDR HELO" // no IDENT: not sent
	c.XForward(xfAttrs)
	if mailErr, rcptErr := c.MailRcpt("a@example.jp", nil, "b@example.com", nil); mailErr != nil || rcptErr != nil {
		t.Fatalf("MailRcpt = %v, %v", mailErr, rcptErr)
	}
	want := "XFORWARD NAME=[UNAVAILABLE] ADDR=192.0.2.7 HELO=PC+2012+2Bx\r\n" +
		"MAIL FROM:<a@example.jp> BODY=8BITMIME\r\nRCPT TO:<b@example.com>\r\n"
	if len(w.writes) != 1 || w.writes[0] != want {
		t.Fatalf("writes = %q, want one write %q", w.writes, want)
	}
	// Sent once: the next transaction has none.
	if mailErr, rcptErr := c.MailRcpt("a@example.jp", nil, "c@example.com", nil); mailErr != nil || rcptErr != nil {
		t.Fatalf("second MailRcpt = %v, %v", mailErr, rcptErr)
	}
	if len(w.writes) != 2 || strings.Contains(w.writes[1], "XFORWARD") {
		t.Errorf("second transaction's writes = %q, want no XFORWARD", w.writes[1:])
	}
}

func TestXForwardRefusedDoesNotStopMail(t *testing.T) {
	c, _ := pipelineClient("550 5.7.0 Error: insufficient authorization\n250 2.1.0 ok\n250 2.1.5 ok\n250 2.0.0 reset\n")
	c.ext["XFORWARD"] = "ADDR"
	c.XForward(xfAttrs)
	if mailErr, rcptErr := c.MailRcpt("a@example.jp", nil, "b@example.com", nil); mailErr != nil || rcptErr != nil {
		t.Fatalf("MailRcpt after a refused XFORWARD = %v, %v; want the mail to go on", mailErr, rcptErr)
	}
	if err := c.Reset(); err != nil { // every reply was consumed in order
		t.Fatalf("Reset: %v", err)
	}
}

func TestXForwardLockStepAndNotOffered(t *testing.T) {
	c, w := pipelineClient("250 Ok\n250 ok\n")
	c.ext["XFORWARD"] = "ADDR HELO"
	c.XForward(xfAttrs)
	if err := c.Mail("a@example.jp", nil); err != nil {
		t.Fatal(err)
	}
	if len(w.writes) != 2 || w.writes[0] != "XFORWARD ADDR=192.0.2.7 HELO=PC+2012+2Bx\r\n" {
		t.Errorf("writes = %q", w.writes)
	}
	c, w = pipelineClient("250 ok\n250 ok\n")
	c.XForward(xfAttrs) // not offered
	c.MailRcpt("a@example.jp", nil, "b@example.com", nil)
	if strings.Contains(strings.Join(w.writes, ""), "XFORWARD") {
		t.Errorf("XFORWARD sent to a server that does not offer it: %q", w.writes)
	}
}

// FuzzParseXForward: any XFORWARD argument parses or is refused without a
// panic, and what parses survives the client's encoding unchanged.
func FuzzParseXForward(f *testing.F) {
	for _, s := range []string{
		"NAME=pc12.city.example ADDR=192.0.2.7 PORT=50123 PROTO=ESMTP",
		"helo=PC+2D12 IDENT=4XyZ1 SOURCE=REMOTE", "ADDR=IPV6:2001:db8::1", "ADDR=[UNAVAILABLE]",
		"", "ADDR", "FOO=bar", "ADDR=1+2", "NAME==x", "HELO=+41+42",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		attrs, err := parseXForward(arg)
		if err != nil {
			return
		}
		c := &Client{ext: map[string]string{"XFORWARD": strings.Join(xforwardAttrs, " ")}}
		c.XForward(attrs)
		line, ok := strings.CutPrefix(c.xforward, "XFORWARD ")
		if !ok {
			t.Fatalf("%q parsed to %v, encoded to %q", arg, attrs, c.xforward)
		}
		again, err := parseXForward(line)
		if err != nil {
			t.Fatalf("%q parsed to %v, encoded to %q, which does not parse: %v", arg, attrs, line, err)
		}
		for k, v := range attrs {
			if v == "" {
				v = "[UNAVAILABLE]"
			}
			if again[k] != v {
				t.Fatalf("%q: %s=%q became %q through %q", arg, k, v, again[k], line)
			}
		}
	})
}
