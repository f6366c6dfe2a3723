package extract

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzFile feeds arbitrary bytes to the file walk: it must never panic,
// must report at least one part or an error, and must stay within its
// limits.
func FuzzFile(f *testing.F) {
	dir := filepath.Join("..", "..", "testdata", "extract", "files")
	ents, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() || e.Name() == "make.sh" || e.Name() == "README.md" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		if len(b) <= 256<<10 {
			f.Add(b)
		}
	}
	lim := Limits{MaxExpandedBytes: 16 << 20, SpoolThreshold: 1 << 20, TempDir: f.TempDir(), MaxDepth: 4, MaxEntries: 200}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A hang is a bug too: crash with every goroutine's stack.
		watchdog := time.AfterFunc(10*time.Second, func() { panic("FuzzFile: input took more than 10 s") })
		defer watchdog.Stop()
		n := 0
		err := File(context.Background(), "fuzz.bin", bytes.NewReader(data), lim, func(p *Part, text io.Reader) error {
			n++
			if text != nil {
				io.Copy(io.Discard, text)
			}
			if p.Path == "" || p.Type == "" {
				t.Errorf("part without path or type: %+v", p)
			}
			return nil
		})
		if err == nil && n == 0 {
			t.Error("no part reported")
		}
	})
}
