package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/sekisho-dlp/sekisho/detectors"
	"github.com/sekisho-dlp/sekisho/gateway/extract"
)

// pieceReader returns at most n bytes per Read, then err at the end.
type pieceReader struct {
	r   io.Reader
	n   int
	err error
}

func (p *pieceReader) Read(b []byte) (int, error) {
	if len(b) > p.n {
		b = b[:p.n]
	}
	n, err := p.r.Read(b)
	if err == io.EOF && p.err != nil {
		err = p.err
	}
	return n, err
}

// phoneText returns text with distinct phone numbers every few lines, so
// that some straddle the chunk boundaries of scanText.
func phoneText(size int) (string, int) {
	var sb strings.Builder
	n := 0
	for i := 0; sb.Len() < size; i++ {
		if i%37 == 0 {
			fmt.Fprintf(&sb, "担当 03-5555-%04d まで\n", n)
			n++
			continue
		}
		fmt.Fprintf(&sb, "ORD-%06d,2024/04/01,P01-%05d,在庫引当済\n", i, i%100000)
	}
	return sb.String(), n
}

// visitAll runs the collector over texts as parts p0, p1, ... and waits
// for the detection.
func visitAll(t *testing.T, c *collector, texts ...io.Reader) error {
	t.Helper()
	for i, r := range texts {
		if err := c.visit(&extract.Part{Path: fmt.Sprintf("p%d", i)}, r); err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
	}
	return c.finish()
}

func TestScanTextPipeline(t *testing.T) {
	// Large parts (pipelined) and small ones (scanned at once), in any
	// order and read in any pieces, get the tallies of a plain scan.
	eng := detectors.NewEngine(detectors.Builtin()...)
	text, phones := phoneText(5*textChunk + 12345)
	short := text[:2*textChunk+7]
	s := eng.NewScan("plain")
	s.WriteString(short)
	shortPhones, _ := s.Close().Count(detectors.Phone)
	small := "連絡先 090-1234-5678\n"
	for _, piece := range []int{1000, 4096, textChunk, 3 * textChunk} {
		c := collector{engine: eng}
		err := visitAll(t, &c, strings.NewReader(small), &pieceReader{r: strings.NewReader(text), n: piece},
			strings.NewReader(small), &pieceReader{r: strings.NewReader(short), n: piece}, strings.NewReader(""))
		if err != nil {
			t.Fatal(err)
		}
		sizes := []int{len(small), len(text), len(small), len(short), 0}
		for i, want := range []int{1, phones, 1, shortPhones, 0} {
			got, _ := c.tallies[i].Count(detectors.Phone)
			if got != want || c.parts[i].Findings[detectors.Phone] != want || c.parts[i].Size != int64(sizes[i]) {
				t.Errorf("pieces of %d: part %d: %d phones, want %d; report %+v", piece, i, got, want, c.parts[i].Findings)
			}
		}
		if c.pipe != nil {
			t.Error("finish left the pipeline")
		}
	}
}

func TestScanTextSmallNoGoroutine(t *testing.T) {
	eng := detectors.NewEngine(detectors.Builtin()...)
	c := collector{engine: eng}
	if err := c.visit(&extract.Part{Path: "subject"}, strings.NewReader("連絡先 090-1234-5678")); err != nil {
		t.Fatal(err)
	}
	if c.pipe != nil || c.parts[0].Findings[detectors.Phone] != 1 || c.parts[0].Size != int64(len("連絡先 090-1234-5678")) {
		t.Errorf("pipeline %v, report %+v", c.pipe != nil, c.parts[0])
	}
}

func TestScanTextReadError(t *testing.T) {
	// A read error ends the part: what was read is scanned, the part is
	// uninspectable, the walk goes on.
	eng := detectors.NewEngine(detectors.Builtin()...)
	text, _ := phoneText(3 * textChunk)
	boom := errors.New("broken base64")
	c := collector{engine: eng}
	if err := visitAll(t, &c, &pieceReader{r: strings.NewReader(text), n: 5000, err: boom}); err != nil {
		t.Fatal(err)
	}
	r := c.parts[0]
	if r.Uninspectable != boom.Error() || r.Size != int64(len(text)) || r.Findings[detectors.Phone] == 0 {
		t.Errorf("report %+v", r)
	}
}

// panicDetector fails on a line holding "boom" (a detector bug).
type panicDetector struct{}

func (panicDetector) ID() string { return "panic" }
func (panicDetector) Scan(text []byte, _ *detectors.Context, _ func(detectors.Match)) {
	if i := bytes.Index(text, []byte("boom")); i >= 0 {
		_ = text[i+len(text)] // index out of range
	}
}

func TestScanTextDetectorPanic(t *testing.T) {
	// A panic of a detector on the detection goroutine fails the item
	// (fail closed); extraction is not blocked by it.
	eng := detectors.NewEngine(panicDetector{})
	text, _ := phoneText(6 * textChunk)
	text = text[:textChunk+100] + "boom\n" + text[textChunk+100:]
	c := collector{engine: eng}
	err := visitAll(t, &c, strings.NewReader(text), strings.NewReader(text))
	if err == nil || !strings.Contains(err.Error(), "index out of range") {
		t.Fatalf("err %v", err)
	}
}
