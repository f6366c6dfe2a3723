package smtprelay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// TLSMode says how sekisho uses STARTTLS towards the next hop.
type TLSMode string

const (
	TLSNone          TLSMode = "none"          // never
	TLSOpportunistic TLSMode = "opportunistic" // when offered, certificate not verified (unless NextHopTLSConfig says otherwise)
	TLSRequired      TLSMode = "required"      // fail (4xx) when not offered or the certificate does not verify
)

var errHopBroken = errors.New("smtprelay: next hop connection broken")

// hop is one connection to the next hop.
type hop struct {
	c      *smtp.Client
	conn   net.Conn
	plain  *writeDeadlineConn // conn itself when it is not TLS (see writeDeadlineConn.hold)
	broken bool
	used   time.Time
}

// pipelining reports whether the next hop offers PIPELINING, so that MAIL
// goes out with the first RCPT (see session.Mail).
func (h *hop) pipelining() bool {
	ok, _ := h.c.Extension("PIPELINING")
	return ok
}

// dialer opens and pools next-hop connections.
type dialer struct {
	addr       string
	helo       string
	mode       TLSMode
	tlsConfig  *tls.Config
	timeout    time.Duration // connect and per-command
	submission time.Duration // after the final dot

	mu      sync.Mutex
	idle    []*hop
	maxIdle int
	idleFor time.Duration
	closed  bool

	writers sync.Pool // *bufio.Writer of dotWriter
	bufs    sync.Pool // *[]byte, copyBufSize
}

// get returns an idle pooled connection or nil.
func (d *dialer) get() *hop {
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.idle) > 0 {
		h := d.idle[len(d.idle)-1]
		d.idle = d.idle[:len(d.idle)-1]
		if time.Since(h.used) < d.idleFor {
			return h
		}
		go h.close()
	}
	return nil
}

// put returns a healthy connection with no open transaction to the pool.
func (d *dialer) put(h *hop) {
	if h == nil {
		return
	}
	if h.broken {
		h.conn.Close()
		return
	}
	h.used = time.Now()
	d.mu.Lock()
	if !d.closed && len(d.idle) < d.maxIdle {
		d.idle = append(d.idle, h)
		d.mu.Unlock()
		return
	}
	d.mu.Unlock()
	go h.close()
}

// closeIdle closes every pooled connection; later puts close theirs.
func (d *dialer) closeIdle() {
	d.mu.Lock()
	idle := d.idle
	d.idle = nil
	d.closed = true
	d.mu.Unlock()
	for _, h := range idle {
		h.close()
	}
}

func (h *hop) close() {
	h.conn.SetDeadline(time.Now().Add(5 * time.Second))
	h.c.Quit()
	h.conn.Close()
}

// dial connects to the next hop, says EHLO and, per the TLS mode, starts TLS.
func (d *dialer) dial(ctx context.Context) (*hop, error) {
	nd := net.Dialer{Timeout: d.timeout}
	raw, err := nd.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, err
	}
	conn := net.Conn(&writeDeadlineConn{Conn: raw, timeout: d.timeout})
	if d.mode == TLSOpportunistic || d.mode == TLSRequired {
		conn, err = d.startTLS(conn)
		if err != nil {
			raw.Close()
			return nil, err
		}
	}
	c := smtp.NewClient(conn)
	c.CommandTimeout = d.timeout
	c.SubmissionTimeout = d.submission
	if err := c.Hello(d.helo); err != nil {
		raw.Close()
		return nil, err
	}
	return &hop{c: c, conn: conn, plain: plainConn(conn), used: time.Now()}, nil
}

// startTLS runs the exchange before TLS by hand (go-smtp's client has no
// opportunistic STARTTLS) and returns a conn on which go-smtp's client then
// reads a synthetic greeting.
func (d *dialer) startTLS(conn net.Conn) (net.Conn, error) {
	conn.SetDeadline(time.Now().Add(d.timeout))
	defer conn.SetDeadline(time.Time{})
	tp := textproto.NewConn(conn)
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, err
	}
	id, err := tp.Cmd("EHLO %s", d.helo)
	if err != nil {
		return nil, err
	}
	tp.StartResponse(id)
	_, msg, err := tp.ReadResponse(250)
	tp.EndResponse(id)
	if err != nil {
		return nil, err
	}
	offered := false
	for _, l := range strings.Split(msg, "\n") {
		if strings.EqualFold(strings.TrimSpace(l), "STARTTLS") {
			offered = true
		}
	}
	if !offered {
		if d.mode == TLSRequired {
			return nil, errors.New("smtprelay: next hop does not offer STARTTLS")
		}
		if tp.R.Buffered() > 0 {
			return nil, errors.New("smtprelay: next hop sent unexpected data")
		}
		return &greetConn{Conn: conn}, nil
	}
	id, err = tp.Cmd("STARTTLS")
	if err != nil {
		return nil, err
	}
	tp.StartResponse(id)
	_, _, err = tp.ReadResponse(220)
	tp.EndResponse(id)
	if err != nil {
		if d.mode == TLSRequired {
			return nil, fmt.Errorf("smtprelay: next hop STARTTLS: %w", err)
		}
		return nil, err
	}
	if tp.R.Buffered() > 0 {
		return nil, errors.New("smtprelay: next hop sent data after STARTTLS (injection)")
	}
	cfg := d.tlsConfig.Clone()
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		// Opportunistic TLS encrypts against passive eavesdropping only, as
		// Postfix's "may": an internal MTA's self-signed certificate must
		// not stop the mail. Required TLS verifies the certificate.
		cfg.InsecureSkipVerify = d.mode == TLSOpportunistic
	}
	if cfg.ServerName == "" {
		host, _, _ := net.SplitHostPort(d.addr)
		cfg.ServerName = host
	}
	tc := tls.Client(conn, cfg)
	if err := tc.Handshake(); err != nil {
		return nil, fmt.Errorf("smtprelay: next hop TLS handshake (STARTTLS): %w", err)
	}
	return &greetConn{Conn: tc}, nil
}

// plainConn returns the writeDeadlineConn under conn when nothing but the
// replayed greeting stands between them (no TLS), else nil.
func plainConn(conn net.Conn) *writeDeadlineConn {
	if g, ok := conn.(*greetConn); ok {
		conn = g.Conn
	}
	wd, _ := conn.(*writeDeadlineConn)
	return wd
}

// greetConn feeds go-smtp's client a greeting it already consumed.
type greetConn struct {
	net.Conn
	greeted bool
	pending []byte
}

func (g *greetConn) Read(p []byte) (int, error) {
	if !g.greeted {
		g.greeted = true
		g.pending = []byte("220 sekisho-next-hop ready\r\n")
	}
	if len(g.pending) > 0 {
		n := copy(p, g.pending)
		g.pending = g.pending[n:]
		return n, nil
	}
	return g.Conn.Read(p)
}

// writeDeadlineConn bounds every write to the next hop (go-smtp's client
// sets no deadline while the message body is written).
//
// While hold is set, a write is kept instead of sent (held aliases the
// caller's buffer, which must stay untouched until the next write), and
// the next write sends it and its own bytes together, in one writev: the
// end of a message body and go-smtp's final ".\r\n" leave in one system
// call instead of two.
type writeDeadlineConn struct {
	net.Conn
	timeout time.Duration
	hold    bool
	held    []byte
}

func (c *writeDeadlineConn) Write(p []byte) (int, error) {
	if c.hold {
		c.held = p
		return len(p), nil
	}
	c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	if len(c.held) == 0 {
		return c.Conn.Write(p)
	}
	held := len(c.held)
	bufs := net.Buffers{c.held, p}
	c.held = nil
	n, err := bufs.WriteTo(c.Conn)
	if m := int(n) - held; m < len(p) {
		if err == nil {
			err = io.ErrShortWrite
		}
		return max(m, 0), err
	}
	return len(p), err
}

// sendBody writes prefix then the message body to the next hop and returns
// its final reply text. The body is dot-stuffed by dotWriter straight onto
// the connection, in 64 KiB writes.
func (d *dialer) sendBody(h *hop, prefix []byte, body io.Reader) (string, error) {
	wc, err := h.c.Data()
	if err != nil {
		return "", err
	}
	dw := newDotWriter(h.conn, &d.writers)
	defer dw.release()
	if _, err := dw.Write(prefix); err != nil {
		h.broken = true
		return "", err
	}
	buf := d.getBuf()
	_, err = io.CopyBuffer(dw, body, *buf)
	d.putBuf(buf)
	if err != nil {
		h.broken = true
		return "", err
	}
	if err := dw.finish(wc, h.plain); err != nil {
		h.broken = true
		return "", err
	}
	resp, err := wc.CloseWithResponse()
	if h.plain != nil && len(h.plain.held) > 0 {
		h.plain.held = nil // never sent (CloseWithResponse failed before writing)
		h.broken = true
	}
	if err != nil {
		var se *smtp.SMTPError
		if !errors.As(err, &se) {
			h.broken = true
		}
		return "", err
	}
	return resp.StatusText, nil
}

// copyBufSize is the size of the buffers of getBuf.
const copyBufSize = 64 << 10

// getBuf returns a pooled 64 KiB copy buffer; putBuf gives it back.
func (d *dialer) getBuf() *[]byte {
	if b, ok := d.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, copyBufSize)
	return &b
}

func (d *dialer) putBuf(b *[]byte) { d.bufs.Put(b) }
