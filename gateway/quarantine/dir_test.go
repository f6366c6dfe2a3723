package quarantine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dlp/sekisho/gateway/event"
)

const testEnv = "SEKISHO_TEST_QUARANTINE_KEY"

func keyB64(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }

func openDir(t *testing.T, dir string, opts Options) *Dir {
	t.Helper()
	if opts.KeyEnv == "" {
		opts.KeyEnv = testEnv
	}
	d, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sampleMeta() Meta {
	return Meta{EventID: "20261125T224010.000Z-000000000001", Channel: "smtp", Sender: "s@example.jp",
		Recipients: []string{"r1@example.com", "r2@example.com"}, Reasons: []string{"pii-cleartext"}}
}

// genReader yields n deterministic pseudo-random bytes without holding them.
type genReader struct {
	n, off int64
	state  uint64
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.off >= g.n {
		return 0, io.EOF
	}
	if rem := g.n - g.off; int64(len(p)) > rem {
		p = p[:rem]
	}
	for i := range p {
		g.state = g.state*6364136223846793005 + 1442695040888963407
		p[i] = byte(g.state >> 56)
	}
	g.off += int64(len(p))
	return len(p), nil
}

func TestRoundTripSizes(t *testing.T) {
	d := openDir(t, t.TempDir(), Options{})
	for _, size := range []int{0, 1, ChunkSize - 1, ChunkSize, ChunkSize + 1, 3 * ChunkSize, 3*ChunkSize + 17} {
		want, _ := io.ReadAll(&genReader{n: int64(size), state: uint64(size)})
		m := sampleMeta()
		id, err := d.Put(context.Background(), m, bytes.NewReader(want))
		if err != nil {
			t.Fatal(err)
		}
		gm, r, err := d.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("size %d: body differs (got %d bytes)", size, len(got))
		}
		if gm.ID != id || gm.Size != int64(size) || gm.Sender != m.Sender || len(gm.Recipients) != 2 ||
			!gm.Expires.Equal(gm.Time.Add(DefaultRetention)) {
			t.Fatalf("meta = %+v", gm)
		}
		// Neither file holds the envelope or the body in clear.
		for _, p := range []string{d.bodyPath(id), d.metaPath(id)} {
			b, _ := os.ReadFile(p)
			if bytes.Contains(b, []byte("example")) || (size > 64 && bytes.Contains(b, want[:64])) {
				t.Fatalf("%s holds clear text", p)
			}
			if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
				t.Fatalf("%s mode %v", p, fi.Mode())
			}
		}
	}
}

func TestLargeStreamBoundedMemory(t *testing.T) {
	const size = 50 << 20
	d := openDir(t, t.TempDir(), Options{})
	ctx := context.Background()
	h := sha256.New()
	src := io.TeeReader(&genReader{n: size, state: 42}, h)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	id, err := d.Put(ctx, sampleMeta(), src)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("Put of 50 MiB: %d bytes allocated in total", alloc)
	if alloc > 4<<20 {
		t.Fatalf("Put of 50 MiB allocated %d bytes", alloc)
	}
	wantSum := h.Sum(nil)

	runtime.GC()
	runtime.ReadMemStats(&before)
	_, r, err := d.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	h2 := sha256.New()
	n, err := io.Copy(h2, r)
	r.Close()
	if err != nil || n != size {
		t.Fatalf("read %d bytes, %v", n, err)
	}
	runtime.ReadMemStats(&after)
	alloc = after.TotalAlloc - before.TotalAlloc
	t.Logf("Get of 50 MiB: %d bytes allocated in total", alloc)
	if alloc > 4<<20 {
		t.Fatalf("Get of 50 MiB allocated %d bytes", alloc)
	}
	if !bytes.Equal(h2.Sum(nil), wantSum) {
		t.Fatal("50 MiB body differs after round trip")
	}
	fi, _ := os.Stat(d.bodyPath(id))
	chunks := int64((size + ChunkSize - 1) / ChunkSize) // 50 MiB is 800 full chunks, the last flagged
	if fi.Size() != int64(headerLen)+size+chunks*tagLen {
		t.Fatalf("body file is %d bytes", fi.Size())
	}
}

func TestWrongKeyFailsClearly(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(testEnv, keyB64(1))
	d := openDir(t, dir, Options{})
	id, err := d.Put(context.Background(), sampleMeta(), strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(testEnv, keyB64(2))
	d2 := openDir(t, dir, Options{})
	_, _, err = d2.Get(id)
	if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "key id") || !strings.Contains(err.Error(), testEnv) {
		t.Fatalf("Get with another key: %v", err)
	}
	ms, err := d2.List()
	if len(ms) != 1 || ms[0].ID != id || !errors.Is(err, ErrWrongKey) {
		t.Fatalf("List with another key = %+v, %v", ms, err)
	}
	// Bad keys in the environment are errors, never a fallback to the file.
	for _, v := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		t.Setenv(testEnv, v)
		if _, err := Open(dir, Options{KeyEnv: testEnv}); err == nil {
			t.Fatalf("Open with key %q succeeded", v)
		}
	}
}

func TestTamperedCiphertextFails(t *testing.T) {
	body := make([]byte, 3*ChunkSize+100)
	io.ReadFull(&genReader{n: int64(len(body)), state: 7}, body)
	chunk := int64(ChunkSize + tagLen)
	cases := []struct {
		name   string
		change func(t *testing.T, d *Dir, id string)
	}{
		{"flipped byte", func(t *testing.T, d *Dir, id string) {
			b, _ := os.ReadFile(d.bodyPath(id))
			b[int64(headerLen)+chunk+10] ^= 1
			os.WriteFile(d.bodyPath(id), b, 0o600)
		}},
		{"cut at chunk boundary", func(t *testing.T, d *Dir, id string) {
			os.Truncate(d.bodyPath(id), int64(headerLen)+2*chunk)
		}},
		{"cut in a chunk", func(t *testing.T, d *Dir, id string) {
			os.Truncate(d.bodyPath(id), int64(headerLen)+2*chunk+5)
		}},
		{"chunks swapped", func(t *testing.T, d *Dir, id string) {
			b, _ := os.ReadFile(d.bodyPath(id))
			c1 := bytes.Clone(b[int64(headerLen) : int64(headerLen)+chunk])
			copy(b[headerLen:], b[int64(headerLen)+chunk:int64(headerLen)+2*chunk])
			copy(b[int64(headerLen)+chunk:], c1)
			os.WriteFile(d.bodyPath(id), b, 0o600)
		}},
		{"header changed", func(t *testing.T, d *Dir, id string) {
			b, _ := os.ReadFile(d.bodyPath(id))
			b[20] ^= 1 // salt
			os.WriteFile(d.bodyPath(id), b, 0o600)
		}},
		{"body of another item", func(t *testing.T, d *Dir, id string) {
			other, err := d.Put(context.Background(), sampleMeta(), bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			os.Rename(d.bodyPath(other), d.bodyPath(id))
		}},
		{"meta changed", func(t *testing.T, d *Dir, id string) {
			b, _ := os.ReadFile(d.metaPath(id))
			b = bytes.Replace(b, []byte(`"expires": "`), []byte(`"expires": "1`), 1)
			os.WriteFile(d.metaPath(id), b, 0o600)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := openDir(t, t.TempDir(), Options{})
			id, err := d.Put(context.Background(), sampleMeta(), bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Verify(id); err != nil {
				t.Fatalf("Verify before change: %v", err)
			}
			c.change(t, d, id)
			err = d.Verify(id)
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("Verify after change = %v, want ErrTampered", err)
			}
			called := false
			err = d.Release(context.Background(), id, func(Meta, io.Reader) error { called = true; return nil })
			if err == nil || called {
				t.Fatalf("Release of a tampered item: err %v, delivered %v", err, called)
			}
		})
	}
}

func TestKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "quarantine")
	d := openDir(t, dir, Options{})
	kf := filepath.Join(dir, DefaultKeyFileName)
	fi, err := os.Stat(kf)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", fi.Mode())
	}
	id, err := d.Put(context.Background(), sampleMeta(), strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	// A second open reuses the key.
	d2 := openDir(t, dir, Options{NoCreate: true})
	if err := d2.Verify(id); err != nil {
		t.Fatal(err)
	}
	// A key file that others can read is refused.
	os.Chmod(kf, 0o640)
	if _, err := Open(dir, Options{KeyEnv: testEnv}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("Open with a 0640 key file: %v", err)
	}
	// NoCreate does not make a directory or a key.
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := Open(missing, Options{KeyEnv: testEnv, NoCreate: true}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("NoCreate on a missing dir: %v", err)
	}
	empty := t.TempDir()
	if _, err := Open(empty, Options{KeyEnv: testEnv, NoCreate: true}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("NoCreate without a key: %v", err)
	}
}

func TestEnvKeyUsed(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(testEnv, keyB64(9))
	d := openDir(t, dir, Options{})
	if _, err := os.Stat(filepath.Join(dir, DefaultKeyFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a key file was made although the environment holds the key: %v", err)
	}
	id, err := d.Put(context.Background(), sampleMeta(), strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	// The same key in another encoding opens it.
	t.Setenv(testEnv, base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)))
	if err := openDir(t, dir, Options{}).Verify(id); err != nil {
		t.Fatal(err)
	}
}

func TestIDsCannotEscape(t *testing.T) {
	d := openDir(t, t.TempDir(), Options{})
	for _, id := range []string{"", "../events", "..", "/etc/passwd", "20261125T224010.123Z-3f9a1c2b7d10/../x"} {
		if _, _, err := d.Get(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v", id, err)
		}
		if err := d.Delete(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Delete(%q) = %v", id, err)
		}
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset")
	}
	n := min(len(p), f.n)
	f.n -= n
	return n, nil
}

func TestPutFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	d := openDir(t, dir, Options{})
	if _, err := d.Put(context.Background(), sampleMeta(), &failingReader{n: 3 * ChunkSize}); err == nil {
		t.Fatal("Put of a failing reader succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Put(ctx, sampleMeta(), strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != DefaultKeyFileName {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func openEvents(t *testing.T) *event.Log {
	t.Helper()
	l, err := event.Open(filepath.Join(t.TempDir(), "events.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestSweepDestroysExpiredAndRecords(t *testing.T) {
	events := openEvents(t)
	dir := t.TempDir()
	d := openDir(t, dir, Options{Retention: 24 * time.Hour, Events: events, Actor: "retention"})
	ctx := context.Background()
	now := time.Now()
	old := sampleMeta()
	old.Time = now.Add(-48 * time.Hour)
	oldID, err := d.Put(ctx, old, strings.NewReader("old"))
	if err != nil {
		t.Fatal(err)
	}
	fresh := sampleMeta()
	freshID, err := d.Put(ctx, fresh, strings.NewReader("fresh"))
	if err != nil {
		t.Fatal(err)
	}
	// An item stored under a key since lost is destroyed too.
	t.Setenv(testEnv, keyB64(5))
	lost := openDir(t, dir, Options{Retention: time.Hour})
	lostMeta := sampleMeta()
	lostMeta.Time = now.Add(-2 * time.Hour)
	lostID, err := lost.Put(ctx, lostMeta, strings.NewReader("lost key"))
	if err != nil {
		t.Fatal(err)
	}
	os.Unsetenv(testEnv)

	gone, err := d.Sweep(now)
	if err != nil {
		t.Fatal(err)
	}
	if len(gone) != 2 || gone[0].ID == freshID || gone[1].ID == freshID {
		t.Fatalf("Sweep destroyed %+v", gone)
	}
	for _, id := range []string{oldID, lostID} {
		if _, err := os.Stat(d.bodyPath(id)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s body still there", id)
		}
		if _, err := os.Stat(d.metaPath(id)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s meta still there", id)
		}
	}
	if err := d.Verify(freshID); err != nil {
		t.Fatalf("fresh item harmed: %v", err)
	}
	evs, err := events.Query(ctx, event.Filter{Action: "destroyed"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("%d destroyed events", len(evs))
	}
	byQ := map[string]event.Event{}
	for _, e := range evs {
		byQ[e.QuarantineID] = e
	}
	e := byQ[oldID]
	if e.Reasons[0].Article != "第15条" || e.Sender != old.Sender || e.Ref != old.EventID || e.Client != "retention" {
		t.Fatalf("destroyed event = %+v", e)
	}
	if _, ok := byQ[lostID]; !ok {
		t.Fatal("no event for the item under a lost key")
	}
	if again, err := d.Sweep(now); err != nil || len(again) != 0 {
		t.Fatalf("second Sweep = %v, %v", again, err)
	}
}

func TestReleaseAndDelete(t *testing.T) {
	events := openEvents(t)
	d := openDir(t, t.TempDir(), Options{Events: events, Actor: "cli:test"})
	ctx := context.Background()
	id, err := d.Put(ctx, sampleMeta(), strings.NewReader("message body"))
	if err != nil {
		t.Fatal(err)
	}
	// A failed delivery keeps the item.
	err = d.Release(ctx, id, func(m Meta, r io.Reader) error { return errors.New("451 next hop busy") })
	if err == nil || !strings.Contains(err.Error(), "next hop busy") {
		t.Fatalf("Release with failing deliver = %v", err)
	}
	if err := d.Verify(id); err != nil {
		t.Fatalf("item lost after a failed release: %v", err)
	}
	var got []byte
	var gotMeta Meta
	err = d.Release(ctx, id, func(m Meta, r io.Reader) error {
		gotMeta = m
		got, err = io.ReadAll(r)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "message body" || gotMeta.Recipients[1] != "r2@example.com" {
		t.Fatalf("delivered %q %+v", got, gotMeta)
	}
	if _, _, err := d.Get(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("released item still there: %v", err)
	}
	id2, err := d.Put(ctx, sampleMeta(), strings.NewReader("other"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(id2); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(id2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete = %v", err)
	}
	if ms, err := d.List(); len(ms) != 0 || err != nil {
		t.Fatalf("List = %v, %v", ms, err)
	}
	evs, err := events.Query(ctx, event.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != "release-failed,released,deleted" {
		t.Fatalf("events = %v", actions)
	}
}

func TestPutUsesGivenID(t *testing.T) {
	d := openDir(t, t.TempDir(), Options{})
	m := sampleMeta()
	m.ID = event.NewID(time.Now())
	id, err := d.Put(context.Background(), m, strings.NewReader("x"))
	if err != nil || id != m.ID {
		t.Fatalf("Put = %s, %v; want %s", id, err, m.ID)
	}
	if _, err := d.Put(context.Background(), m, strings.NewReader("y")); err == nil {
		t.Fatal("Put with an ID in use succeeded")
	}
}

// FuzzBody feeds arbitrary bytes to the body decoder as if they were an
// item's file: it must fail with ErrTampered or ErrWrongKey, never panic,
// and never return plaintext for a forged file.
func FuzzBody(f *testing.F) {
	dir := f.TempDir()
	f.Setenv(testEnv, keyB64(3))
	d, err := Open(dir, Options{KeyEnv: testEnv})
	if err != nil {
		f.Fatal(err)
	}
	id, err := d.Put(context.Background(), sampleMeta(), strings.NewReader(strings.Repeat("x", ChunkSize+10)))
	if err != nil {
		f.Fatal(err)
	}
	good, _ := os.ReadFile(d.bodyPath(id))
	f.Add(good)
	f.Add(good[:headerLen])
	f.Add([]byte("SKQ1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if bytes.Equal(b, good) {
			return
		}
		if err := os.WriteFile(d.bodyPath(id), b, 0o600); err != nil {
			t.Fatal(err)
		}
		err := d.Verify(id)
		if !errors.Is(err, ErrTampered) && !errors.Is(err, ErrWrongKey) {
			t.Fatalf("Verify of a forged body = %v", err)
		}
	})
}

// TestEveryChangeDetected flips a bit in each byte and cuts the body
// at every length of a small item: each change must fail authentication.
func TestEveryChangeDetected(t *testing.T) {
	d := openDir(t, t.TempDir(), Options{})
	id, err := d.Put(context.Background(), sampleMeta(), strings.NewReader(strings.Repeat("個人番号 ", 10)))
	if err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(d.bodyPath(id))
	check := func(what string, b []byte) {
		t.Helper()
		os.WriteFile(d.bodyPath(id), b, 0o600)
		if err := d.Verify(id); !errors.Is(err, ErrTampered) && !errors.Is(err, ErrWrongKey) {
			t.Fatalf("%s: Verify = %v", what, err)
		}
	}
	for i := range good {
		b := bytes.Clone(good)
		b[i] ^= 0x80
		check("flip at "+strconv.Itoa(i), b)
	}
	for n := 0; n < len(good); n++ {
		check("cut at "+strconv.Itoa(n), good[:n])
	}
	check("extra byte", append(bytes.Clone(good), 0))
	os.WriteFile(d.bodyPath(id), good, 0o600)
	if err := d.Verify(id); err != nil {
		t.Fatalf("restored body: %v", err)
	}
}
