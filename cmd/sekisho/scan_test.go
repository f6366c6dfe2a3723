package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScanUnreadableFile(t *testing.T) {
	var out, errb bytes.Buffer
	missing := filepath.Join(t.TempDir(), "nope.eml")
	code := run([]string{"scan", missing}, &out, &errb)
	msg := strings.TrimSpace(errb.String())
	if code != 2 || !strings.Contains(msg, missing) || !strings.Contains(msg, "no such file") || strings.Count(msg, "\n") != 0 {
		t.Fatalf("exit %d, stderr %q: want 2 and one line naming the file and the cause", code, msg)
	}
}

func TestScanStdinAndHumanSummary(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "testdata", "mail", "mynumber-body-iso2022jp.eml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old }()
	var out, errb bytes.Buffer
	code := run([]string{"scan", "-"}, &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "BLOCK") || !strings.Contains(out.String(), "pii_in_body") || !strings.Contains(out.String(), "********2595") {
		t.Fatalf("exit %d, output:\n%s%s", code, out.String(), errb.String())
	}
	if strings.Contains(out.String(), "2595 です") || strings.Contains(out.String(), "4842 3847 2595") {
		t.Fatalf("summary shows the value in clear")
	}
}

func TestScanRcptOverridesHeaders(t *testing.T) {
	var out, errb bytes.Buffer
	mail := filepath.Join("..", "..", "testdata", "mail", "clean-utf8.eml")
	code := run([]string{"scan", "--json", "--rcpt", "FAX=+81-3-1234-5678@gw.example.jp", mail}, &out, &errb)
	var r scanResult
	json.Unmarshal(out.Bytes(), &r)
	if code != 1 || len(r.Reasons) != 1 || r.Reasons[0] != "fax" {
		t.Fatalf("exit %d, reasons %v: --rcpt must stand for the envelope", code, r.Reasons)
	}
}
