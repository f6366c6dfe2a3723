//go:build unix

package gateway

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/sekisho-dlp/sekisho/detectors"
	"github.com/sekisho-dlp/sekisho/gateway/extract"
	"github.com/sekisho-dlp/sekisho/rules"
)

// BenchmarkInspect100MiB inspects the message of the end-to-end scan
// benchmark (testdata/bench: a CP932 CSV, a log and a zip of both, base64,
// about 100 MiB on the wire) as `sekisho scan` does, reading it from a file:
//
//	go test -run '^$' -bench Inspect100MiB -benchtime 3x -cpuprofile cpu.out ./gateway/
//
// SEKISHO_BENCH_MSG names an existing message to use instead of generating
// one with `go run ./testdata/bench/genmsg` (which takes a few seconds).
func BenchmarkInspect100MiB(b *testing.B) {
	path := os.Getenv("SEKISHO_BENCH_MSG")
	if path == "" {
		path = filepath.Join(b.TempDir(), "msg.eml")
		gen := exec.Command("go", "run", "./testdata/bench/genmsg", "-o", path)
		gen.Dir = ".."
		if out, err := gen.CombinedOutput(); err != nil {
			b.Skipf("cannot generate the message (go run ./testdata/bench/genmsg): %v\n%s", err, out)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	pol := rules.Default()
	in := &Inspector{
		Engine: detectors.NewEngine(detectors.Builtin()...),
		Policy: func() *rules.Policy { return pol },
		Limits: extract.DefaultLimits(),
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	cpu0 := processCPU()
	n := 0
	for b.Loop() {
		n++
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		v, err := in.Inspect(context.Background(), Item{Channel: rules.ChannelSMTP, Body: f, UseHeaderRecipients: true})
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		// The message carries sparse personal information below the
		// thresholds: found, and allowed.
		if v.Verdict != rules.Allow || v.Findings.Empty() || len(v.Parts) != 7 {
			b.Fatalf("verdict %s, findings %v, %d parts", v.Verdict, v.Findings.Counts(), len(v.Parts))
		}
	}
	// The machine may be shared: also report throughput per CPU second.
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(st.Size())*float64(n)/cpu/1e6, "MB/cpu-s")
	}
}

// processCPU returns the user+system CPU seconds of the process so far.
func processCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
