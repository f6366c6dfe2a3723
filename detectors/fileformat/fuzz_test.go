package fileformat

import (
	"bytes"
	"math/rand"
	"strings"
	"testing"
)

// FuzzIdentify: Identify and Sniff never panic and always return, on any
// input. Seeded with every sample and fixture.
func FuzzIdentify(f *testing.F) {
	for _, b := range corpus(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := Identify(bytes.NewReader(b), int64(len(b)))
		if err != nil && strings.Contains(err.Error(), "parser failure") {
			t.Fatalf("recovered panic: %v", err)
		}
		if info.Type == "" || (info.Encrypted && info.Partial) || (info.Encrypted && info.Encryption == "") {
			t.Fatalf("inconsistent Info %+v", info)
		}
		s := Sniff(b)
		if s.Type == "" {
			t.Fatalf("Sniff returned no type")
		}
	})
}

// FuzzArmorAndCMS covers the text-level helpers.
func FuzzArmorAndCMS(f *testing.F) {
	f.Add([]byte("-----BEGIN PGP MESSAGE-----\n\njA0ECQMCNV/dN/d9o2P/0mUB\n"))
	f.Add([]byte{0x30, 0x80, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02, 0xA0, 0x80, 0x30, 0x80, 0x02, 0x01, 0x01, 0x31, 0x80, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = PGPArmorKind(b)
		_ = SMIMEKind(b)
		_ = signedInner(b)
		_ = pgpBinaryKind(b)
		_ = mailInfo(b)
	})
}

// BenchmarkIdentify runs Identify over every sample and fixture.
func BenchmarkIdentify(b *testing.B) {
	c := corpus(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, data := range c {
			_, _ = Identify(bytes.NewReader(data), int64(len(data)))
		}
	}
}

// BenchmarkIdentifyUnknownBinary identifies 1.5 MB of random bytes, as a
// mailed binary attachment of no known format is: its head is sniffed and
// its tail searched for a zip directory. It allocates nothing per call.
func BenchmarkIdentifyUnknownBinary(b *testing.B) {
	data := make([]byte, 1_500_000)
	rand.New(rand.NewSource(1)).Read(data)
	r := bytes.NewReader(data)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if info, err := Identify(r, int64(len(data))); err != nil || info.Type != "octet-stream" {
			b.Fatalf("%+v %v", info, err)
		}
	}
}
