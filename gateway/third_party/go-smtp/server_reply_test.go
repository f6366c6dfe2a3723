// sekisho patch: tests that a reply goes out in one write (not part of upstream).

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

// countingListener counts the writes on the connections it accepts.
type countingListener struct {
	net.Listener
	mu     sync.Mutex
	writes []string
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, l: l}, nil
}

type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.l.mu.Lock()
	c.l.writes = append(c.l.writes, string(p))
	c.l.mu.Unlock()
	return c.Conn.Write(p)
}

// TestMultilineReplyOneWrite: the EHLO reply, many lines, leaves in one
// write, as a one-line reply does.
func TestMultilineReplyOneWrite(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &countingListener{Listener: inner}
	s := smtp.NewServer(new(backend))
	s.Domain = "localhost"
	go s.Serve(l)
	defer s.Close()

	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	readReply := func() string {
		var b strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("reading reply: %v (got %q)", err, b.String())
			}
			b.WriteString(line)
			if len(line) >= 4 && line[3] == ' ' {
				return b.String()
			}
		}
	}
	readReply() // greeting
	io.WriteString(c, "EHLO localhost\r\n")
	ehlo := readReply()
	if n := strings.Count(ehlo, "\r\n"); n < 5 {
		t.Fatalf("EHLO reply has %d lines, want several: %q", n, ehlo)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.writes) != 2 || l.writes[1] != ehlo {
		t.Fatalf("writes %q, want the greeting and then the whole EHLO reply %q in one", l.writes, ehlo)
	}
}
