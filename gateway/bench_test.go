//go:build unix

package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"math/rand/v2"
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
			msg := attachmentMessage(size.bytes)
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

// attachmentMessage is a multipart message of about size bytes: prose
// and a base64 attachment of deterministic random bytes in 76-character
// lines.
func attachmentMessage(size int) []byte {
	var m bytes.Buffer
	m.WriteString("From: sender@bench.invalid\r\nTo: rcpt@bench.invalid\r\nSubject: bench\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"=_bench_b0undary\"\r\n\r\n" +
		"--=_bench_b0undary\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" +
		"The quarterly planning meeting is moved to Thursday afternoon.\r\n\r\n" +
		"--=_bench_b0undary\r\nContent-Type: application/octet-stream; name=\"warehouse-export.bin\"\r\n" +
		"Content-Disposition: attachment; filename=\"warehouse-export.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	raw := make([]byte, (size-m.Len()-30)/78*57)
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range raw {
		raw[i] = byte(rnd.Uint32())
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	for len(enc) > 76 {
		m.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	m.WriteString(enc + "\r\n--=_bench_b0undary--\r\n")
	return m.Bytes()
}
