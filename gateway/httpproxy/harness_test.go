package httpproxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sekisho-dlp/sekisho/gateway"
	"github.com/sekisho-dlp/sekisho/gateway/event"
	"github.com/sekisho-dlp/sekisho/gateway/extract"
	"github.com/sekisho-dlp/sekisho/rules"
)

// origin is a local web server that records every request body it gets.
type origin struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  [][]byte
	hdrs []http.Header
}

func newOrigin(t *testing.T, tlsOn bool) *origin {
	o := &origin{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		o.mu.Lock()
		o.got = append(o.got, b)
		o.hdrs = append(o.hdrs, r.Header.Clone())
		o.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "origin ok\n")
	})
	if tlsOn {
		o.srv = httptest.NewTLSServer(h)
	} else {
		o.srv = httptest.NewServer(h)
	}
	t.Cleanup(o.srv.Close)
	return o
}

func (o *origin) bodies() [][]byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([][]byte(nil), o.got...)
}

// memEvents records events in memory.
type memEvents struct {
	mu sync.Mutex
	ev []*event.Event
}

func (m *memEvents) Record(_ context.Context, e *event.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ev = append(m.ev, e)
	return nil
}
func (m *memEvents) Sync(context.Context) error { return nil }
func (m *memEvents) all() []*event.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*event.Event(nil), m.ev...)
}

type testProxy struct {
	addr   string
	events *memEvents
	ca     string // CA certificate path, when interception is on
}

// startProxy runs a proxy with the real inspection pipeline and the embedded
// default policy on 127.0.0.1.
func startProxy(t *testing.T, mod func(*Config)) *testProxy {
	t.Helper()
	return startProxyOn(t, mod, nil)
}

// startProxyOn is startProxy with the listener passed through wrap (when
// not nil), for tests that watch the client connections.
func startProxyOn(t *testing.T, mod func(*Config), wrap func(net.Listener) net.Listener) *testProxy {
	t.Helper()
	pol := rules.Default()
	insp := &gateway.Inspector{Engine: pol.Engine(), Policy: func() *rules.Policy { return pol }, Limits: extract.DefaultLimits()}
	ev := &memEvents{}
	cfg := Config{
		Inspector:       insp,
		Hosts:           func() HostPolicy { return pol },
		Events:          ev,
		SpoolDir:        t.TempDir(),
		UpstreamTimeout: 2 * time.Minute,
	}
	if mod != nil {
		mod(&cfg)
	}
	if cfg.Upstream == nil {
		cfg.Upstream = upstreamTransport(cfg.UpstreamTimeout)
		cfg.Upstream.DialContext = loopbackOnly
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if wrap != nil {
		ln = wrap(ln)
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &testProxy{addr: addr, events: ev}
}

// needTool finds a command; under CI it must be there (the test fails),
// elsewhere the test is skipped with the install hint.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: apt-get install %s (.ci/run installs it)", name, pkg)
		}
		t.Skipf("%s not installed (apt-get install %s)", name, pkg)
	}
	return p
}

// curl runs curl through the proxy and returns the HTTP status and body.
func curl(t *testing.T, proxy string, args ...string) (int, string) {
	t.Helper()
	bin := needTool(t, "curl", "curl")
	out := filepath.Join(t.TempDir(), "out")
	full := append([]string{"-sS", "--max-time", "20", "-x", "http://" + proxy, "-o", out, "-w", "%{http_code} %{http_connect}"}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, full...)
	cmd.Env = append(os.Environ(), "NO_PROXY=", "no_proxy=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	body, _ := os.ReadFile(out)
	// The status of the request, or of the CONNECT when the tunnel was refused.
	code := 0
	for _, f := range strings.Fields(stdout.String()) {
		if n, _ := strconv.Atoi(f); n != 0 {
			code = n
			break
		}
	}
	if err != nil && code == 0 {
		t.Logf("curl: %v: %s", err, stderr.String())
	}
	return code, string(body)
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "testdata", "httpproxy", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture %s: %v (regenerate with testdata/httpproxy/make.sh)", name, err)
	}
	return p
}

// loopbackOnly dials only loopback addresses, without a DNS lookup: tests
// (and the browser's background requests) never leave the machine.
func loopbackOnly(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("test proxy: refusing to dial %s (not loopback)", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// originTransport trusts the TLS origin's certificate (the upstream side of
// an intercepted connection).
func originTransport(o *origin) *http.Transport {
	pool := x509.NewCertPool()
	pool.AddCert(o.srv.Certificate())
	tr := upstreamTransport(2 * time.Minute)
	tr.DialContext = loopbackOnly
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	return tr
}
