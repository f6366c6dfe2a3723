package smtprelay

import (
	"maps"
	"net/netip"
	"net/textproto"
	"slices"
	"strings"
	"testing"

	"github.com/sekisho-dlp/sekisho/gateway"
)

// xfConversation speaks to the relay line by line: EHLO, then each of cmds
// (XFORWARD, MAIL, ...), then the message; it returns the EHLO reply and
// the reply code of each command.
func xfConversation(t *testing.T, addr string, cmds []string, msg []byte) (ehlo string, codes []int) {
	t.Helper()
	c, err := textproto.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, _, err := c.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	c.PrintfLine("EHLO postfix.test")
	_, ehlo, err = c.ReadResponse(250)
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range cmds {
		c.PrintfLine("%s", cmd)
		code, _, _ := c.ReadResponse(0)
		codes = append(codes, code)
		if cmd == "DATA" && code == 354 {
			w := c.DotWriter()
			w.Write(msg)
			w.Close()
			code, _, _ = c.ReadResponse(0)
			codes = append(codes, code)
		}
	}
	c.PrintfLine("QUIT")
	return ehlo, codes
}

// TestXForwardNamesOriginalClient: Postfix in front (loopback, in
// XForwardNetworks by default) names the original client; the event and
// the inspection see it, with Postfix as "via"; the next transaction on the
// same connection, without XFORWARD, is Postfix's own again.
func TestXForwardNamesOriginalClient(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, nil, nil)
	var inspected []string
	tr.insp.decide = func(_ []byte, it gateway.Item) (*gateway.Verdict, error) {
		inspected = append(inspected, it.Client)
		return allowVerdict(), nil
	}
	msg := testMessage("hello\r\n")
	ehlo, codes := xfConversation(t, tr.addr, []string{
		"XFORWARD NAME=pc12.city.example ADDR=192.0.2.7 PORT=50123 PROTO=ESMTP",
		"XFORWARD HELO=PC+2D12 IDENT=4XyZ1 SOURCE=REMOTE",
		"MAIL FROM:<taro@city.example>", "RCPT TO:<hanako@partner.example>", "DATA",
		"MAIL FROM:<taro@city.example>", "RCPT TO:<hanako@partner.example>", "DATA",
	}, msg)
	if !strings.Contains(ehlo, "XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE") {
		t.Fatalf("EHLO reply does not offer XFORWARD to loopback:\n%s", ehlo)
	}
	want := []int{250, 250, 250, 250, 354, 250, 250, 250, 354, 250}
	if !slices.Equal(codes, want) {
		t.Fatalf("codes %v, want %v", codes, want)
	}
	evs := tr.rec.all()
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	if got, want := evs[0].Client, "192.0.2.7 (name pc12.city.example, helo PC-12, queue 4XyZ1; via 127.0.0.1)"; got != want {
		t.Errorf("event client %q, want %q", got, want)
	}
	if got := evs[1].Client; got != "127.0.0.1" {
		t.Errorf("second transaction's client %q, want the connection's (XFORWARD lasts one transaction)", got)
	}
	if strings.Join(inspected, ",") != "192.0.2.7,127.0.0.1" {
		t.Errorf("inspected clients %v", inspected)
	}
}

// TestXForwardRefusedOutsideNetworks: a client outside XForwardNetworks is
// not offered XFORWARD and cannot use it to put another address in the
// event log.
func TestXForwardRefusedOutsideNetworks(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, func(c *Config) { c.XForwardNetworks = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} }, nil)
	ehlo, codes := xfConversation(t, tr.addr, []string{
		"XFORWARD ADDR=192.0.2.7",
		"MAIL FROM:<taro@city.example>", "RCPT TO:<hanako@partner.example>", "DATA",
	}, testMessage("hello\r\n"))
	if strings.Contains(ehlo, "XFORWARD") {
		t.Errorf("XFORWARD offered outside xforward_networks:\n%s", ehlo)
	}
	if codes[0] != 550 || codes[len(codes)-1] != 250 {
		t.Fatalf("codes %v, want 550 for XFORWARD and the mail relayed", codes)
	}
	if evs := tr.rec.all(); len(evs) != 1 || evs[0].Client != "127.0.0.1" {
		t.Errorf("events %+v", evs)
	}
}

// TestXForwardPassedToNextHop: a next hop that offers XFORWARD (Postfix's
// re-injection listener) is told the original client with each MAIL: what
// Postfix in front forwarded, or else the connection's address and HELO.
func TestXForwardPassedToNextHop(t *testing.T) {
	k := startSink(t, nil, func(k *sink) { k.xforward = true })
	tr := startRelay(t, k.addr, nil, nil)
	_, codes := xfConversation(t, tr.addr, []string{
		"XFORWARD NAME=pc12.city.example ADDR=192.0.2.7 PORT=50123 PROTO=ESMTP HELO=PC+2D12 IDENT=4XyZ1 SOURCE=REMOTE",
		"MAIL FROM:<taro@city.example>", "RCPT TO:<hanako@partner.example>", "DATA",
		"MAIL FROM:<taro@city.example>", "RCPT TO:<hanako@partner.example>", "DATA",
	}, testMessage("hello\r\n"))
	if want := []int{250, 250, 250, 354, 250, 250, 250, 354, 250}; !slices.Equal(codes, want) {
		t.Fatalf("codes %v, want %v", codes, want)
	}
	// A blocked message: its bounce notice is sekisho's own mail and goes
	// without XFORWARD.
	tr.insp.decide = piiDecider("bounce")
	_, codes = xfConversation(t, tr.addr, []string{
		"XFORWARD ADDR=192.0.2.7",
		"MAIL FROM:<taro@city.example>", "RCPT TO:<hanako@partner.example>", "DATA",
	}, testMessage("個人番号 "+clearMyNumber+"\r\n"))
	if want := []int{250, 250, 250, 354, 250}; !slices.Equal(codes, want) {
		t.Fatalf("blocked message: codes %v, want %v", codes, want)
	}
	got := k.messages()
	if len(got) != 3 || got[2].from != "" {
		t.Fatalf("%d messages at the next hop (want 2 and the notice)", len(got))
	}
	if got[2].xforward != nil {
		t.Errorf("the notice went with XFORWARD %v", got[2].xforward)
	}
	want := map[string]string{"NAME": "pc12.city.example", "ADDR": "192.0.2.7", "PORT": "50123", "PROTO": "ESMTP",
		"HELO": "PC-12", "IDENT": "4XyZ1", "SOURCE": "REMOTE"}
	if !maps.Equal(got[0].xforward, want) {
		t.Errorf("first message's XFORWARD %v, want %v", got[0].xforward, want)
	}
	// The second transaction had no XFORWARD from Postfix: the next hop
	// hears of the connection itself (same pooled next-hop connection).
	want = map[string]string{"NAME": "[UNAVAILABLE]", "ADDR": "127.0.0.1", "HELO": "postfix.test"}
	if !maps.Equal(got[1].xforward, want) {
		t.Errorf("second message's XFORWARD %v, want %v", got[1].xforward, want)
	}
}

// TestClientDesc: how an event names the client, per what XFORWARD said.
func TestClientDesc(t *testing.T) {
	loop := netip.MustParseAddr("127.0.0.1")
	for _, tc := range []struct {
		xf   map[string]string
		user string
		want string
	}{
		{nil, "", "127.0.0.1"},
		{nil, "mfp-3f", "127.0.0.1 (user mfp-3f)"},
		{map[string]string{"ADDR": "IPV6:2001:db8::7", "NAME": "[UNAVAILABLE]", "HELO": "pc"}, "", "2001:db8::7 (helo pc; via 127.0.0.1)"},
		// Webmail on the Postfix host itself: the same address is still the client.
		{map[string]string{"ADDR": "127.0.0.1", "IDENT": "Q1"}, "", "127.0.0.1 (queue Q1; via 127.0.0.1)"},
		{map[string]string{"ADDR": "[UNAVAILABLE]", "SOURCE": "LOCAL", "IDENT": "Q2"}, "", "local submission (queue Q2; via 127.0.0.1)"},
		{map[string]string{"ADDR": "not-an-ip", "NAME": "x\x01y z"}, "", "unknown (name xyz; via 127.0.0.1)"},
	} {
		s := &session{remote: loop, user: tc.user}
		if tc.xf != nil {
			s.XForward(tc.xf)
		}
		if got := s.clientDesc(); got != tc.want {
			t.Errorf("XFORWARD %v: client %q, want %q", tc.xf, got, tc.want)
		}
	}
}
