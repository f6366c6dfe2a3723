package smtprelay

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/sekisho-dlp/sekisho/gateway"
	"github.com/sekisho-dlp/sekisho/gateway/extract"
	"github.com/sekisho-dlp/sekisho/rules"
)

// benchMessage is a message of about size bytes as peers/smtp-bench.sh
// makes them: 5 KB text/plain prose below 50 KB, else multipart/mixed with
// a short text part and a base64 attachment of deterministic random bytes.
func benchMessage(size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: sender@bench.invalid\r\nTo: rcpt@sk.bench.invalid\r\nSubject: bench\r\nMIME-Version: 1.0\r\n")
	if size < 50<<10 {
		b.WriteString("Content-Type: text/plain; charset=us-ascii\r\n\r\n")
		for b.Len() < size {
			b.WriteString("Quarterly inventory report for the warehouse: rows of parts and counts, nothing personal.\r\n")
		}
		return b.Bytes()
	}
	b.WriteString("Content-Type: multipart/mixed; boundary=\"=_bench_b0undary\"\r\n\r\n" +
		"--=_bench_b0undary\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" +
		"Quarterly inventory attached. Nothing personal in here.\r\n\r\n" +
		"--=_bench_b0undary\r\nContent-Type: application/octet-stream\r\n" +
		"Content-Disposition: attachment; filename=\"inventory.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	r := rand.New(rand.NewPCG(1, 2))
	raw := make([]byte, (size-b.Len()-30)/78*57)
	for i := range raw {
		raw[i] = byte(r.UintN(256))
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--=_bench_b0undary--\r\n")
	return b.Bytes()
}

// BenchmarkRelay: go-smtp client → relay → discarding sink, in process,
// 10 parallel sessions, one connection per message (as smtp-source), for
// 5 KB, 100 KB and 2 MB messages. "direct" is client → sink (the baseline
// of this machine); "fake" uses a do-nothing inspector (relay overhead
// only); "real" the full pipeline with the default policy. The client's
// own cost (go-smtp's byte-at-a-time dot-stuffing) is in every row.
func BenchmarkRelay(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int
	}{{"5k", 5 << 10}, {"100k", 100 << 10}, {"2m", 2 << 20}} {
		b.Run(size.name, func(b *testing.B) { benchRelay(b, benchMessage(size.bytes)) })
	}
}

// BenchmarkRelay100KB is BenchmarkRelay at 100 KB only.
func BenchmarkRelay100KB(b *testing.B) { benchRelay(b, benchMessage(100<<10)) }

func benchRelay(b *testing.B, msg []byte) {
	pol := rules.Default()
	for _, tc := range []struct {
		name string
		insp Inspector
	}{
		{"direct", nil}, // client → sink, no relay: the baseline of this machine
		{"fake", nil},
		{"real", &gateway.Inspector{Engine: pol.Engine(), Policy: func() *rules.Policy { return pol }, Limits: extract.DefaultLimits()}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			k := startSink(b, nil, func(k *sink) { k.discard = true })
			tr := startRelay(b, k.addr, nil, func(d *Deps) {
				if tc.insp != nil {
					d.Inspector = tc.insp
				}
			})
			tr.insp.stream = true
			target := tr.addr
			if tc.name == "direct" {
				target = k.addr
			}
			b.SetBytes(int64(len(msg)))
			b.SetParallelism(5) // 5 × GOMAXPROCS(2) = 10 sessions
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c, err := smtp.Dial(target)
					if err != nil {
						b.Error(err)
						return
					}
					if err := c.SendMail("sender@bench.invalid", []string{"rcpt@sk.bench.invalid"}, bytes.NewReader(msg)); err != nil {
						b.Error(err)
						c.Close()
						return
					}
					c.Quit()
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			if n := len(k.messages()); n < b.N {
				b.Errorf("sink got %d of %d", n, b.N)
			}
			for _, e := range tr.rec.all() {
				if e.Verdict != "allow" {
					b.Fatalf("benign bench message was %s: %+v", e.Verdict, e.Reasons)
				}
			}
		})
	}
}
