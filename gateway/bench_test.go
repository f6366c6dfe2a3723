package gateway

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sekisho-dlp/sekisho/detectors"
	"github.com/sekisho-dlp/sekisho/detectors/cputime"
	"github.com/sekisho-dlp/sekisho/gateway/extract"
	"github.com/sekisho-dlp/sekisho/gateway/internal/benchmsg"
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
	cpu0 := cputime.Process().Seconds()
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
	if cpu := cputime.Process().Seconds() - cpu0; cpu > 0 {
		b.ReportMetric(float64(st.Size())*float64(n)/cpu/1e6, "MB/cpu-s")
	}
}

// BenchmarkInspectAttachment inspects messages like those of the SMTP
// relay benchmark (peers/smtp-bench.sh): a short text part and a base64
// attachment of random bytes (an unknown binary), 100 KB and 2 MB. This
// is the inspection the relay does per message:
//
//	go test -run '^$' -bench InspectAttachment -cpuprofile cpu.out ./gateway/
func BenchmarkInspectAttachment(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int
	}{{"100k", 100 << 10}, {"2m", 2 << 20}} {
		b.Run(size.name, func(b *testing.B) {
			msg := benchmsg.Message(size.bytes)
			pol := rules.Default()
			in := &Inspector{
				Engine: detectors.NewEngine(detectors.Builtin()...),
				Policy: func() *rules.Policy { return pol },
				Limits: extract.DefaultLimits(),
			}
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				v, err := in.Inspect(context.Background(), Item{Channel: rules.ChannelSMTP, Body: bytes.NewReader(msg), UseHeaderRecipients: true})
				if err != nil {
					b.Fatal(err)
				}
				if v.Verdict != rules.Allow || len(v.Parts) != 3 {
					b.Fatalf("verdict %s, %d parts", v.Verdict, len(v.Parts))
				}
			}
		})
	}
}
