package extract

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// crafted7z is a 7z archive with valid CRCs whose one folder is LZMA2
// with the dictionary-size byte dictByte, over 16 packed bytes, with one
// file "a.txt" of 100 bytes.
func crafted7z(dictByte byte) []byte {
	hdr := []byte{
		0x01,                    // Header
		0x04,                    // MainStreamsInfo
		0x06, 0, 1, 0x09, 16, 0, // PackInfo: pos 0, 1 stream of 16 bytes
		0x07, 0x0B, 1, 0, // UnpackInfo: 1 folder, not external
		1, 0x21, 0x21, 1, dictByte, // 1 coder: LZMA2 with 1 property byte
		0x0C, 100, // unpack size
		0x00,    // end UnpackInfo
		0x00,    // end MainStreamsInfo
		0x05, 1, // FilesInfo: 1 file
		0x11, 13, 0, 'a', 0, '.', 0, 't', 0, 'x', 0, 't', 0, 0, 0, // names
		0x00, // end FilesInfo
		0x00, // end Header
	}
	sig := make([]byte, 32)
	copy(sig, []byte{'7', 'z', 0xBC, 0xAF, 0x27, 0x1C, 0, 4})
	binary.LittleEndian.PutUint64(sig[12:], 16)
	binary.LittleEndian.PutUint64(sig[20:], uint64(len(hdr)))
	binary.LittleEndian.PutUint32(sig[28:], crc32.ChecksumIEEE(hdr))
	binary.LittleEndian.PutUint32(sig[8:], crc32.ChecksumIEEE(sig[12:32]))
	return append(append(sig, make([]byte, 16)...), hdr...)
}

func Test7zDictionaryLimit(t *testing.T) {
	// 40 asks LZMA2 for a 4 GiB dictionary, 30 for 128 MiB: refused before
	// the decoder allocates it.
	for _, b := range []byte{40, 30} {
		parts, err := walkFileBytes(t, "big-dict.7z", crafted7z(b), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if len(parts) != 1 || parts[0].Type != "7z" || parts[0].Uninspectable != "7z dictionary too large" {
			t.Fatalf("dict byte %d:\n%s", b, dump(parts))
		}
	}
	// 16 is 1 MiB: the archive is opened and its member (an LZMA2 end
	// marker: empty) walked.
	parts, err := walkFileBytes(t, "small-dict.7z", crafted7z(16), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if p := find(parts, "small-dict.7z"); p == nil || p.Uninspectable != "" || !p.Container {
		t.Fatalf("small dictionary:\n%s", dump(parts))
	}
	if m := find(parts, "small-dict.7z/a.txt"); m == nil || m.Uninspectable != "" || m.text != "" {
		t.Errorf("small dictionary member:\n%s", dump(parts))
	}
}
