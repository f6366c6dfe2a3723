// Package smtprelay is sekisho's inline SMTP relay: the "act" stage of the
// flow for mail (extract → detect → decide → act → record).
//
// It relays in lock step, so that nothing is lost and nothing is
// acknowledged twice: the next-hop transaction is opened at MAIL/RCPT (each
// RCPT reply of the next hop is passed back to the client), the message is
// spooled to disk while it arrives, inspected from the spool, and sent to the
// next hop only if the policy allows it; sekisho answers 250 only after the
// next hop accepted the message. Blocked mail is either rejected (550 5.7.1)
// or accepted, quarantined and answered with a bounce notice (RFC 3464) to
// the sender. Every decision is recorded as an event.
//
// Durability. The spool is only a buffer until the next hop has accepted
// the message: a message up to 4 MiB is held in memory (pooled chunks,
// 64 MiB for all messages together), a larger one in a file under
// <data-dir>/spool, and neither is ever fsynced, since the client still
// holds the message until our 250, which comes after the next hop's. What
// sekisho acknowledges while keeping it is durable before the reply: in
// bounce mode the quarantine copy (fsynced by the quarantine store) and the
// event (event.Log.Record, which returns after its group commit) precede
// the 250; a rejection's event precedes the 550. An allowed or monitored
// message is recorded with RecordAsync after the next hop's 250: the
// client does not wait for the event's commit, the event log gathers such
// events into shared commits (event.Options.AsyncDelay), and a crash can
// lose the last few allowed events (never a blocked one), while the mail
// itself was delivered. A message whose inspection failed is kept (fsynced)
// under <data-dir>/spool/failed for diagnosis.
//
// Cost. The client's data is read through a 64 KiB read-ahead buffer per
// connection (pooled, held only while it has unread bytes), and forwarded
// with sekisho's own dot-stuffing writer in 64 KiB writes; go-smtp's
// server still undoes the client's dot-stuffing one byte at a time, which
// is the largest single cost left on large messages.
package smtprelay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"go.uber.org/zap"

	"github.com/sekisho-dlp/sekisho/gateway"
	"github.com/sekisho-dlp/sekisho/gateway/event"
	"github.com/sekisho-dlp/sekisho/gateway/quarantine"
)

// Inspector inspects one item (gateway.Inspector satisfies it).
type Inspector interface {
	Inspect(ctx context.Context, it gateway.Item) (*gateway.Verdict, error)
}

var _ Inspector = (*gateway.Inspector)(nil)

// FaxChecker reports whether addr is an email-to-FAX gateway address.
type FaxChecker func(addr string) bool

// Authenticator checks SMTP AUTH PLAIN credentials (offered over TLS only).
type Authenticator func(username, password string) error

// Observer is told about every decision (for metrics). verdict is "allow",
// "block", "monitor" or "error"; inspect is the inspection time.
type Observer func(verdict, action string, inspect time.Duration)

// Config is the relay's configuration.
type Config struct {
	// Hostname is sekisho's name in the greeting, Received and notices.
	Hostname string
	// NextHop is host:port of the MTA that receives the mail sekisho passes.
	NextHop          string
	NextHopTLS       TLSMode
	NextHopTLSConfig *tls.Config
	// TLSConfig, when set, offers STARTTLS to clients.
	TLSConfig *tls.Config
	// AllowedNetworks may relay without authentication (default loopback).
	AllowedNetworks []netip.Prefix
	// XForwardNetworks may name the original client with XFORWARD (an MTA
	// in front, such as Postfix with smtp_send_xforward_command = yes);
	// events then record that client (default loopback; empty: nobody).
	XForwardNetworks []netip.Prefix
	// Postmaster is the From: of bounce notices (default MAILER-DAEMON@Hostname).
	Postmaster string

	MaxMessageBytes   int64         // SIZE (default 50 MiB)
	MaxRecipients     int           // per message (default 1000)
	MaxLineLength     int           // bytes per line, body included (default 64 KiB)
	IdleTimeout       time.Duration // a read waiting longer fails (default 5 min)
	SessionTimeout    time.Duration // a connection lasting longer is closed (default 1 h)
	WriteTimeout      time.Duration // per reply (default 1 min)
	MaxConns          int           // connections at once (default 1000)
	MaxConnsPerClient int           // connections at once per client IP (default 50)
	InspectTimeout    time.Duration // default 2 min
	MaxInspections    int           // inspections at once (default 2 × CPUs)
	NextHopTimeout    time.Duration // connect and per command (default 2 min)
	NextHopSubmission time.Duration // wait after the final dot (default 5 min)
	NextHopIdle       int           // pooled idle next-hop connections (default 16; 0 = default, <0 = none)
	// SpoolDir holds messages in flight (<data-dir>/spool).
	SpoolDir string
	// QuarantineRetention is how long quarantined mail is kept (default 90 days).
	QuarantineRetention time.Duration
}

// Deps are the relay's collaborators.
type Deps struct {
	Inspector  Inspector
	Recorder   event.Recorder
	Quarantine quarantine.Store // nil: nothing is quarantined
	IsFax      FaxChecker       // nil: no FAX recipients
	Auth       Authenticator    // nil: no SMTP AUTH
	NewID      func(time.Time) string
	Observe    Observer
	Log        *zap.Logger
}

// Relay is the SMTP relay.
type Relay struct {
	cfg    Config
	deps   Deps
	log    *zap.Logger
	spool  *spool
	hops   *dialer
	server *smtp.Server
	sem    chan struct{}
	// goroutines runs the connections and the inspections (see goPool).
	goroutines *goPool

	mu        sync.Mutex
	listeners []*limitListener
	closing   bool
}

func (c *Config) setDefaults() error {
	if c.Hostname == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		c.Hostname = h
	}
	if c.NextHop == "" {
		return errors.New("smtprelay: next hop is empty: set smtp.next_hop (host:port)")
	}
	if _, _, err := net.SplitHostPort(c.NextHop); err != nil {
		return fmt.Errorf("smtprelay: next hop %q: %w (want host:port)", c.NextHop, err)
	}
	switch c.NextHopTLS {
	case "":
		c.NextHopTLS = TLSOpportunistic
	case TLSNone, TLSOpportunistic, TLSRequired:
	default:
		return fmt.Errorf("smtprelay: next hop TLS mode %q: want none, opportunistic or required", c.NextHopTLS)
	}
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	if c.AllowedNetworks == nil {
		c.AllowedNetworks = loopback
	}
	if c.XForwardNetworks == nil {
		c.XForwardNetworks = loopback
	}
	if c.Postmaster == "" {
		c.Postmaster = "MAILER-DAEMON@" + c.Hostname
	}
	if c.SpoolDir == "" {
		return errors.New("smtprelay: spool dir is empty: set data_dir")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defI := func(d *int, v int) {
		if *d == 0 {
			*d = v
		}
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 50 << 20
	}
	defI(&c.MaxRecipients, 1000)
	defI(&c.MaxLineLength, 64<<10)
	defI(&c.MaxConns, 1000)
	defI(&c.MaxConnsPerClient, 50)
	defI(&c.MaxInspections, 2*runtime.NumCPU())
	defI(&c.NextHopIdle, 16)
	def(&c.IdleTimeout, 5*time.Minute)
	def(&c.SessionTimeout, time.Hour)
	def(&c.WriteTimeout, time.Minute)
	def(&c.InspectTimeout, 2*time.Minute)
	def(&c.NextHopTimeout, 2*time.Minute)
	def(&c.NextHopSubmission, 5*time.Minute)
	def(&c.QuarantineRetention, 90*24*time.Hour)
	return nil
}

// New builds a relay. It creates the spool dir (removing files left by a crash).
func New(cfg Config, deps Deps) (*Relay, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if deps.Inspector == nil || deps.Recorder == nil {
		return nil, errors.New("smtprelay: an inspector and an event recorder are required")
	}
	if deps.Log == nil {
		deps.Log = zap.NewNop()
	}
	if deps.NewID == nil {
		deps.NewID = event.NewID
	}
	if deps.IsFax == nil {
		deps.IsFax = func(string) bool { return false }
	}
	sp, err := openSpool(filepath.Clean(cfg.SpoolDir))
	if err != nil {
		return nil, err
	}
	r := &Relay{
		cfg:   cfg,
		deps:  deps,
		log:   deps.Log,
		spool: sp,
		sem:   make(chan struct{}, cfg.MaxInspections),
		// Idle goroutines wait for the next connection about as long as
		// idle next-hop connections wait in their pool.
		goroutines: newGoPool(30 * time.Second),
		hops: &dialer{
			addr: cfg.NextHop, helo: cfg.Hostname, mode: cfg.NextHopTLS, tlsConfig: cfg.NextHopTLSConfig,
			timeout: cfg.NextHopTimeout, submission: cfg.NextHopSubmission,
			maxIdle: max(cfg.NextHopIdle, 0), idleFor: 30 * time.Second,
		},
	}
	s := smtp.NewServer(&backend{r: r})
	s.Domain = cfg.Hostname
	s.TLSConfig = cfg.TLSConfig
	s.MaxMessageBytes = cfg.MaxMessageBytes
	s.MaxRecipients = cfg.MaxRecipients
	s.MaxLineLength = cfg.MaxLineLength
	s.EnableSMTPUTF8 = true
	s.EnableDSN = true
	// ReadTimeout stays 0: go-smtp arms it only per command line, so it
	// would cover a whole DATA (go-smtp#196). The listener's conns push an
	// idle deadline forward at each read instead.
	s.WriteTimeout = cfg.WriteTimeout
	s.ErrorLog = log.New(zapWriter{deps.Log}, "", 0)
	s.Go = r.goroutines.run
	r.server = s
	return r, nil
}

// Serve accepts connections on l until Shutdown. It returns nil after Shutdown.
func (r *Relay) Serve(l net.Listener) error {
	ll := &limitListener{Listener: l, max: r.cfg.MaxConns, perClient: r.cfg.MaxConnsPerClient,
		idle: r.cfg.IdleTimeout, session: r.cfg.SessionTimeout, byIP: map[netip.Addr]int{}, log: r.log}
	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		return smtp.ErrServerClosed
	}
	r.listeners = append(r.listeners, ll)
	r.mu.Unlock()
	err := r.server.Serve(ll)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, lets sessions finish until ctx ends, then
// closes what is left.
func (r *Relay) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closing = true
	r.mu.Unlock()
	err := r.server.Shutdown(ctx)
	if err != nil {
		r.server.Close()
	}
	r.hops.closeIdle()
	r.goroutines.stop()
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Close closes every listener and connection at once.
func (r *Relay) Close() error {
	r.hops.closeIdle()
	r.goroutines.stop()
	err := r.server.Close()
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

func (r *Relay) isClosing() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closing
}

// backend makes a session per connection (at EHLO).
type backend struct{ r *Relay }

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	if b.r.isClosing() {
		return nil, replyShuttingDown
	}
	s := &session{r: b.r, conn: c}
	if ap, err := netip.ParseAddrPort(c.Conn().RemoteAddr().String()); err == nil {
		s.remote = ap.Addr().Unmap()
	}
	_, s.tls = c.TLSConnectionState()
	return s, nil
}

var _ smtp.Backend = (*backend)(nil)

// allowed reports whether the client may relay without authentication.
func (r *Relay) allowed(ip netip.Addr) bool { return inNetworks(ip, r.cfg.AllowedNetworks) }

func inNetworks(ip netip.Addr, nets []netip.Prefix) bool {
	for _, p := range nets {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// zapWriter lets go-smtp's logger write into zap.
type zapWriter struct{ l *zap.Logger }

func (w zapWriter) Write(p []byte) (int, error) {
	w.l.Warn("smtp server", zap.String("detail", cleanReplyText(strings.TrimSpace(string(p)))))
	return len(p), nil
}
