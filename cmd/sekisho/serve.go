package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/crypto/bcrypt"

	"github.com/sekisho-dlp/sekisho/gateway"
	"github.com/sekisho-dlp/sekisho/gateway/config"
	"github.com/sekisho-dlp/sekisho/gateway/event"
	"github.com/sekisho-dlp/sekisho/gateway/extract"
	"github.com/sekisho-dlp/sekisho/gateway/httpproxy"
	"github.com/sekisho-dlp/sekisho/gateway/quarantine"
	"github.com/sekisho-dlp/sekisho/gateway/smtprelay"
	"github.com/sekisho-dlp/sekisho/rules"
)

// Safe defaults: loopback only, Postfix's re-injection port as next hop.
const (
	defaultSMTPListen  = "127.0.0.1:2525"
	defaultNextHop     = "127.0.0.1:10026"
	defaultProxyListen = "127.0.0.1:3128"
	defaultAdminListen = "127.0.0.1:8025"
	defaultDataDir     = "./sekisho-data"
	shutdownBound      = 30 * time.Second
	// eventAsyncDelay is how long the event log gathers asynchronous
	// events (allowed mail and uploads) into one commit: at most this much
	// of them is lost in a crash, and one commit (one fsync) serves all.
	eventAsyncDelay = 20 * time.Millisecond
)

// serveOptions are the command line of `sekisho serve`.
type serveOptions struct {
	configPath  string
	smtpListen  string
	nextHop     string
	proxyListen string
	adminListen string
	dataDir     string
	logFormat   string
	// reload delivers SIGHUP (or a test's request) to reload the policy.
	reload <-chan struct{}
	// ready, when set, is told the bound addresses once every listener is up.
	ready func(serveAddrs)
}

// serveAddrs are the addresses actually bound (for ports given as 0).
type serveAddrs struct {
	SMTP, Proxy, Admin string
	AdminToken         string
}

// serveSettings is the resolved configuration: config file, then flags.
type serveSettings struct {
	SMTPListen, NextHop, ProxyListen, AdminListen, DataDir string
	SMTPOff, ProxyOff, AdminOff                            bool
	AdminToken                                             string
	Relay                                                  smtprelay.Config
	SMTPAuth                                               smtprelay.Authenticator
	ProxyNets                                              []netip.Prefix
	Policy                                                 *rules.Policy
	Limits                                                 extract.Limits
	QuarantineRetention                                    time.Duration
	QuarantineKeyFile, QuarantineKeyEnv                    string
	Config                                                 *config.Config
}

func cmdServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", stderr)
	var o serveOptions
	fs.StringVar(&o.configPath, "config", "", "configuration `FILE` (default: built-in safe defaults)")
	fs.StringVar(&o.smtpListen, "smtp-listen", "", "SMTP relay listen `ADDR` (default "+defaultSMTPListen+")")
	fs.StringVar(&o.nextHop, "smtp-next-hop", "", "next hop `HOST:PORT` that receives relayed mail (default "+defaultNextHop+")")
	fs.StringVar(&o.proxyListen, "proxy-listen", "", "HTTP proxy listen `ADDR` (default "+defaultProxyListen+")")
	fs.StringVar(&o.adminListen, "admin-listen", "", "admin listen `ADDR`: /healthz, /metrics, POST /-/reload; /debug/pprof/ when $SEKISHO_PPROF=1 (default "+defaultAdminListen+")")
	fs.StringVar(&o.dataDir, "data-dir", "", "data `DIR`: event log, quarantine, spool (default "+defaultDataDir+")")
	fs.StringVar(&o.logFormat, "log-format", "json", "operational log format: json or console")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sekisho serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	o.reload = reload
	return runServe(ctx, o, stderr)
}

// loadSettings reads the config file (or the defaults), applies the flags
// over it and validates the result. Errors name the field at fault.
func loadSettings(o serveOptions) (*serveSettings, *config.Config, error) {
	c, err := config.Load(o.configPath)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range []struct {
		flag, val string
		dst       *string
		needHost  bool
	}{
		{"--smtp-listen", o.smtpListen, &c.SMTP.Listen, false},
		{"--smtp-next-hop", o.nextHop, &c.SMTP.NextHop, true},
		{"--proxy-listen", o.proxyListen, &c.Proxy.Listen, false},
		{"--admin-listen", o.adminListen, &c.Admin.Listen, false},
		{"--data-dir", o.dataDir, &c.DataDir, false},
	} {
		if f.val == "" {
			continue
		}
		if f.dst != &c.DataDir {
			if err := checkHostPort(f.val, f.needHost); err != nil {
				return nil, nil, fmt.Errorf("%s %q: %v", f.flag, f.val, err)
			}
		}
		*f.dst = f.val
	}
	switch o.logFormat {
	case "", "json", "console":
	default:
		return nil, nil, fmt.Errorf("--log-format %q: want json or console", o.logFormat)
	}
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	s, err := settingsFrom(c)
	if err != nil {
		return nil, nil, err
	}
	return s, c, nil
}

// settingsFrom maps a validated configuration onto the gateway's parts.
func settingsFrom(c *config.Config) (*serveSettings, error) {
	s := &serveSettings{
		SMTPListen: c.SMTP.Listen, NextHop: c.SMTP.NextHop, ProxyListen: c.Proxy.Listen,
		AdminListen: c.Admin.Listen, DataDir: c.DataDir,
		SMTPOff: c.SMTP.Disabled, ProxyOff: c.Proxy.Disabled, AdminOff: c.Admin.Disabled,
		Policy: c.Policy(), Limits: c.ExtractLimits(), QuarantineRetention: c.Quarantine.Retention.D(),
		QuarantineKeyFile: c.Quarantine.KeyFile, QuarantineKeyEnv: c.Quarantine.KeyEnv,
		Config: c,
	}
	if s.Policy == nil {
		return nil, errors.New("policy: does not compile (run `sekisho config check FILE`)")
	}
	if s.Limits.TempDir == "" {
		s.Limits.TempDir = filepath.Join(s.DataDir, "spool", "extract")
	}
	switch {
	case c.Admin.TokenEnv != "":
		s.AdminToken = strings.TrimSpace(os.Getenv(c.Admin.TokenEnv))
		if s.AdminToken == "" {
			return nil, fmt.Errorf("admin.token_env: $%s is empty", c.Admin.TokenEnv)
		}
	case c.Admin.TokenFile != "":
		b, err := os.ReadFile(c.Admin.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("admin.token_file: %w", err)
		}
		if s.AdminToken = strings.TrimSpace(string(b)); s.AdminToken == "" {
			return nil, fmt.Errorf("admin.token_file: %s is empty", c.Admin.TokenFile)
		}
	}
	r := smtprelay.Config{
		Hostname:          c.SMTP.Hostname,
		NextHop:           c.SMTP.NextHop,
		NextHopTLS:        smtprelay.TLSMode(c.SMTP.NextHopTLS),
		Postmaster:        c.SMTP.BounceFrom,
		MaxMessageBytes:   int64(c.SMTP.MaxMessageBytes),
		MaxRecipients:     c.SMTP.MaxRecipients,
		IdleTimeout:       c.SMTP.ReadTimeout.D(),
		WriteTimeout:      c.SMTP.WriteTimeout.D(),
		MaxConns:          c.SMTP.MaxConnections,
		MaxConnsPerClient: c.SMTP.MaxConnectionsPerClient,
		InspectTimeout:    c.Limits.InspectTimeout.D(),
		NextHopTimeout:    c.SMTP.NextHopTimeout.D(),
		SpoolDir:          filepath.Join(s.DataDir, "spool"),
	}
	var err error
	if r.AllowedNetworks, err = parseNets("smtp.allowed_networks", c.SMTP.AllowedNetworks); err != nil {
		return nil, err
	}
	if r.XForwardNetworks, err = parseNets("smtp.xforward_networks", c.SMTP.XForwardNetworks); err != nil {
		return nil, err
	}
	if c.SMTP.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.SMTP.TLS.CertFile, c.SMTP.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("smtp.tls: %w", err)
		}
		r.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	s.SMTPAuth = bcryptUsers(c.SMTP.Users)
	if s.ProxyNets, err = parseNets("proxy.allowed_networks", c.Proxy.AllowedNetworks); err != nil {
		return nil, err
	}
	s.Relay = r
	return s, nil
}

// parseNets parses CIDRs or single addresses.
func parseNets(field string, nets []string) ([]netip.Prefix, error) {
	out := []netip.Prefix{}
	for _, n := range nets {
		if p, err := netip.ParsePrefix(n); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(n)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a CIDR or an address", field, n)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// bcryptUsers checks AUTH PLAIN credentials against bcrypt hashes (nil when
// there are no users: no AUTH is offered).
func bcryptUsers(users []config.User) smtprelay.Authenticator {
	if len(users) == 0 {
		return nil
	}
	hashes := map[string][]byte{}
	for _, u := range users {
		hashes[u.Name] = []byte(u.PasswordHash)
	}
	dummy, _ := bcrypt.GenerateFromPassword([]byte("sekisho-dummy"), bcrypt.MinCost)
	return func(user, pass string) error {
		h, ok := hashes[user]
		if !ok {
			bcrypt.CompareHashAndPassword(dummy, []byte(pass)) // same work for unknown users
			return errors.New("authentication failed")
		}
		return bcrypt.CompareHashAndPassword(h, []byte(pass))
	}
}

// loadPolicy reads and validates the configuration again, for a reload; only
// its policy is swapped in (listeners and limits need a restart).
func loadPolicy(path string) (*rules.Policy, error) {
	c, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if p := c.Policy(); p != nil {
		return p, nil
	}
	return nil, errors.New("policy: does not compile")
}

// checkHostPort checks a listen address or a next hop.
func checkHostPort(addr string, needHost bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("want HOST:PORT")
	}
	if needHost && host == "" {
		return errors.New("host is empty")
	}
	if port == "" {
		return errors.New("port is empty")
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return fmt.Errorf("port %q is not a number", port)
		}
	}
	return nil
}

// newServeLogger builds the operational log (zap, JSON or console) on w.
func newServeLogger(format, level string, w io.Writer) *zap.Logger {
	lvl := zap.InfoLevel
	if l, err := zapcore.ParseLevel(level); err == nil && level != "" {
		lvl = l
	}
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	if format == "console" {
		enc = zapcore.NewConsoleEncoder(encCfg)
	} else {
		enc = zapcore.NewJSONEncoder(encCfg)
	}
	core := zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), lvl)
	core = zapcore.NewSamplerWithOptions(core, time.Second, 100, 100)
	return zap.New(core, zap.ErrorOutput(zapcore.Lock(zapcore.AddSync(w))))
}

// policyState is the policy in force and the inspector built on it; a
// reload swaps it whole, and an item keeps the state it started with.
type policyState struct {
	pol  *rules.Policy
	insp *gateway.Inspector
}

func newPolicyState(pol *rules.Policy, lim extract.Limits) *policyState {
	return &policyState{pol: pol, insp: &gateway.Inspector{
		Engine: pol.Engine(),
		Policy: func() *rules.Policy { return pol },
		Limits: lim,
	}}
}

// currentInspector inspects each item under the policy in force when the item starts.
type currentInspector struct{ p *atomic.Pointer[policyState] }

func (c currentInspector) Inspect(ctx context.Context, it gateway.Item) (*gateway.Verdict, error) {
	return c.p.Load().insp.Inspect(ctx, it)
}

var (
	_ smtprelay.Inspector = currentInspector{}
	_ httpproxy.Inspector = currentInspector{}
)

// serveMetrics are the Prometheus metrics of the admin listener.
type serveMetrics struct {
	reg      *prometheus.Registry
	messages *prometheus.CounterVec
	inspect  *prometheus.HistogramVec
	reloads  *prometheus.CounterVec
}

func newServeMetrics() *serveMetrics {
	m := &serveMetrics{
		reg: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sekisho_messages_total", Help: "Items decided, by channel, verdict and action.",
		}, []string{"channel", "verdict", "action"}),
		inspect: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sekisho_inspection_seconds", Help: "Time to inspect one item (extract, detect, decide).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"channel"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sekisho_config_reloads_total", Help: "Configuration reloads, by result.",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.messages, m.inspect, m.reloads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *serveMetrics) observeSMTP(verdict, action string, d time.Duration) {
	m.messages.WithLabelValues("smtp", verdict, action).Inc()
	if d > 0 {
		m.inspect.WithLabelValues("smtp").Observe(d.Seconds())
	}
}

// adminToken returns the configured token, or the one in
// <data-dir>/admin-token, made (mode 0600) on first start.
func adminToken(configured, dataDir string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	path := filepath.Join(dataDir, "admin-token")
	if b, err := os.ReadFile(path); err == nil {
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, nil
		}
		return "", fmt.Errorf("admin token file %s is empty: delete it to make a new one", path)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("make admin token: %w", err)
	}
	tok := hex.EncodeToString(raw[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("create admin token %s: %w", path, err)
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("write admin token %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write admin token %s: %w", path, err)
	}
	return tok, nil
}

// adminHandler serves GET /healthz, GET /metrics and POST /-/reload (bearer token).
func adminHandler(token string, m *serveMetrics, reload func() error) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sekisho admin"`)
			http.Error(w, "unauthorized: send Authorization: Bearer <admin token>", http.StatusUnauthorized)
			return
		}
		if err := reload(); err != nil {
			http.Error(w, "reload refused, the running policy stays: "+err.Error(), http.StatusBadRequest)
			return
		}
		io.WriteString(w, "reloaded\n")
	})
	if os.Getenv(pprofEnv) == "1" {
		mountPprof(mux)
	}
	return mux
}

// pprofEnv switches on Go's profiler on the admin listener
// (/debug/pprof/...) when set to "1". It is off by default: profiles show
// memory and timings, so only switch it on for a measurement, on an admin
// listener bound to loopback.
const pprofEnv = "SEKISHO_PPROF"

// mountPprof serves net/http/pprof under /debug/pprof/ on mux.
func mountPprof(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}

// startProxy starts the HTTP forward proxy on l. Interception of HTTPS
// needs the CA made by `sekisho ca init`; without it CONNECT is tunnelled
// after the host policy.
func startProxy(l net.Listener, s *serveSettings, cur *atomic.Pointer[policyState], rec event.Recorder,
	q quarantine.Store, log *zap.Logger) (*http.Server, error) {
	var ca *tls.Certificate
	if s.Config.Proxy.Intercept {
		c, err := loadProxyCA(s)
		if err != nil {
			return nil, err
		}
		ca = c
	} else {
		log.Info("http proxy: TLS interception is off (proxy.intercept): HTTPS is checked by host only")
	}
	p, err := httpproxy.New(httpproxy.Config{
		Inspector:       currentInspector{cur},
		Hosts:           func() httpproxy.HostPolicy { return cur.Load().pol },
		Events:          rec,
		Quarantine:      q,
		AllowedNets:     s.ProxyNets,
		MaxUploadBytes:  int64(s.Config.Proxy.MaxUploadBytes),
		MaxInspections:  s.Config.Proxy.MaxInspections,
		UpstreamTimeout: time.Duration(s.Config.Proxy.UpstreamTimeout),
		Authenticate:    boolAuth(bcryptUsers(s.Config.Proxy.Users)),
		SpoolDir:        filepath.Join(s.DataDir, "spool", "http"),
		CA:              ca,
		Log:             log.Named("http"),
	})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(s.DataDir, "spool", "http"), 0o700); err != nil {
		return nil, fmt.Errorf("http proxy spool: %w", err)
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http proxy stopped", zap.Error(err))
		}
	}()
	return srv, nil
}

// loadProxyCA loads the interception CA from the configured files or from
// <data-dir>/ca (where `sekisho ca init` writes it).
func loadProxyCA(s *serveSettings) (*tls.Certificate, error) {
	p := s.Config.Proxy
	if p.CACertFile == "" && p.CAKeyFile == "" {
		return httpproxy.LoadCA(filepath.Join(s.DataDir, "ca"))
	}
	cert, err := tls.LoadX509KeyPair(p.CACertFile, p.CAKeyFile)
	if err != nil {
		return nil, fmt.Errorf("proxy.ca_cert_file: %w", err)
	}
	return &cert, nil
}

func boolAuth(a smtprelay.Authenticator) func(user, pass string) bool {
	if a == nil {
		return nil
	}
	return func(user, pass string) bool { return a(user, pass) == nil }
}

// GC tuning of the gateway process (see tuneGC).
const (
	gcPercent   = 400
	gcSoftLimit = 256 << 20
)

// tuneGC lets the heap grow to 5× the live heap between collections
// (GOGC=400) under a soft limit of 256 MiB (GOMEMLIMIT), unless the
// operator set GOGC or GOMEMLIMIT. The gateway's live heap is small but
// every message allocates its decoding buffers: with Go's default the
// collector ran every few messages (about a third less relay CPU per
// 100 KB message with 400). The soft limit makes it collect sooner when
// the heap nears 256 MiB; it is set well above what one 50 MiB message
// needs (peak RSS about 50 MB) so that it is not a limit the collector
// has to fight under normal load.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(gcSoftLimit)
	}
}

// gatewayProcs is how many CPUs the gateway's Go code runs on by default:
// all but one (at least one). sekisho shares its host with the kernel's
// network stack and, as deployed, with its peers: the Postfix that hands
// it mail and takes it back, the browsers' or an origin's traffic. Running
// on every CPU, its scheduler keeps them all busy waking and stealing
// goroutines, which those peers then wait for. On 2 CPUs, in the README's
// benchmarks, one was better on every figure: proxy GET p99 4.9 ms instead
// of 8–11 ms at a third more requests per second, relay CPU per message
// 0.46 instead of 0.84 ms (5 KB).
func gatewayProcs(cpus int) int { return max(1, cpus-1) }

// startProcs is Go's own choice, before tuneProcs changes it (the CPUs of
// the host, or of its container's quota).
var startProcs = runtime.GOMAXPROCS(0)

// tuneProcs applies gatewayProcs unless the operator set GOMAXPROCS, and
// returns the CPUs Go may use. It may be called again (tests run serve
// more than once): the result is the same.
func tuneProcs(getenv func(string) string) int {
	if getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(gatewayProcs(startProcs))
	}
	return runtime.GOMAXPROCS(0)
}

// runServe runs the gateway until ctx ends, then shuts down gracefully.
func runServe(ctx context.Context, o serveOptions, stderr io.Writer) int {
	s, c, err := loadSettings(o)
	if err != nil {
		fmt.Fprintf(stderr, "sekisho serve: %v\n", err)
		return 2
	}
	log := newServeLogger(o.logFormat, c.LogLevel, stderr)
	defer log.Sync()
	tuneGC()
	log.Info("CPUs the gateway runs on (GOMAXPROCS; set it to change)",
		zap.Int("procs", tuneProcs(os.Getenv)), zap.Int("cpus", runtime.NumCPU()))
	fail := func(what string, err error) int {
		log.Error("sekisho serve: "+what, zap.Error(err))
		return 1
	}

	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		return fail("data dir", err)
	}
	// Allowed traffic is recorded asynchronously and committed in groups
	// (see eventAsyncDelay); blocked traffic is recorded synchronously,
	// durable before the reply.
	evlog, err := event.OpenWithOptions(filepath.Join(s.DataDir, "events.db"), log.Named("event"),
		event.Options{AsyncDelay: eventAsyncDelay})
	if err != nil {
		return fail("event log", err)
	}
	defer evlog.Close()
	qdir, err := quarantine.Open(filepath.Join(s.DataDir, "quarantine"), quarantine.Options{
		Retention: s.QuarantineRetention, Events: evlog, Actor: "sekisho serve",
		KeyFile: s.QuarantineKeyFile, KeyEnv: s.QuarantineKeyEnv,
	})
	if err != nil {
		return fail("quarantine", err)
	}
	if err := os.MkdirAll(s.Limits.TempDir, 0o700); err != nil {
		return fail("spool dir", err)
	}
	token, err := adminToken(s.AdminToken, s.DataDir)
	if err != nil {
		return fail("admin token", err)
	}

	var cur atomic.Pointer[policyState]
	cur.Store(newPolicyState(s.Policy, s.Limits))
	metrics := newServeMetrics()

	rcfg := s.Relay
	rcfg.QuarantineRetention = s.QuarantineRetention
	relay, err := smtprelay.New(rcfg, smtprelay.Deps{
		Inspector:  currentInspector{&cur},
		Recorder:   evlog,
		Quarantine: qdir,
		IsFax:      func(addr string) bool { return cur.Load().pol.IsFaxRecipient(addr) },
		Auth:       s.SMTPAuth,
		NewID:      event.NewID,
		Observe:    metrics.observeSMTP,
		Log:        log.Named("smtp"),
	})
	if err != nil {
		return fail("smtp relay", err)
	}

	reload := func() error {
		pol, err := loadPolicy(o.configPath)
		if err != nil {
			metrics.reloads.WithLabelValues("refused").Inc()
			log.Error("config reload refused: the running policy stays", zap.String("config", o.configPath), zap.Error(err))
			return err
		}
		cur.Store(newPolicyState(pol, s.Limits))
		metrics.reloads.WithLabelValues("ok").Inc()
		log.Info("config reloaded", zap.String("config", o.configPath))
		return nil
	}

	// Bind every listener first: a bad address fails at once.
	var smtpL, adminL, proxyL net.Listener
	closeAll := func() {
		for _, l := range []net.Listener{smtpL, adminL, proxyL} {
			if l != nil {
				l.Close()
			}
		}
	}
	// SMTP sessions need no TCP keep-alive: every command and the data
	// have their timeout (smtp.read_timeout), and a sender opens a
	// connection per message or so, where keep-alive is four setsockopt
	// calls on each.
	smtpListen := net.ListenConfig{KeepAlive: -1}
	var tcpListen net.ListenConfig
	for _, b := range []struct {
		field, addr string
		off         bool
		dst         *net.Listener
		lc          *net.ListenConfig
	}{
		{"--smtp-listen (smtp.listen)", s.SMTPListen, s.SMTPOff, &smtpL, &smtpListen},
		{"--admin-listen (admin.listen)", s.AdminListen, s.AdminOff, &adminL, &tcpListen},
		{"--proxy-listen (proxy.listen)", s.ProxyListen, s.ProxyOff, &proxyL, &tcpListen},
	} {
		if b.off {
			continue
		}
		l, err := b.lc.Listen(ctx, "tcp", b.addr)
		if err != nil {
			closeAll()
			return fail(b.field, err)
		}
		*b.dst = l
	}

	relayDone := make(chan error, 1)
	if smtpL != nil {
		go func() { relayDone <- relay.Serve(smtpL) }()
	}
	var admin *http.Server
	if adminL != nil {
		mux := adminHandler(token, metrics, reload)
		if proxyL != nil {
			// Browsers are pointed at the proxy with this file.
			mux.Handle("GET /proxy.pac", httpproxy.PACHandler(proxyL.Addr().String(), s.Policy.Document().Hosts.NoIntercept))
		}
		admin = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := admin.Serve(adminL); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("admin listener stopped", zap.Error(err))
			}
		}()
	}
	var proxy *http.Server
	if proxyL != nil {
		if proxy, err = startProxy(proxyL, s, &cur, evlog, qdir, log); err != nil {
			log.Error("http proxy not started", zap.Error(err))
			proxyL.Close()
		}
	}
	addr := func(l net.Listener) string {
		if l == nil {
			return "disabled"
		}
		return l.Addr().String()
	}
	log.Info("sekisho serve started",
		zap.String("version", version),
		zap.String("smtp_listen", addr(smtpL)),
		zap.String("smtp_next_hop", s.NextHop),
		zap.String("smtp_next_hop_tls", string(s.Relay.NextHopTLS)),
		zap.String("proxy_listen", addr(proxyL)),
		zap.String("admin_listen", addr(adminL)),
		zap.String("data_dir", s.DataDir),
		zap.String("config", o.configPath),
	)
	go sweepQuarantine(ctx, qdir, log)
	anchors := newChainAnchors(evlog, log)
	go anchors.run(ctx)
	if o.ready != nil {
		o.ready(serveAddrs{SMTP: addr(smtpL), Proxy: addr(proxyL), Admin: addr(adminL), AdminToken: token})
	}

	code := 0
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-o.reload:
			reload()
		case err := <-relayDone:
			log.Error("smtp relay stopped", zap.Error(err))
			code = 1
			break loop
		}
	}

	log.Info("sekisho serve shutting down", zap.Duration("bound", shutdownBound))
	sctx, cancel := context.WithTimeout(context.Background(), shutdownBound)
	defer cancel()
	if err := relay.Shutdown(sctx); err != nil {
		log.Warn("smtp sessions cut at the shutdown bound", zap.Error(err))
	}
	if proxy != nil {
		proxy.Shutdown(sctx)
	}
	if admin != nil {
		admin.Shutdown(sctx)
	}
	if err := evlog.Sync(sctx); err != nil {
		log.Error("event log sync at shutdown", zap.Error(err))
		code = 1
	}
	anchors.log(sctx) // the last head, for the next verify
	log.Info("sekisho serve stopped")
	return code
}

// sweepInterval is how often expired quarantine items are destroyed.
const sweepInterval = time.Hour

// sweepQuarantine destroys quarantined items past their retention period
// (第15条), at start and then every sweepInterval; each destruction is
// recorded in the event log by the quarantine itself.
func sweepQuarantine(ctx context.Context, q *quarantine.Dir, log *zap.Logger) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		gone, err := q.Sweep(time.Now())
		if err != nil {
			log.Error("quarantine sweep failed; expired items stay until the next sweep", zap.Error(err))
		} else if len(gone) > 0 {
			log.Info("quarantine: expired items destroyed", zap.Int("count", len(gone)))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
