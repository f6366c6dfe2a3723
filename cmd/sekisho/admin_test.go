package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestServePAC: the admin listener serves the PAC file that points browsers
// at the running proxy.
func TestServePAC(t *testing.T) {
	sink := startCapSink(t)
	g := startServe(t, sink.addr)
	resp, err := http.Get("http://" + g.addrs.Admin + "/proxy.pac")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `return "PROXY `+g.addrs.Proxy+`";`) {
		t.Fatalf("GET /proxy.pac: %d\n%s", resp.StatusCode, b)
	}
}
