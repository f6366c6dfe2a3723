package smtprelay

import (
	"net/netip"
	"strings"

	"github.com/emersion/go-smtp"
)

// Behind Postfix (after-queue content filter) every connection comes from
// Postfix. Postfix's smtp client with smtp_send_xforward_command = yes
// names the original client with XFORWARD before each transaction; from
// the networks of Config.XForwardNetworks sekisho takes it, and events
// (and the inspection's client) name that client, with Postfix as "via".

var _ smtp.XForwardSession = (*session)(nil)

// xforward holds the XFORWARD attributes of the current transaction.
type xforward struct {
	name, addr, port, proto, helo, ident, source string
}

func (s *session) XForwardAllowed() bool { return inNetworks(s.remote, s.r.cfg.XForwardNetworks) }

func (s *session) XForward(attrs map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.xf == nil {
		s.xf = &xforward{}
	}
	for k, v := range attrs {
		v = xforwardValue(v)
		switch k {
		case "NAME":
			s.xf.name = v
		case "ADDR":
			s.xf.addr = strings.TrimPrefix(strings.TrimPrefix(v, "IPV6:"), "IPv6:")
		case "PORT":
			s.xf.port = v
		case "PROTO":
			s.xf.proto = v
		case "HELO":
			s.xf.helo = v
		case "IDENT":
			s.xf.ident = v
		case "SOURCE":
			s.xf.source = v
		}
	}
	return nil
}

// xforwardValue keeps a forwarded value printable and short: it ends up in
// events, the CLI and the admin pages. "[UNAVAILABLE]" and "[TEMPUNAVAIL]"
// (Postfix's words for a value it does not have) become "".
func xforwardValue(v string) string {
	if v == "[UNAVAILABLE]" || v == "[TEMPUNAVAIL]" {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(v) && b.Len() < 255; i++ {
		if c := v[i]; c > ' ' && c < 0x7f {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// clientIP is the client of the transaction: the XFORWARD address when an
// MTA in front named one, else the connection's.
func (s *session) clientIP() string {
	if a, ok := s.forwardedAddr(); ok {
		return a
	}
	return s.remote.String()
}

// forwardedAddr is the address an MTA in front named with XFORWARD, if any.
func (s *session) forwardedAddr() (string, bool) {
	if s.xf == nil {
		return "", false
	}
	a, err := netip.ParseAddr(s.xf.addr)
	if err != nil {
		return "", false
	}
	return a.Unmap().String(), true
}

// clientDesc describes the client for events: the connection's address
// (and SMTP AUTH user), or the forwarded client with what the MTA in front
// said of it and that MTA as "via", e.g.
// "192.0.2.7 (name pc12.city.example, helo PC-12, queue 4XyZ1; via 127.0.0.1)".
func (s *session) clientDesc() string {
	conn := s.remote.String()
	if s.user != "" {
		conn += " (user " + s.user + ")"
	}
	if s.xf == nil {
		return conn
	}
	who, ok := s.forwardedAddr()
	switch {
	case ok:
	case strings.EqualFold(s.xf.source, "LOCAL"):
		who = "local submission"
	default:
		who = "unknown"
	}
	var parts []string
	for _, kv := range [][2]string{{"name", s.xf.name}, {"helo", s.xf.helo}, {"queue", s.xf.ident}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+" "+kv[1])
		}
	}
	detail := strings.Join(parts, ", ")
	if detail != "" {
		detail += "; "
	}
	return who + " (" + detail + "via " + conn + ")"
}

// xforwardAttrs is what sekisho tells a next hop that offers XFORWARD (a
// Postfix re-injection listener with smtpd_authorized_xforward_hosts), so
// that its log names the original client too: what an MTA in front
// forwarded, else this connection's address and HELO name.
func (s *session) xforwardAttrs() map[string]string {
	if s.xf != nil {
		addr := s.xf.addr
		if a, err := netip.ParseAddr(addr); err == nil && a.Is6() && !a.Is4In6() {
			addr = "IPV6:" + addr
		}
		return map[string]string{"NAME": s.xf.name, "ADDR": addr, "PORT": s.xf.port, "PROTO": s.xf.proto,
			"HELO": s.xf.helo, "IDENT": s.xf.ident, "SOURCE": s.xf.source}
	}
	addr := s.remote.String()
	if s.remote.Is6() && !s.remote.Is4In6() {
		addr = "IPV6:" + addr
	}
	return map[string]string{"NAME": "", "ADDR": addr, "HELO": s.conn.Hostname()}
}
