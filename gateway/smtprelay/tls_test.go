package smtprelay

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// selfSigned makes a certificate for 127.0.0.1 (test only).
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func TestStartTLSAndAuthRelayFromOutsideNetworks(t *testing.T) {
	k := startSink(t, nil, nil)
	tr := startRelay(t, k.addr, func(c *Config) {
		c.TLSConfig = selfSigned(t)
		c.AllowedNetworks = []netip.Prefix{mustPrefix("10.0.0.0/8")} // 127.0.0.1 must authenticate
	}, func(d *Deps) {
		d.Auth = func(user, pass string) error {
			if user == "mfp-3f" && pass == "s3cret" {
				return nil
			}
			return errors.New("bad")
		}
	})
	clientTLS := &tls.Config{InsecureSkipVerify: true}

	// AUTH is not offered before TLS.
	c, err := smtp.Dial(tr.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Hello("client.test")
	if ok, _ := c.Extension("AUTH"); ok {
		t.Errorf("AUTH offered without TLS")
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Errorf("STARTTLS not offered")
	}
	c.Close()

	try := func(user, pass string) (authErr, mailErr error) {
		c, err := smtp.DialStartTLS(tr.addr, clientTLS)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if user != "" {
			if err := c.Auth(sasl.NewPlainClient("", user, pass)); err != nil {
				return err, nil
			}
		}
		return nil, c.SendMail("taro@city.example", []string{"hanako@partner.example"}, strings.NewReader(string(testMessage("over TLS\r\n"))))
	}
	_, mailErr := try("", "")
	wantCode(t, "MAIL over TLS without AUTH", mailErr, 550, "5.7.1")
	authErr, _ := try("mfp-3f", "wrong")
	wantCode(t, "AUTH wrong password", authErr, 535, "5.7.8")
	authErr, mailErr = try("mfp-3f", "s3cret")
	if authErr != nil || mailErr != nil {
		t.Fatalf("authenticated relay: auth %v, mail %v", authErr, mailErr)
	}
	got := k.messages()
	if len(got) != 1 || !strings.Contains(string(got[0].data), "with ESMTPSA id ") {
		t.Fatalf("delivered: %d", len(got))
	}
	if evs := tr.rec.all(); len(evs) != 1 || evs[0].Client != "127.0.0.1 (user mfp-3f)" {
		t.Errorf("event client: %+v", evs)
	}
}

func TestNextHopTLSModes(t *testing.T) {
	tlsSink := startSink(t, selfSigned(t), nil)
	plainSink := startSink(t, nil, nil)
	skip := &tls.Config{InsecureSkipVerify: true}
	for _, tc := range []struct {
		name    string
		sink    *sink
		mode    TLSMode
		code    int
		wantTLS bool
	}{
		{"required, offered", tlsSink, TLSRequired, 250, true},
		{"opportunistic, offered", tlsSink, TLSOpportunistic, 250, true},
		{"opportunistic, not offered", plainSink, TLSOpportunistic, 250, false},
		{"required, not offered", plainSink, TLSRequired, 451, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(tc.sink.messages())
			tr := startRelay(t, tc.sink.addr, func(c *Config) { c.NextHopTLS, c.NextHopTLSConfig = tc.mode, skip }, nil)
			res := send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, testMessage("tls\r\n"))
			if tc.code != 250 {
				wantCode(t, "MAIL", res.mailErr, tc.code, "4.7.10")
				return
			}
			wantCode(t, "DATA", res.dataErr, 250)
			got := tc.sink.messages()
			if len(got) != before+1 || got[len(got)-1].tls != tc.wantTLS {
				t.Errorf("delivered %d, tls %v (want %v)", len(got)-before, got[len(got)-1].tls, tc.wantTLS)
			}
		})
	}
	// Required TLS verifies the certificate: one that does not verify fails
	// closed (4xx), never falls back to plain text. Opportunistic TLS
	// encrypts without verifying (Postfix's "may").
	tr := startRelay(t, tlsSink.addr, func(c *Config) { c.NextHopTLS = TLSOpportunistic }, nil)
	res := send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, testMessage("tls\r\n"))
	wantCode(t, "opportunistic, self-signed", res.dataErr, 250)
	tr = startRelay(t, tlsSink.addr, func(c *Config) { c.NextHopTLS = TLSRequired }, nil)
	res = send(t, tr.addr, "taro@city.example", []string{"hanako@partner.example"}, testMessage("tls\r\n"))
	if c, _ := smtpCode(res.mailErr); c/100 != 4 {
		t.Errorf("unverifiable next-hop certificate: got %d, want 4xx", c)
	}
}

// TestDialOneEHLOPerSession: the dialer says EHLO once on a plain session
// (also when opportunistic TLS finds no STARTTLS: it goes on on the same
// session, not a second greeting), and once before and once inside TLS
// when STARTTLS is offered (RFC 3207 4.2). The write hold of sendBody
// (hop.plain) applies to plain sessions only, never under TLS.
func TestDialOneEHLOPerSession(t *testing.T) {
	tlsSink := startSink(t, selfSigned(t), nil)
	plainSink := startSink(t, nil, nil)
	for _, tc := range []struct {
		name    string
		sink    *sink
		mode    TLSMode
		wantTLS bool
	}{
		{"none", tlsSink, TLSNone, false},
		{"opportunistic, not offered", plainSink, TLSOpportunistic, false},
		{"opportunistic, offered", tlsSink, TLSOpportunistic, true},
		{"required, offered", tlsSink, TLSRequired, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tap := startWireTap(t, tc.sink.addr, false)
			d := &dialer{addr: tap.addr, helo: "relay.test", mode: tc.mode,
				tlsConfig: &tls.Config{InsecureSkipVerify: true}, timeout: 5 * time.Second}
			h, err := d.dial(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer h.close()
			if err := h.c.Noop(); err != nil { // the session is usable
				t.Fatal(err)
			}
			_, isTLS := h.conn.(*tls.Conn)
			if isTLS != tc.wantTLS || (h.plain != nil) == tc.wantTLS {
				t.Errorf("conn %T, plain %v; want TLS %v", h.conn, h.plain != nil, tc.wantTLS)
			}
			tap.mu.Lock()
			wire := strings.Join(tap.reads, "")
			tap.mu.Unlock()
			// Under TLS the tap sees only the plain-text part: one EHLO and STARTTLS.
			if n := strings.Count(wire, "EHLO relay.test\r\n"); n != 1 {
				t.Errorf("EHLO in clear %d times, want 1; wire %q", n, wire)
			}
			if got := strings.Contains(wire, "STARTTLS\r\n"); got != tc.wantTLS {
				t.Errorf("STARTTLS sent %v, want %v", got, tc.wantTLS)
			}
		})
	}
}
