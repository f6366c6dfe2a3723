package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sekisho-dlp/sekisho/gateway/config"
)

func runConfig(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(append([]string{"config"}, args...), &o, &e)
	return code, o.String(), e.String()
}

func TestConfigCommand(t *testing.T) {
	code, out, _ := runConfig("example")
	if code != 0 || out != config.Example() {
		t.Fatalf("config example: %d", code)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(out), 0o600)
	if code, out, _ := runConfig("check", good); code != 0 || out != "ok\n" {
		t.Fatalf("check example: %d %q", code, out)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("smtp:\n  next_hop: foo\n  listen: 127.0.0.1:25\npolicy:\n  detectors:\n    jp_phone: {threshold: 0}\n"), 0o600)
	code, out, _ = runConfig("check", bad)
	want := bad + `:2: smtp.next_hop: "foo" is not host:port` + "\n" +
		bad + ":6: policy.detectors.jp_phone.threshold: 0 is out of range (1 to 4096)\n"
	if code != 1 || out != want {
		t.Fatalf("check bad: %d\n%s\nwant\n%s", code, out, want)
	}
	code, _, errOut := runConfig("check", filepath.Join(dir, "missing.yaml"))
	if code != 2 || !strings.Contains(errOut, "cannot read") {
		t.Fatalf("check missing: %d %q", code, errOut)
	}
	if code, out, _ := runConfig("default"); code != 0 || !strings.Contains(out, "jp_my_number: {pii: true, threshold: 1}") {
		t.Fatalf("config default: %d", code)
	}
	for _, args := range [][]string{{}, {"check"}, {"nope"}, {"example", "x"}} {
		if code, _, _ := runConfig(args...); code != 2 {
			t.Errorf("config %v: exit %d, want 2", args, code)
		}
	}
}
