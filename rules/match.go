package rules

import (
	"fmt"
	"net"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// domainSet matches host or domain names against patterns: "example.jp"
// (that name only) and "*.example.jp" (any name under it, not the name
// itself).
type domainSet struct {
	exact  map[string]bool
	suffix []string // ".example.jp"
}

func newDomainSet(patterns []string) domainSet {
	s := domainSet{exact: map[string]bool{}}
	for _, p := range patterns {
		p = strings.ToLower(p)
		if rest, ok := strings.CutPrefix(p, "*."); ok {
			s.suffix = append(s.suffix, "."+rest)
		} else {
			s.exact[p] = true
		}
	}
	return s
}

func (s domainSet) match(name string) bool {
	if name == "" {
		return false
	}
	if s.exact[name] {
		return true
	}
	for _, suf := range s.suffix {
		if strings.HasSuffix(name, suf) {
			return true
		}
	}
	return false
}

func (s domainSet) empty() bool { return len(s.exact) == 0 && len(s.suffix) == 0 }

// checkDomainPattern validates "example.jp" or "*.example.jp".
func checkDomainPattern(p string) error {
	if p == "" {
		return fmt.Errorf("empty name")
	}
	name := strings.TrimPrefix(p, "*.")
	if strings.Contains(name, "*") {
		return fmt.Errorf("%q: a wildcard is only allowed as a leading \"*.\"", p)
	}
	if net.ParseIP(name) != nil {
		return nil
	}
	if len(name) > 253 {
		return fmt.Errorf("%q is too long for a domain name", p)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("%q is not a domain name", p)
		}
		for _, r := range label {
			ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
			if !ok {
				if r > 127 {
					return fmt.Errorf("%q: write an international domain name in its xn-- form", p)
				}
				return fmt.Errorf("%q is not a domain name", p)
			}
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("%q is not a domain name", p)
		}
	}
	return nil
}

// NormalizeHost lowers a host name and strips a port, brackets and a
// trailing dot: "WWW.Example.JP:443" → "www.example.jp".
func NormalizeHost(host string) string {
	h := strings.TrimSpace(host)
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// splitAddress splits an address ("<a@b>", "a@b", `"0312345678"@b`) into a
// local part (NFKC, unquoted, case kept) and a lower-case domain.
func splitAddress(addr string) (local, domain string) {
	a := strings.TrimSpace(norm.NFKC.String(addr))
	if i := strings.LastIndexByte(a, '<'); i >= 0 {
		a = a[i+1:]
		if j := strings.IndexByte(a, '>'); j >= 0 {
			a = a[:j]
		}
	}
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		return a, ""
	}
	local, domain = a[:at], strings.TrimSuffix(strings.ToLower(a[at+1:]), ".")
	if len(local) >= 2 && local[0] == '"' && local[len(local)-1] == '"' {
		local = strings.ReplaceAll(local[1:len(local)-1], `\`, "")
	}
	return local, domain
}

// addrPattern matches an address: "user@example.jp" (that address),
// "example.jp" or "@example.jp" (any address at that domain), "*.example.jp"
// (any address under it), "group:NAME" (resolved when compiled).
type addrPattern struct {
	addr   string // lower-case full address
	domain domainSet
}

func (p addrPattern) match(local, domain string) bool {
	if domain == "" {
		return false
	}
	if p.addr != "" {
		return strings.ToLower(local)+"@"+domain == p.addr
	}
	return p.domain.match(domain)
}

// parseAddrPattern parses one pattern that is not a group reference.
func parseAddrPattern(s string) (addrPattern, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return addrPattern{}, fmt.Errorf("empty pattern")
	}
	if i := strings.LastIndexByte(s, '@'); i > 0 {
		local, domain := s[:i], s[i+1:]
		if strings.ContainsAny(local, " <>,") {
			return addrPattern{}, fmt.Errorf("%q is not an address", s)
		}
		if err := checkDomainPattern(domain); err != nil || strings.HasPrefix(domain, "*.") {
			return addrPattern{}, fmt.Errorf("%q is not an address", s)
		}
		return addrPattern{addr: strings.ToLower(local + "@" + domain)}, nil
	}
	d := strings.TrimPrefix(s, "@")
	if err := checkDomainPattern(d); err != nil {
		return addrPattern{}, err
	}
	return addrPattern{domain: newDomainSet([]string{d})}, nil
}

type addrMatcher []addrPattern

func (m addrMatcher) match(addr string) bool {
	local, domain := splitAddress(addr)
	for _, p := range m {
		if p.match(local, domain) {
			return true
		}
	}
	return false
}
