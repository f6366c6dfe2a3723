package fileformat

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestPDFFileKey(t *testing.T) {
	ext := "../../testdata/extract/files"
	for _, c := range []struct {
		path    string
		v, r    int
		keyLen  int
		aes     bool
		wantErr error
	}{
		{filepath.Join(fixturesDir, "pdf-r6-owneronly.pdf"), 5, 6, 32, true, nil},
		{filepath.Join(ext, "pdf-aes256-owneronly.pdf"), 5, 6, 32, true, nil},
		{filepath.Join(ext, "pdf-aes256r5-owneronly.pdf"), 5, 5, 32, true, nil},
		{filepath.Join(ext, "pdf-aes256-objstm-owneronly.pdf"), 5, 6, 32, true, nil},
		{filepath.Join(fixturesDir, "pdf-r3-owneronly.pdf"), 2, 3, 16, false, nil},
		{filepath.Join(fixturesDir, "pdf-r4-owneronly-xrefstream.pdf"), 4, 4, 16, true, nil},
		{filepath.Join(fixturesDir, "pdf-r6-user.pdf"), 5, 6, 0, true, ErrPDFNeedsPassword},
		{filepath.Join(ext, "pdf-aes256-userpw.pdf"), 5, 6, 0, true, ErrPDFNeedsPassword},
	} {
		b, err := os.ReadFile(c.path)
		if err != nil {
			t.Fatal(err)
		}
		k, err := PDFFileKey(bytes.NewReader(b), int64(len(b)))
		if !errors.Is(err, c.wantErr) || k == nil || k.V != c.v || k.R != c.r || len(k.Key) != c.keyLen {
			t.Errorf("%s: %+v, %v", c.path, k, err)
			continue
		}
		if err != nil {
			continue
		}
		if k.AES != c.aes || k.StmIdentity || k.StrIdentity || !k.EncryptMetadata {
			t.Errorf("%s: %+v", c.path, k)
		}
		if k.V == 5 {
			// The key decrypts the first stream to a FlateDecode stream
			// (zlib header 0x78).
			m := regexp.MustCompile(`(?s)/Filter /FlateDecode /Length (\d+) >>\s*stream\r?\n`).FindSubmatchIndex(b)
			if m == nil {
				t.Fatalf("%s: no stream", c.path)
			}
			data := b[m[1] : m[1]+32]
			block, _ := aes.NewCipher(k.Key)
			out := make([]byte, 16)
			cipher.NewCBCDecrypter(block, data[:16]).CryptBlocks(out, data[16:32])
			if out[0] != 0x78 {
				t.Errorf("%s: first decrypted bytes %x", c.path, out[:4])
			}
		}
	}
	plain, err := os.ReadFile(filepath.Join(fixturesDir, "pdf-lo-plain.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if k, err := PDFFileKey(bytes.NewReader(plain), int64(len(plain))); k != nil || err != nil {
		t.Errorf("plain PDF: %+v, %v", k, err)
	}
	// A tampered /Perms is caught.
	b, _ := os.ReadFile(filepath.Join(fixturesDir, "pdf-r6-owneronly.pdf"))
	if i := bytes.Index(b, []byte("/Perms <")); i >= 0 {
		b = append([]byte(nil), b...)
		b[i+8] ^= 1
		if b[i+8] > 'f' || (b[i+8] > '9' && b[i+8] < 'a') {
			b[i+8] = '0'
		}
		if _, err := PDFFileKey(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrCorrupt) {
			t.Errorf("tampered /Perms: %v", err)
		}
	}
}

func FuzzPDFFileKey(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(fixturesDir, "pdf-r6-owneronly.pdf"))
	if err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		PDFFileKey(bytes.NewReader(b), int64(len(b)))
	})
}
