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

// benchMessage is a ~100 KB multipart/mixed message: a short text part and
// a base64 attachment of deterministic random bytes (as peers/smtp-bench.sh).
func benchMessage(size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: sender@bench.invalid\r\nTo: rcpt@sk.bench.invalid\r\nSubject: bench 100k\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_bench_b0undary\"\r\n\r\n" +
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

// BenchmarkRelay100KB: go-smtp client → relay → capturing sink, in
// process, 10 parallel sessions, one connection per message (as
// smtp-source). "fake" uses a do-nothing inspector (relay overhead only);
// "real" the full pipeline with the default policy.
func BenchmarkRelay100KB(b *testing.B) {
	msg := benchMessage(100 << 10)
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
