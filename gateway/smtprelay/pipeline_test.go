package smtprelay

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// wireTap sits between the relay and the sink: it records what the relay
// sends, one entry per read (a pipelined group arrives in one), and can
// hide PIPELINING from the sink's EHLO reply.
type wireTap struct {
	addr           string
	hidePipelining bool

	mu    sync.Mutex
	reads []string
}

func startWireTap(t *testing.T, sinkAddr string, hidePipelining bool) *wireTap {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := &wireTap{addr: l.Addr().String(), hidePipelining: hidePipelining}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go w.serve(t, c, sinkAddr)
		}
	}()
	return w
}

func (w *wireTap) serve(t *testing.T, c net.Conn, sinkAddr string) {
	defer c.Close()
	up, err := net.Dial("tcp", sinkAddr)
	if err != nil {
		t.Errorf("wire tap: %v", err)
		return
	}
	defer up.Close()
	go func() { // sink → relay: as it comes, or line by line to hide PIPELINING
		if !w.hidePipelining {
			io.Copy(c, up) // also TLS records after STARTTLS
			c.Close()
			return
		}
		r := bufio.NewReader(up)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				c.Close()
				return
			}
			if w.hidePipelining && strings.Contains(line, "PIPELINING") {
				continue // "250-PIPELINING" is never the last line of the reply
			}
			if _, err := io.WriteString(c, line); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 64<<10)
	for { // relay → sink
		n, err := c.Read(buf)
		if n > 0 {
			w.mu.Lock()
			w.reads = append(w.reads, string(buf[:n]))
			w.mu.Unlock()
			if _, err := up.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// mailRead returns the first read that starts with MAIL FROM.
func (w *wireTap) mailRead() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range w.reads {
		if strings.HasPrefix(r, "MAIL FROM:") {
			return r
		}
	}
	return ""
}

// refuseSpoofed makes a sink refuse senders spoofed@… at MAIL.
func refuseSpoofed(k *sink) {
	k.mailErr = func(from string) error {
		if strings.HasPrefix(from, "spoofed@") {
			return &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "sender refused"}
		}
		return nil
	}
}

// TestNextHopPipelining: MAIL goes to a next hop that offers PIPELINING
// together with the first RCPT, in one write; the mail arrives.
func TestNextHopPipelining(t *testing.T) {
	k := startSink(t, nil, nil)
	tap := startWireTap(t, k.addr, false)
	tr := startRelay(t, tap.addr, nil, nil)
	res := send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example", "jiro@partner.example"}, testMessage("hi\r\n"))
	wantCode(t, "DATA", res.dataErr, 250)
	got := tap.mailRead()
	if !strings.HasPrefix(got, "MAIL FROM:<taro@city.example>") || !strings.HasSuffix(got, "\r\nRCPT TO:<hanako@partner.example>\r\n") {
		t.Fatalf("MAIL and the first RCPT not sent together: %q", got)
	}
	if m := k.messages(); len(m) != 1 || strings.Join(m[0].to, ",") != "hanako@partner.example,jiro@partner.example" {
		t.Fatalf("delivered: %+v", m)
	}
}

// TestNextHopWithoutPipelining: a next hop that does not offer PIPELINING
// gets one command at a time, and its refusal of the sender is answered at
// MAIL.
func TestNextHopWithoutPipelining(t *testing.T) {
	k := startSink(t, nil, refuseSpoofed)
	tap := startWireTap(t, k.addr, true)
	tr := startRelay(t, tap.addr, nil, nil)
	res := send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, testMessage("hi\r\n"))
	wantCode(t, "DATA", res.dataErr, 250)
	if got := tap.mailRead(); !strings.HasPrefix(got, "MAIL FROM:<taro@city.example>") || strings.Contains(got, "RCPT") {
		t.Fatalf("MAIL sent with RCPT to a next hop without PIPELINING: %q", got)
	}
	res = send(t, tr.addr, "spoofed@city.example", []string{"hanako@partner.example"}, testMessage("hi\r\n"))
	wantCode(t, "MAIL", res.mailErr, 553, "5.7.1", "sender refused")
	if m := k.messages(); len(m) != 1 {
		t.Fatalf("delivered %d messages, want 1", len(m))
	}
}

// TestNextHopRefusesSenderAtRcpt: with PIPELINING, the next hop's refusal
// of the sender reaches the client at RCPT with the next hop's code, and
// the session can go on with another transaction.
func TestNextHopRefusesSenderAtRcpt(t *testing.T) {
	k := startSink(t, nil, refuseSpoofed)
	tr := startRelay(t, k.addr, nil, nil)
	c, err := smtp.Dial(tr.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wantCode(t, "MAIL spoofed", c.Mail("spoofed@city.example", nil), 250)
	wantCode(t, "RCPT 1", c.Rcpt("hanako@partner.example", nil), 553, "5.7.1", "sender refused")
	wantCode(t, "RCPT 2", c.Rcpt("jiro@partner.example", nil), 553, "5.7.1", "sender refused")
	if _, err := c.Data(); err == nil {
		t.Fatal("DATA accepted without a recipient")
	}
	wantCode(t, "RSET", c.Reset(), 250)
	wantCode(t, "MAIL", c.Mail("taro@city.example", nil), 250)
	wantCode(t, "RCPT", c.Rcpt("hanako@partner.example", nil), 250)
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write(testMessage("hi\r\n"))
	wantCode(t, "DATA", w.Close(), 250)
	if m := k.messages(); len(m) != 1 || m[0].from != "taro@city.example" {
		t.Fatalf("delivered: %+v", m)
	}
}

// TestStalePooledConnectionReplaced: the next hop closed a pooled
// connection (idle timeout, 421): the relay notices at the pipelined MAIL
// and RCPT, dials again and the mail goes through.
func TestStalePooledConnectionReplaced(t *testing.T) {
	k := startSink(t, nil, func(k *sink) { k.readTimeout = 300 * time.Millisecond })
	tr := startRelay(t, k.addr, func(c *Config) { c.NextHopIdle = 4 }, nil)
	res := send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, testMessage("first\r\n"))
	wantCode(t, "DATA 1", res.dataErr, 250)
	time.Sleep(800 * time.Millisecond) // the sink drops the pooled connection
	res = send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, testMessage("second\r\n"))
	wantCode(t, "RCPT 2", res.rcptErrs[0], 250)
	wantCode(t, "DATA 2", res.dataErr, 250)
	if m := k.messages(); len(m) != 2 {
		t.Fatalf("delivered %d messages, want 2", len(m))
	}
}
