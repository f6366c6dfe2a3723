package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
)

// BenchmarkZipCSV walks a zip holding a 20 MB CSV of personal data.
func BenchmarkZipCSV(b *testing.B) {
	var csv bytes.Buffer
	for i := 0; csv.Len() < 20<<20; i++ {
		fmt.Fprintf(&csv, "山田太郎%d,%012d,03-%04d-%04d,東京都千代田区千代田%d-%d\n", i, 123456789018+i*7, i%10000, (i*7)%10000, i%9+1, i%30+1)
	}
	var z bytes.Buffer
	zw := zip.NewWriter(&z)
	w, _ := zw.Create("meibo.csv")
	w.Write(csv.Bytes())
	zw.Close()
	data := z.Bytes()
	b.SetBytes(int64(csv.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var text int64
		err := File(context.Background(), "meibo.zip", bytes.NewReader(data), Limits{}, func(p *Part, r io.Reader) error {
			if r != nil {
				n, err := io.Copy(io.Discard, r)
				text += n
				return err
			}
			return nil
		})
		if err != nil || text != int64(csv.Len()) {
			b.Fatalf("err %v, text %d of %d", err, text, csv.Len())
		}
	}
}
