package httpproxy

import (
	"fmt"
	"net"
	"net/http"
	"strings"
)

// PACHandler serves a proxy auto-config file (/proxy.pac on the admin
// listener) that sends browsers through the proxy listening on listenAddr,
// except plain host names, loopback and the given direct domains (hosts
// that are never intercepted). When the proxy listens on all addresses,
// the file names the host the browser used to fetch it.
func PACHandler(listenAddr string, direct []string) http.Handler {
	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		host, port = listenAddr, "3128"
	}
	unspecified := host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified()
	var b strings.Builder
	b.WriteString("function FindProxyForURL(url, host) {\n")
	b.WriteString("  if (isPlainHostName(host) || host == \"localhost\" || shExpMatch(host, \"127.*\")) return \"DIRECT\";\n")
	for _, d := range direct {
		d = strings.TrimPrefix(strings.ToLower(d), "*.")
		fmt.Fprintf(&b, "  if (dnsDomainIs(host, %q) || host == %q) return \"DIRECT\";\n", "."+d, d)
	}
	head := b.String()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := host
		if unspecified {
			h = r.Host
			if hh, _, err := net.SplitHostPort(r.Host); err == nil {
				h = hh
			}
		}
		w.Header().Set("Content-Type", "application/x-ns-proxy-autoconfig")
		fmt.Fprintf(w, "%s  return \"PROXY %s\";\n}\n", head, net.JoinHostPort(h, port))
	})
}
