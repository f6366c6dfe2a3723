package event

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sekisho-dlp/sekisho/detectors/cputime"
)

func openTest(t testing.TB) (*Log, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	l, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

func sampleEvent() *Event {
	return &Event{
		Time:       time.Date(2026, 11, 25, 22, 40, 10, 0, time.FixedZone("JST", 9*3600)),
		Channel:    "smtp",
		Client:     "10.0.0.5",
		Sender:     "Tanaka@Example.JP",
		Recipients: []string{"a@example.com", "b@example.com"},
		MessageID:  "<x@example.jp>",
		Subject:    "(masked)",
		Size:       12345,
		Verdict:    "block",
		Action:     "bounce",
		Reasons:    []Reason{{Code: "pii-cleartext", Article: "第11条(7)", Place: "body"}},
		Detectors:  []DetectorCount{{Detector: "jp-my-number", Count: 2, Masked: []string{"********9012", "********1234"}}},
		Attachments: []Attachment{{Name: "a.zip", Type: "application/zip", Size: 100, Encrypted: true,
			Encryption: "zip-aes"}},
		QuarantineID: "q1",
		DurationMS:   7,
	}
}

func TestNewID(t *testing.T) {
	at := time.Date(2026, 11, 25, 22, 40, 10, 123e6, time.UTC)
	id := NewID(at)
	if !regexp.MustCompile(`^20261125T224010\.123Z-[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("NewID = %q", id)
	}
	if id2 := NewID(at); id2 == id {
		t.Fatalf("two IDs in the same millisecond are equal: %s", id)
	}
	if later := NewID(at.Add(time.Millisecond)); later <= id {
		t.Fatalf("IDs do not sort by time: %s <= %s", later, id)
	}
}

func TestRoundTrip(t *testing.T) {
	l, _ := openTest(t)
	ctx := context.Background()
	e := sampleEvent()
	if err := l.Record(ctx, e); err != nil {
		t.Fatal(err)
	}
	if e.ID == "" || e.Time.Location() != time.UTC {
		t.Fatalf("Record did not fill ID/UTC time: %q %v", e.ID, e.Time)
	}
	got, err := l.Get(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Canonical(e)
	have, _ := Canonical(got)
	if string(want) != string(have) {
		t.Fatalf("round trip differs:\n got %s\nwant %s", have, want)
	}
	if !got.Time.Equal(time.Date(2026, 11, 25, 13, 40, 10, 0, time.UTC)) {
		t.Fatalf("time = %v", got.Time)
	}
	if _, err := l.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get unknown: %v", err)
	}
}

func TestQueryFilters(t *testing.T) {
	l, _ := openTest(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	evs := []*Event{
		{Time: base, Channel: "smtp", Sender: "a@x.jp", Verdict: "block", Action: "reject",
			Reasons: []Reason{{Code: "fax", Article: "第11条(6)"}}, Client: "192.0.2.7 (helo PC-12, queue 4XyZ1; via 127.0.0.1)"},
		{Time: base.Add(time.Hour), Channel: "smtp", Sender: "B@x.jp", Verdict: "allow", Action: "forward", Ledger: true,
			Client: "192.0.2.70"},
		{Time: base.Add(2 * time.Hour), Channel: "http", Host: "up.example.com", Verdict: "block", Action: "reject",
			Reasons: []Reason{{Code: "pii-cleartext", Article: "第11条(10)イ"}}, Client: "192.0.2.7"},
		{Time: base.Add(3 * time.Hour), Channel: "smtp", Sender: "a@x.jp", Verdict: "monitor", Action: "forward",
			Reasons: []Reason{{Code: "faxish"}, {Code: "fax"}}, Client: "127.0.0.1 (user mfp-3f)"},
	}
	for _, e := range evs {
		if err := l.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(es []Event) string {
		var s []string
		for _, e := range es {
			s = append(s, e.Time.Format("15"))
		}
		return strings.Join(s, ",")
	}
	cases := []struct {
		f    Filter
		want string
	}{
		{Filter{}, "00,01,02,03"},
		{Filter{Verdict: "block"}, "00,02"},
		{Filter{Channel: "http"}, "02"},
		{Filter{Sender: "b@X.JP"}, "01"},
		{Filter{Ledger: true}, "01"},
		{Filter{Reason: "fax"}, "00,03"},
		{Filter{Reason: "pii-cleartext"}, "02"},
		{Filter{Action: "forward"}, "01,03"},
		{Filter{Since: base.Add(time.Hour), Until: base.Add(3 * time.Hour)}, "01,02"},
		{Filter{Limit: 2}, "02,03"},
		{Filter{Sender: "a@x.jp", Verdict: "block"}, "00"},
		{Filter{Client: "192.0.2.7"}, "00,02"}, // not 192.0.2.70
		{Filter{Client: "127.0.0.1"}, "03"},    // not the "via 127.0.0.1" of 00
		{Filter{Client: "192.0.2.7", Verdict: "block", Channel: "smtp"}, "00"},
	}
	for _, c := range cases {
		got, err := l.Query(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		if ids(got) != c.want {
			t.Errorf("Query(%+v) = %s, want %s", c.f, ids(got), c.want)
		}
	}
}

func TestConcurrentRecord(t *testing.T) {
	l, _ := openTest(t)
	ctx := context.Background()
	const workers, each = 100, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	ids := make(chan string, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				e := &Event{Channel: "smtp", Verdict: "allow", Action: "forward", Sender: fmt.Sprintf("u%d@x.jp", w)}
				if err := l.Record(ctx, e); err != nil {
					errs <- err
					return
				}
				ids <- e.ID
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	close(ids)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
	n, err := l.Verify(ctx)
	if err != nil || n != workers*each {
		t.Fatalf("Verify = %d, %v; want %d", n, err, workers*each)
	}
	all, err := l.Query(ctx, Filter{})
	if err != nil || len(all) != workers*each {
		t.Fatalf("Query = %d events, %v", len(all), err)
	}
}

func TestAsyncAndSync(t *testing.T) {
	l, path := openTest(t)
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		if err := l.RecordAsync(&Event{Channel: "http", Verdict: "allow", Action: "forward"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// Read through a second handle: the events must be committed.
	l2, err := OpenWithOptions(path, nil, Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if n, err := l2.Verify(ctx); n != 50 || err != nil {
		t.Fatalf("Verify = %d, %v", n, err)
	}
	// A duplicate ID fails alone, and Sync reports the async failure.
	dup := &Event{ID: "dup", Verdict: "allow"}
	if err := l.Record(ctx, dup); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordAsync(&Event{ID: "dup", Verdict: "allow"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Sync(ctx); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("Sync after failed async record = %v", err)
	}
	if err := l.Sync(ctx); err != nil {
		t.Fatalf("second Sync = %v", err)
	}
	l.Close()
	if err := l.Record(ctx, &Event{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Record after Close = %v", err)
	}
}

func TestBatchWithOneBadEvent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	l, err := OpenWithOptions(path, nil, Options{MaxDelay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	if err := l.Record(ctx, &Event{ID: "taken"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	res := make([]error, 10)
	for i := range res {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			e := &Event{Verdict: "allow"}
			if i == 3 {
				e.ID = "taken"
			}
			res[i] = l.Record(ctx, e)
		}(i)
	}
	wg.Wait()
	for i, err := range res {
		if (i == 3) != (err != nil) {
			t.Errorf("event %d: err = %v", i, err)
		}
	}
	if n, err := l.Verify(ctx); n != 10 || err != nil {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

func TestTwoWritersShareOneChain(t *testing.T) {
	l1, path := openTest(t)
	l2, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, l := range []*Log{l1, l2, l1, l2} {
		wg.Add(1)
		go func(l *Log) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if err := l.Record(ctx, &Event{Verdict: "allow"}); err != nil {
					t.Error(err)
					return
				}
			}
		}(l)
	}
	wg.Wait()
	if n, err := l1.Verify(ctx); n != 100 || err != nil {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

// rawDB opens the database file directly, as an attacker with file access
// would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func recordN(t *testing.T, l *Log, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		e := sampleEvent()
		e.Time = e.Time.Add(time.Duration(i) * time.Second)
		if err := l.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTriggersRefuseUpdateDelete(t *testing.T) {
	l, path := openTest(t)
	recordN(t, l, 3)
	db := rawDB(t, path)
	for _, q := range []string{
		"UPDATE events SET verdict = 'allow' WHERE seq = 2",
		"UPDATE events SET body = '{}'",
		"DELETE FROM events WHERE seq = 3",
		"DELETE FROM events",
	} {
		_, err := db.Exec(q)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want refusal", q, err)
		}
	}
	if n, err := l.Verify(context.Background()); n != 3 || err != nil {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

func TestTamperDetected(t *testing.T) {
	cases := []struct {
		name    string
		sql     []string
		wantSeq int64
		wantN   int
	}{
		{"body changed", []string{`UPDATE events SET body = replace(body, '"block"', '"allow"') WHERE seq = 3`}, 3, 2},
		{"column changed", []string{`UPDATE events SET verdict = 'allow' WHERE seq = 4`}, 4, 3},
		{"row deleted", []string{`DELETE FROM events WHERE seq = 2`}, 2, 1},
		{"row rehashed alone", []string{
			`UPDATE events SET body = replace(body, '"block"', '"allow"'), hash = '00' WHERE seq = 2`}, 2, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, path := openTest(t)
			recordN(t, l, 5)
			db := rawDB(t, path)
			for _, q := range []string{"DROP TRIGGER events_no_update", "DROP TRIGGER events_no_delete"} {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			for _, q := range c.sql {
				res, err := db.Exec(q)
				if err != nil {
					t.Fatal(err)
				}
				if n, _ := res.RowsAffected(); n != 1 {
					t.Fatalf("%s affected %d rows", q, n)
				}
			}
			n, err := l.Verify(context.Background())
			var te *TamperError
			if !errors.As(err, &te) || te.Seq != c.wantSeq || n != c.wantN {
				t.Fatalf("Verify = %d, %v; want tamper at seq %d after %d", n, err, c.wantSeq, c.wantN)
			}
		})
	}
}

func TestMustExist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	_, err := OpenWithOptions(path, nil, Options{MustExist: true})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "--data-dir") {
		t.Fatalf("err = %v", err)
	}
	if _, serr := os.Stat(path); serr == nil {
		t.Fatal("MustExist created the file")
	}
}

func TestFileMode(t *testing.T) {
	_, path := openTest(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v", fi.Mode())
	}
}

// BenchmarkRecord measures group commit: parallel callers each waiting for
// durability. Run with -cpu or SetParallelism to vary the callers.
func BenchmarkRecord(b *testing.B) {
	for _, callers := range []int{1, 16, 128} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			l, _ := openTest(b)
			ctx := context.Background()
			b.SetParallelism(callers)
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					e := sampleEvent()
					e.ID = ""
					if err := l.Record(ctx, e); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}

// TestAsyncDelay: asynchronous events wait up to AsyncDelay for company,
// but a Record (someone waiting for durability) is committed at once, with
// the asynchronous events queued before it, and a lone asynchronous event
// is committed after AsyncDelay without a Sync.
func TestAsyncDelay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	const delay = 2 * time.Second
	l, err := OpenWithOptions(path, nil, Options{AsyncDelay: delay})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	if err := l.RecordAsync(&Event{ID: "async-1", Verdict: "allow"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := l.Record(ctx, &Event{ID: "sync-1", Verdict: "block"}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > delay/2 {
		t.Errorf("Record waited %v behind an asynchronous batch (AsyncDelay %v)", d, delay)
	}
	if _, err := l.Get(ctx, "async-1"); err != nil {
		t.Errorf("asynchronous event queued before a Record is not committed with it: %v", err)
	}
	if err := l.RecordAsync(&Event{ID: "async-2", Verdict: "allow"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(delay / 4)
	if _, err := l.Get(ctx, "async-2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("lone asynchronous event committed before AsyncDelay: %v", err)
	}
	deadline := time.Now().Add(10 * delay)
	for {
		if _, err := l.Get(ctx, "async-2"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lone asynchronous event not committed %v after AsyncDelay", 10*delay)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BenchmarkRecordAsyncBatch is the relay's pattern for allowed mail: events
// queued with RecordAsync and committed in groups; 20 is what a relay at
// ~1 000 messages/s gathers in the default 20 ms AsyncDelay. cpu-ns/op is
// the CPU the process spent per event (the writer's, mostly); ns/op also
// counts the wait for the fsync of each commit.
func BenchmarkRecordAsyncBatch(b *testing.B) {
	for _, group := range []int{1, 20, 500} {
		b.Run(fmt.Sprintf("group=%d", group), func(b *testing.B) {
			l, _ := openTest(b)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cputime.Process()
			for i := 0; i < b.N; i += group {
				for j := 0; j < group; j++ {
					e := sampleEvent()
					e.ID = ""
					if err := l.RecordAsync(e); err != nil {
						b.Fatal(err)
					}
				}
				if err := l.Sync(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cputime.Process()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
