package extract

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"testing"
)

func TestSpoolMatchesInput(t *testing.T) {
	// Sizes around the chunk size and the threshold, in memory and in a
	// temp file: every read at any offset returns the input's bytes.
	dir := t.TempDir()
	rnd := rand.New(rand.NewPCG(1, 2))
	const threshold = 3*spoolChunk + 100
	for _, size := range []int{0, 1, 8191, 8192, 8193, spoolChunk - 1, spoolChunk, spoolChunk + 1, 3 * spoolChunk, threshold, threshold + 1, 5*spoolChunk + 7} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rnd.Uint32())
		}
		w := newWalker(context.Background(), Limits{SpoolThreshold: threshold, TempDir: dir}, nil)
		sp, err := w.spool(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if sp.size != int64(size) || (sp.f != nil) != (size > threshold) {
			t.Fatalf("size %d: spooled %d bytes, in a file: %v", size, sp.size, sp.f != nil)
		}
		if got, err := io.ReadAll(io.NewSectionReader(sp, 0, sp.size)); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: read back %d bytes, err %v", size, len(got), err)
		}
		for range 50 {
			off := rnd.IntN(size + 2)
			p := make([]byte, rnd.IntN(2*spoolChunk+3))
			n, err := sp.ReadAt(p, int64(off))
			want := data[min(off, size):min(off+len(p), size)]
			if n != len(want) || !bytes.Equal(p[:n], want) || (n < len(p)) != (err == io.EOF) {
				t.Fatalf("size %d: ReadAt(%d bytes, %d) = %d, %v; want %d bytes", size, len(p), off, n, err, len(want))
			}
		}
		if _, err := sp.ReadAt(make([]byte, 1), -1); err == nil {
			t.Fatalf("size %d: negative offset read", size)
		}
		if err := sp.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("temp files left: %v", ents)
	}
}
