package fileformat

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// craft7z builds a 7z archive of one folder with one coder (id, props)
// whose output is unpack bytes, over 16 bytes of packed data. The CRCs
// are right, so a decoder library would go on to open it.
func craft7z(id, props []byte, unpack uint64) []byte {
	num := func(v uint64) []byte { // 7z UINT64, the 9-byte form
		b := []byte{0xFF, 0, 0, 0, 0, 0, 0, 0, 0}
		binary.LittleEndian.PutUint64(b[1:], v)
		return b
	}
	var h bytes.Buffer
	h.Write([]byte{sz7Header, sz7MainStreamsInfo})
	h.Write([]byte{sz7PackInfo, 0, 1, sz7Size, 16, sz7End})
	h.Write([]byte{sz7UnpackInfo, sz7FolderID, 1, 0})
	h.WriteByte(1) // one coder
	h.WriteByte(0x20 | byte(len(id)))
	h.Write(id)
	h.WriteByte(byte(len(props)))
	h.Write(props)
	h.WriteByte(sz7CodersUnpackSize)
	h.Write(num(unpack))
	h.Write([]byte{sz7End, sz7End, sz7End})
	packed := make([]byte, 16)
	hdr := h.Bytes()
	sig := make([]byte, 32)
	copy(sig, []byte{'7', 'z', 0xBC, 0xAF, 0x27, 0x1C, 0, 4})
	binary.LittleEndian.PutUint64(sig[12:], uint64(len(packed)))
	binary.LittleEndian.PutUint64(sig[20:], uint64(len(hdr)))
	binary.LittleEndian.PutUint32(sig[28:], crc32.ChecksumIEEE(hdr))
	binary.LittleEndian.PutUint32(sig[8:], crc32.ChecksumIEEE(sig[12:32]))
	return append(append(sig, packed...), hdr...)
}

func TestSevenZipMaxDict(t *testing.T) {
	lzmaProps := func(dict uint32) []byte {
		p := []byte{0x5D, 0, 0, 0, 0}
		binary.LittleEndian.PutUint32(p[1:], dict)
		return p
	}
	for _, c := range []struct {
		name string
		b    []byte
		want uint64
	}{
		{"lzma2 4GiB", craft7z(coderLZMA2, []byte{40}, 100), 0xFFFFFFFF},
		{"lzma2 1.5GiB", craft7z(coderLZMA2, []byte{37}, 100), 3 << 29},
		{"lzma2 64MiB", craft7z(coderLZMA2, []byte{28}, 100), 64 << 20},
		{"lzma 4GiB, 1 MiB out", craft7z(coderLZMA, lzmaProps(0xFFFFFFFF), 1<<20), 1 << 20},
		{"lzma 4GiB, huge out", craft7z(coderLZMA, lzmaProps(0xFFFFFFFF), 1<<40), 0xFFFFFFFF},
		{"ppmd 2GiB", craft7z(coderPPMd, []byte{6, 0, 0, 0, 0x80}, 100), 1 << 31},
		{"copy", craft7z(coderCopy, nil, 16), 0},
	} {
		got, err := SevenZipMaxDict(bytes.NewReader(c.b), int64(len(c.b)))
		if err != nil || got != c.want {
			t.Errorf("%s: %d, %v; want %d", c.name, got, err, c.want)
		}
		// The crafted archive is a valid 7z header for Identify too.
		if info, err := Identify(bytes.NewReader(c.b), int64(len(c.b))); err != nil || info.Type != "7z" || info.Encrypted {
			t.Errorf("%s: Identify = %+v, %v", c.name, info, err)
		}
	}
	// Real archives: 7-Zip's defaults (LZMA2, dictionary reduced to the
	// data) and an encoded (LZMA-packed) header.
	for _, name := range []string{"7z-plain.7z", "7z-plain-many.7z", "7z-aes.7z"} {
		b, err := os.ReadFile(filepath.Join(fixturesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := SevenZipMaxDict(bytes.NewReader(b), int64(len(b)))
		if err != nil || got == 0 || got > 64<<20 {
			t.Errorf("%s: %d, %v", name, got, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(fixturesDir, "7z-aes-mhe.7z"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SevenZipMaxDict(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrCorrupt) {
		t.Errorf("encrypted header: %v", err)
	}
	for _, bad := range [][]byte{nil, []byte("7z\xbc\xaf\x27\x1c"), craft7z(coderLZMA2, []byte{40}, 100)[:40]} {
		if _, err := SevenZipMaxDict(bytes.NewReader(bad), int64(len(bad))); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func FuzzSevenZipMaxDict(f *testing.F) {
	f.Add(craft7z(coderLZMA2, []byte{40}, 100))
	f.Add(craft7z(coderLZMA, []byte{0x5D, 0, 0, 0, 1}, 1<<20))
	f.Fuzz(func(t *testing.T, b []byte) {
		SevenZipMaxDict(bytes.NewReader(b), int64(len(b)))
	})
}
