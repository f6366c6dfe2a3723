package httpproxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// writeCounter counts the writes made to the connections it accepted.
type writeCounter struct {
	net.Listener
	writes atomic.Int64
}

func (l *writeCounter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countedConn{Conn: c, n: &l.writes}, nil
}

type countedConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countedConn) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(p)
}

// ReadFrom is there because a *net.TCPConn has one, and the server takes a
// different path when it does; it counts its writes too.
func (c *countedConn) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{c}, r)
}

// A small response (header and a 1 KiB body) reaches the client in one
// write, not one for the header and the first 512 bytes and one for the
// rest; a large one arrives whole and byte-identical.
func TestResponseWrittenInOnePiece(t *testing.T) {
	small := strings.Repeat("0123456789abcdef", 64)
	large := strings.Repeat("large response body, streamed. ", 40000) // ~1.2 MB
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := small
		if r.URL.Path == "/large" {
			body = large
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		io.WriteString(w, body)
	}))
	t.Cleanup(origin.Close)
	wc := &writeCounter{}
	px := startProxyOn(t, nil, func(ln net.Listener) net.Listener { wc.Listener = ln; return wc })

	c, err := net.Dial("tcp", px.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	get := func(path string) string {
		t.Helper()
		fmt.Fprintf(c, "GET %s%s HTTP/1.1\r\nHost: %s\r\n\r\n", origin.URL, path, strings.TrimPrefix(origin.URL, "http://"))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d, %v", path, resp.StatusCode, err)
		}
		return string(b)
	}
	if got := get("/small"); got != small {
		t.Fatalf("small body: got %d bytes", len(got))
	}
	if n := wc.writes.Load(); n != 1 {
		t.Errorf("a 1 KiB response took %d writes, want 1", n)
	}
	if got := get("/large"); got != large {
		t.Fatalf("large body differs: got %d bytes, want %d", len(got), len(large))
	}
}
