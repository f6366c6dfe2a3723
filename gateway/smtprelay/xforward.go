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
	name, port, proto, helo, ident, source string
	// addr is the forwarded address, parsed once; invalid when the MTA
	// did not have one ("[UNAVAILABLE]") or sent something else.
	addr netip.Addr
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
			a, err := netip.ParseAddr(strings.TrimPrefix(strings.TrimPrefix(v, "IPV6:"), "IPv6:"))
			if err != nil {
				a = netip.Addr{}
			}
			s.xf.addr = a.Unmap()
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
	if s.xf != nil && s.xf.addr.IsValid() {
		return s.xf.addr.String()
	}
	return s.remote.String()
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
	var who string
	switch {
	case s.xf.addr.IsValid():
		who = s.xf.addr.String()
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
		addr := ""
		if s.xf.addr.IsValid() {
			addr = xforwardAddr(s.xf.addr)
		}
		return map[string]string{"NAME": s.xf.name, "ADDR": addr, "PORT": s.xf.port, "PROTO": s.xf.proto,
			"HELO": s.xf.helo, "IDENT": s.xf.ident, "SOURCE": s.xf.source}
	}
	return map[string]string{"NAME": "", "ADDR": xforwardAddr(s.remote), "HELO": s.conn.Hostname()}
}

// xforwardAddr writes an address as XFORWARD's ADDR does ("IPV6:" before
// an IPv6 address).
func xforwardAddr(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		return "IPV6:" + a.String()
	}
	return a.String()
}
