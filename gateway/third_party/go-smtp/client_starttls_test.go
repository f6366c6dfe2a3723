// sekisho patch: tests of Client.StartTLS (not part of upstream).

package smtp

import (
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
)

// TestClientStartTLS: after an EHLO that offers STARTTLS, StartTLS makes
// the handshake, says EHLO inside TLS and returns the TLS connection the
// session goes on over (serverHandle answers only that sequence).
func TestClientStartTLS(t *testing.T) {
	ln := newLocalListener(t)
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		done <- serverHandle(c, t)
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(conn)
	if err := c.Hello("localhost"); err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{ServerName: "example.com"}
	testHookStartTLS(cfg)
	tc, err := c.StartTLS(cfg)
	if err != nil {
		t.Fatalf("StartTLS: %v", err)
	}
	if cs := tc.ConnectionState(); !cs.HandshakeComplete {
		t.Error("handshake not complete on the returned connection")
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Error("extensions not read again inside TLS (STARTTLS still listed)")
	}
	if err := c.Quit(); err != nil {
		t.Fatalf("QUIT inside TLS: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("server: %v", err)
	}
}

// TestClientStartTLSRefusals: no STARTTLS offered, a refused STARTTLS and
// replies injected behind the 220 all fail before any TLS, with nothing
// sent after the STARTTLS command.
func TestClientStartTLSRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, server, want string
		code               int
	}{
		{"not offered", "220 hi\n250-hi\n250 8BITMIME\n", "doesn't support STARTTLS", 0},
		{"refused", "220 hi\n250-hi\n250 STARTTLS\n454 4.7.0 TLS not available\n", "TLS not available", 454},
		{"injected", "220 hi\n250-hi\n250 STARTTLS\n220 go ahead\n250 injected\n", "before the TLS handshake", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &writeLog{}
			c := NewClient(faker{ReadWriter: struct {
				io.Reader
				io.Writer
			}{strings.NewReader(strings.ReplaceAll(tc.server, "\n", "\r\n")), w}})
			_, err := c.StartTLS(&tls.Config{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || smtpCode(err) != tc.code {
				t.Fatalf("StartTLS = %v; want %q (code %d)", err, tc.want, tc.code)
			}
			if last := w.writes[len(w.writes)-1]; !strings.HasPrefix(last, "STARTTLS") && !strings.HasPrefix(last, "EHLO") {
				t.Errorf("wrote %q after STARTTLS", last)
			}
		})
	}
}
