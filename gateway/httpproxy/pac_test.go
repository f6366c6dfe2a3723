package httpproxy

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPAC(t *testing.T) {
	get := func(listen, reqHost string) string {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "http://"+reqHost+"/proxy.pac", nil)
		PACHandler(listen, []string{"*.bank.example.jp"}).ServeHTTP(rec, req)
		if ct := rec.Header().Get("Content-Type"); ct != "application/x-ns-proxy-autoconfig" {
			t.Errorf("content type %q", ct)
		}
		b, _ := io.ReadAll(rec.Body)
		return string(b)
	}
	pac := get("10.1.2.3:3128", "admin.corp:8025")
	if !strings.Contains(pac, `return "PROXY 10.1.2.3:3128";`) || !strings.Contains(pac, `dnsDomainIs(host, ".bank.example.jp")`) {
		t.Errorf("PAC for a fixed address:\n%s", pac)
	}
	// Listening on all addresses: the PAC names the host the browser used.
	if pac := get("0.0.0.0:3128", "gw.corp.example:8025"); !strings.Contains(pac, `return "PROXY gw.corp.example:3128";`) {
		t.Errorf("PAC for a wildcard listener:\n%s", pac)
	}
}
