package smtprelay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
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

// dial connects to the next hop, says EHLO and, per the TLS mode, starts TLS
// (EHLO once more inside it). When the next hop does not offer STARTTLS,
// opportunistic TLS goes on in plain text on the session the first EHLO
// opened; required TLS gives up.
func (d *dialer) dial(ctx context.Context) (*hop, error) {
	nd := net.Dialer{Timeout: d.timeout}
	raw, err := nd.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, err
	}
	plain := &writeDeadlineConn{Conn: raw, timeout: d.timeout}
	c := smtp.NewClient(plain)
	c.CommandTimeout = d.timeout
	c.SubmissionTimeout = d.submission
	if err := c.Hello(d.helo); err != nil {
		raw.Close()
		return nil, err
	}
	h := &hop{c: c, conn: plain, plain: plain, used: time.Now()}
	if d.mode == TLSNone {
		return h, nil
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		if d.mode == TLSRequired {
			raw.Close()
			return nil, errors.New("smtprelay: next hop does not offer STARTTLS (next-hop TLS is required)")
		}
		return h, nil
	}
	tc, err := c.StartTLS(d.clientTLSConfig())
	if err != nil {
		raw.Close()
		// Not %w: a next hop that offers STARTTLS and then refuses it, or
		// fails the handshake, is a temporary failure (4.7.10), never a
		// 5xx passed through to the sender.
		return nil, fmt.Errorf("smtprelay: next hop STARTTLS: %v", err)
	}
	h.conn, h.plain = tc, nil
	return h, nil
}

// Dial opens one SMTP session to a next hop as the relay opens its own:
// EHLO as helo, then STARTTLS per mode (opportunistic: when offered, the
// certificate not verified; required: offered and verified, or an error).
// timeout bounds the connection, each command and each write. `sekisho
// quarantine release` sends released mail through it.
func Dial(ctx context.Context, addr, helo string, mode TLSMode, timeout time.Duration) (*smtp.Client, error) {
	d := &dialer{addr: addr, helo: helo, mode: mode, timeout: timeout, submission: timeout}
	h, err := d.dial(ctx)
	if err != nil {
		return nil, err
	}
	return h.c, nil
}

// clientTLSConfig is the TLS configuration towards the next hop: the
// configured one, or else TLS 1.2 or later, verifying the certificate only
// when TLS is required.
func (d *dialer) clientTLSConfig() *tls.Config {
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
	return cfg
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
