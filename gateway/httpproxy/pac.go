package httpproxy

import (
	"fmt"
	"net/http"
	"strings"
)

// PACHandler serves a proxy auto-config file (/proxy.pac on the admin
// listener) that sends browsers through proxyAddr (host:port as clients
// reach it), except plain host names and the given direct domains.
func PACHandler(proxyAddr string, direct []string) http.Handler {
	var b strings.Builder
	b.WriteString("function FindProxyForURL(url, host) {\n")
	b.WriteString("  if (isPlainHostName(host) || host == \"localhost\" || shExpMatch(host, \"127.*\")) return \"DIRECT\";\n")
	for _, d := range direct {
		d = strings.TrimPrefix(strings.ToLower(d), "*.")
		fmt.Fprintf(&b, "  if (dnsDomainIs(host, %q) || host == %q) return \"DIRECT\";\n", "."+d, d)
	}
	fmt.Fprintf(&b, "  return \"PROXY %s\";\n}\n", proxyAddr)
	pac := b.String()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ns-proxy-autoconfig")
		w.Write([]byte(pac))
	})
}
