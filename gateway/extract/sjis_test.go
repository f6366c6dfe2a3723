package extract

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// sjisSample returns n bytes that mix ASCII, valid Shift_JIS characters,
// half-width katakana and invalid bytes and pairs.
func sjisSample(r *rand.Rand, n int) []byte {
	b := make([]byte, 0, n+2)
	for len(b) < n {
		switch k := r.IntN(10); {
		case k < 4:
			b = append(b, byte(0x20+r.IntN(0x5F)))
		case k < 7:
			b = append(b, 0x82, byte(0x9F+r.IntN(0x50))) // hiragana
		case k < 8:
			b = append(b, byte(0xA1+r.IntN(0x3F))) // half-width katakana
		default:
			b = append(b, byte(0x80+r.IntN(0x80))) // any high byte: lead, invalid
		}
	}
	return b
}

func TestSJISDecoderMatchesXText(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 100 {
		src := sjisSample(r, 1+r.IntN(8000))
		want, _, err := transform.Bytes(japanese.ShiftJIS.NewDecoder(), src)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := transform.Bytes(newDecoder(japanese.ShiftJIS), src)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("sample %d (%d bytes): err %v, output differs", i, len(src), err)
		}
		// Streamed in small pieces, so that characters are cut between
		// calls and the destination runs short.
		var rd io.Reader = transform.NewReader(iotest.HalfReader(bytes.NewReader(src)), newDecoder(japanese.ShiftJIS))
		if i%2 == 0 {
			rd = iotest.OneByteReader(transform.NewReader(iotest.OneByteReader(bytes.NewReader(src)), newDecoder(japanese.ShiftJIS)))
		}
		got, err = io.ReadAll(rd)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("sample %d streamed: err %v, output differs", i, err)
		}
	}
}

func TestSJISDecoderAllPairs(t *testing.T) {
	// Every byte pair, alone and between ASCII, decodes as x/text does.
	for a := range 256 {
		for b := range 256 {
			for _, src := range [][]byte{{byte(a), byte(b)}, {'x', byte(a), byte(b), 'y'}} {
				want, _, _ := transform.Bytes(japanese.ShiftJIS.NewDecoder(), src)
				got, _, err := transform.Bytes(newDecoder(japanese.ShiftJIS), src)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("% x: got %q (err %v), want %q", src, got, err, want)
				}
			}
		}
	}
}

func FuzzSJISDecoder(f *testing.F) {
	f.Add([]byte("ORD-1,\x8e\xf3\x92\x8d,\x82\xa0\x82\xa2\xb1\xb2,\x81"))
	f.Add([]byte{0x81, 0x3F, 0x81, 0x7F, 0x9F, 0xFD, 0xE0, 0x40, 0xFC})
	f.Fuzz(func(t *testing.T, src []byte) {
		want, _, err := transform.Bytes(japanese.ShiftJIS.NewDecoder(), src)
		if err != nil {
			t.Skip()
		}
		got, _, err := transform.Bytes(newDecoder(japanese.ShiftJIS), src)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("err %v, output %q, want %q", err, got, want)
		}
		got, err = io.ReadAll(transform.NewReader(iotest.OneByteReader(bytes.NewReader(src)), newDecoder(japanese.ShiftJIS)))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("streamed: err %v, output %q, want %q", err, got, want)
		}
	})
}
