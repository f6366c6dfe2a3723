package smtprelay

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/sekisho-dlp/sekisho/gateway"
	"github.com/sekisho-dlp/sekisho/gateway/event"
	"github.com/sekisho-dlp/sekisho/gateway/quarantine"
)

// ---- fakes -----------------------------------------------------------------

type fakeInspector struct {
	mu     sync.Mutex
	bodies [][]byte
	decide func(body []byte, it gateway.Item) (*gateway.Verdict, error)
	stream bool // do not keep the body: hash it (for big messages)
	sums   [][32]byte
}

func (f *fakeInspector) Inspect(ctx context.Context, it gateway.Item) (*gateway.Verdict, error) {
	if f.stream {
		h := sha256.New()
		if _, err := io.Copy(h, it.Body); err != nil {
			return nil, err
		}
		var s [32]byte
		copy(s[:], h.Sum(nil))
		f.mu.Lock()
		f.sums = append(f.sums, s)
		f.mu.Unlock()
		if f.decide != nil {
			return f.decide(nil, it)
		}
		return allowVerdict(), nil
	}
	b, err := io.ReadAll(it.Body)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, b)
	f.mu.Unlock()
	if f.decide == nil {
		return allowVerdict(), nil
	}
	return f.decide(b, it)
}

type fakeRecorder struct {
	mu     sync.Mutex
	events []*event.Event
	err    error
}

func (r *fakeRecorder) Record(ctx context.Context, e *event.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	cp := *e
	r.events = append(r.events, &cp)
	return nil
}

func (r *fakeRecorder) Sync(ctx context.Context) error { return nil }

func (r *fakeRecorder) all() []*event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*event.Event(nil), r.events...)
}

type fakeStore struct {
	mu    sync.Mutex
	metas []quarantine.Meta
	data  [][]byte
	err   error
}

func (s *fakeStore) Put(ctx context.Context, m quarantine.Meta, body io.Reader) (string, error) {
	if s.err != nil {
		return "", s.err
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metas = append(s.metas, m)
	s.data = append(s.data, b)
	return "q-" + m.ID, nil
}

var (
	_ Inspector        = (*fakeInspector)(nil)
	_ event.Recorder   = (*fakeRecorder)(nil)
	_ quarantine.Store = (*fakeStore)(nil)
)

// ---- capturing next hop ------------------------------------------------------

type sinkMsg struct {
	from     string
	mailOpts smtp.MailOptions
	to       []string
	rcptOpts []smtp.RcptOptions
	data     []byte
	size     int64
	sum      [32]byte
	tls      bool
	xforward map[string]string // the XFORWARD attributes before its MAIL
}

type sink struct {
	addr string
	srv  *smtp.Server

	mu   sync.Mutex
	msgs []sinkMsg
	// hooks (nil = accept)
	mailErr func(from string) error
	rcptErr func(to string) error
	dataErr func(m *sinkMsg) error
	discard bool // do not keep the data, only size and hash
	// xforward offers XFORWARD (as a Postfix re-injection listener with
	// smtpd_authorized_xforward_hosts does).
	xforward bool
	// onSession, when set, sees each connection as its session starts.
	onSession func(c *smtp.Conn)
	// readTimeout is the sink server's idle timeout (0: none); it closes
	// an idle connection with 421.
	readTimeout time.Duration
	dataSeen    int // DATA commands started
}

func (k *sink) messages() []sinkMsg {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]sinkMsg(nil), k.msgs...)
}

type sinkSession struct {
	k    *sink
	conn *smtp.Conn
	m    sinkMsg
	xf   map[string]string // XFORWARD attributes for the next MAIL
}

func (s *sinkSession) XForwardAllowed() bool { return s.k.xforward }
func (s *sinkSession) XForward(attrs map[string]string) error {
	if s.xf == nil {
		s.xf = map[string]string{}
	}
	for k, v := range attrs {
		s.xf[k] = v
	}
	return nil
}

func (k *sink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	if k.onSession != nil {
		k.onSession(c)
	}
	s := &sinkSession{k: k, conn: c}
	return s, nil
}

func (s *sinkSession) Mail(from string, opts *smtp.MailOptions) error {
	if s.k.mailErr != nil {
		if err := s.k.mailErr(from); err != nil {
			return err
		}
	}
	_, tls := s.conn.TLSConnectionState()
	s.m = sinkMsg{from: from, tls: tls, xforward: s.xf}
	if opts != nil {
		s.m.mailOpts = *opts
	}
	return nil
}

func (s *sinkSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	if s.k.rcptErr != nil {
		if err := s.k.rcptErr(to); err != nil {
			return err
		}
	}
	s.m.to = append(s.m.to, to)
	if opts != nil {
		s.m.rcptOpts = append(s.m.rcptOpts, *opts)
	}
	return nil
}

func (s *sinkSession) Data(r io.Reader) error {
	s.k.mu.Lock()
	s.k.dataSeen++
	s.k.mu.Unlock()
	h := sha256.New()
	var w io.Writer = h
	var buf bytes.Buffer
	if !s.k.discard {
		w = io.MultiWriter(h, &buf)
	}
	n, err := io.Copy(w, r)
	if err != nil {
		return err
	}
	m := s.m
	m.data, m.size = buf.Bytes(), n
	copy(m.sum[:], h.Sum(nil))
	s.k.mu.Lock()
	dataErr := s.k.dataErr
	s.k.mu.Unlock()
	if dataErr != nil {
		if err := dataErr(&m); err != nil {
			return err
		}
	}
	s.k.mu.Lock()
	s.k.msgs = append(s.k.msgs, m)
	s.k.mu.Unlock()
	return nil
}

func (s *sinkSession) Reset()        { s.m, s.xf = sinkMsg{}, nil }
func (s *sinkSession) Logout() error { return nil }

func startSink(t testing.TB, tlsCfg *tls.Config, setup func(*sink)) *sink {
	t.Helper()
	k := &sink{}
	if setup != nil {
		setup(k)
	}
	srv := smtp.NewServer(k)
	srv.Domain = "sink.test"
	srv.EnableSMTPUTF8 = true
	srv.EnableDSN = true
	srv.MaxLineLength = 1 << 20
	srv.TLSConfig = tlsCfg
	srv.ReadTimeout = k.readTimeout
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k.addr, k.srv = l.Addr().String(), srv
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return k
}

// ---- relay under test ----------------------------------------------------------

type testRelay struct {
	addr  string
	relay *Relay
	insp  *fakeInspector
	rec   *fakeRecorder
	store *fakeStore
	dir   string
}

func startRelay(t testing.TB, nextHop string, cfgf func(*Config), depf func(*Deps)) *testRelay {
	t.Helper()
	dir := t.TempDir()
	tr := &testRelay{insp: &fakeInspector{}, rec: &fakeRecorder{}, store: &fakeStore{}, dir: dir}
	cfg := Config{
		Hostname:       "sekisho.test",
		NextHop:        nextHop,
		NextHopTLS:     TLSNone,
		SpoolDir:       filepath.Join(dir, "spool"),
		NextHopTimeout: 5 * time.Second,
		IdleTimeout:    10 * time.Second,
	}
	if cfgf != nil {
		cfgf(&cfg)
	}
	var log *zap.Logger
	if tt, ok := t.(*testing.T); ok {
		log = zaptest.NewLogger(tt, zaptest.Level(zap.WarnLevel))
	} else {
		log = zap.NewNop()
	}
	deps := Deps{Inspector: tr.insp, Recorder: tr.rec, Quarantine: tr.store, Log: log}
	if depf != nil {
		depf(&deps)
	}
	r, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr.addr, tr.relay = l.Addr().String(), r
	done := make(chan struct{})
	go func() { r.Serve(l); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		r.Shutdown(ctx)
		<-done
	})
	return tr
}

// send sends one message through addr and returns the error of the step
// that failed (MAIL, RCPT of each recipient, DATA) or nil.
type sendResult struct {
	mailErr  error
	rcptErrs []error
	dataErr  error
	dataText string
}

func send(t testing.TB, addr, from string, to []string, msg []byte) sendResult {
	t.Helper()
	return sendOpts(t, addr, from, nil, to, nil, bytes.NewReader(msg))
}

func sendOpts(t testing.TB, addr, from string, mo *smtp.MailOptions, to []string, ro *smtp.RcptOptions, body io.Reader) sendResult {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	var res sendResult
	if res.mailErr = c.Mail(from, mo); res.mailErr != nil {
		return res
	}
	ok := 0
	for _, rc := range to {
		err := c.Rcpt(rc, ro)
		res.rcptErrs = append(res.rcptErrs, err)
		if err == nil {
			ok++
		}
	}
	if ok == 0 {
		return res
	}
	w, err := c.Data()
	if err != nil {
		res.dataErr = err
		return res
	}
	if _, err := io.Copy(w, body); err != nil {
		res.dataErr = err
		return res
	}
	resp, err := w.CloseWithResponse()
	res.dataErr = err
	if resp != nil {
		res.dataText = resp.StatusText
	}
	c.Quit()
	return res
}

func smtpCode(err error) (int, string) {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code, enh(se.EnhancedCode) + " " + se.Message
	}
	if err != nil {
		return -1, err.Error()
	}
	return 250, ""
}

func wantCode(t testing.TB, what string, err error, code int, contains ...string) {
	t.Helper()
	c, text := smtpCode(err)
	if c != code {
		t.Fatalf("%s: got %d %q (err %v), want %d", what, c, text, err, code)
	}
	for _, s := range contains {
		if !strings.Contains(text, s) {
			t.Fatalf("%s: reply %q does not contain %q", what, text, s)
		}
	}
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// lineReader reads SMTP reply lines from a raw connection.
type lineReader struct{ r *bufio.Reader }

func newLineReader(c net.Conn) *lineReader { return &lineReader{bufio.NewReader(c)} }

// expect reads one complete reply (skipping continuation lines) and checks
// that its last line starts with prefix.
func (l *lineReader) expect(t testing.TB, prefix string) string {
	t.Helper()
	for {
		line, err := l.r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading reply (want %q): %v (got %q)", prefix, err, line)
		}
		if len(line) >= 4 && line[3] == '-' {
			continue
		}
		if !strings.HasPrefix(line, prefix) {
			t.Fatalf("reply %q, want prefix %q", strings.TrimSpace(line), prefix)
		}
		return line
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
