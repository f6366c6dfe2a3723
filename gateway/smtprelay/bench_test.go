package smtprelay

import (
	"bytes"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/sekisho-dlp/sekisho/gateway"
	"github.com/sekisho-dlp/sekisho/gateway/extract"
	"github.com/sekisho-dlp/sekisho/gateway/internal/benchmsg"
	"github.com/sekisho-dlp/sekisho/rules"
)

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
		b.Run(size.name, func(b *testing.B) { benchRelay(b, benchmsg.Message(size.bytes)) })
	}
}

// BenchmarkRelay100KB is BenchmarkRelay at 100 KB only.
func BenchmarkRelay100KB(b *testing.B) { benchRelay(b, benchmsg.Message(100<<10)) }

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
