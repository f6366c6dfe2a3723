package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The systemd unit the README documents (testdata/systemd/sekisho.service)
// and the paths it names.
const (
	unitFile    = "../../testdata/systemd/sekisho.service"
	unitBinary  = "/usr/local/bin/sekisho"
	unitConfig  = "/etc/sekisho/sekisho.yaml"
	unitDataDir = "/var/lib/sekisho"
)

// TestSystemdUnit: the documented unit is what the README shows, systemd
// finds nothing wrong in it (systemd-analyze verify, the binary path
// pointing at a fresh build), its ExecStart line starts sekisho, its
// ExecReload line reloads it, and SIGTERM (systemctl stop) ends it cleanly.
func TestSystemdUnit(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the binary")
	}
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, bytes.TrimSpace(unit)) {
		t.Errorf("README.md does not hold testdata/systemd/sekisho.service as it is: copy it over")
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("systemd-analyze is required in CI (apt-get install systemd): %v", err)
		}
		t.Skip("systemd-analyze not installed")
	}

	dir := t.TempDir()
	bin := buildSekisho(t, dir)
	sink := startCapSink(t)
	cfg := filepath.Join(dir, "sekisho.yaml")
	yaml := fmt.Sprintf("smtp:\n  listen: 127.0.0.1:%d\n  next_hop: %s\nproxy:\n  listen: 127.0.0.1:%d\nadmin:\n  listen: 127.0.0.1:%d\n",
		freePort(t), sink.addr, freePort(t), freePort(t))
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	local := strings.NewReplacer(unitBinary, bin, unitConfig, cfg, unitDataDir, data).Replace(string(unit))
	for _, p := range []string{unitBinary, unitConfig, unitDataDir} {
		if !strings.Contains(string(unit), p) {
			t.Fatalf("the unit does not name %s", p)
		}
	}
	unitPath := filepath.Join(dir, "sekisho.service")
	if err := os.WriteFile(unitPath, []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	// A misspelt or unknown setting shows as output (exit status 0 all the same).
	if out, err := exec.Command(analyze, "verify", unitPath).CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}

	execStart := unitLine(t, local, "ExecStart")
	var logBuf syncBuffer
	cmd := exec.Command(execStart[0], execStart[1:]...)
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waitLog := func(what string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(logBuf.String(), what) {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("no %q in the log within 20 s:\n%s", what, logBuf.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitLog("sekisho serve started")
	if !strings.Contains(logBuf.String(), `"data_dir":"`+data+`"`) {
		t.Errorf("ExecStart's --data-dir not used:\n%s", logBuf.String())
	}
	// ExecReload, with $MAINPID as systemd gives it.
	reload := unitLine(t, strings.ReplaceAll(local, "$MAINPID", strconv.Itoa(cmd.Process.Pid)), "ExecReload")
	if out, err := exec.Command(reload[0], reload[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("ExecReload %v: %v %s", reload, err, out)
	}
	waitLog("config reloaded")
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, logBuf.String())
		}
	case <-time.After(45 * time.Second): // the unit's TimeoutStopSec
		cmd.Process.Kill()
		t.Fatalf("no exit within TimeoutStopSec after SIGTERM")
	}
}

// unitLine returns the words of a unit's KEY= line.
func unitLine(t *testing.T, unit, key string) []string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+"="); ok {
			return strings.Fields(v)
		}
	}
	t.Fatalf("the unit has no %s= line", key)
	return nil
}
