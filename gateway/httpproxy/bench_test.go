package httpproxy

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/sekisho-dlp/sekisho/gateway"
	"github.com/sekisho-dlp/sekisho/gateway/extract"
	"github.com/sekisho-dlp/sekisho/rules"
)

// benchBody is 100 KiB of benign text like the benchmark rig's POST body:
// prose and inventory rows.
func benchBody() []byte {
	var b bytes.Buffer
	prose := "The quarterly planning meeting is moved to Thursday afternoon. Please\nbring the updated schedule for the warehouse migration, the list of open\npurchase orders and your notes on the supplier review.\n"
	for i := 1; b.Len() < 100<<10; {
		b.WriteString(prose)
		for j := 0; j < 8; j, i = j+1, i+1 {
			fmt.Fprintf(&b, "item-%05d,widget model %d,shelf %d,qty %d,unit price %d.%02d EUR\n", i, i%97, i%13, i%50+1, i%40+1, i%100)
		}
	}
	return b.Bytes()[:100<<10]
}

// BenchmarkInspectUpload100K is the inspection cost of one 100 KiB POST.
func BenchmarkInspectUpload100K(b *testing.B) {
	pol := rules.Default()
	insp := &gateway.Inspector{Policy: func() *rules.Policy { return pol }, Limits: extract.DefaultLimits()}
	body := benchBody()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		v, err := insp.Inspect(context.Background(), gateway.Item{Channel: rules.ChannelHTTP, Host: "127.0.0.1", Upload: true,
			ContentType: "text/plain; charset=us-ascii", Body: bytes.NewReader(body)})
		if err != nil || v.Verdict != rules.Allow {
			b.Fatalf("verdict %v, err %v", v, err)
		}
	}
}
