package smtprelay

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestSpoolMemoryAndFile: a small message stays in memory (no file), a
// large one goes to a file; both read back byte for byte at any offset,
// and release frees the memory budget and removes the file.
func TestSpoolMemoryAndFile(t *testing.T) {
	dir := t.TempDir()
	sp, err := openSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, size := range []int{0, 1, spoolChunk - 1, spoolChunk, spoolChunk + 1, 300 << 10, spoolMemPerMessage - 1, spoolMemPerMessage, spoolMemPerMessage + 3<<20} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(r.UintN(256))
		}
		m, err := sp.receive(bytes.NewReader(data), make([]byte, 4096))
		if err != nil {
			t.Fatal(err)
		}
		if m.size != int64(size) {
			t.Fatalf("size %d: spooled %d", size, m.size)
		}
		files := spoolFiles(t, dir)
		if inFile := size >= spoolMemPerMessage; inFile != (m.f != nil) || inFile != (files == 1) {
			t.Errorf("size %d: in a file = %v, files in the spool = %d", size, m.f != nil, files)
		}
		got, err := io.ReadAll(m.reader())
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: read back %d bytes, err %v, equal %v", size, len(got), err, bytes.Equal(got, data))
		}
		// io.Copy takes WriteTo: the chunks written as they are, after
		// whatever was already read.
		rd := m.reader()
		head := make([]byte, min(size, 1000))
		io.ReadFull(rd, head)
		var out bytes.Buffer
		if n, err := io.Copy(&onlyWriter{&out}, rd); err != nil || n != int64(size-len(head)) ||
			!bytes.Equal(append(head, out.Bytes()...), data) {
			t.Fatalf("size %d: read %d then copied %d bytes, err %v", size, len(head), n, err)
		}
		if size > 10 {
			p := make([]byte, 7)
			off := int64(size / 3)
			if n, err := m.ReadAt(p, off); n != 7 || err != nil || !bytes.Equal(p, data[off:off+7]) {
				t.Errorf("size %d: ReadAt(7, %d) = %d, %v", size, off, n, err)
			}
		}
		if n, err := m.ReadAt(make([]byte, 2), int64(size)-1); size > 0 && (n != 1 || err != io.EOF) {
			t.Errorf("size %d: ReadAt past the end = %d, %v", size, n, err)
		}
		m.release()
		if used := sp.memUsed.Load(); used != 0 {
			t.Errorf("size %d: %d bytes of memory budget still taken", size, used)
		}
		if n := spoolFiles(t, dir); n != 0 {
			t.Errorf("size %d: %d spool files left", size, n)
		}
	}
}

// TestSpoolHeldOutlivesRelease: a holder (an inspection that outlives its
// session's Data) keeps the message readable; the memory is freed only at
// the last release.
func TestSpoolHeldOutlivesRelease(t *testing.T) {
	sp, err := openSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 10000)
	m, err := sp.receive(bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	m.hold()
	m.release() // the session is done
	if sp.memUsed.Load() == 0 {
		t.Fatal("memory freed while a holder remains")
	}
	if got, _ := io.ReadAll(m.reader()); !bytes.Equal(got, data) {
		t.Fatal("held message does not read back")
	}
	m.release()
	if used := sp.memUsed.Load(); used != 0 {
		t.Errorf("%d bytes still taken after the last release", used)
	}
}

// TestSpoolKeepFromMemory: a message held in memory is written to failed/
// when kept.
func TestSpoolKeepFromMemory(t *testing.T) {
	dir := t.TempDir()
	sp, err := openSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := sp.receive(bytes.NewReader([]byte("Subject: x\r\n\r\nbody\r\n")), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.release()
	path, err := m.keep("ev1")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "Subject: x\r\n\r\nbody\r\n" || filepath.Dir(path) != filepath.Join(dir, "failed") {
		t.Errorf("kept %s: %q, %v", path, b, err)
	}
}

func spoolFiles(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if !e.IsDir() {
			n++
		}
	}
	return n
}

// onlyWriter hides a writer's ReadFrom, so that io.Copy must use the
// reader's WriteTo.
type onlyWriter struct{ w io.Writer }

func (o *onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }
