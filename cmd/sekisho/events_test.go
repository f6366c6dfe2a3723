package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dlp/sekisho/gateway/event"
)

// runCmd runs a command function and returns its exit code and output.
func runCmdForTest(f func([]string, io.Writer, io.Writer) int, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := f(args, &out, &errb)
	return code, out.String(), errb.String()
}

// eventsFixture makes a data dir with three events and returns it and
// their IDs.
func eventsFixture(t *testing.T) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	l, err := event.Open(filepath.Join(dir, "events.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	now := time.Now().UTC()
	evs := []*event.Event{
		{Time: now.Add(-48 * time.Hour), Channel: "smtp", Client: "10.0.0.5", Sender: "tanaka@city.example.jp",
			Recipients: []string{"x@example.com"}, Size: 2048, Verdict: "block", Action: "bounce",
			Reasons:   []event.Reason{{Code: "pii-cleartext", Article: "第11条(7)", Place: "body"}},
			Detectors: []event.DetectorCount{{Detector: "jp-my-number", Count: 2, Masked: []string{"********9012", "********1234"}}}},
		{Time: now.Add(-time.Hour), Channel: "smtp", Client: "10.0.0.6", Sender: "suzuki@city.example.jp",
			Recipients: []string{"a@example.com", "b@example.com", "c@example.com"}, Verdict: "allow", Action: "forward",
			Ledger: true, Attachments: []event.Attachment{{Name: "名簿.zip", Type: "application/zip", Size: 999,
				Encrypted: true, Encryption: "zip-aes256"}}},
		{Time: now.Add(-time.Minute), Channel: "http", Client: "10.0.0.7", Host: "upload.example.com",
			URL: "POST https://upload.example.com/f", Verdict: "block", Action: "reject",
			Reasons: []event.Reason{{Code: "pii-cleartext", Article: "第11条(10)イ"}}},
	}
	var ids []string
	for _, e := range evs {
		if err := l.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	return dir, ids
}

func TestEventsList(t *testing.T) {
	dir, ids := eventsFixture(t)
	code, out, errs := runCmdForTest(cmdEvents, "list", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range append(ids, "pii-cleartext(第11条(7))", "jp-my-number×2", "a@example.com,b@example.com,+1",
		"upload.example.com", "VERDICT") {
		if !strings.Contains(out, want) {
			t.Errorf("list output lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, ids[0]) > strings.Index(out, ids[2]) {
		t.Error("list is not oldest first")
	}
	// Flags before the command word, filters, JSON.
	code, out, errs = runCmdForTest(cmdEvents, "--data-dir", dir, "list", "--verdict", "block", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got []event.Event
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != ids[0] || got[1].ID != ids[2] {
		t.Fatalf("--verdict block gave %+v", got)
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--since", "24h"}, ids[1:]},
		{[]string{"--until", "2h"}, ids[:1]},
		{[]string{"--ledger"}, ids[1:2]},
		{[]string{"--channel", "http"}, ids[2:]},
		{[]string{"--sender", "TANAKA@city.example.jp"}, ids[:1]},
		{[]string{"--client", "10.0.0.6"}, ids[1:2]},
		{[]string{"--client", "::ffff:10.0.0.7"}, ids[2:]},
		{[]string{"--reason", "pii-cleartext", "--limit", "1"}, ids[2:]},
	} {
		_, out, _ := runCmdForTest(cmdEvents, append([]string{"list", "--json", "--data-dir", dir}, c.args...)...)
		var got []event.Event
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: %v: %s", c.args, err, out)
		}
		var gotIDs []string
		for _, e := range got {
			gotIDs = append(gotIDs, e.ID)
		}
		if strings.Join(gotIDs, " ") != strings.Join(c.want, " ") {
			t.Errorf("list %v = %v, want %v", c.args, gotIDs, c.want)
		}
	}
}

func TestEventsShowAndReport(t *testing.T) {
	dir, ids := eventsFixture(t)
	code, out, errs := runCmdForTest(cmdEvents, "show", ids[0], "--data-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"tanaka@city.example.jp", "pii-cleartext 第11条(7) in body", "********9012", "bounce", "2048 bytes"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCmdForTest(cmdEvents, "show", ids[1], "--json", "--data-dir", dir)
	var e event.Event
	if code != 0 || json.Unmarshal([]byte(out), &e) != nil || e.ID != ids[1] || !e.Attachments[0].Encrypted {
		t.Fatalf("show --json: %d %s", code, out)
	}
	code, _, errs = runCmdForTest(cmdEvents, "show", "20991231T000000.000Z-000000000000", "--data-dir", dir)
	if code != 1 || !strings.Contains(errs, "no such event") {
		t.Fatalf("show unknown: %d %s", code, errs)
	}
	code, out, errs = runCmdForTest(cmdEvents, "report", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"3 events", "管理簿", ids[1], "名簿.zip [zip-aes256]", "pii-cleartext 第11条(7)", "jp-my-number"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCmdForTest(cmdEvents, "report", "--since", "24h", "--json", "--data-dir", dir)
	var r eventReport
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Events != 2 || r.Verdicts["block"] != 1 || len(r.Ledger) != 1 {
		t.Fatalf("report --json: %d %s", code, out)
	}
}

func TestEventsVerify(t *testing.T) {
	dir, _ := eventsFixture(t)
	code, out, errs := runCmdForTest(cmdEvents, "verify", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "ok: 3 events, chain intact") {
		t.Fatalf("verify: %d %q %q", code, out, errs)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE events SET body = replace(body, '"allow"', '"block"') WHERE seq = 2`); err == nil {
		t.Fatal("the trigger let an UPDATE through")
	}
	for _, q := range []string{"DROP TRIGGER events_no_update",
		`UPDATE events SET body = replace(body, '"allow"', '"block"') WHERE seq = 2`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	code, out, _ = runCmdForTest(cmdEvents, "verify", "--data-dir", dir)
	if code != 1 || !strings.Contains(out, "first broken seq 2") {
		t.Fatalf("verify after tampering: %d %q", code, out)
	}
}

func TestEventsErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	code, _, errs := runCmdForTest(cmdEvents, "list", "--data-dir", missing)
	if code != 1 || !strings.Contains(errs, "events.db") || !strings.Contains(errs, "is --data-dir right?") {
		t.Fatalf("missing dir: %d %s", code, errs)
	}
	dir, _ := eventsFixture(t)
	for _, args := range [][]string{
		{}, {"frobnicate"}, {"list", "--since", "yesterday"}, {"list", "--verdict", "blocked"},
		{"list", "--channel", "ftp"}, {"show"}, {"verify", "extra"}, {"list", "--bogus"}, {"list", "--client", "pc12"},
	} {
		code, _, errs := runCmdForTest(cmdEvents, append(args, "--data-dir", dir)...)
		if code != 2 || errs == "" {
			t.Errorf("events %v: exit %d, stderr %q", args, code, errs)
		}
	}
}

// -h prints the usage and succeeds, for every command made of subcommands.
func TestSubcommandHelp(t *testing.T) {
	for name, cmd := range map[string]func([]string, io.Writer, io.Writer) int{"events": cmdEvents, "quarantine": cmdQuarantine} {
		code, _, errs := runCmdForTest(cmd, "-h")
		if code != 0 || !strings.Contains(errs, "sekisho "+name) {
			t.Errorf("%s -h: exit %d, stderr %q", name, code, errs)
		}
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                          {},
		"24h":                       now.Add(-24 * time.Hour),
		"7d":                        now.Add(-7 * 24 * time.Hour),
		"90m":                       now.Add(-90 * time.Minute),
		"2026-11-01T09:00:00+09:00": time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		"2026-11-01":                time.Date(2026, 11, 1, 0, 0, 0, 0, time.Local),
	} {
		got, err := parseWhen(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"yesterday", "-5h", "2026-13-01", "5x"} {
		if _, err := parseWhen(in, now); err == nil {
			t.Errorf("parseWhen(%q) accepted", in)
		}
	}
}

// TestEventsVerifyAnchors: a head written down earlier shows a log cut off
// after it, or rewritten; a matching one passes.
func TestEventsVerifyAnchors(t *testing.T) {
	dir, _ := eventsFixture(t)
	code, out, _ := runCmdForTest(cmdEvents, "verify", "--data-dir", dir)
	m := regexp.MustCompile(`head: seq (\d+) sha256 ([0-9a-f]{64})`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("verify: exit %d\n%s", code, out)
	}
	head := m[1] + ":" + m[2]
	for _, tc := range []struct {
		anchors []string
		code    int
		want    string
	}{
		{[]string{head}, 0, "anchors: 1, each event found with its hash"},
		{[]string{head, "9:" + m[2]}, 1, "TAMPERED: " + filepath.Join(dir, "events.db") + ": the anchored event seq 9 is gone: the log was cut off after 3 events"},
		{[]string{m[1] + ":" + strings.Repeat("0", 64)}, 1, "the anchor says " + strings.Repeat("0", 64) + ": the log was rewritten"},
	} {
		args := []string{"verify", "--data-dir", dir}
		for _, a := range tc.anchors {
			args = append(args, "--anchor", a)
		}
		code, out, errs := runCmdForTest(cmdEvents, args...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("verify %v: exit %d (want %d)\n%s%s\nwant %q", tc.anchors, code, tc.code, out, errs, tc.want)
		}
	}
	for _, bad := range []string{"3", "x:" + m[2], "0:" + m[2], "3:abc", "3:" + strings.Repeat("g", 64)} {
		if code, _, errs := runCmdForTest(cmdEvents, "verify", "--data-dir", dir, "--anchor", bad); code != 2 || !strings.Contains(errs, "SEQ:HASH") {
			t.Errorf("--anchor %q: exit %d, %q", bad, code, errs)
		}
	}
}
