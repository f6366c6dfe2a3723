package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sekisho-dlp/sekisho/rules"
)

// bcryptHash is the shape of a bcrypt hash: $2a$/$2b$/$2y$, cost 04–31, 53
// characters of salt and hash.
var bcryptHash = regexp.MustCompile(`^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$`)

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate checks every field and compiles the policy. It returns a
// rules.Errors naming the file, line and field of every problem, or nil.
// Serve calls it again after flags override fields.
func (c *Config) Validate() error {
	v := &validator{src: c.src}
	c.validateSMTP(v)
	c.validateProxy(v)
	c.validateAdmin(v)
	if strings.TrimSpace(c.DataDir) == "" {
		v.errorf("data_dir", "missing")
	}
	q := c.Quarantine
	if q.Retention.D() < time.Hour {
		v.errorf("quarantine.retention", "%v is shorter than 1h", q.Retention.D())
	}
	if q.KeyFile != "" && q.KeyEnv != "" {
		v.errorf("quarantine.key_env", "give key_file or key_env, not both")
	}
	v.file("quarantine.key_file", q.KeyFile)
	v.env("quarantine.key_env", q.KeyEnv)
	l := c.Limits
	v.intRange("limits.max_depth", l.MaxDepth, 1, 64)
	v.sizeRange("limits.max_expanded_bytes", l.MaxExpandedBytes, 1<<20, 64<<30)
	if l.MaxRatio < 1 || l.MaxRatio > 100000 {
		v.errorf("limits.max_ratio", "%g is out of range (1 to 100000)", l.MaxRatio)
	}
	v.intRange("limits.max_entries", l.MaxEntries, 1, 1000000)
	v.intRange("limits.max_parts", l.MaxParts, 1, 1000000)
	v.sizeRange("limits.spool_threshold", l.SpoolThreshold, 64<<10, 1<<30)
	if l.TempDir != "" {
		if st, err := os.Stat(l.TempDir); err != nil || !st.IsDir() {
			v.errorf("limits.temp_dir", "%q is not a directory", l.TempDir)
		}
	}
	v.durRange("limits.inspect_timeout", l.InspectTimeout, time.Second, time.Hour)
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		v.errorf("log_level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	listeners := map[string]string{}
	for _, l := range []struct {
		field, addr string
		off         bool
	}{{"smtp.listen", c.SMTP.Listen, c.SMTP.Disabled}, {"proxy.listen", c.Proxy.Listen, c.Proxy.Disabled}, {"admin.listen", c.Admin.Listen, c.Admin.Disabled}} {
		if l.off || l.addr == "" || strings.HasSuffix(l.addr, ":0") {
			continue
		}
		if other, ok := listeners[l.addr]; ok {
			v.errorf(l.field, "%q is also %s", l.addr, other)
		}
		listeners[l.addr] = l.field
	}

	c.policy = nil
	p, err := c.compilePolicy()
	if err != nil {
		var es rules.Errors
		if errors.As(err, &es) {
			v.errs = append(v.errs, es...)
		} else {
			v.errorf("policy", "%v", err)
		}
	}
	if err := v.errs.Err(); err != nil {
		return err
	}
	c.policy = p
	return nil
}

func (c *Config) validateSMTP(v *validator) {
	s := c.SMTP
	v.hostPort("smtp.listen", s.Listen)
	v.hostPort("smtp.next_hop", s.NextHop)
	if s.Hostname != "" {
		if strings.ContainsAny(s.Hostname, " \t/:@") || strings.Contains(s.Hostname, "..") {
			v.errorf("smtp.hostname", "%q is not a host name", s.Hostname)
		}
	}
	switch s.NextHopTLS {
	case "opportunistic", "required", "none":
	default:
		v.errorf("smtp.next_hop_tls", "%q is not one of opportunistic, required, none", s.NextHopTLS)
	}
	v.durRange("smtp.next_hop_timeout", s.NextHopTimeout, time.Second, time.Hour)
	v.networks("smtp.allowed_networks", s.AllowedNetworks)
	v.networks("smtp.xforward_networks", s.XForwardNetworks)
	v.users("smtp.users", s.Users)
	v.tls("smtp.tls", s.TLS)
	v.sizeRange("smtp.max_message_bytes", s.MaxMessageBytes, 1<<10, 1<<30)
	v.intRange("smtp.max_recipients", s.MaxRecipients, 1, 10000)
	v.durRange("smtp.read_timeout", s.ReadTimeout, time.Second, time.Hour)
	v.durRange("smtp.write_timeout", s.WriteTimeout, time.Second, time.Hour)
	v.intRange("smtp.max_connections", s.MaxConnections, 1, 100000)
	v.intRange("smtp.max_connections_per_client", s.MaxConnectionsPerClient, 1, 100000)
	if s.MaxConnectionsPerClient > s.MaxConnections && s.MaxConnections > 0 {
		v.errorf("smtp.max_connections_per_client", "%d is more than max_connections (%d)", s.MaxConnectionsPerClient, s.MaxConnections)
	}
	switch s.BlockMode {
	case rules.ActionBounce, rules.ActionReject:
	default:
		v.errorf("smtp.block_mode", "%q is not bounce or reject", s.BlockMode)
	}
	if s.BounceFrom != "" {
		if a, err := mail.ParseAddress(s.BounceFrom); err != nil || a.Name != "" {
			v.errorf("smtp.bounce_from", "%q is not a plain address (postmaster@example.jp)", s.BounceFrom)
		}
	}
}

func (c *Config) validateProxy(v *validator) {
	p := c.Proxy
	v.hostPort("proxy.listen", p.Listen)
	v.networks("proxy.allowed_networks", p.AllowedNetworks)
	v.users("proxy.users", p.Users)
	v.sizeRange("proxy.max_upload_bytes", p.MaxUploadBytes, 1<<10, 1<<30)
	switch {
	case p.CACertFile != "" && p.CAKeyFile == "":
		v.errorf("proxy.ca_cert_file", "give both ca_cert_file and ca_key_file, or neither")
	case p.CACertFile == "" && p.CAKeyFile != "":
		v.errorf("proxy.ca_key_file", "give both ca_cert_file and ca_key_file, or neither")
	}
	v.file("proxy.ca_cert_file", p.CACertFile)
	v.file("proxy.ca_key_file", p.CAKeyFile)
	v.durRange("proxy.upstream_timeout", p.UpstreamTimeout, time.Second, time.Hour)
	v.intRange("proxy.max_inspections", p.MaxInspections, 0, 1024)
}

func (c *Config) validateAdmin(v *validator) {
	a := c.Admin
	v.hostPort("admin.listen", a.Listen)
	if a.TokenFile != "" && a.TokenEnv != "" {
		v.errorf("admin.token_env", "give token_file or token_env, not both")
	}
	v.file("admin.token_file", a.TokenFile)
	v.env("admin.token_env", a.TokenEnv)
	v.users("admin.users", a.Users)
	if !a.Disabled && a.Listen != "" && !isLoopback(a.Listen) && a.TokenFile == "" && a.TokenEnv == "" && len(a.Users) == 0 {
		v.errorf("admin.listen", "%q is not a loopback address: set admin.token_file, admin.token_env or admin.users", a.Listen)
	}
}

type validator struct {
	src  *rules.Source
	errs rules.Errors
}

func (v *validator) errorf(field, format string, args ...any) {
	v.errs = append(v.errs, v.src.Errorf(field, format, args...))
}

func (v *validator) hostPort(field, addr string) {
	if addr == "" {
		v.errorf(field, "missing")
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || strings.ContainsAny(host, " /") {
		v.errorf(field, "%q is not host:port", addr)
		return
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		v.errorf(field, "%q is not host:port (bad port)", addr)
	}
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (v *validator) networks(field string, nets []string) {
	if len(nets) == 0 {
		v.errorf(field, "empty: no client could connect (give 127.0.0.1/32 at least)")
	}
	for i, n := range nets {
		if _, _, err := net.ParseCIDR(n); err == nil {
			continue
		}
		if net.ParseIP(n) != nil {
			continue
		}
		v.errorf(fmt.Sprintf("%s[%d]", field, i), "%q is not an address or a CIDR network", n)
	}
}

func (v *validator) users(field string, users []User) {
	seen := map[string]bool{}
	for i, u := range users {
		p := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case u.Name == "":
			v.errorf(p+".name", "missing")
		case strings.ContainsAny(u.Name, ": \t"):
			v.errorf(p+".name", "%q holds a space or a colon", u.Name)
		case seen[u.Name]:
			v.errorf(p+".name", "%q is given twice", u.Name)
		}
		seen[u.Name] = true
		if !bcryptHash.MatchString(u.PasswordHash) {
			// Never echo the value: it may be a password typed in clear.
			v.errorf(p+".password_hash", "not a bcrypt hash (make one with: htpasswd -nbBC 12 %s PASSWORD)", u.Name)
		}
	}
}

func (v *validator) tls(field string, t TLS) {
	if (t.CertFile == "") != (t.KeyFile == "") {
		v.errorf(field, "give both cert_file and key_file, or neither")
	}
	v.file(field+".cert_file", t.CertFile)
	v.file(field+".key_file", t.KeyFile)
}

func (v *validator) file(field, name string) {
	if name == "" {
		return
	}
	st, err := os.Stat(name)
	switch {
	case err != nil:
		v.errorf(field, "%q cannot be read: %v", name, errors.Unwrap(err))
	case st.IsDir():
		v.errorf(field, "%q is a directory, not a file", name)
	}
}

func (v *validator) env(field, name string) {
	if name != "" && !envName.MatchString(name) {
		v.errorf(field, "%q is not an environment variable name", name)
	}
}

func (v *validator) intRange(field string, n, lo, hi int) {
	if n < lo || n > hi {
		v.errorf(field, "%d is out of range (%d to %d)", n, lo, hi)
	}
}

func (v *validator) sizeRange(field string, n, lo, hi rules.ByteSize) {
	if n < lo || n > hi {
		v.errorf(field, "%s is out of range (%s to %s)", n, lo, hi)
	}
}

func (v *validator) durRange(field string, d rules.Duration, lo, hi time.Duration) {
	if d.D() < lo || d.D() > hi {
		v.errorf(field, "%v is out of range (%v to %v)", d.D(), lo, hi)
	}
}
