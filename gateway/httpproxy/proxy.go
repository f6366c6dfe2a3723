// Package httpproxy is sekisho's HTTP(S) forward proxy (github.com/elazarl/goproxy).
//
// Browsers and tools on the contractor's network use it as their proxy. For
// each request it runs the same flow as the mail relay:
//
//	request → host policy (web-FAX and blocked hosts, before any DNS lookup)
//	        → body spooled to disk (bounded; 413 beyond the limit)
//	        → gateway.Inspector (extract → detect → decide)
//	        → forward the original bytes, or answer 403 with a page (Japanese
//	          first, English second) or JSON for API clients
//	        → event in the shared event log (channel "http")
//
// HTTPS is decided by host at CONNECT time; with interception enabled (a CA
// made by `sekisho ca init`), bodies inside TLS are inspected the same way,
// except for hosts exempted from interception. Inspection failure fails
// closed: 503 and nothing forwarded.
package httpproxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/elazarl/goproxy"
	"go.uber.org/zap"

	"github.com/sekisho-dlp/sekisho/gateway"
	"github.com/sekisho-dlp/sekisho/gateway/event"
	"github.com/sekisho-dlp/sekisho/gateway/quarantine"
	"github.com/sekisho-dlp/sekisho/rules"
)

// Inspector is the inspection pipeline (gateway.Inspector).
type Inspector interface {
	Inspect(ctx context.Context, it gateway.Item) (*gateway.Verdict, error)
}

// HostPolicy decides by destination host alone (rules.Policy).
type HostPolicy interface {
	HostDecision(host string) (blocked bool, reason rules.Reason)
	Intercept(host string) bool
}

// Config configures a Proxy.
type Config struct {
	Inspector Inspector
	// Hosts returns the host policy in force (called per request, so a
	// reload applies to new requests).
	Hosts func() HostPolicy
	// Events records every block and every ledger-worthy upload.
	Events event.Recorder
	// Quarantine, if set, keeps a copy of blocked uploads.
	Quarantine quarantine.Store
	// AllowedNets are the client networks that may use the proxy (default loopback).
	AllowedNets []netip.Prefix
	// Authenticate, if set, requires Proxy-Authorization: Basic and checks it.
	Authenticate func(user, pass string) bool
	// MaxUploadBytes bounds a request body (default 64 MiB): 413 beyond it.
	MaxUploadBytes int64
	// MaxInspections bounds the uploads inspected at once (default: one
	// fewer than the CPUs Go may use, at least one). Inspection is CPU
	// work: more at once only share the CPUs, and the waiting uploads are
	// served in arrival order. The CPU left over keeps forwarding (other
	// requests, responses, tunnels) moving while uploads are inspected;
	// waiting in that queue, rather than for a CPU among everything else,
	// keeps the latency of uploads even (Go on 2 CPUs, 100 KiB uploads at
	// 32 at once: p99 16–19 ms instead of 24–26 ms, at 15 % less rate).
	MaxInspections int
	// UpstreamTimeout bounds the wait for an origin server's response
	// header once the request is sent (default 2 minutes).
	UpstreamTimeout time.Duration
	// SpoolDir holds request bodies while they are inspected ("" = os.TempDir()).
	SpoolDir string
	// CA, if set, enables TLS interception with this CA certificate and key.
	CA *tls.Certificate
	// Upstream overrides the transport to origin servers (tests).
	Upstream *http.Transport
	// Log is the operational log (never given a detected value).
	Log *zap.Logger
}

// Proxy is the forward proxy. It implements http.Handler.
type Proxy struct {
	cfg   Config
	gp    *goproxy.ProxyHttpServer
	log   *zap.Logger
	slots chan struct{} // inspection slots (Config.MaxInspections)
}

var _ http.Handler = (*Proxy)(nil)

// New returns a proxy for cfg.
func New(cfg Config) (*Proxy, error) {
	if cfg.Inspector == nil || cfg.Hosts == nil {
		return nil, errors.New("httpproxy: config needs an Inspector and a host policy")
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 64 << 20
	}
	if len(cfg.AllowedNets) == 0 {
		cfg.AllowedNets = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.MaxInspections <= 0 {
		cfg.MaxInspections = max(1, runtime.GOMAXPROCS(0)-1)
	}
	if cfg.UpstreamTimeout <= 0 {
		cfg.UpstreamTimeout = 2 * time.Minute
	}
	p := &Proxy{cfg: cfg, log: cfg.Log, slots: make(chan struct{}, cfg.MaxInspections)}
	gp := goproxy.NewProxyHttpServer()
	gp.Tr = cfg.Upstream
	if gp.Tr == nil {
		gp.Tr = upstreamTransport(cfg.UpstreamTimeout)
	}
	gp.Logger = zapPrintf{cfg.Log}
	gp.KeepAcceptEncoding = true
	gp.ConnectionErrHandler = p.connectionError
	if cfg.CA != nil {
		gp.CertStore = newCertCache(4096)
	}
	gp.OnRequest().HandleConnectFunc(p.handleConnect)
	gp.OnRequest().DoFunc(p.handleRequest)
	gp.OnResponse().DoFunc(p.upstreamFailed)
	p.gp = gp
	return p, nil
}

// upstreamTransport is the transport to origin servers: certificates
// verified, every phase bounded (the response header by wait), no proxy
// from the environment.
func upstreamTransport(wait time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: wait,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   64,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true, // pass bodies through as the origin sent them
	}
}

// ServeHTTP checks that the client may use the proxy, then proxies.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !p.clientAllowed(r.RemoteAddr) {
		p.log.Warn("proxy client not in allowed networks", zap.String("client", r.RemoteAddr))
		http.Error(w, "sekisho: this client may not use the proxy (not in the allowed networks)", http.StatusForbidden)
		return
	}
	if p.cfg.Authenticate != nil {
		user, pass, ok := proxyBasicAuth(r)
		if !ok || !p.cfg.Authenticate(user, pass) {
			w.Header().Set("Proxy-Authenticate", `Basic realm="sekisho"`)
			http.Error(w, "sekisho: proxy authentication required", http.StatusProxyAuthRequired)
			return
		}
		r.Header.Del("Proxy-Authorization")
	}
	if r.Method != http.MethodConnect && !r.URL.IsAbs() {
		http.Error(w, "sekisho: this is a forward proxy; the PAC file is served on the admin listener at /proxy.pac", http.StatusBadRequest)
		return
	}
	p.gp.ServeHTTP(bufferedResponse{w}, r)
}

// bufferedResponse is the client's http.ResponseWriter with a ReadFrom
// that copies through Write. goproxy copies a response body with io.Copy;
// the server's own ReadFrom writes the header (with the first 512 bytes)
// and then the rest as two writes, through Write a small response leaves
// in one. The interfaces goproxy asks for (Flusher for streamed responses,
// Hijacker for CONNECT and WebSocket) are passed through.
type bufferedResponse struct{ http.ResponseWriter }

// copyBufs are the buffers response bodies are copied through.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (b bufferedResponse) ReadFrom(r io.Reader) (int64, error) {
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	return io.CopyBuffer(struct{ io.Writer }{b.ResponseWriter}, r, *buf)
}

func (b bufferedResponse) Flush() {
	if f, ok := b.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (b bufferedResponse) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := b.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("httpproxy: this connection cannot be taken over (not HTTP/1)")
}

// Unwrap lets http.ResponseController reach the server's writer.
func (b bufferedResponse) Unwrap() http.ResponseWriter { return b.ResponseWriter }

func (p *Proxy) clientAllowed(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, n := range p.cfg.AllowedNets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// handleConnect decides a CONNECT by host: blocked hosts are refused with a
// 403, hosts to intercept are MITMed when a CA is configured, the rest are
// tunnelled untouched.
func (p *Proxy) handleConnect(host string, ctx *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
	name := hostOnly(host)
	pol := p.cfg.Hosts()
	if blocked, reason := pol.HostDecision(name); blocked {
		it := gateway.Item{Channel: rules.ChannelHTTP, Client: clientOf(ctx.Req), Host: name}
		ctx.Resp = p.blockHost(ctx.Req, it, reason, "CONNECT "+host)
		return goproxy.RejectConnect, host
	}
	if p.cfg.CA != nil && pol.Intercept(name) {
		return &goproxy.ConnectAction{Action: goproxy.ConnectMitm, TLSConfig: goproxy.TLSConfigFromCA(p.cfg.CA)}, host
	}
	return goproxy.OkConnect, host
}

// blockHost records the refusal of a blocked destination (web-FAX, blocked
// host) and returns the 403 answer; url is how the event shows the request.
func (p *Proxy) blockHost(req *http.Request, it gateway.Item, reason rules.Reason, url string) *http.Response {
	now := time.Now()
	id := event.NewID(now)
	e := gateway.NewEvent(id, now, it, &gateway.Verdict{Decision: rules.Decision{Verdict: rules.Block, Reasons: []rules.Reason{reason}, Action: "reject"}})
	e.URL, e.Action = url, "reject"
	p.record(e)
	return blockResponse(req, id, []rules.Reason{reason})
}

// connectionError answers a failed upstream connection without revealing
// internal details.
func (p *Proxy) connectionError(w io.Writer, ctx *goproxy.ProxyCtx, err error) {
	p.log.Info("upstream connection failed", zap.Error(err))
	msg := "sekisho: could not connect to the destination\n"
	fmt.Fprintf(w, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(msg), msg)
}

func (p *Proxy) record(e *event.Event) {
	if p.cfg.Events == nil {
		return
	}
	if err := p.cfg.Events.Record(context.Background(), e); err != nil {
		p.log.Error("event log write failed", zap.String("event", e.ID), zap.Error(err))
	}
}

// recordAsync records an event without making the client wait for the
// commit, when the recorder can (the item is forwarded either way).
func (p *Proxy) recordAsync(e *event.Event) {
	if a, ok := p.cfg.Events.(interface{ RecordAsync(*event.Event) error }); ok {
		if err := a.RecordAsync(e); err != nil {
			p.log.Error("event log write failed", zap.String("event", e.ID), zap.Error(err))
		}
		return
	}
	p.record(e)
}

func hostOnly(hostport string) string {
	h := hostport
	if hh, _, err := net.SplitHostPort(hostport); err == nil {
		h = hh
	}
	return strings.ToLower(strings.TrimSuffix(strings.Trim(h, "[]"), "."))
}

func clientOf(r *http.Request) string {
	if r == nil {
		return ""
	}
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

func proxyBasicAuth(r *http.Request) (user, pass string, ok bool) {
	h := r.Header.Get("Proxy-Authorization")
	if h == "" {
		return "", "", false
	}
	fake := &http.Request{Header: http.Header{"Authorization": {h}}}
	return fake.BasicAuth()
}

// zapPrintf routes goproxy's own messages to the operational log at debug
// level (they hold host names and errors, never bodies).
type zapPrintf struct{ log *zap.Logger }

func (z zapPrintf) Printf(format string, v ...any) {
	z.log.Debug("goproxy: " + strings.TrimSpace(fmt.Sprintf(format, v...)))
}
